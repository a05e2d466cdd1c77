// make e2e cannot run here (no Docker engine): its script runs with stand-ins for docker, kind, kubectl,
// istioctl and helm (stand-ins/, each printing what the pinned real release prints, citing the upstream
// file) that log their calls, for argument handling, idempotence and clean-up. The kubectl stand-in is
// checked against the real kubectl driving the emulated cluster.
//
// E2E_BASH=/path/to/bash runs the script (and the stand-ins) with another bash, e.g. a bash 3.2 as on macOS.
// stdin is /dev/null: bash with a socket for stdin (Node's default pipe) sources /etc/bash.bashrc.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';

const script = resolve(import.meta.dirname, 'e2e.sh');
const standIns = resolve(import.meta.dirname, 'stand-ins');
const BASH = process.env.E2E_BASH ?? 'bash';
/** What e2e.sh and the stand-ins use from the system; nothing else is on their PATH. */
const SYSTEM_TOOLS = ['env', 'grep', 'mkdir', 'cat', 'sort', 'touch', 'mv', 'date'];

type Tool = 'docker' | 'kind' | 'kubectl' | 'istioctl' | 'helm';

interface Setup {
  /** Stand-ins on PATH; default docker, kind, kubectl. */
  tools?: Tool[];
  clusters?: string[];
  istiod?: boolean;
  dockerDown?: boolean;
  istioctlVersion?: string;
  meshprobeExit?: number;
}

function which(tool: string): string {
  return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
}

function sandbox(s: Setup = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-e2e-stand-ins-'));
  const bin = join(dir, 'bin');
  const state = join(dir, 'state');
  mkdirSync(bin);
  mkdirSync(state);
  for (const t of s.tools ?? ['docker', 'kind', 'kubectl']) symlinkSync(join(standIns, t), join(bin, t));
  for (const t of SYSTEM_TOOLS) symlinkSync(which(t), join(bin, t));
  symlinkSync(BASH.includes('/') ? BASH : which(BASH), join(bin, 'bash'));
  writeFileSync(join(state, 'clusters'), (s.clusters ?? []).map((c) => `${c}\n`).join(''));
  if (s.istiod) writeFileSync(join(state, 'istiod'), '');
  if (s.dockerDown) writeFileSync(join(state, 'docker-down'), '');
  const log = join(dir, 'calls.log');
  // meshprobe itself is not the subject here: a stand-in that logs its arguments and exits as told.
  writeFileSync(
    join(dir, 'meshprobe'),
    `#!/usr/bin/env bash\necho "meshprobe $*" >> "${log}"\nexit ${s.meshprobeExit ?? 0}\n`,
    { mode: 0o755 },
  );
  const env = {
    PATH: bin,
    HOME: dir,
    MESHPROBE: join(dir, 'meshprobe'),
    STANDIN_LOG: log,
    STANDIN_STATE: state,
    ...(s.istioctlVersion ? { STANDIN_ISTIOCTL_VERSION: s.istioctlVersion } : {}),
  };
  return { dir, state, log, env };
}

function run(args: string[], s: Setup = {}, extraEnv: Record<string, string> = {}) {
  const box = sandbox(s);
  const r = spawnSync(join(box.env.PATH, 'bash'), [script, ...args], {
    encoding: 'utf8',
    cwd: box.dir,
    env: { ...box.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const calls = existsSync(box.log) ? readFileSync(box.log, 'utf8').trim().split('\n') : [];
  return { code: r.status, stderr: r.stderr, stdout: r.stdout, calls };
}

/** One call of a stand-in, as e2e.sh would make it. */
function standIn(tool: Tool, args: string[], s: Setup = {}) {
  const box = sandbox({ ...s, tools: [tool] });
  const r = spawnSync(join(box.env.PATH, 'bash'), [join(standIns, tool), ...args], {
    encoding: 'utf8',
    env: box.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('make e2e (test/e2e/kind/e2e.sh) with stand-ins', () => {
  it('creates the cluster, installs the pinned Istio with istioctl, runs meshprobe with artifacts, deletes the cluster', () => {
    const r = run([], { tools: ['docker', 'kind', 'kubectl', 'istioctl'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toContain(
      'kind create cluster --name meshprobe-e2e --image kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f --wait 180s',
    );
    expect(r.stderr).toContain(' • Ensuring node image (kindest/node:v1.32.2) 🖼  ...\n');
    expect(r.calls).toContain('istioctl version --remote=false -o json');
    expect(r.calls).toContain('istioctl --context kind-meshprobe-e2e install --set profile=minimal -y');
    expect(r.calls).toContain(
      'kubectl --context kind-meshprobe-e2e -n istio-system rollout status deployment/istiod --timeout=300s',
    );
    // No flags after `--`: the empty array must not trip `set -u` (bash < 4.4 calls it unbound).
    expect(r.calls).toContain('meshprobe --context kind-meshprobe-e2e run --allow-cluster-wide --report-dir out/e2e');
    expect(r.calls.at(-1)).toBe('kind delete cluster --name meshprobe-e2e');
    expect(r.stderr).toContain('e2e: installing Istio 1.24.2 with istioctl (minimal profile)');
    expect(r.stderr).not.toMatch(/unbound variable|stand-in: call not known/);
  });

  it('is idempotent: reuses an existing cluster and Istio, and does not delete a cluster it did not create', () => {
    const r = run(['--cluster', 'mine'], {
      clusters: ['other', 'mine'],
      istiod: true,
      tools: ['docker', 'kind', 'kubectl', 'istioctl', 'helm'],
    });
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.calls.filter(
        (c) =>
          c.startsWith('kind create') ||
          c.startsWith('kind delete') ||
          c.startsWith('istioctl') ||
          c.startsWith('helm'),
      ),
    ).toEqual([]);
    expect(r.stderr).toContain('e2e: reusing kind cluster mine');
    expect(r.stderr).toContain('e2e: Istio already installed in kind-mine');
  });

  it('KEEP_CLUSTER=1 keeps a cluster it created', () => {
    const r = run([], { tools: ['docker', 'kind', 'kubectl', 'istioctl'] }, { KEEP_CLUSTER: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.some((c) => c.startsWith('kind delete'))).toBe(false);
  });

  it('installs with Helm at the pinned version when istioctl is absent', () => {
    const r = run(['--istio-version', '1.23.4'], { tools: ['docker', 'kind', 'kubectl', 'helm'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toContain(
      'helm upgrade --install istio-base istio/base --version 1.23.4 --kube-context kind-meshprobe-e2e -n istio-system --create-namespace --wait',
    );
    expect(r.calls).toContain(
      'helm upgrade --install istiod istio/istiod --version 1.23.4 --kube-context kind-meshprobe-e2e -n istio-system --wait',
    );
    expect(r.stderr).toContain('"istiod" successfully installed!');
  });

  it('refuses an istioctl of another version instead of installing the wrong Istio', () => {
    const r = run([], { tools: ['docker', 'kind', 'kubectl', 'istioctl'], istioctlVersion: '1.20.0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('e2e: istioctl on PATH is 1.20.0, not 1.24.2');
    expect(r.calls.some((c) => c.includes(' install '))).toBe(false);
    expect(r.calls.at(-1)).toBe('kind delete cluster --name meshprobe-e2e');
  });

  it("passes meshprobe's exit code through, and extra flags after --", () => {
    const r = run(['--artifacts', 'arts', '--', '--scenario', 'baseline'], {
      clusters: ['meshprobe-e2e'],
      istiod: true,
      meshprobeExit: 1,
    });
    expect(r.code).toBe(1);
    expect(r.calls).toContain(
      'meshprobe --context kind-meshprobe-e2e run --allow-cluster-wide --report-dir arts --scenario baseline',
    );
  });

  it('says what is missing: a stopped Docker engine, no installer, a bad flag or name', () => {
    expect(run([], { dockerDown: true }).stderr).toContain('e2e: the Docker engine is not running');
    expect(run([], { tools: ['docker'] }).stderr).toContain('e2e: kind is not on PATH');
    const none = run([], {});
    expect(none.stderr).toContain('e2e: neither istioctl nor helm is on PATH');
    expect(none.calls.at(-1)).toBe('kind delete cluster --name meshprobe-e2e');
    const bad = run(['--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/usage: .*e2e\.sh[\s\S]*e2e: unknown argument: --bogus/);
    expect(run(['--cluster', 'Bad_Name']).code).toBe(2);
    expect(run(['--istio-version', 'latest']).stderr).toContain('Istio version must be X.Y.Z');
  });
});

describe('the stand-ins print what the real tools print', () => {
  it('istioctl 1.24.2: `version --remote=false -o json` is the JSON of pkg/version/cobra.go; --short has the 1.23+ prefix', () => {
    const json = standIn('istioctl', ['version', '--remote=false', '-o', 'json']);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe(
      '{\n  "clientVersion": {\n    "version": "1.24.2",\n    "revision": "7754674f65d38523e49b692cbb95a5bb1e2a93b8",\n' +
        '    "golang_version": "go1.23.2",\n    "status": "Clean",\n    "tag": "1.24.2"\n  }\n}\n',
    );
    expect(JSON.parse(json.stdout)).toEqual({ clientVersion: expect.objectContaining({ version: '1.24.2' }) });
    expect(standIn('istioctl', ['version', '--remote=false', '--short']).stdout).toBe('client version: 1.24.2\n');
    expect(standIn('istioctl', ['version', '--remote=false', '--short'], { istioctlVersion: '1.20.0' }).stdout).toBe(
      '1.20.0\n',
    );
    expect(standIn('istioctl', ['version']).code).toBe(99);
  });

  it('kind: no cluster is a message on stderr, not a name on stdout; create and delete change what get lists', () => {
    const none = standIn('kind', ['get', 'clusters']);
    expect(none).toEqual({ code: 0, stdout: '', stderr: 'No kind clusters found.\n' });
    expect(standIn('kind', ['get', 'clusters'], { clusters: ['b', 'a'] }).stdout).toBe('a\nb\n');
    const dup = standIn('kind', ['create', 'cluster', '--name', 'a', '--wait', '180s'], { clusters: ['a'] });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe('ERROR: failed to create cluster: node(s) already exist for a cluster with the name "a"\n');
    const created = standIn('kind', [
      'create',
      'cluster',
      '--name',
      'x',
      '--image',
      'kindest/node:v1.32.2',
      '--wait',
      '180s',
    ]);
    expect(created.stdout).toBe('');
    expect(created.stderr).toMatch(
      /^Creating cluster "x" \.\.\.\n • Ensuring node image \(kindest\/node:v1\.32\.2\) 🖼 {2}\.\.\.\n/,
    );
    expect(created.stderr).toContain(' ✓ Waiting ≤ 3m0s for control-plane = Ready ⏳\n');
    expect(created.stderr).toContain('Set kubectl context to "kind-x"\n');
  });

  it('docker info: the client section on stdout; a stopped engine fails with the daemon error on stderr', () => {
    const up = standIn('docker', ['info']);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^Client: Docker Engine - Community\n Version: {4}27\.5\.1\n Context: {4}default\n/);
    expect(up.stdout).toContain('\nServer:\n Containers: 1\n');
    const down = standIn('docker', ['info'], { dockerDown: true });
    expect(down.code).toBe(1);
    expect(down.stdout).toBe(
      'Client: Docker Engine - Community\n Version:    27.5.1\n Context:    default\n Debug Mode: false\n\nServer:\n',
    );
    expect(down.stderr).toBe(
      'ERROR: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\nerrors pretty printing info\n',
    );
  });

  it('helm: repo add, then upgrade --install of a new release prints the install and the chart NOTES', () => {
    const box = sandbox({ tools: ['helm'] });
    const helm = (args: string[]) =>
      spawnSync(join(box.env.PATH, 'bash'), [join(standIns, 'helm'), ...args], {
        encoding: 'utf8',
        env: box.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const install = [
      'upgrade',
      '--install',
      'istio-base',
      'istio/base',
      '--version',
      '1.24.2',
      '--kube-context',
      'k',
      '-n',
      'istio-system',
      '--wait',
    ];
    expect(helm(install).stderr).toBe('Error: repo istio not found\n');
    expect(helm(['repo', 'add', 'istio', 'https://charts.example', '--force-update']).stdout).toBe(
      '"istio" has been added to your repositories\n',
    );
    const r = helm(install);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^Release "istio-base" does not exist\. Installing it now\.\nNAME: istio-base\nLAST DEPLOYED: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nNAMESPACE: istio-system\nSTATUS: deployed\nREVISION: 1\nTEST SUITE: None\nNOTES:\nIstio base successfully installed!\n\nTo learn more about the release, try:\n {2}\$ helm status istio-base -n istio-system\n {2}\$ helm get all istio-base -n istio-system\n$/,
    );
  });

  describe('kubectl, against the real kubectl driving the emulated cluster', () => {
    let emu: Emulator;
    let kubeconfig: string;
    const context = 'kind-meshprobe-e2e';
    // Asynchronous: the emulator runs in this process and must answer while kubectl waits.
    const real = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        execFile(
          'kubectl',
          ['--kubeconfig', kubeconfig, ...args],
          { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tmpdir() } },
          (err, stdout, stderr) =>
            done({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
        );
      });
    const fake = (args: string[], s: Setup) => standIn('kubectl', args, { clusters: ['meshprobe-e2e'], ...s });

    beforeAll(async () => {
      emu = await startEmulator({ istio: 'modern', podReadyDelayMs: 50 });
      kubeconfig = join(mkdtempSync(join(tmpdir(), 'meshprobe-e2e-kubectl-')), 'config');
      await emu.writeKubeconfig(kubeconfig, { context });
    });
    afterAll(async () => {
      await emu?.stop();
    });

    it('rollout status, get, NotFound and a missing context print the same', async () => {
      const rollout = [
        '--context',
        context,
        '-n',
        'istio-system',
        'rollout',
        'status',
        'deployment/istiod',
        '--timeout=300s',
      ];
      const get = ['--context', context, '-n', 'istio-system', 'get', 'deployment', 'istiod'];
      const r1 = await real(rollout);
      expect(r1.status, r1.stderr).toBe(0);
      expect(fake(rollout, { istiod: true })).toEqual({ code: 0, stdout: r1.stdout, stderr: r1.stderr });
      const r2 = await real(get);
      expect(r2.status, r2.stderr).toBe(0);
      // The AGE column depends on when istiod started.
      const age = (s: string) => s.replace(/ \d+[smhd]\n/g, ' AGE\n');
      expect(age(fake(get, { istiod: true }).stdout)).toBe(age(r2.stdout));
      expect((await real(['--context', context, '-n', 'istio-system', 'delete', 'deployment', 'istiod'])).status).toBe(
        0,
      );
      const r3 = await real(get);
      expect(r3.status).toBe(1);
      expect(fake(get, {})).toEqual({ code: 1, stdout: r3.stdout, stderr: r3.stderr });
      const r4 = await real(rollout);
      expect(fake(rollout, {})).toEqual({ code: r4.status, stdout: r4.stdout, stderr: r4.stderr });
      const other = ['--context', 'kind-other', '-n', 'istio-system', 'get', 'deployment', 'istiod'];
      const r5 = await real(other);
      expect(fake(other, {})).toEqual({ code: r5.status, stdout: r5.stdout, stderr: r5.stderr });
    });
  });
});
