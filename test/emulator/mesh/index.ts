// The emulated Istio mesh as a ContainerRuntime: `createMeshRuntime(ctx)` for startEmulator, or
// `createMeshRuntimeWith(options)` for tests that bring their own store and CA.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type {
  ContainerRuntime,
  ExecRequest,
  ExecResult,
  KubeObject,
  ObjectStore,
  RuntimeContext,
} from '../contracts.js';
import { MeshCA } from './ca.js';
import { buildCurlrc } from './curlrc.js';
import { DohServer } from './dns.js';
import { ExecRunner, makeWorkDir } from './exec.js';
import { findContainer, podKey } from './k8s.js';
import { Mesh } from './mesh.js';
import type { Flavor } from './policy/types.js';
import { parsePropagation, type DelayRange } from './propagation.js';

export interface MeshRuntimeOptions {
  /** Per-proxy configuration delivery delay range in ms; default 500–2000, as a small real mesh (15000–25000: a busy istiod). */
  propagationDelayMs?: DelayRange;
  /** Seed for the delays (reproducible runs). */
  seed?: number;
  /** Where diagnostics go (one line per event); silent by default. MESH_DEBUG=1 logs to stderr. */
  log?: (line: string) => void;
}

export interface MeshRuntimeSetup extends MeshRuntimeOptions {
  store: ObjectStore;
  ca?: MeshCA;
  flavor?: Flavor;
  /** The control plane's revision; undefined: unrevisioned. */
  revision?: string;
  clusterDomain?: string;
  workDir?: string;
}

export interface MeshRuntime extends ContainerRuntime {
  readonly mesh: Mesh;
  /** What `kubectl logs` shows: access logs for istio-proxy, request logs for httpbin and nginx. */
  logs(pod: KubeObject, container: string): string;
}

function defaultLog(): ((line: string) => void) | undefined {
  return process.env.MESH_DEBUG ? (l) => process.stderr.write(`mesh: ${l}\n`) : undefined;
}

/** MESH_PROPAGATION_DELAY_MS="min-max" (ms, or with units: "15s-25s") sets the range for runs that cannot pass options. */
function delayFromEnv(): DelayRange | undefined {
  const text = process.env.MESH_PROPAGATION_DELAY_MS;
  if (text === undefined || text.trim() === '') return undefined;
  return parsePropagation(text, 'MESH_PROPAGATION_DELAY_MS');
}

export function createMeshRuntime(ctx: RuntimeContext, options: MeshRuntimeOptions = {}): Promise<MeshRuntime> {
  const envDelay = delayFromEnv();
  return createMeshRuntimeWith({
    ...(envDelay ? { propagationDelayMs: envDelay } : {}),
    ...options,
    store: ctx.store,
    ca: new MeshCA(ctx.meshCA),
    ...(ctx.istio === 'legacy' || ctx.istio === 'modern' ? { flavor: ctx.istio } : {}),
    ...(ctx.istioRevision ? { revision: ctx.istioRevision } : {}),
    clusterDomain: ctx.clusterDomain,
    workDir: ctx.workDir,
  });
}

/** A factory with options bound, for startEmulator({ runtime: meshRuntimeFactory({...}) }). */
export function meshRuntimeFactory(options: MeshRuntimeOptions = {}): (ctx: RuntimeContext) => Promise<MeshRuntime> {
  return (ctx) => createMeshRuntime(ctx, options);
}

export async function createMeshRuntimeWith(setup: MeshRuntimeSetup): Promise<MeshRuntime> {
  const workDir = await makeWorkDir(setup.workDir ?? tmpdir());
  const log = setup.log ?? defaultLog();
  const ca = setup.ca ?? MeshCA.selfSigned();
  const mesh = new Mesh({
    store: setup.store,
    ca,
    ...(setup.flavor ? { flavor: setup.flavor } : {}),
    ...(setup.revision ? { revision: setup.revision } : {}),
    ...(setup.clusterDomain ? { clusterDomain: setup.clusterDomain } : {}),
    ...(setup.propagationDelayMs ? { propagationDelayMs: setup.propagationDelayMs } : {}),
    ...(setup.seed !== undefined ? { seed: setup.seed } : {}),
    ...(log ? { log } : {}),
  });
  const doh = new DohServer(mesh, ca);
  await doh.start();
  const runner = new ExecRunner(workDir);

  return {
    mesh,
    async startPod(pod: KubeObject): Promise<void> {
      await mesh.startPod(pod);
    },
    async stopPod(pod: KubeObject): Promise<void> {
      await mesh.stopPod(pod);
    },
    async exec(req: ExecRequest): Promise<ExecResult> {
      const net = mesh.podByKey(podKey(req.pod));
      if (!net)
        return {
          kind: 'runtime-error',
          message: `container "${req.container}" in pod "${req.pod.metadata.name}" is not running`,
        };
      const env: Record<string, string> = {};
      for (const e of findContainer(req.pod, req.container)?.env ?? [])
        if (e.value !== undefined) env[e.name] = e.value;
      return runner.exec(req, {
        podName: req.pod.metadata.name,
        env,
        curlrc: () => buildCurlrc(mesh, doh, net, req.container),
      });
    },
    logs(pod: KubeObject, container: string): string {
      return mesh.podByKey(podKey(pod))?.logText(container) ?? '';
    },
    async dial(podIP: string, port: number): Promise<number | undefined> {
      const net = mesh.podByIp(podIP);
      return net ? mesh.podPort(net, port) : undefined;
    },
    async close(): Promise<void> {
      runner.close();
      await mesh.close();
      await doh.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
