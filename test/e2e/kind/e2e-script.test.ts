// make e2e cannot run here (no Docker engine): its script is tested with stand-ins on PATH that log
// their arguments, for argument handling, idempotence and clean-up.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, 'e2e.sh');

interface Fakes {
  clusters?: string[];
  istiod?: boolean;
  dockerDown?: boolean;
  istioctl?: string | false;
  helm?: boolean;
  meshprobeExit?: number;
}

function run(args: string[], f: Fakes = {}, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-e2e-fakes-'));
  const log = join(dir, 'calls.log');
  const fake = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${log}"\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  fake('docker', f.dockerDown ? 'exit 1' : 'exit 0');
  fake('kind', `if [ "$1 $2" = "get clusters" ]; then printf '%s\\n' ${(f.clusters ?? []).join(' ')}; fi; exit 0`);
  fake('kubectl', `case "$*" in *"get deployment istiod"*) ${f.istiod ? 'exit 0' : 'exit 1'};; esac; exit 0`);
  if (f.istioctl !== false && f.istioctl !== undefined)
    fake('istioctl', `case "$*" in *"version"*) echo "${f.istioctl}";; esac; exit 0`);
  if (f.helm) fake('helm', 'exit 0');
  fake('meshprobe', `exit ${f.meshprobeExit ?? 0}`);
  const r = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir, MESHPROBE: join(dir, 'meshprobe'), ...env },
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { code: r.status, stderr: r.stderr, calls };
}

describe('make e2e (test/e2e/kind/e2e.sh) with stand-ins', () => {
  it('creates the cluster, installs the pinned Istio with istioctl, runs meshprobe with artifacts, deletes the cluster', () => {
    const r = run([], { istioctl: '1.24.2' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toContain('kind create cluster --name meshprobe-e2e --image kindest/node:v1.32.2 --wait 180s');
    expect(r.calls).toContain('istioctl --context kind-meshprobe-e2e install --set profile=minimal -y');
    expect(r.calls).toContain('meshprobe --context kind-meshprobe-e2e run --allow-cluster-wide --report-dir out/e2e');
    expect(r.calls.at(-1)).toBe('kind delete cluster --name meshprobe-e2e');
  });

  it('is idempotent: reuses an existing cluster and Istio, and does not delete a cluster it did not create', () => {
    const r = run(['--cluster', 'mine'], { clusters: ['other', 'mine'], istiod: true, istioctl: '1.24.2' });
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
  });

  it('KEEP_CLUSTER=1 keeps a cluster it created', () => {
    const r = run([], { istioctl: '1.24.2' }, { KEEP_CLUSTER: '1' });
    expect(r.calls.some((c) => c.startsWith('kind delete'))).toBe(false);
  });

  it('installs with Helm at the pinned version when istioctl is absent', () => {
    const r = run(['--istio-version', '1.23.4'], { helm: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toContain(
      'helm upgrade --install istio-base istio/base --version 1.23.4 --kube-context kind-meshprobe-e2e -n istio-system --create-namespace --wait',
    );
    expect(r.calls).toContain(
      'helm upgrade --install istiod istio/istiod --version 1.23.4 --kube-context kind-meshprobe-e2e -n istio-system --wait',
    );
  });

  it('refuses an istioctl of another version instead of installing the wrong Istio', () => {
    const r = run([], { istioctl: '1.20.0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('e2e: istioctl on PATH is 1.20.0, not 1.24.2');
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
    expect(run([], {}).stderr).toContain('e2e: neither istioctl nor helm is on PATH');
    const bad = run(['--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/usage: .*e2e\.sh[\s\S]*e2e: unknown argument: --bogus/);
    expect(run(['--cluster', 'Bad_Name']).code).toBe(2);
    expect(run(['--istio-version', 'latest']).stderr).toContain('Istio version must be X.Y.Z');
  });
});
