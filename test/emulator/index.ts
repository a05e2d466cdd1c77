// The emulated cluster in one call: an HTTPS Kubernetes API server on 127.0.0.1 with its controllers,
// Istio of the chosen flavor, and a container runtime behind exec. Tests start it in-process; the CLI
// (cli.ts) wraps the same function for `npm run emulator`.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '../../src/pki/certificate.js';
import type { ContainerRuntime, IstioFlavor, KubeObject, RuntimeContext, RuntimeFactory } from './contracts.js';
import { MemoryStore } from './store.js';
import { namespaceLifecycle, serviceAccountAdmission, serviceAllocation } from './api/admission.js';
import {
  podSecurityAdmission,
  POD_SECURITY_LEVELS,
  type PodSecurityConfig,
  type PodSecurityLevel,
} from './api/pod-security.js';
import { mutatingWebhookCalls } from './api/webhook-calls.js';
import { AuditLog } from './api/audit.js';
import { ADMIN_NAME, Authenticator, type UserSpec } from './api/auth.js';
import { Faults, type FaultSpec } from './api/faults.js';
import { renderKubeconfig } from './api/kubeconfig.js';
import { ObjectService } from './api/objects.js';
import { ResourceRegistry } from './api/resources.js';
import { ApiServer } from './api/server.js';
import { createServerPki } from './api/tls.js';
import { bootstrapCluster } from './controllers/bootstrap.js';
import type { Controller, ControllerContext } from './controllers/context.js';
import { startEndpointsController } from './controllers/endpoints.js';
import { startCrdController, startGarbageCollector, startNamespaceController } from './controllers/namespaces.js';
import { startPodLifecycle } from './controllers/pods.js';
import { startTokensController } from './controllers/service-account-tokens.js';
import { createServiceAccountKey, serviceAccountUser } from './api/service-accounts.js';
import { startWorkloadControllers } from './controllers/workloads.js';
import { checkRevisionOptions, installIstio, ISTIO_VERSIONS, type IstioRevisionOptions } from './istio/install.js';
import { createMeshRuntime } from './mesh/index.js';

export type { FaultSpec } from './api/faults.js';
export type { UserSpec, PolicyRule } from './api/auth.js';
export type { AuditEntry } from './api/audit.js';
export { FAULT_ANNOTATION, parseFaultSpec } from './api/faults.js';

export interface EmulatorOptions {
  /** 0 or absent: a free port. The server always binds 127.0.0.1. */
  port?: number;
  /** Where to write the admin kubeconfig; default: a file in the emulator's temporary directory. */
  kubeconfigPath?: string;
  /** Default 'modern'. */
  istio?: IstioFlavor;
  /**
   * Installs Istio 1.24 as a revision, with tags and optionally the default tag, as `istioctl install
   * --revision` / Helm `revision`, `revisionTags`, `defaultRevision` do (istio/install.ts). Default: the
   * unrevisioned install.
   */
  istioRevision?: IstioRevisionOptions;
  /** Builds the container runtime; default: the emulated Istio mesh (mesh/index.ts); createPlainRuntime runs commands on the host. */
  runtime?: RuntimeFactory;
  /**
   * The default mesh runtime's per-proxy delay from a config change to the proxy applying it, in ms; default
   * 500–2000 (or MESH_PROPAGATION_DELAY_MS). With `runtime`, pass it to meshRuntimeFactory instead.
   */
  propagationDelayMs?: { min: number; max: number };
  /** How long after the runtime started a pod it becomes Ready; default 300 ms. */
  podReadyDelayMs?: number;
  /** How long an app container takes to exit on SIGTERM when its pod is deleted; default 100 ms. */
  podTerminationMs?: number;
  /**
   * Multiplies the kubelet's own durations (image pull back-off 10 s to 300 s, sync retries 1 s then
   * 10-15 s, istio-proxy's 5 s termination drain); default 1, the real ones. Tests pass e.g. 0.01.
   */
  kubeletTimeScale?: number;
  /**
   * Pod Security admission's cluster-wide default (the admission configuration's `defaults.enforce`),
   * or the whole configuration; default privileged. Namespaces override it with the label
   * `pod-security.kubernetes.io/enforce`. kube-system and istio-system are exempt unless configured otherwise.
   */
  podSecurity?: PodSecurityLevel | PodSecurityConfig;
  /** How often a crash-looping container restarts; default 1000 ms. */
  crashLoopIntervalMs?: number;
  /** Extra users with RBAC-style rules, besides the admin. */
  users?: UserSpec[];
  faults?: FaultSpec[];
  /** Seeds the fault generators (and the default mesh runtime's propagation delays); default 1. */
  seed?: number;
  /** The Kubernetes version served by /version; default '1.32.4' (kubectl's dispatcher then runs kubectl 1.32). */
  kubeVersion?: string;
  /** The admin bearer token; default random. */
  token?: string;
  /** Also append audit entries to this JSONL file. */
  auditFile?: string;
  /** Events kept for watch replay (older resourceVersions get 410 Expired); default 20000. */
  watchHistory?: number;
  /** Interval of watch BOOKMARK events when asked for; default 5000 ms. */
  bookmarkIntervalMs?: number;
}

export interface KubeconfigOptions {
  /** A configured user's name; default the admin. */
  user?: string;
  /** The context's default namespace. */
  namespace?: string;
  /** The cluster/context name; default 'meshprobe-emulator'. */
  context?: string;
}

export interface Emulator {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  port: number;
  /** The admin's bearer token. */
  token: string;
  /** The API server's CA certificate (PEM). */
  caPem: string;
  istio: IstioFlavor;
  istioVersion: string | undefined;
  store: MemoryStore;
  audit: AuditLog;
  faults: Faults;
  registry: ResourceRegistry;
  objects: ObjectService;
  runtime: ContainerRuntime;
  /** The kubeconfig text for the admin or a configured user. */
  kubeconfig(options?: KubeconfigOptions): string;
  writeKubeconfig(path: string, options?: KubeconfigOptions): Promise<void>;
  /** Stops serving, stops every controller, timer, exec and child process, and removes temporary files. */
  stop(): Promise<void>;
}

const DEFAULTS = {
  podReadyDelayMs: 300,
  podTerminationMs: 100,
  crashLoopIntervalMs: 1000,
  kubeVersion: '1.32.4',
  bookmarkIntervalMs: 5000,
  seed: 1,
};

function createMeshCA(): { certPem: string; keyPem: string } {
  const ca = issueCertificate({
    subject: { organization: 'cluster.local' },
    role: 'ca',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 10 * 365 * 24 * 3600_000),
  });
  return { certPem: ca.certPem, keyPem: ca.keyPem };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const istio = options.istio ?? 'modern';
  if (!['modern', 'legacy', 'none'].includes(istio))
    throw new Error(`unknown Istio flavor "${String(istio)}": use modern, legacy or none`);
  const revisionOptions = options.istioRevision ?? {};
  checkRevisionOptions(istio, revisionOptions);
  const kubeVersion = options.kubeVersion ?? DEFAULTS.kubeVersion;
  const podSecurity: PodSecurityConfig =
    typeof options.podSecurity === 'string'
      ? { enforce: options.podSecurity }
      : (options.podSecurity ?? { enforce: 'privileged' });
  if (!POD_SECURITY_LEVELS.includes(podSecurity.enforce))
    throw new Error(
      `unknown Pod Security level "${String(podSecurity.enforce)}": use privileged, baseline or restricted`,
    );
  if (options.kubeletTimeScale !== undefined && !(options.kubeletTimeScale > 0))
    throw new Error(`kubeletTimeScale must be a positive number, got ${String(options.kubeletTimeScale)}`);
  const workDir = await mkdtemp(join(tmpdir(), 'meshprobe-emulator-'));
  const token = options.token ?? randomBytes(24).toString('hex');
  const users = options.users ?? [];
  for (const u of users)
    if (u.token === token || u.name === ADMIN_NAME)
      throw new Error(`user "${u.name}" clashes with the admin's name or token`);

  const pki = createServerPki();
  const meshCA = createMeshCA();
  const store = new MemoryStore(options.watchHistory !== undefined ? { historyLimit: options.watchHistory } : {});
  const registry = new ResourceRegistry();
  const stopRegistry = registry.followCrds(store);
  const objects = new ObjectService(store);
  objects.addAdmission(namespaceLifecycle(store));
  objects.addAdmission(serviceAccountAdmission(store));
  objects.addAdmission(serviceAllocation(store));
  const faults = new Faults(options.seed ?? DEFAULTS.seed, options.faults ?? []);
  // Mutating webhooks are called after the built-in mutating plugins; istio/install.ts adds the injector's answer.
  objects.addAdmission(mutatingWebhookCalls(store, faults));
  const audit = new AuditLog(options.auditFile);

  const istioVersion = istio === 'none' ? undefined : ISTIO_VERSIONS[istio];
  const runtimeContext: RuntimeContext = {
    store,
    istio,
    istioVersion,
    ...(revisionOptions.revision ? { istioRevision: revisionOptions.revision } : {}),
    meshCA,
    clusterDomain: 'cluster.local',
    workDir,
  };
  if (options.runtime && options.propagationDelayMs)
    throw new Error(
      'propagationDelayMs applies to the default mesh runtime: pass it to meshRuntimeFactory({ propagationDelayMs })',
    );
  const meshOptions = {
    ...(options.propagationDelayMs ? { propagationDelayMs: options.propagationDelayMs } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  const runtime = await (options.runtime ?? ((ctx: RuntimeContext) => createMeshRuntime(ctx, meshOptions)))(
    runtimeContext,
  );

  const controllerContext: ControllerContext = {
    store,
    registry,
    objects,
    faults,
    runtime: () => runtime,
    config: {
      podReadyDelayMs: options.podReadyDelayMs ?? DEFAULTS.podReadyDelayMs,
      podTerminationMs: options.podTerminationMs ?? DEFAULTS.podTerminationMs,
      crashLoopIntervalMs: options.crashLoopIntervalMs ?? DEFAULTS.crashLoopIntervalMs,
      kubeletTimeScale: options.kubeletTimeScale ?? 1,
      seed: options.seed ?? DEFAULTS.seed,
      nodeName: 'meshprobe-control-plane',
      hostIP: '172.18.0.2',
      kubeVersion,
      caPem: pki.caPem,
    },
  };
  const controllers: Controller[] = [];
  const pods = startPodLifecycle(controllerContext);
  controllers.push(
    startCrdController(controllerContext),
    startNamespaceController(controllerContext),
    startGarbageCollector(controllerContext),
    startWorkloadControllers(controllerContext),
    startEndpointsController(controllerContext),
    pods,
  );
  // Made on the first token Secret: an RSA key costs tens of milliseconds, and most clusters need none.
  let serviceAccountKey: ReturnType<typeof createServiceAccountKey> | undefined;
  controllers.push(startTokensController(controllerContext, () => (serviceAccountKey ??= createServiceAccountKey())));
  bootstrapCluster(controllerContext);
  if (istio !== 'none')
    controllers.push(installIstio({ flavor: istio, store, registry, objects, meshCA, ...revisionOptions }));
  // A validating plugin: it sees the pod as the mutating ones (the sidecar injector included) left it.
  objects.addAdmission(podSecurityAdmission(store, podSecurity));

  const api = new ApiServer({
    store,
    registry,
    objects,
    authenticator: new Authenticator(
      token,
      users,
      (t) => serviceAccountKey && serviceAccountUser(store, serviceAccountKey, t),
    ),
    audit,
    faults,
    runtime: () => runtime,
    tls: { certPem: pki.certPem, keyPem: pki.keyPem },
    kubeVersion,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? DEFAULTS.bookmarkIntervalMs,
  });
  let address;
  try {
    address = await api.listen(options.port ?? 0);
  } catch (error) {
    for (const c of controllers) await c.stop();
    await runtime.close();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  const server = `https://127.0.0.1:${address.port}`;

  const kubeconfig = (o: KubeconfigOptions = {}): string => {
    const name = o.user ?? ADMIN_NAME;
    const user = name === ADMIN_NAME ? { name, token } : users.find((u) => u.name === name);
    if (!user) throw new Error(`no user "${name}": configure it in startEmulator({ users })`);
    return renderKubeconfig({
      server,
      caPem: pki.caPem,
      user: user.name,
      token: user.token,
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(o.context ? { contextName: o.context } : {}),
    });
  };
  const kubeconfigPath = options.kubeconfigPath ?? join(workDir, 'kubeconfig');
  const writeKubeconfig = async (path: string, o: KubeconfigOptions = {}): Promise<void> => {
    await writeFile(path, kubeconfig(o), { mode: 0o600 });
  };
  await writeKubeconfig(kubeconfigPath);
  if (istio !== 'none')
    await waitFor(store, () => istiodReady(store), 10_000 + controllerContext.config.podReadyDelayMs);

  let stopping: Promise<void> | undefined;
  return {
    kubeconfigPath,
    server,
    port: address.port,
    token,
    caPem: pki.caPem,
    istio,
    istioVersion,
    store,
    audit,
    faults,
    registry,
    objects,
    runtime,
    kubeconfig,
    writeKubeconfig,
    stop() {
      stopping ??= (async () => {
        await api.close();
        for (const c of controllers) await c.stop();
        stopRegistry();
        await runtime.close();
        await rm(workDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** istiod Ready and in its Service's endpoints, so the injection webhook can be called. */
function istiodReady(store: MemoryStore): boolean {
  const podReady = store
    .list('', 'pods', 'istio-system')
    .some(
      (p: KubeObject) =>
        p.metadata.labels?.app === 'istiod' &&
        ((p.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
          (c) => c.type === 'Ready' && c.status === 'True',
        ),
    );
  // istiod, or istiod-<revision>: the injection webhook's Service.
  const endpoints = store
    .list('', 'endpoints', 'istio-system')
    .filter((e) => e.metadata.name.startsWith('istiod')) as Array<{ subsets?: Array<{ addresses?: unknown[] }> }>;
  return podReady && endpoints.some((e) => (e.subsets ?? []).some((s) => (s.addresses ?? []).length > 0));
}

/** Resolves once `ready()` holds, re-checking on every store change; rejects after `timeoutMs`. */
export function waitFor(store: MemoryStore, ready: () => boolean, timeoutMs: number): Promise<void> {
  if (ready()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`emulator: condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = store.subscribe(() => {
      if (!ready()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}
