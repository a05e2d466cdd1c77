// The emulated pod network: every pod's listeners on 127.0.0.1, a registry from pod IP and port to the
// loopback port that stands for it, the sidecars, the apps and the cluster DNS. Pod IPs (10.244.x.y) are
// names only: nothing ever connects to them.
import { createServer as createNetServer, isIP, isIPv4, type Socket } from 'node:net';
import type { KubeObject, ObjectStore } from '../contracts.js';
import { startApps } from './apps/index.js';
import { MeshCA, spiffeId, type WorkloadCert } from './ca.js';
import { ControlPlane } from './control-plane.js';
import { createInboundListener } from './inbound.js';
import {
  appContainers,
  hasSidecar,
  labels,
  matchesLabels,
  podIP,
  podKey,
  podNamespace,
  resolveTargetPort,
  serviceAccount,
  serviceClusterIP,
  serviceSelector,
  servicePorts,
  type ServicePortSpec,
} from './k8s.js';
import { LOOPBACK, Tracker } from './net-util.js';
import { createOutboundListener, type OutboundListenerSpec } from './outbound.js';
import type { Flavor } from './policy/types.js';
import { portProtocol, type PortProtocol } from './protocol.js';
import { seededRng } from '../rng.js';
import { DEFAULT_PROPAGATION } from './propagation.js';

export type Destination =
  | { kind: 'service'; ns: string; name: string; port: number; pinnedIp?: string }
  | { kind: 'pod'; ip: string; port: number };

export interface MeshOptions {
  store: ObjectStore;
  ca: MeshCA;
  flavor?: Flavor;
  clusterDomain?: string;
  trustDomain?: string;
  /** The control plane's revision (its mesh config is `istio-REV`); undefined: unrevisioned. */
  revision?: string;
  /** Propagation delay range per proxy, in ms (default 500–2000). */
  propagationDelayMs?: { min: number; max: number };
  seed?: number;
  log?: (line: string) => void;
}

export class PodNet {
  readonly key: string;
  readonly ns: string;
  readonly name: string;
  readonly ip: string;
  readonly sidecar: boolean;
  readonly identity: string;
  cert: WorkloadCert | undefined;
  /** The loopback address the pod's own processes connect from, standing for its IP (Mesh.startPod). */
  loopback = LOOPBACK;
  /** Container port -> loopback port of the app (behind the sidecar when there is one). */
  readonly apps = new Map<number, number>();
  /** Ports that answer differently on the pod's own localhost (istiod's debug port): port -> loopback port. */
  readonly localOnly = new Map<number, number>();
  readonly inbound = new Map<number, Promise<number>>();
  readonly outbound = new Map<string, Promise<number>>();
  admin: Promise<number> | undefined;
  readonly tracker = new Tracker();
  readonly cleanups: Array<() => void> = [];
  private readonly logs = new Map<string, string[]>();

  constructor(
    readonly pod: KubeObject,
    trustDomain: string,
  ) {
    this.key = podKey(pod);
    this.ns = podNamespace(pod);
    this.name = pod.metadata.name;
    this.ip = podIP(pod) ?? '';
    this.sidecar = hasSidecar(pod);
    this.identity = spiffeId(trustDomain, this.ns, serviceAccount(pod));
  }

  /** Appends to a container's log (what `kubectl logs` shows), keeping the last 2000 lines. */
  appendLog(container: string, line: string): void {
    let lines = this.logs.get(container);
    if (!lines) this.logs.set(container, (lines = []));
    lines.push(line);
    if (lines.length > 2000) lines.splice(0, lines.length - 2000);
  }

  logText(container: string): string {
    const lines = this.logs.get(container) ?? [];
    return lines.length > 0 ? `${lines.join('\n')}\n` : '';
  }
}

/** Envoy's default access log format, reduced: start time, request line, code, flags, upstream, cluster. */
export function accessLog(f: {
  method?: string;
  path?: string;
  status: number;
  flags: string;
  details: string;
  authority?: string;
  upstream: string;
  cluster: string;
  started: number;
}): string {
  return `[${new Date(f.started).toISOString()}] "${f.method ?? '-'} ${f.path ?? '-'} HTTP/1.1" ${f.status} ${f.flags} ${f.details} "${f.authority ?? '-'}" "${f.upstream}" ${f.cluster} duration=${Date.now() - f.started}ms`;
}

export class Mesh {
  readonly store: ObjectStore;
  readonly ca: MeshCA;
  readonly cp: ControlPlane;
  readonly clusterDomain: string;
  readonly trustDomain: string;
  private readonly pods = new Map<string, PodNet>();
  private readonly byIp = new Map<string, PodNet>();
  private readonly byLoopback = new Map<string, PodNet>();
  private readonly sources = new Map<number, string>();
  private readonly logger: ((line: string) => void) | undefined;

  constructor(opts: MeshOptions) {
    this.store = opts.store;
    this.ca = opts.ca;
    this.clusterDomain = opts.clusterDomain ?? 'cluster.local';
    this.trustDomain = opts.trustDomain ?? 'cluster.local';
    this.logger = opts.log;
    this.cp = new ControlPlane({
      store: opts.store,
      ...(opts.flavor ? { flavor: opts.flavor } : {}),
      ...(opts.revision ? { meshConfigMap: `istio-${opts.revision}` } : {}),
      delayMs: opts.propagationDelayMs ?? DEFAULT_PROPAGATION,
      rng: seededRng(opts.seed ?? 1),
      runningPods: () => [...this.pods.values()].map((p) => p.pod),
      log: (l) => this.log(l),
    });
  }

  log(line: string): void {
    this.logger?.(line);
  }

  podByIp(ip: string): PodNet | undefined {
    return this.byIp.get(ip);
  }

  /**
   * The pod a connection comes from when its source is a pod's loopback alias: the pod's curl binds to
   * 127.B.C.D for pod IP A.B.C.D, so servers see the client pod's address as on a pod network.
   */
  podIpOfLoopback(address: string | undefined): string | undefined {
    return address ? this.byLoopback.get(address.replace(/^::ffff:/, ''))?.ip : undefined;
  }

  private async loopbackAlias(net: PodNet): Promise<string> {
    if (!isIPv4(net.ip) || !(await loopbackAliasesWork())) return LOOPBACK;
    const alias = `127.${net.ip.split('.').slice(1).join('.')}`;
    const taken = alias === LOOPBACK || alias === '127.0.0.6' || this.byLoopback.has(alias);
    return taken ? LOOPBACK : alias;
  }

  podByKey(key: string): PodNet | undefined {
    return this.pods.get(key);
  }

  runningPods(): PodNet[] {
    return [...this.pods.values()];
  }

  async startPod(pod: KubeObject): Promise<PodNet> {
    const existing = this.pods.get(podKey(pod));
    if (existing) return existing;
    const net = new PodNet(pod, this.trustDomain);
    if (net.sidecar) net.cert = this.ca.issueWorkload(net.identity);
    await startApps(this, net);
    this.pods.set(net.key, net);
    if (net.ip) this.byIp.set(net.ip, net);
    net.loopback = await this.loopbackAlias(net);
    if (net.loopback !== LOOPBACK) this.byLoopback.set(net.loopback, net);
    if (net.sidecar) {
      this.cp.addProxy(pod);
      // The sidecar holds every declared container port from the start (the rest lazily, on first use).
      for (const port of net.apps.keys()) await this.podPort(net, port);
    }
    this.cp.podsChanged();
    this.log(
      `pod ${net.key} ip ${net.ip} sidecar=${net.sidecar} apps=${[...net.apps.entries()].map(([p, h]) => `${p}->${h}`).join(',')}`,
    );
    return net;
  }

  async stopPod(pod: KubeObject): Promise<void> {
    const net = this.pods.get(podKey(pod));
    if (!net) return;
    this.pods.delete(net.key);
    if (this.byIp.get(net.ip) === net) this.byIp.delete(net.ip);
    if (this.byLoopback.get(net.loopback) === net) this.byLoopback.delete(net.loopback);
    this.cp.removeProxy(pod);
    this.cp.podsChanged();
    for (const c of net.cleanups) c();
    await net.tracker.close();
  }

  async close(): Promise<void> {
    this.cp.close();
    await Promise.all([...this.pods.values()].map((p) => this.stopPod(p.pod)));
  }

  /** The loopback port standing for podIP:port as seen from the pod network (the sidecar's, if any). */
  async podPort(target: PodNet, port: number): Promise<number | undefined> {
    if (!target.sidecar) return target.apps.get(port);
    let p = target.inbound.get(port);
    if (!p) {
      p = createInboundListener(this, target, port);
      target.inbound.set(port, p);
    }
    return p;
  }

  async outboundListener(client: PodNet, spec: OutboundListenerSpec): Promise<number> {
    const key =
      spec.kind === 'http-host' ? `http:${spec.port}` : `${spec.sniff ? 'sniff' : 'tcp'}:${JSON.stringify(spec.dest)}`;
    let p = client.outbound.get(key);
    if (!p) {
      p = createOutboundListener(this, client, spec);
      client.outbound.set(key, p);
    }
    return p;
  }

  /** Which protocol the workload port speaks, from the service ports that target it. */
  inboundProtocol(pod: PodNet, port: number): PortProtocol {
    let result: PortProtocol = 'sniff';
    for (const svc of this.servicesSelecting(pod)) {
      for (const sp of servicePorts(svc)) {
        if (resolveTargetPort(sp, pod.pod) !== port) continue;
        const p = portProtocol(sp);
        if (p === 'http') return p;
        if (p === 'tcp') result = p;
      }
    }
    return result;
  }

  servicesSelecting(pod: PodNet): KubeObject[] {
    return this.store.list('', 'services', pod.ns).filter((s) => matchesLabels(serviceSelector(s), labels(pod.pod)));
  }

  /** Ports a pod can be reached on: declared container ports and service target ports. */
  podPorts(pod: PodNet): number[] {
    const ports = new Set<number>();
    for (const c of appContainers(pod.pod)) for (const p of c.ports ?? []) ports.add(p.containerPort);
    for (const port of pod.apps.keys()) ports.add(port);
    for (const svc of this.servicesSelecting(pod)) {
      for (const sp of servicePorts(svc)) {
        const t = resolveTargetPort(sp, pod.pod);
        if (t !== undefined) ports.add(t);
      }
    }
    return [...ports].sort((a, b) => a - b);
  }

  /** Names a pod in `ns` can use for a service: short name only within its own namespace. */
  serviceNames(svc: KubeObject, clientNs: string): string[] {
    const name = svc.metadata.name;
    const ns = podNamespace(svc);
    const names = [`${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.${this.clusterDomain}`];
    if (ns === clientNs) names.unshift(name);
    return names;
  }

  lookupService(clientNs: string, host: string): KubeObject | undefined {
    const h = host.toLowerCase().replace(/\.$/, '');
    const parts = h.split('.');
    const domain = this.clusterDomain.split('.');
    let name: string | undefined;
    let ns: string | undefined;
    if (parts.length === 1) [name, ns] = [parts[0], clientNs];
    else if (parts.length === 2) [name, ns] = parts;
    else if (parts.length === 3 && parts[2] === 'svc') [name, ns] = parts;
    else if (
      parts.length === 3 + domain.length &&
      parts[2] === 'svc' &&
      parts.slice(3).join('.') === this.clusterDomain
    )
      [name, ns] = parts;
    if (!name || !ns) return undefined;
    return this.store.get('', 'services', ns, name);
  }

  serviceByClusterIP(ip: string): KubeObject | undefined {
    return this.store.list('', 'services').find((s) => clusterIP(s) === ip);
  }

  /** Where an HTTP request with this Host header goes (Envoy's route match on the authority). */
  resolveHost(clientNs: string, hostHeader: string | undefined, listenerPort: number): Destination | undefined {
    if (!hostHeader) return undefined;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader);
    if (!m) return undefined;
    const host = m[1]!;
    const port = m[2] ? Number(m[2]) : listenerPort;
    return this.destinationFor(clientNs, host, port);
  }

  destinationFor(clientNs: string, host: string, port: number): Destination | undefined {
    if (isIP(host)) {
      const svc = this.serviceByClusterIP(host);
      if (svc) return { kind: 'service', ns: podNamespace(svc), name: svc.metadata.name, port };
      const pod = this.byIp.get(host);
      if (!pod) return undefined;
      const sp = this.servicePortForPod(pod, port);
      if (sp) return { kind: 'service', ns: pod.ns, name: sp.svc.metadata.name, port: sp.port.port, pinnedIp: host };
      return { kind: 'pod', ip: host, port };
    }
    const svc = this.lookupService(clientNs, host);
    if (!svc || !servicePorts(svc).some((p) => p.port === port)) return undefined;
    return { kind: 'service', ns: podNamespace(svc), name: svc.metadata.name, port };
  }

  servicePortForPod(pod: PodNet, port: number): { svc: KubeObject; port: ServicePortSpec } | undefined {
    for (const svc of this.servicesSelecting(pod)) {
      for (const sp of servicePorts(svc)) if (resolveTargetPort(sp, pod.pod) === port) return { svc, port: sp };
    }
    return undefined;
  }

  /** Remembers which pod IP a proxy connection to an app stands for, so httpbin's /ip can answer. */
  noteSource(socket: Socket, ip: string): void {
    const port = socket.localPort;
    if (port === undefined) return;
    this.sources.set(port, ip);
    socket.once('close', () => {
      if (this.sources.get(port) === ip) this.sources.delete(port);
    });
  }

  sourceOf(remotePort: number | undefined): string | undefined {
    return remotePort === undefined ? undefined : this.sources.get(remotePort);
  }
}

let aliases: Promise<boolean> | undefined;

/** Linux routes all of 127.0.0.0/8 to lo; hosts that only have 127.0.0.1 get that for every pod. */
function loopbackAliasesWork(): Promise<boolean> {
  aliases ??= new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '127.244.255.254', () => probe.close(() => resolve(true)));
  });
  return aliases;
}

/** The service's ClusterIP, or a stable made-up one in 10.96.0.0/12 when the API server assigned none. */
export function clusterIP(svc: KubeObject): string {
  const assigned = serviceClusterIP(svc);
  if (assigned) return assigned;
  let h = 2166136261;
  for (const ch of `${podNamespace(svc)}/${svc.metadata.name}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return `10.${96 + ((h >>> 16) & 0x0f)}.${(h >>> 8) & 0xff}.${h & 0xff || 1}`;
}
