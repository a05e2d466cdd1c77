// Pods that are never created: Pod Security admission refusing the injected pod, and the sidecar
// injection webhook failing closed. What the ReplicaSet and Deployment controllers then write, through
// the store and the real kubectl.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { evaluatePodSecurity } from './api/pod-security.js';
import type { KubeObject } from './contracts.js';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, kubectl, NAMESPACE_YAML } from './testing.js';

type Any = Record<string, any>;

let emu: Emulator;
let dir: string;

const CAPS =
  'non-default capabilities (container "istio-init" must not include "NET_ADMIN", "NET_RAW" in securityContext.capabilities.add)';

function deploymentYaml(name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: ${name}
          image: docker.io/mccutchen/go-httpbin:v2.15.0
`;
}

async function run(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(emu.kubeconfigPath, args, stdin === undefined ? {} : { stdin });
}

async function namespace(name: string, labels: Record<string, string>): Promise<void> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, NAMESPACE_YAML(name, labels));
  expect((await run(['apply', '-f', file])).code).toBe(0);
}

function replicaSetOf(ns: string, app: string): Any | undefined {
  return emu.store.list('apps', 'replicasets', ns).find((rs) => rs.metadata.labels?.app === app) as Any | undefined;
}

function conditions(obj: Any | undefined): Any[] {
  return (obj?.status?.conditions ?? []) as Any[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshprobe-never-created-'));
  emu = await startEmulator({ podReadyDelayMs: 50, kubeletTimeScale: 0.1, runtime: createPlainRuntime });
  await namespace('psa', { 'istio-injection': 'enabled', 'pod-security.kubernetes.io/enforce': 'baseline' });
  await namespace('psa-plain', { 'istio-injection': 'disabled', 'pod-security.kubernetes.io/enforce': 'baseline' });
  await namespace('hook', { 'istio-injection': 'enabled' });
  await namespace('hook-off', { 'istio-injection': 'disabled' });
});

afterEach(() => emu.faults.clear());

afterAll(async () => {
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Pod Security admission', () => {
  it('refuses the injected pod in a baseline namespace: FailedCreate, ReplicaFailure, no pod', async () => {
    expect((await run(['apply', '-n', 'psa', '-f', '-'], deploymentYaml('web'))).code).toBe(0);
    const rs = await eventually(
      () => (conditions(replicaSetOf('psa', 'web')).length > 0 ? replicaSetOf('psa', 'web') : undefined),
      5000,
      'ReplicaFailure',
    );
    const failure = conditions(rs)[0]!;
    expect(failure).toMatchObject({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' });
    expect(failure.message).toMatch(
      new RegExp(
        `^pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity "baseline:latest": ${escape(CAPS)}$`,
      ),
    );
    expect(emu.store.list('', 'pods', 'psa')).toHaveLength(0);
    expect(rs.status.replicas).toBe(0);

    const d = await eventually(
      () => {
        const dep = emu.store.get('apps', 'deployments', 'psa', 'web') as Any | undefined;
        return conditions(dep).some((c) => c.type === 'ReplicaFailure') ? dep : undefined;
      },
      5000,
      'Deployment ReplicaFailure',
    );
    expect(conditions(d).map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Progressing', 'True', 'NewReplicaSetCreated'],
      ['Available', 'False', 'MinimumReplicasUnavailable'],
      ['ReplicaFailure', 'True', 'FailedCreate'],
    ]);
    expect(conditions(d)[2]?.message).toBe(failure.message);
    expect(d.status).toMatchObject({ observedGeneration: 1, unavailableReplicas: 1 });
    expect(d.status.replicas).toBeUndefined();

    // The controller keeps trying with a growing delay; each refusal is an event, folded together from the tenth.
    await eventually(
      async () => {
        const r = await run([
          'get',
          'events',
          '-n',
          'psa',
          '--field-selector',
          'involvedObject.kind=ReplicaSet,reason=FailedCreate',
          '-o',
          'jsonpath={range .items[*]}{.count}|{.message}{"\\n"}{end}',
        ]);
        return r.stdout.includes('(combined from similar events): Error creating: pods "web-') ? r.stdout : undefined;
      },
      15_000,
      'combined FailedCreate events',
    );
    const describe = await run(['describe', 'rs', '-n', 'psa', rs.metadata.name]);
    expect(describe.stdout).toMatch(/ReplicaFailure\s+True\s+FailedCreate/);
    expect(describe.stdout).toMatch(
      new RegExp(
        `Warning\\s+FailedCreate\\s+.*replicaset-controller\\s+Error creating: pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity`,
      ),
    );
    const status = await run(['rollout', 'status', '-n', 'psa', 'deployment/web', '--timeout=2s']);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(
      'Waiting for deployment "web" rollout to finish: 0 out of 1 new replicas have been updated...',
    );
  });

  it('refuses a bare pod with the plugin message; an uninjected pod in a baseline namespace is admitted', async () => {
    const pod =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: lone\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n';
    const refused = await run(['apply', '-n', 'psa', '-f', '-'], pod);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `Error from server (Forbidden): error when creating "STDIN": pods "lone" is forbidden: violates PodSecurity "baseline:latest": ${CAPS}`,
    );
    expect((await run(['apply', '-n', 'psa-plain', '-f', '-'], pod)).code).toBe(0);
    expect((await run(['apply', '-n', 'psa-plain', '-f', '-'], deploymentYaml('plain'))).code).toBe(0);
    expect((await run(['rollout', 'status', '-n', 'psa-plain', 'deployment/plain', '--timeout=20s'])).code).toBe(0);
  });

  it('names every restricted violation of an injected pod, in the registry order', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        initContainers: [
          {
            name: 'istio-init',
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
              privileged: false,
              runAsNonRoot: false,
              runAsUser: 0,
            },
          },
        ],
        containers: [
          { name: 'httpbin' },
          {
            name: 'istio-proxy',
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
              runAsNonRoot: true,
              runAsUser: 1337,
            },
          },
        ],
        volumes: [{ name: 'host', hostPath: { path: '/' } }],
      },
    } as KubeObject;
    expect(evaluatePodSecurity('restricted', 'latest', pod)).toBe(
      [
        'allowPrivilegeEscalation != false (container "httpbin" must set securityContext.allowPrivilegeEscalation=false)',
        'unrestricted capabilities (container "httpbin" must set securityContext.capabilities.drop=["ALL"]; container "istio-init" must not include "NET_ADMIN", "NET_RAW" in securityContext.capabilities.add)',
        'restricted volume types (volume "host" uses restricted volume type "hostPath")',
        'runAsNonRoot != true (container "istio-init" must not set securityContext.runAsNonRoot=false)',
        'runAsUser=0 (container "istio-init" must not set runAsUser=0)',
        'seccompProfile (pod or containers "istio-init", "httpbin", "istio-proxy" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
      ].join(', '),
    );
    expect(evaluatePodSecurity('baseline', 'latest', pod)).toBe(`${CAPS}, hostPath volumes (volume "host")`);
    expect(evaluatePodSecurity('privileged', 'latest', pod)).toBeUndefined();
  });

  it('applies the cluster default (--pod-security restricted) where a namespace has no label', async () => {
    const strict = await startEmulator({ istio: 'none', podSecurity: 'restricted', runtime: createPlainRuntime });
    try {
      const k = (args: string[], stdin?: string) =>
        kubectl(strict.kubeconfigPath, args, stdin === undefined ? {} : { stdin });
      expect((await k(['create', 'namespace', 'open'])).code).toBe(0);
      const pod =
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n';
      const r = await k(['apply', '-n', 'default', '-f', '-'], pod);
      expect(r.stderr).toContain(
        'pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
      );
      expect((await k(['label', 'namespace', 'open', 'pod-security.kubernetes.io/enforce=privileged'])).code).toBe(0);
      expect((await k(['apply', '-n', 'open', '-f', '-'], pod)).code).toBe(0);
      expect((await k(['apply', '-n', 'kube-system', '-f', '-'], pod)).code).toBe(0);
    } finally {
      await strict.stop();
    }
  });
});

describe('sidecar injection webhook failing closed', () => {
  const refusal = (ip: string) =>
    `Internal error occurred: failed calling webhook "namespace.sidecar-injector.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/inject?timeout=10s": dial tcp ${ip}:443: connect: connection refused`;
  const istiodIp = (): string =>
    String((emu.store.get('', 'services', 'istio-system', 'istiod')?.spec as Any).clusterIP);

  it('webhook-down: pods of injected namespaces are refused with the API server message; others are created', async () => {
    emu.faults.set([{ kind: 'webhook-down', webhooks: ['*sidecar-injector.istio.io'] }]);
    expect((await run(['apply', '-n', 'hook', '-f', '-'], deploymentYaml('web'))).code).toBe(0);
    const rs = await eventually(
      () => (conditions(replicaSetOf('hook', 'web')).length > 0 ? replicaSetOf('hook', 'web') : undefined),
      5000,
      'ReplicaFailure',
    );
    expect(conditions(rs)[0]).toMatchObject({ reason: 'FailedCreate', message: refusal(istiodIp()) });
    const events = await run([
      'get',
      'events',
      '-n',
      'hook',
      '--field-selector',
      'reason=FailedCreate',
      '-o',
      'jsonpath={.items[0].message}',
    ]);
    expect(events.stdout).toBe(`Error creating: ${refusal(istiodIp())}`);
    const bare = await run(
      ['apply', '-n', 'hook', '-f', '-'],
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: lone\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n',
    );
    expect(bare.stderr.trim()).toBe(
      `Error from server (InternalError): error when creating "STDIN": ${refusal(istiodIp())}`,
    );
    // No webhook selects a namespace with injection disabled: its pods do not need istiod.
    const off = await run(['apply', '-n', 'hook-off', '-f', '-'], deploymentYaml('unmeshed'));
    expect(off.code, off.stderr).toBe(0);
    expect((await run(['rollout', 'status', '-n', 'hook-off', 'deployment/unmeshed', '--timeout=20s'])).code).toBe(0);

    // istiod back: the ReplicaSet's next retry creates the pod and the condition goes.
    emu.faults.clear();
    expect((await run(['rollout', 'status', '-n', 'hook', 'deployment/web', '--timeout=30s'])).code).toBe(0);
    expect(conditions(replicaSetOf('hook', 'web'))).toEqual([]);
    const d = emu.store.get('apps', 'deployments', 'hook', 'web') as Any;
    expect(conditions(d).map((c) => c.type)).not.toContain('ReplicaFailure');
  });

  it('istiod scaled to zero: no endpoints behind the webhook service, the same refusal', async () => {
    expect((await run(['scale', 'deployment/istiod', '-n', 'istio-system', '--replicas=0'])).code).toBe(0);
    try {
      await eventually(
        () =>
          ((emu.store.get('', 'endpoints', 'istio-system', 'istiod') as Any | undefined)?.subsets ?? []).length === 0
            ? true
            : undefined,
        5000,
        'istiod endpoints empty',
      );
      const r = await run(
        ['apply', '-n', 'hook', '-f', '-'],
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: while-down\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n',
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(refusal(istiodIp()));
    } finally {
      expect((await run(['scale', 'deployment/istiod', '-n', 'istio-system', '--replicas=1'])).code).toBe(0);
      expect((await run(['rollout', 'status', '-n', 'istio-system', 'deployment/istiod', '--timeout=20s'])).code).toBe(
        0,
      );
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
