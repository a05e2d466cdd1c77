// Running commands "in" a container: real host processes with the image's executables only (a per-image
// directory of symlinks to host binaries as PATH), the pod's hostname, and a private CURL_HOME whose
// .curlrc gives curl the pod's DNS and traffic capture. A command the image lacks fails the way
// containerd fails it. The process group is killed when the client goes away or the runtime stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecRequest, ExecResult } from '../contracts.js';
import { findContainer, SIDECAR_CONTAINER } from './k8s.js';

export type ImageKind = 'curl' | 'istio-proxy' | 'pilot' | 'nginx' | 'distroless' | 'generic';

const CORE = [
  'sh',
  'cat',
  'echo',
  'printf',
  'env',
  'grep',
  'sed',
  'head',
  'tail',
  'tr',
  'wc',
  'date',
  'ls',
  'sleep',
  'true',
  'false',
  'test',
  '[',
  'cut',
  'sort',
  'uniq',
  'xargs',
  'id',
  'mkdir',
  'rm',
  'touch',
  'tee',
  'expr',
  'seq',
  'timeout',
  'basename',
  'dirname',
  'base64',
  'awk',
];

const TOOLS: Record<ImageKind, string[]> = {
  curl: [...CORE, 'curl'],
  'istio-proxy': [...CORE, 'bash', 'curl'],
  // istio/pilot is built on istio/base (ubuntu with curl, bash, ...): docker/Dockerfile.base.
  pilot: [...CORE, 'bash', 'curl'],
  nginx: [...CORE, 'bash', 'curl'],
  distroless: [],
  generic: [...CORE, 'curl'],
};

/** Shell scripts standing in for tools that only make sense inside the pod. */
const SHIMS: Partial<Record<ImageKind, Record<string, string>>> = {
  'istio-proxy': {
    // pilot-agent request METHOD PATH: the agent asks the local Envoy admin API and prints its answer.
    'pilot-agent': [
      '#!/bin/sh',
      'if [ "$1" = "request" ] && [ $# -ge 3 ]; then',
      '  exec curl -sS -X "$2" "http://localhost:15000/${3#/}"',
      'fi',
      'echo "Error: unknown command \\"$1\\" for \\"pilot-agent\\"" >&2',
      'exit 1',
      '',
    ].join('\n'),
  },
  pilot: {
    // pilot-discovery request METHOD PATH [BODY] (pilot/cmd/pilot-discovery/app/request.go,
    // pilot/pkg/request/command.go): istiod's own monitoring port on 127.0.0.1:15014; prints the body and a
    // newline; a status above 399 other than 404 is an error. Cobra prints "Error: ...", main logs it and
    // exits with -1.
    'pilot-discovery': [
      '#!/bin/sh',
      'fail() {',
      '  echo "Error: $1" >&2',
      '  printf \'%s\\terror\\t%s\\n\' "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)" "$1" >&2',
      '  exit 255',
      '}',
      '[ "$1" = "request" ] || fail "the emulated pilot-discovery runs only \\"request\\", not \\"$1\\""',
      '[ $# -ge 3 ] || fail "requires at least 2 arg(s), only received $(($# - 1))"',
      'url="http://127.0.0.1:15014/${3#/}"',
      'body="$HOME/.pilot-discovery-response"',
      'if [ $# -ge 4 ]; then',
      '  code=$(curl -sS -X "$2" --data-raw "$4" -o "$body" -w \'%{http_code}\' "$url" 2>&1) || fail "$2 \\"$url\\": $code"',
      'else',
      '  code=$(curl -sS -X "$2" -o "$body" -w \'%{http_code}\' "$url" 2>&1) || fail "$2 \\"$url\\": $code"',
      'fi',
      'if [ "$code" -gt 399 ] && [ "$code" -ne 404 ]; then fail "received unsuccessful status code $code: $(cat "$body")"; fi',
      'cat "$body"',
      'echo',
      '',
    ].join('\n'),
  },
};

export function imageKind(containerName: string, image: string | undefined): ImageKind {
  const img = (image ?? '').toLowerCase();
  if (containerName === SIDECAR_CONTAINER || img.includes('proxyv2')) return 'istio-proxy';
  if (img.includes('istio/pilot:')) return 'pilot';
  if (img.includes('go-httpbin') || img.includes('distroless')) return 'distroless';
  if (img.includes('curl') || img.includes('sleep')) return 'curl';
  if (img.includes('nginx')) return 'nginx';
  return 'generic';
}

const HOST_PATH = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];

export interface ExecContext {
  podName: string;
  env: Record<string, string>;
  /** Writes the exec's .curlrc into the given directory. */
  curlrc: () => Promise<string>;
}

export class ExecRunner {
  private readonly binDirs = new Map<ImageKind, Promise<string>>();
  private readonly running = new Set<ChildProcess>();
  private seq = 0;

  constructor(private readonly workDir: string) {}

  private binDir(kind: ImageKind): Promise<string> {
    let p = this.binDirs.get(kind);
    if (!p) {
      p = (async () => {
        const dir = join(this.workDir, 'images', kind, 'bin');
        await mkdir(dir, { recursive: true });
        for (const tool of TOOLS[kind]) {
          const host = HOST_PATH.map((d) => join(d, tool)).find((f) => existsSync(f));
          if (host && !existsSync(join(dir, tool))) await symlink(host, join(dir, tool));
        }
        // curl reads $CURL_HOME/.curlrc unless -q comes first; naming the file explicitly keeps a `curl -q`
        // from falling back to the host's resolver and network.
        const hostCurl = HOST_PATH.map((d) => join(d, 'curl')).find((f) => existsSync(f));
        if (TOOLS[kind].includes('curl') && hostCurl) {
          await rm(join(dir, 'curl'), { force: true });
          await writeFile(join(dir, 'curl'), `#!/bin/sh\nexec ${hostCurl} -K "$CURL_HOME/.curlrc" "$@"\n`);
          await chmod(join(dir, 'curl'), 0o755);
        }
        for (const [name, text] of Object.entries(SHIMS[kind] ?? {})) {
          await writeFile(join(dir, name), text);
          await chmod(join(dir, name), 0o755);
        }
        return dir;
      })();
      this.binDirs.set(kind, p);
    }
    return p;
  }

  async exec(req: ExecRequest, ctx: ExecContext): Promise<ExecResult> {
    const container = findContainer(req.pod, req.container);
    if (!container)
      return {
        kind: 'runtime-error',
        message: `container ${req.container} is not valid for pod ${req.pod.metadata.name}`,
      };
    const kind = imageKind(req.container, container.image);
    const bin = await this.binDir(kind);
    const [cmd, ...args] = req.command;
    const execId = randomBytes(32).toString('hex');
    const notFound = (what: string) => ({
      kind: 'runtime-error' as const,
      message: `failed to exec in container: failed to start exec "${execId}": OCI runtime exec failed: exec failed: unable to start container process: ${what}: unknown`,
    });
    if (!cmd) return notFound('exec: "": executable file not found in $PATH');
    const base = cmd.includes('/') ? cmd.slice(cmd.lastIndexOf('/') + 1) : cmd;
    const file = join(bin, base);
    const plausiblePath = !cmd.includes('/') || /^\/(usr\/(local\/)?)?s?bin\/[^/]+$/.test(cmd);
    if (!plausiblePath || !existsSync(file)) {
      return notFound(
        cmd.includes('/')
          ? `exec: "${cmd}": stat ${cmd}: no such file or directory`
          : `exec: "${cmd}": executable file not found in $PATH`,
      );
    }

    const home = await mkdtemp(join(this.workDir, `exec-${++this.seq}-`));
    try {
      await writeFile(join(home, '.curlrc'), await ctx.curlrc());
      // argv[0] is the command as given, as the container runtime passes it: tools name themselves from
      // it in their messages ("ls: cannot access ..."), which must not show the host path of the shim.
      const child = spawn(file, args, {
        argv0: cmd,
        cwd: home,
        env: { ...ctx.env, PATH: bin, HOME: home, CURL_HOME: home, HOSTNAME: ctx.podName },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      this.running.add(child);
      const kill = () => {
        if (child.exitCode === null && child.pid) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }
      };
      req.signal.addEventListener('abort', kill, { once: true });
      child.stdout.pipe(req.stdout, { end: false });
      child.stderr.pipe(req.stderr, { end: false });
      child.stdin.on('error', () => undefined);
      if (req.stdin) req.stdin.pipe(child.stdin);
      else child.stdin.end();
      const code = await new Promise<number>((resolve) => {
        child.once('error', () => resolve(126));
        child.once('close', (c, signal) => resolve(c ?? (signal ? 128 + signalNumber(signal) : 1)));
      });
      req.signal.removeEventListener('abort', kill);
      this.running.delete(child);
      return { kind: 'exited', code };
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }

  /** Kills what is still running (a runtime that stops takes its containers' processes with it). */
  close(): void {
    for (const child of this.running) {
      if (child.pid && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    this.running.clear();
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGTERM: 15,
    SIGPIPE: 13,
  };
  return table[signal] ?? 1;
}

export async function makeWorkDir(parent: string): Promise<string> {
  await mkdir(parent, { recursive: true });
  return mkdtemp(join(parent, 'mesh-'));
}
