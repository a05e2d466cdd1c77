// The real kubectl against the emulator: the dispatcher (which picks kubectl 1.32 from /version) and the
// 1.30 and 1.33 binaries beside it. Each call has its own discovery cache.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';
// These tests are about the API server; the plain runtime keeps exec results free of mesh behaviour.
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, kubectl, kubectlBinary, NAMESPACE_YAML } from './testing.js';

const MANIFESTS = join(import.meta.dirname, '../../manifests/workloads');

let emu: Emulator;
let dir: string;

function nsFile(name: string, labels: Record<string, string> = {}): string {
  const file = join(dir, `ns-${name}.yaml`);
  writeFileSync(file, NAMESPACE_YAML(name, labels));
  return file;
}

async function ok(args: string[], options: Parameters<typeof kubectl>[2] = {}): Promise<string> {
  const r = await kubectl(emu.kubeconfigPath, args, options);
  expect(r.stderr, `kubectl ${args.join(' ')}`).not.toMatch(/error/i);
  expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshprobe-kubectl-test-'));
  emu = await startEmulator({ podReadyDelayMs: 100, kubeletTimeScale: 0.1, runtime: createPlainRuntime });
  // The Secret my-nginx mounts, which meshprobe itself creates on a real cluster.
  writeFileSync(
    join(dir, 'nginxsecret.yaml'),
    'apiVersion: v1\nkind: Secret\nmetadata:\n  name: nginxsecret\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: "x"\n  tls.key: "y"\n',
  );
});

afterAll(async () => {
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl (dispatcher, 1.32) against the emulator', () => {
  it('applies the workload manifests client-side into an injected namespace, and again unchanged', async () => {
    await ok(['apply', '-f', nsFile('kc1', { 'istio-injection': 'enabled' })]);
    await ok(['apply', '-n', 'kc1', '-f', join(dir, 'nginxsecret.yaml')]);
    const out = await ok(['apply', '-n', 'kc1', '-f', MANIFESTS]);
    expect(out).toContain('deployment.apps/httpbin created');
    expect(out).toContain('service/httpbin created');
    expect(out).toContain('configmap/nginxconfigmap created');
    const again = await ok(['apply', '-n', 'kc1', '-f', MANIFESTS]);
    expect(again).toContain('deployment.apps/httpbin unchanged');
    const deployment = emu.store.get('apps', 'deployments', 'kc1', 'httpbin');
    expect(deployment?.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      '"name":"httpbin"',
    );
  });

  it('applies a changed manifest as a strategic merge patch (the generation moves, the pods roll)', async () => {
    const before = emu.store.get('apps', 'deployments', 'kc1', 'sleep');
    const changed = join(dir, 'sleep-changed.yaml');
    writeFileSync(
      changed,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: sleep\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: sleep\n  template:\n    metadata:\n      labels:\n        app: sleep\n    spec:\n      terminationGracePeriodSeconds: 0\n      serviceAccountName: sleep\n      containers:\n        - name: sleep\n          image: docker.io/curlimages/curl:8.17.0\n          command: ["/bin/sleep", "infinity"]\n',
    );
    expect(await ok(['apply', '-n', 'kc1', '-f', changed])).toContain('deployment.apps/sleep configured');
    const after = emu.store.get('apps', 'deployments', 'kc1', 'sleep');
    expect(after?.metadata.generation).toBe(Number(before?.metadata.generation) + 1);
    const containers = (after?.spec as { template: { spec: { containers: Array<{ name: string; image: string }> } } })
      .template.spec.containers;
    expect(containers).toHaveLength(1);
    expect(containers[0]?.image).toBe('docker.io/curlimages/curl:8.17.0');
    await ok(['rollout', 'status', '-n', 'kc1', 'deployment/sleep', '--timeout=20s']);
  });

  it('applies server-side, twice, without conflicts', async () => {
    await ok(['apply', '-f', nsFile('kc2')]);
    const first = await ok(['apply', '--server-side', '-n', 'kc2', '-f', MANIFESTS]);
    expect(first).toContain('deployment.apps/httpbin serverside-applied');
    const second = await ok(['apply', '--server-side', '-n', 'kc2', '-f', MANIFESTS]);
    expect(second).toContain('service/sleep serverside-applied');
    const managers = (
      emu.store.get('apps', 'deployments', 'kc2', 'httpbin')?.metadata.managedFields as Array<{
        manager: string;
        operation: string;
      }>
    ).map((m) => `${m.manager}/${m.operation}`);
    expect(managers).toContain('kubectl/Apply');
  });

  it('waits for Ready, lists pods across namespaces wide, with sidecars where injected', async () => {
    await ok(['wait', '--for=condition=Ready', 'pod', '--all', '-n', 'kc1', '--timeout=20s']);
    await ok(['wait', '--for=condition=Ready', 'pod', '-l', 'app=httpbin', '-n', 'kc2', '--timeout=20s']);
    const out = await ok(['get', 'pods', '-A', '-o', 'wide']);
    const header = out.split('\n')[0] ?? '';
    expect(header.split(/\s{2,}/)).toEqual([
      'NAMESPACE',
      'NAME',
      'READY',
      'STATUS',
      'RESTARTS',
      'AGE',
      'IP',
      'NODE',
      'NOMINATED NODE',
      'READINESS GATES',
    ]);
    const httpbin = out.split('\n').find((l) => l.startsWith('kc1') && l.includes('httpbin-'));
    expect(httpbin).toMatch(
      /^kc1\s+httpbin-[a-z0-9]{8,10}-[a-z0-9]{5}\s+2\/2\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+meshprobe-control-plane\s+<none>\s+<none>$/,
    );
    const nginx = out.split('\n').find((l) => l.startsWith('kc1') && l.includes('my-nginx-'));
    expect(nginx, 'my-nginx opts out of injection').toMatch(/\s1\/1\s+Running/);
    const uninjected = out.split('\n').find((l) => l.startsWith('kc2') && l.includes('httpbin-'));
    expect(uninjected).toMatch(/\s1\/1\s+Running/);
    expect(out).toMatch(/^istio-system\s+istiod-\S+\s+1\/1\s+Running/m);
  });

  it('gets deployments, services and Istio objects as the server prints them', async () => {
    expect(await ok(['get', 'deploy', '-n', 'kc1', 'httpbin', '-o', 'wide'])).toMatch(
      /^httpbin\s+1\/1\s+1\s+1\s+\S+\s+httpbin\s+docker\.io\/mccutchen\/go-httpbin:v2\.15\.0\s+app=httpbin,version=v1$/m,
    );
    expect(await ok(['get', 'svc', '-n', 'kc1', 'httpbin'])).toMatch(
      /^httpbin\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+8000\/TCP,9080\/TCP\s+\S+$/m,
    );
    const pa = join(dir, 'pa.yaml');
    writeFileSync(
      pa,
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: STRICT\n',
    );
    expect(await ok(['apply', '-n', 'kc1', '-f', pa])).toContain(
      'peerauthentication.security.istio.io/default created',
    );
    expect(await ok(['get', 'pa', '-n', 'kc1'])).toMatch(/^NAME\s+MODE\s+AGE\ndefault\s+STRICT\s+\d+s$/m);
    expect(await ok(['get', 'endpoints', '-n', 'kc1', 'httpbin'])).toMatch(
      /^httpbin\s+10\.244\.\d+\.\d+:8080,10\.244\.\d+\.\d+:8080\s+\S+$/m,
    );
  });

  it('execs: output, stderr, exit code 7 propagates', async () => {
    const r = await kubectl(emu.kubeconfigPath, [
      'exec',
      '-n',
      'kc1',
      'deploy/sleep',
      '--',
      'sh',
      '-c',
      'echo out; echo err >&2; exit 7',
    ]);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.stderr).toContain('command terminated with exit code 7');
  });

  it('execs with stdin (-i): the v5 close signal ends the command input', async () => {
    const r = await kubectl(
      emu.kubeconfigPath,
      ['exec', '-i', '-n', 'kc1', 'deploy/sleep', '-c', 'sleep', '--', 'sh', '-c', 'wc -c; echo "host=$HOSTNAME"'],
      { stdin: 'hello world\n' },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s*12\nhost=sleep-[a-z0-9]+-[a-z0-9]{5}\n$/);
  });

  it('reports exec errors as the API server does', async () => {
    const pod = (
      await ok(['get', 'pod', '-n', 'kc1', '-l', 'app=sleep', '-o', 'jsonpath={.items[0].metadata.name}'])
    ).trim();
    const missing = await kubectl(emu.kubeconfigPath, ['exec', '-n', 'kc1', 'nopod', '--', 'true']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "nopod" not found');
    const badContainer = await kubectl(emu.kubeconfigPath, ['exec', '-n', 'kc1', pod, '-c', 'nope', '--', 'true']);
    expect(badContainer.stderr.trim()).toBe(
      `Error from server (BadRequest): container nope is not valid for pod ${pod}`,
    );
    const noBinary = await kubectl(emu.kubeconfigPath, ['exec', '-n', 'kc1', pod, '-c', 'sleep', '--', 'no-such-tool']);
    expect(noBinary.code).toBe(1);
    expect(noBinary.stderr).toMatch(
      /^error: Internal error occurred: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-tool": executable file not found in \$PATH: unknown\n$/,
    );
  });

  it('gets a missing object with the real NotFound message', async () => {
    const r = await kubectl(emu.kubeconfigPath, ['get', 'deployment', '-n', 'kc1', 'nothere']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "nothere" not found');
    const dr = await kubectl(emu.kubeconfigPath, ['get', 'destinationrule', '-n', 'kc1', 'nothere']);
    expect(dr.stderr.trim()).toBe(
      'Error from server (NotFound): destinationrules.networking.istio.io "nothere" not found',
    );
  });

  it('scales a deployment through its scale subresource, up and down to zero', async () => {
    expect((await ok(['scale', 'deployment/httpbin', '-n', 'kc2', '--replicas=3'])).trim()).toBe(
      'deployment.apps/httpbin scaled',
    );
    await ok(['rollout', 'status', 'deployment/httpbin', '-n', 'kc2', '--timeout=20s']);
    expect((await ok(['get', 'pods', '-n', 'kc2', '-l', 'app=httpbin', '-o', 'name'])).trim().split('\n')).toHaveLength(
      3,
    );
    await ok(['scale', 'deployment/httpbin', '-n', 'kc2', '--replicas=0']);
    await eventually(
      () => (emu.store.list('', 'pods', 'kc2').some((p) => p.metadata.labels?.app === 'httpbin') ? undefined : true),
      5000,
      'httpbin scaled to zero',
    );
    expect(await ok(['get', 'deploy', 'httpbin', '-n', 'kc2'])).toMatch(/^httpbin\s+0\/0\s+0\s+0\s+\S+$/m);
  });

  it('deletes a namespace: Terminating, then everything in it is gone', async () => {
    await ok(['apply', '-f', nsFile('kc3', { 'istio-injection': 'enabled' })]);
    await ok(['apply', '-n', 'kc3', '-f', join(MANIFESTS, 'httpbin.yaml')]);
    await ok(['wait', '--for=condition=Available', 'deployment/httpbin', '-n', 'kc3', '--timeout=20s']);
    const seen: string[] = [];
    const off = emu.store.subscribe((e) => {
      if (e.resource === 'namespaces' && e.object.metadata.name === 'kc3')
        seen.push(`${e.type}:${(e.object.status as { phase?: string } | undefined)?.phase ?? ''}`);
    });
    const out = await ok(['delete', 'namespace', 'kc3', '--timeout=20s']);
    off();
    expect(out.trim()).toBe('namespace "kc3" deleted');
    expect(seen[0]).toBe('MODIFIED:Terminating');
    expect(seen.at(-1)).toBe('DELETED:Terminating');
    for (const [group, resource] of [
      ['', 'pods'],
      ['apps', 'deployments'],
      ['apps', 'replicasets'],
      ['', 'services'],
      ['', 'serviceaccounts'],
      ['', 'endpoints'],
      ['discovery.k8s.io', 'endpointslices'],
      ['', 'configmaps'],
    ] as const) {
      expect(emu.store.list(group, resource, 'kc3'), `${resource} left in kc3`).toEqual([]);
    }
    const gone = await kubectl(emu.kubeconfigPath, ['get', 'ns', 'kc3']);
    expect(gone.stderr.trim()).toBe('Error from server (NotFound): namespaces "kc3" not found');
  });
});

describe.each(['1.30', '1.33'])('kubectl %s against the emulator', (version) => {
  const binary = kubectlBinary(version);

  it('applies, waits, lists, execs and deletes', async () => {
    const ns = `v${version.replace('.', '')}`;
    const run = (args: string[], stdin?: string) =>
      kubectl(emu.kubeconfigPath, args, stdin === undefined ? { binary } : { binary, stdin });
    const version_ = await run(['version']);
    expect(version_.stdout).toContain(`Client Version: v${version}`);
    expect((await run(['apply', '-f', nsFile(ns, { 'istio-injection': 'enabled' })])).code).toBe(0);
    const applied = await run(['apply', '--server-side', '-n', ns, '-f', join(MANIFESTS, 'sleep.yaml')]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('deployment.apps/sleep serverside-applied');
    const waited = await run(['wait', '--for=condition=Ready', 'pod', '-l', 'app=sleep', '-n', ns, '--timeout=20s']);
    expect(waited.stdout).toMatch(/condition met/);
    expect((await run(['get', 'pods', '-n', ns, '-o', 'wide'])).stdout).toMatch(
      /sleep-\S+\s+2\/2\s+Running\s+0\s+\S+\s+10\.244\./,
    );
    const exec = await run(['exec', '-i', '-n', ns, 'deploy/sleep', '--', 'sh', '-c', 'cat; exit 7'], 'piped');
    expect(exec.stdout).toBe('piped');
    expect(exec.code).toBe(7);
    const deleted = await run(['delete', 'namespace', ns]);
    expect(deleted.stdout.trim()).toBe(`namespace "${ns}" deleted`);
    await eventually(
      () => (emu.store.get('', 'namespaces', undefined, ns) ? undefined : true),
      5000,
      `namespace ${ns} gone`,
    );
  });
});
