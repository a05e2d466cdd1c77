// The emulated istiod: it watches the store, computes each proxy's configuration (inbound mode per workload
// port, outbound TLS per destination service port and endpoint) and delivers it to every proxy after its own
// delay, so a client probing right after an apply still sees the old behaviour, as on a real mesh
// ("Istio can't guarantee that all workloads receive the new policy at the same time", concept docs).
import { parse as parseYaml } from 'yaml';
import type { KubeObject, ObjectStore, StoreEvent } from '../contracts.js';
import {
  hasSidecar,
  isTerminating,
  labels,
  matchesLabels,
  podIP,
  podKey,
  podNamespace,
  resolveTargetPort,
  serviceAccount,
  serviceFqdn,
  serviceSelector,
  servicePorts,
  type ServicePortSpec,
} from './k8s.js';
import type { Rng } from '../rng.js';
import { PushQueue } from './push-queue.js';
import { mergePush, pushedTypes, pushVersion, type ChangeKind, type PushRequest, type SynczProxy } from './xds.js';
import { workloadAuthz, type ExtensionProvider, type WorkloadAuthz } from './policy/authorization.js';
import { drTlsForPort, findDestinationRule } from './policy/destination-rule.js';
import { legacyInboundMode } from './policy/legacy-authn.js';
import { modernInboundMode, namespaceMode } from './policy/peer-authentication.js';
import type { ConfigInputs, Decided, DrTlsMode, Flavor, InboundMode, Origination } from './policy/types.js';

export interface Endpoint {
  pod: KubeObject;
  ip: string;
  targetPort: number;
  origination: Origination;
  /** The SPIFFE identity the client expects when it originates Istio mTLS. */
  identity: string;
  sni?: string;
  by: string;
}

export interface OutboundCluster {
  service: KubeObject;
  port: ServicePortSpec;
  fqdn: string;
  drMode?: DrTlsMode;
  endpoints: Endpoint[];
}

/** What one proxy knows: an immutable view computed from the store at one version. */
export class ProxyConfig {
  private readonly inboundCache = new Map<string, Decided<InboundMode>>();
  private readonly outboundCache = new Map<string, OutboundCluster>();
  private readonly authzCache = new Map<string, WorkloadAuthz>();

  constructor(
    readonly version: number,
    readonly inputs: ConfigInputs,
  ) {}

  inbound(pod: KubeObject, port: number): Decided<InboundMode> {
    const key = `${podKey(pod)}:${port}`;
    let d = this.inboundCache.get(key);
    if (!d) {
      d =
        this.inputs.flavor === 'modern'
          ? modernInboundMode(this.inputs, pod, port)
          : legacyInboundMode(this.inputs, pod, port);
      this.inboundCache.set(key, d);
    }
    return d;
  }

  /** The RBAC filters of this workload's inbound (policy/authorization.ts). */
  authz(pod: KubeObject): WorkloadAuthz {
    const key = podKey(pod);
    let a = this.authzCache.get(key);
    if (!a) {
      a = workloadAuthz(this.inputs, pod);
      this.authzCache.set(key, a);
    }
    return a;
  }

  identity(pod: KubeObject): string {
    return `spiffe://${this.inputs.trustDomain}/ns/${podNamespace(pod)}/sa/${serviceAccount(pod)}`;
  }

  /** The cluster a client in `clientNs` uses for service `ns/name` port `port` (undefined: no such service port). */
  outbound(clientNs: string, serviceNs: string, serviceName: string, port: number): OutboundCluster | undefined {
    const key = `${clientNs}|${serviceNs}/${serviceName}:${port}`;
    const cached = this.outboundCache.get(key);
    if (cached) return cached;
    const service = this.inputs.services.find((s) => podNamespace(s) === serviceNs && s.metadata.name === serviceName);
    const sp = service ? servicePorts(service).find((p) => p.port === port) : undefined;
    if (!service || !sp) return undefined;
    const fqdn = serviceFqdn(service);
    const dr = findDestinationRule(this.inputs, clientNs, serviceNs, fqdn);
    const tls = drTlsForPort(dr, port);
    const endpoints: Endpoint[] = [];
    const selector = serviceSelector(service);
    for (const pod of this.inputs.pods) {
      if (podNamespace(pod) !== serviceNs || !matchesLabels(selector, labels(pod))) continue;
      const ip = podIP(pod);
      const targetPort = resolveTargetPort(sp, pod);
      if (!ip || targetPort === undefined) continue;
      const o = this.originate(tls.mode, tls.by, serviceNs, pod, targetPort);
      endpoints.push({ pod, ip, targetPort, identity: this.identity(pod), ...o, ...(tls.sni ? { sni: tls.sni } : {}) });
    }
    const cluster: OutboundCluster = { service, port: sp, fqdn, endpoints, ...(tls.mode ? { drMode: tls.mode } : {}) };
    this.outboundCache.set(key, cluster);
    return cluster;
  }

  // istio/istio pilot/pkg/networking/core/cluster_tls.go buildUpstreamTLSSettings and
  // pilot/pkg/xds/endpoints/mtls_checker.go checkMtlsEnabled: a DR's TLS is used as is; without one, auto
  // mTLS (when on) sends mTLS only to endpoints with a sidecar whose effective mode for that port is not
  // DISABLE, and plaintext to all endpoints when the service namespace's (or mesh) mode is DISABLE.
  private originate(
    mode: DrTlsMode | undefined,
    by: string,
    serviceNs: string,
    pod: KubeObject,
    targetPort: number,
  ): { origination: Origination; by: string } {
    switch (mode) {
      case 'ISTIO_MUTUAL':
        return { origination: 'istio-mutual', by };
      case 'DISABLE':
        return { origination: 'plaintext', by };
      case 'SIMPLE':
        return { origination: 'simple', by };
      case 'MUTUAL':
        return { origination: 'mutual', by };
      default:
        break;
    }
    if (!this.inputs.autoMtls) return { origination: 'plaintext', by: `${by}; auto mTLS off` };
    if (!hasSidecar(pod)) return { origination: 'plaintext', by: `${by}; auto mTLS: endpoint without sidecar` };
    if (this.inputs.flavor === 'legacy')
      return { origination: 'istio-mutual', by: `${by}; auto mTLS (endpoint has a sidecar)` };
    const nsMode = namespaceMode(this.inputs, serviceNs);
    if (nsMode.value === 'DISABLE')
      return { origination: 'plaintext', by: `${by}; auto mTLS: ${nsMode.by} is DISABLE` };
    const wl = this.inbound(pod, targetPort);
    if (wl.value === 'DISABLE') return { origination: 'plaintext', by: `${by}; auto mTLS: ${wl.by} is DISABLE` };
    return { origination: 'istio-mutual', by: `${by}; auto mTLS` };
  }
}

export interface ControlPlaneOptions {
  store: ObjectStore;
  flavor?: Flavor;
  rootNamespace?: string;
  /** Delay range for delivering a new configuration to each proxy. */
  delayMs: { min: number; max: number };
  rng: Rng;
  /** The mesh config ConfigMap in istio-system: `istio`, or `istio-REV` for a revision's istiod. */
  meshConfigMap?: string;
  /** Pods that run (started by the runtime); the control plane only sees those as endpoints. */
  runningPods: () => KubeObject[];
  log?: (line: string) => void;
}

/** The istiod event each watched resource stands for (the kind its PushRequest names). */
const WATCHED: Record<string, ChangeKind> = {
  '/services': 'ServiceEntry',
  '/pods': 'ServiceEntry',
  '/configmaps': 'Global',
  'security.istio.io/peerauthentications': 'PeerAuthentication',
  'networking.istio.io/destinationrules': 'DestinationRule',
  'security.istio.io/authorizationpolicies': 'AuthorizationPolicy',
  // Istio 1.4 pushed everything on any change.
  'authentication.istio.io/meshpolicies': 'Global',
  'authentication.istio.io/policies': 'Global',
  'apiextensions.k8s.io/customresourcedefinitions': 'Global',
};

export class ControlPlane {
  private version = 0;
  private current: ProxyConfig;
  private readonly queue: PushQueue<ProxyConfig>;
  private readonly unsubscribe: () => void;
  private debounce: NodeJS.Timeout | undefined;
  private pending: PushRequest | undefined;
  private pushCounter = 0;
  /** The current push context's version (nonces start with it). */
  private pushContextVersion: string;
  private closed = false;

  constructor(private readonly opts: ControlPlaneOptions) {
    this.queue = new PushQueue({ delayMs: opts.delayMs, rng: opts.rng, ...(opts.log ? { log: opts.log } : {}) });
    this.current = this.compute();
    this.pushContextVersion = this.nextVersion();
    this.unsubscribe = opts.store.subscribe((e) => this.onEvent(e));
  }

  get latest(): ProxyConfig {
    return this.current;
  }

  /** The configuration a proxy has received so far. */
  configFor(pod: KubeObject): ProxyConfig {
    return this.queue.applied(pod) ?? this.current;
  }

  /** A new proxy gets the current configuration at start, as a sidecar is not ready before its first push. */
  addProxy(pod: KubeObject): void {
    this.recomputeNow();
    this.queue.connect(pod, this.current, this.pushContextVersion);
  }

  removeProxy(pod: KubeObject): void {
    this.queue.disconnect(pod);
  }

  /** Pods started or stopped: endpoints changed (an incremental EDS push). */
  podsChanged(): void {
    this.schedule({ full: false, kinds: new Set(['ServiceEntry']) });
  }

  /** The proxies connected to this istiod with their xDS state, for `/debug/syncz`. */
  syncz(): SynczProxy[] {
    return this.queue.syncz();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.debounce) clearTimeout(this.debounce);
    this.queue.close();
  }

  private onEvent(e: StoreEvent): void {
    const kind = WATCHED[`${e.group}/${e.resource}`];
    if (!kind) return;
    if (e.resource === 'configmaps' && e.object.metadata.name !== (this.opts.meshConfigMap ?? 'istio')) return;
    // Pods reach proxies as endpoints: an incremental EDS push.
    this.schedule({ full: e.resource !== 'pods', kinds: new Set([kind]) });
  }

  // A short debounce, like PILOT_DEBOUNCE_AFTER, so that a multi-document apply becomes one push.
  private schedule(req: PushRequest): void {
    if (this.closed) return;
    this.pending = mergePush(this.pending, req);
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.push();
    }, 10);
  }

  private recomputeNow(): void {
    if (this.debounce) {
      clearTimeout(this.debounce);
      this.debounce = undefined;
      this.push();
    }
  }

  private push(): void {
    if (this.closed) return;
    const req = this.pending ?? { full: true, kinds: new Set<ChangeKind>(['Global']) };
    this.pending = undefined;
    const next = this.compute();
    this.current = next;
    // pilot/pkg/xds/discovery.go Push: a full push gets a new push context (and version); an incremental
    // one reuses the current one.
    if (req.full) this.pushContextVersion = this.nextVersion();
    const types = pushedTypes(req);
    if (types.length > 0) this.queue.push(next, this.pushContextVersion, types);
  }

  private nextVersion(): string {
    return pushVersion(new Date(), ++this.pushCounter);
  }

  private compute(): ProxyConfig {
    const { store } = this.opts;
    const flavor = this.opts.flavor ?? detectFlavor(store);
    const mesh = meshConfig(store, this.opts.meshConfigMap ?? 'istio');
    const rootNamespace = this.opts.rootNamespace ?? mesh.rootNamespace ?? 'istio-system';
    const pods = this.opts.runningPods().filter((p) => !isTerminating(p));
    const inputs: ConfigInputs = {
      flavor,
      // Auto mTLS: off in 1.4 ("default false"), on from 1.5; the mesh ConfigMap can say otherwise.
      autoMtls: mesh.enableAutoMtls ?? flavor === 'modern',
      rootNamespace,
      trustDomain: mesh.trustDomain ?? 'cluster.local',
      pods,
      services: store.list('', 'services'),
      peerAuthentications: flavor === 'modern' ? store.list('security.istio.io', 'peerauthentications') : [],
      destinationRules: store.list('networking.istio.io', 'destinationrules'),
      // Istio 1.6+ ignores the v1alpha1 policies, so the modern flavor never reads them.
      meshPolicies: flavor === 'legacy' ? store.list('authentication.istio.io', 'meshpolicies') : [],
      policies: flavor === 'legacy' ? store.list('authentication.istio.io', 'policies') : [],
      authorizationPolicies: flavor === 'modern' ? store.list('security.istio.io', 'authorizationpolicies') : [],
      trustDomainAliases: Array.isArray(mesh.trustDomainAliases) ? mesh.trustDomainAliases.map(String) : [],
      extensionProviders: Array.isArray(mesh.extensionProviders) ? mesh.extensionProviders : [],
    };
    this.version += 1;
    // Objects from the store are frozen snapshots, so the config can keep them by reference.
    return new ProxyConfig(this.version, inputs);
  }
}

export function detectFlavor(store: ObjectStore): Flavor {
  const crds = store.list('apiextensions.k8s.io', 'customresourcedefinitions').map((c) => c.metadata.name);
  if (crds.includes('meshpolicies.authentication.istio.io') && !crds.includes('peerauthentications.security.istio.io'))
    return 'legacy';
  return 'modern';
}

interface MeshConfig {
  enableAutoMtls?: boolean;
  rootNamespace?: string;
  trustDomain?: string;
  trustDomainAliases?: unknown[];
  extensionProviders?: ExtensionProvider[];
}

function meshConfig(store: ObjectStore, name: string): MeshConfig {
  const cm = store.get('', 'configmaps', 'istio-system', name);
  const text = (cm?.data as Record<string, string> | undefined)?.mesh;
  if (!text) return {};
  try {
    const parsed = parseYaml(text) as MeshConfig | null;
    return parsed ?? {};
  } catch {
    return {};
  }
}

export function describeEndpoint(e: Endpoint): string {
  return `${podKey(e.pod)}:${e.targetPort} ${e.origination} (${e.by})`;
}
