// The plain container runtime: a pod is a private directory, and exec runs the command for real on
// the host there, with the container's environment (env values, fieldRefs, ConfigMap / Secret refs),
// HOSTNAME set to the pod name and a standard PATH. The argv is spawned as is (no shell, unless the
// command itself is `sh -c ...`). It knows nothing about networks; the mesh runtime replaces that part.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ContainerRuntime,
  ExecRequest,
  ExecResult,
  KubeObject,
  ObjectStore,
  RuntimeContext,
} from '../contracts.js';

type Any = Record<string, any>; // loosely typed pod specs

export const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** containerd's message for an exec whose executable cannot be started, as kubectl users see it. */
export function execFailure(executable: string, reason: 'not-found' | 'permission-denied' | 'not-directory'): string {
  const why =
    reason === 'not-found'
      ? 'executable file not found in $PATH'
      : reason === 'permission-denied'
        ? 'permission denied'
        : 'not a directory';
  return `OCI runtime exec failed: exec failed: unable to start container process: exec: "${executable}": ${why}: unknown`;
}

function podDirName(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${(pod.metadata.uid ?? '').slice(0, 8)}`;
}

function fieldValue(pod: KubeObject, path: string): string {
  const labelRef = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (labelRef) return String((pod.metadata[labelRef[1] as 'labels' | 'annotations'] ?? {})[labelRef[2] ?? ''] ?? '');
  let cur: unknown = pod;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Any)[part];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

/** The environment a container's processes see, resolved the way the kubelet resolves it. */
export function containerEnv(
  pod: KubeObject,
  container: string,
  store: ObjectStore | undefined,
): Record<string, string> {
  const spec = (pod.spec ?? {}) as Any;
  const c =
    [...((spec.containers ?? []) as Any[]), ...((spec.initContainers ?? []) as Any[])].find(
      (x) => x.name === container,
    ) ?? {};
  const namespace = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = { PATH: CONTAINER_PATH, HOSTNAME: pod.metadata.name };
  for (const from of (c.envFrom ?? []) as Any[]) {
    const prefix = String(from.prefix ?? '');
    if (from.configMapRef && store) {
      const cm = store.get('', 'configmaps', namespace, String(from.configMapRef.name));
      for (const [k, v] of Object.entries((cm?.data ?? {}) as Record<string, string>)) env[prefix + k] = v;
    }
    if (from.secretRef && store) {
      const s = store.get('', 'secrets', namespace, String(from.secretRef.name));
      for (const [k, v] of Object.entries((s?.data ?? {}) as Record<string, string>))
        env[prefix + k] = Buffer.from(v, 'base64').toString('utf8');
    }
  }
  for (const e of (c.env ?? []) as Any[]) {
    const name = String(e.name);
    if (e.value !== undefined) {
      // $(VAR) references to earlier variables are expanded, as the kubelet does.
      env[name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => env[v] ?? m);
      continue;
    }
    const from = (e.valueFrom ?? {}) as Any;
    if (from.fieldRef) env[name] = fieldValue(pod, String(from.fieldRef.fieldPath));
    else if (from.configMapKeyRef && store) {
      const cm = store.get('', 'configmaps', namespace, String(from.configMapKeyRef.name));
      const v = (cm?.data as Record<string, string> | undefined)?.[String(from.configMapKeyRef.key)];
      if (v !== undefined) env[name] = v;
    } else if (from.secretKeyRef && store) {
      const s = store.get('', 'secrets', namespace, String(from.secretKeyRef.name));
      const v = (s?.data as Record<string, string> | undefined)?.[String(from.secretKeyRef.key)];
      if (v !== undefined) env[name] = Buffer.from(v, 'base64').toString('utf8');
    }
  }
  env.HOME ??= '/root';
  return env;
}

export interface PlainRuntimeOptions {
  /** Where pod directories go (one per pod); the emulator's work directory. */
  workDir: string;
  store?: ObjectStore;
}

export class PlainRuntime implements ContainerRuntime {
  private readonly children = new Set<ChildProcess>();
  private readonly byPod = new Map<string, Set<ChildProcess>>();

  constructor(private readonly options: PlainRuntimeOptions) {}

  podDir(pod: KubeObject): string {
    return join(this.options.workDir, 'pods', podDirName(pod));
  }

  async startPod(pod: KubeObject): Promise<void> {
    await mkdir(this.podDir(pod), { recursive: true });
  }

  async stopPod(pod: KubeObject): Promise<void> {
    for (const child of this.byPod.get(podDirName(pod)) ?? []) killTree(child);
    this.byPod.delete(podDirName(pod));
    await rm(this.podDir(pod), { recursive: true, force: true });
  }

  exec(req: ExecRequest): Promise<ExecResult> {
    const [file, ...args] = req.command;
    if (!file) return Promise.resolve({ kind: 'runtime-error', message: execFailure('', 'not-found') });
    const env = containerEnv(req.pod, req.container, this.options.store);
    // The home directory of a container is its own; here that is the pod directory.
    env.HOME = this.podDir(req.pod);
    if (req.tty) env.TERM ??= 'xterm';
    return new Promise<ExecResult>((resolve) => {
      let settled = false;
      const finish = (result: ExecResult): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      let child: ChildProcess;
      try {
        // A missing cwd would fail the spawn as if the executable were missing.
        mkdirSync(this.podDir(req.pod), { recursive: true });
        child = spawn(file, args, { cwd: this.podDir(req.pod), env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      } catch (error) {
        finish({ kind: 'runtime-error', message: execFailure(file, spawnReason(error)) });
        return;
      }
      const key = podDirName(req.pod);
      this.children.add(child);
      let group = this.byPod.get(key);
      if (!group) this.byPod.set(key, (group = new Set()));
      group.add(child);
      const forget = (): void => {
        this.children.delete(child);
        this.byPod.get(key)?.delete(child);
      };
      child.once('error', (error) => {
        forget();
        finish({ kind: 'runtime-error', message: execFailure(file, spawnReason(error)) });
      });
      const onAbort = (): void => killTree(child);
      if (req.signal.aborted) onAbort();
      else req.signal.addEventListener('abort', onAbort, { once: true });
      child.stdout?.pipe(req.stdout, { end: false });
      child.stderr?.pipe(req.stderr, { end: false });
      // A command that exits without reading its input makes writes to it fail with EPIPE: not an error here.
      child.stdin?.on('error', () => undefined);
      if (req.stdin) req.stdin.pipe(child.stdin!);
      else child.stdin?.end();
      // 'close' comes after the exit and after stdout/stderr have drained into the request's streams.
      child.once('close', (code, signal) => {
        forget();
        req.signal.removeEventListener('abort', onAbort);
        if (req.stdin) req.stdin.unpipe(child.stdin!);
        finish({ kind: 'exited', code: code ?? 128 + signalNumber(signal) });
      });
    });
  }

  async close(): Promise<void> {
    for (const child of this.children) killTree(child);
    const waiting = [...this.children].map(
      (c) =>
        new Promise<void>((resolve) =>
          c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('close', () => resolve()),
        ),
    );
    await Promise.all(waiting);
    this.children.clear();
    this.byPod.clear();
  }
}

function spawnReason(error: unknown): 'not-found' | 'permission-denied' | 'not-directory' {
  const code = (error as { code?: string }).code;
  return code === 'EACCES' ? 'permission-denied' : code === 'ENOTDIR' ? 'not-directory' : 'not-found';
}

/** The whole process group: `sh -c` leaves children that must go with it. */
function killTree(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGABRT: 6,
    SIGKILL: 9,
    SIGPIPE: 13,
    SIGALRM: 14,
    SIGTERM: 15,
  };
  return signal ? (numbers[signal] ?? 0) : 0;
}

export function createPlainRuntime(ctx: RuntimeContext): ContainerRuntime {
  return new PlainRuntime({ workDir: ctx.workDir, store: ctx.store });
}
