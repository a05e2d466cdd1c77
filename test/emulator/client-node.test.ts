// @kubernetes/client-node 1.4 (the version the prober uses) against the emulator: the object API on
// built-ins and Istio CRDs, typed APIs, errors as ApiException bodies, Exec and Watch.
import { PassThrough, Writable } from 'node:stream';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  Exec,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  type KubernetesObject,
  type V1Status,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';
// These tests are about the API server; the plain runtime keeps exec results free of mesh behaviour.
import { createPlainRuntime } from './runtime/plain.js';
import { eventually } from './testing.js';

let emu: Emulator;
let kc: KubeConfig;
let objects: KubernetesObjectApi;
let core: CoreV1Api;

function statusOf(error: unknown): { code: number; body: Record<string, any> } {
  expect(error).toBeInstanceOf(ApiException);
  const e = error as ApiException<string>;
  return { code: e.code, body: JSON.parse(e.body) as Record<string, any> };
}

async function failure(p: Promise<unknown>): Promise<{ code: number; body: Record<string, any> }> {
  try {
    await p;
  } catch (error) {
    return statusOf(error);
  }
  throw new Error('expected the call to fail');
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

async function exec(
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  stdin?: string,
): Promise<{ status: V1Status; stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const input = stdin === undefined ? null : new PassThrough();
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kc)
      .exec(namespace, pod, container, command, out.stream, err.stream, input, false, resolve)
      .then((ws) => {
        if (input) input.end(stdin);
        ws.on('error', reject);
      })
      .catch(reject);
  });
  return { status, stdout: out.text(), stderr: err.text() };
}

async function readyPod(namespace: string, app: string): Promise<string> {
  return eventually(
    () => {
      const pod = emu.store
        .list('', 'pods', namespace)
        .find(
          (p) =>
            p.metadata.labels?.app === app &&
            ((p.status as { conditions?: Array<{ type: string; status: string }> })?.conditions ?? []).some(
              (c) => c.type === 'Ready' && c.status === 'True',
            ),
        );
      return pod?.metadata.name;
    },
    10_000,
    `a Ready ${app} pod in ${namespace}`,
  );
}

beforeAll(async () => {
  emu = await startEmulator({ podReadyDelayMs: 50, kubeletTimeScale: 0.1, runtime: createPlainRuntime });
  kc = new KubeConfig();
  kc.loadFromFile(emu.kubeconfigPath);
  objects = KubernetesObjectApi.makeApiClient(kc);
  core = kc.makeApiClient(CoreV1Api);
  await objects.create({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'cn', labels: { 'istio-injection': 'enabled' } },
  });
});

afterAll(async () => {
  await emu?.stop();
});

describe('client-node object API', () => {
  it('creates, reads, merge-patches, strategic-merge-patches, replaces and deletes built-ins', async () => {
    const created = await objects.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: 'cn' },
      data: { a: '1' },
    } as KubernetesObject);
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    const merged = await objects.patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cm', namespace: 'cn' },
        data: { b: '2' },
      } as KubernetesObject,
      undefined,
      undefined,
      'test',
      undefined,
      PatchStrategy.MergePatch,
    );
    expect((merged as { data?: object }).data).toEqual({ a: '1', b: '2' });
    const dep = await objects.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'cn' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'app', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }] }] },
        },
      },
    } as KubernetesObject);
    expect(dep.metadata?.generation).toBe(1);
    const patched = await objects.patch({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'cn' },
      spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '2' }] }] } } },
    } as KubernetesObject);
    const container = (patched as any).spec.template.spec.containers[0];
    expect(container.image).toBe('nginx:1.27');
    expect(container.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    expect(patched.metadata?.generation).toBe(2);
    const apps = kc.makeApiClient(AppsV1Api);
    await eventually(
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'cn' });
        return d.status?.observedGeneration === 2 && d.status.availableReplicas === 1 ? d : undefined;
      },
      10_000,
      'deployment web available at generation 2',
    );
    // The first template's pod terminates briefly (listed, with a deletionTimestamp), then goes.
    const pods = await eventually(
      async () => {
        const list = await core.listNamespacedPod({ namespace: 'cn', labelSelector: 'app=web' });
        return list.items.length === 1 ? list : undefined;
      },
      5000,
      'one web pod',
    );
    const pod = pods.items[0]!;
    expect(pod.metadata?.deletionTimestamp).toBeUndefined();
    expect(pod.metadata?.name).toMatch(/^web-[a-z0-9]+-[a-z0-9]{5}$/);
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(['app', 'istio-proxy']);
    expect(pod.metadata?.labels?.['security.istio.io/tlsMode']).toBe('istio');
    expect(pod.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);

    const replaced = await objects.replace({
      ...(await objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'cn' } })),
      data: { c: '3' },
    } as KubernetesObject);
    expect((replaced as { data?: object }).data).toEqual({ c: '3' });
    const stale = {
      ...(replaced as object),
      metadata: { ...replaced.metadata, resourceVersion: '1' },
    } as KubernetesObject;
    const conflict = await failure(objects.replace(stale));
    expect(conflict.code).toBe(409);
    expect(conflict.body).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; please apply your changes to the latest version and try again',
    });

    const deleted = await objects.delete({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: 'cn' },
    });
    expect(deleted).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'cm', kind: 'configmaps' } });
    const gone = await failure(
      objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'cn' } }),
    );
    expect(gone).toEqual({
      code: 404,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'configmaps "cm" not found',
        reason: 'NotFound',
        details: { name: 'cm', kind: 'configmaps' },
        code: 404,
      },
    });
  });

  it('answers AlreadyExists and Invalid with the real Status shapes', async () => {
    const again = await failure(objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cn' } }));
    expect(again).toEqual({
      code: 409,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'namespaces "cn" already exists',
        reason: 'AlreadyExists',
        details: { name: 'cn', kind: 'namespaces' },
        code: 409,
      },
    });
    // Outside the injector's reach: an injected sidecar would be a container.
    const bad = await failure(
      objects.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'bad', namespace: 'default' },
        spec: {},
      } as KubernetesObject),
    );
    expect(bad.code).toBe(422);
    expect(bad.body).toMatchObject({
      status: 'Failure',
      reason: 'Invalid',
      message: 'Pod "bad" is invalid: spec.containers: Required value',
      details: {
        name: 'bad',
        kind: 'Pod',
        causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }],
      },
    });
    const badDeployment = await failure(
      objects.create({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'Bad_Name', namespace: 'cn' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: { metadata: { labels: { a: 'c' } }, spec: { containers: [{ name: 'x', image: 'y' }] } },
        },
      } as KubernetesObject),
    );
    expect(badDeployment.body.message).toBe(
      'Deployment.apps "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\'), spec.template.metadata.labels: Invalid value: map[string]string{"a":"c"}: `selector` does not match template `labels`]',
    );
    expect(badDeployment.body.details).toMatchObject({ group: 'apps', kind: 'Deployment' });
  });

  it('server-side applies Istio CRs in every served version: create (201), merge, field removal, fieldManager required', async () => {
    const pa = {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'cn' },
      spec: { mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } },
    };
    const created = await objects.patch(
      pa as KubernetesObject,
      undefined,
      undefined,
      'meshprobe',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(created).toMatchObject({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', spec: pa.spec });
    const reapplied = await objects.patch(
      { ...pa, spec: { mtls: { mode: 'PERMISSIVE' } } } as KubernetesObject,
      undefined,
      undefined,
      'meshprobe',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((reapplied as any).spec).toEqual({ mtls: { mode: 'PERMISSIVE' } });
    const asBeta = await objects.read({
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'cn' },
    });
    expect(asBeta.apiVersion).toBe('security.istio.io/v1beta1');
    expect(emu.store.get('security.istio.io', 'peerauthentications', 'cn', 'default')?.apiVersion).toBe(
      'security.istio.io/v1beta1',
    );
    const noManager = await failure(
      objects.patch(pa as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.ServerSideApply),
    );
    expect(noManager).toEqual({
      code: 422,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        reason: 'Invalid',
        code: 422,
        message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        details: {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [
            {
              reason: 'FieldValueRequired',
              message: 'Required value: is required for apply patch',
              field: 'fieldManager',
            },
          ],
        },
      },
    });
    for (const version of ['v1alpha3', 'v1beta1', 'v1']) {
      const dr = {
        apiVersion: `networking.istio.io/${version}`,
        kind: 'DestinationRule',
        metadata: { name: `dr-${version}`, namespace: 'cn' },
        spec: { host: 'httpbin.cn.svc.cluster.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
      };
      const out = await objects.patch(
        dr as KubernetesObject,
        undefined,
        undefined,
        'meshprobe',
        true,
        PatchStrategy.ServerSideApply,
      );
      expect(out.apiVersion).toBe(`networking.istio.io/${version}`);
    }
    const list = await objects.list('networking.istio.io/v1', 'DestinationRule', 'cn');
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['dr-v1', 'dr-v1alpha3', 'dr-v1beta1']);
    const deleted = await objects.delete({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'dr-v1', namespace: 'cn' },
    });
    expect(deleted).toMatchObject({
      status: 'Success',
      details: { name: 'dr-v1', group: 'networking.istio.io', kind: 'destinationrules' },
    });
    const missing = await failure(
      objects.read({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'dr-v1', namespace: 'cn' },
      }),
    );
    expect(missing.body).toMatchObject({
      message: 'destinationrules.networking.istio.io "dr-v1" not found',
      details: { name: 'dr-v1', group: 'networking.istio.io', kind: 'destinationrules' },
    });
  });

  it('reports an apply conflict with another manager, and force takes the field over', async () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned', namespace: 'cn' },
      data: { k: 'one' },
    };
    await objects.patch(cm as KubernetesObject, undefined, undefined, 'first', false, PatchStrategy.ServerSideApply);
    const clash = await failure(
      objects.patch(
        { ...cm, data: { k: 'two' } } as KubernetesObject,
        undefined,
        undefined,
        'second',
        false,
        PatchStrategy.ServerSideApply,
      ),
    );
    expect(clash.code).toBe(409);
    expect(clash.body).toMatchObject({
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "first": .data.k'.replace('"first"', '"first" using v1'),
      details: { causes: [{ reason: 'FieldManagerConflict', field: '.data.k' }] },
    });
    const forced = await objects.patch(
      { ...cm, data: { k: 'two' } } as KubernetesObject,
      undefined,
      undefined,
      'second',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((forced as { data?: object }).data).toEqual({ k: 'two' });
  });

  it('deletes a pod gracefully: Terminating first, gone after', async () => {
    await objects.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'solo', namespace: 'cn', annotations: { 'sidecar.istio.io/inject': 'false' } },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
    } as KubernetesObject);
    await eventually(
      () =>
        (emu.store.get('', 'pods', 'cn', 'solo')?.status as { phase?: string })?.phase === 'Running' ? true : undefined,
      5000,
      'solo Running',
    );
    const answer = await core.deleteNamespacedPod({ name: 'solo', namespace: 'cn' });
    expect(answer.metadata?.deletionTimestamp).toBeDefined();
    expect(answer.metadata?.deletionGracePeriodSeconds).toBe(30);
    await eventually(() => (emu.store.get('', 'pods', 'cn', 'solo') ? undefined : true), 5000, 'solo gone');
  });
});

describe('client-node Exec', () => {
  it('returns stdout, stderr and the exit code through the Status', async () => {
    await objects.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'client', namespace: 'cn' },
      spec: {
        selector: { matchLabels: { app: 'client' } },
        template: {
          metadata: { labels: { app: 'client' } },
          spec: {
            containers: [{ name: 'curl', image: 'curlimages/curl:8.16.0', env: [{ name: 'GREETING', value: 'hi' }] }],
          },
        },
      },
    } as KubernetesObject);
    const pod = await readyPod('cn', 'client');
    const ok = await exec('cn', pod, 'curl', ['sh', '-c', 'echo "$GREETING from $HOSTNAME"; echo oops >&2']);
    expect(ok).toEqual({ status: { metadata: {}, status: 'Success' }, stdout: `hi from ${pod}\n`, stderr: 'oops\n' });
    const failed = await exec('cn', pod, 'curl', ['sh', '-c', 'exit 3']);
    expect(failed.status).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: command terminated with exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    const piped = await exec('cn', pod, 'curl', ['sh', '-c', 'tr a-z A-Z'], 'stdin works');
    expect(piped.stdout).toBe('STDIN WORKS');
    const notFound = await exec('cn', pod, 'curl', ['curlx']);
    expect(notFound.status).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500 });
    expect(notFound.status.message).toContain('exec: "curlx": executable file not found in $PATH: unknown');
  });

  it('rejects the upgrade for a missing pod, and reports a container that is not running', async () => {
    await expect(exec('cn', 'nopod', 'c', ['true'])).rejects.toMatchObject({
      message: 'Unexpected server response: 404',
    });
    const ns = 'cn';
    await objects.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'done', namespace: ns, annotations: { 'sidecar.istio.io/inject': 'false' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] },
    } as KubernetesObject);
    await eventually(
      () =>
        (emu.store.get('', 'pods', ns, 'done')?.status as { phase?: string })?.phase === 'Running' ? true : undefined,
      5000,
      'done running',
    );
    // The pod completes, as a kubelet would report it.
    const current = structuredClone(emu.store.get('', 'pods', ns, 'done')!);
    (current.status as Record<string, unknown>).phase = 'Succeeded';
    emu.store.put('', 'pods', current);
    const completed = await exec(ns, 'done', 'c', ['true']);
    expect(completed.status).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: unable to upgrade connection: container not found ("c")',
      reason: 'InternalError',
      details: { causes: [{ message: 'unable to upgrade connection: container not found ("c")' }] },
      code: 500,
    });
  });
});

describe('client-node Watch', () => {
  it('streams ADDED / MODIFIED / DELETED from a resourceVersion, and selector transitions', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'cn' });
    const from = list.metadata?.resourceVersion ?? '';
    const events: string[] = [];
    const watch = new Watch(kc);
    const merge = (name: string, body: object): Promise<unknown> =>
      objects.patch(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'cn' }, ...body } as KubernetesObject,
        undefined,
        undefined,
        'test',
        undefined,
        PatchStrategy.MergePatch,
      );
    const controller = await watch.watch(
      '/api/v1/namespaces/cn/configmaps',
      { resourceVersion: from, labelSelector: 'watched=yes' },
      (type, obj: KubernetesObject) => events.push(`${type}:${obj.metadata?.name}`),
      () => undefined,
    );
    await core.createNamespacedConfigMap({
      namespace: 'cn',
      body: { metadata: { name: 'w1', labels: { watched: 'yes' } } },
    });
    await core.createNamespacedConfigMap({ namespace: 'cn', body: { metadata: { name: 'w2' } } });
    await merge('w2', { metadata: { name: 'w2', namespace: 'cn', labels: { watched: 'yes' } } });
    await merge('w1', { data: { a: 'b' } });
    await merge('w1', { metadata: { name: 'w1', namespace: 'cn', labels: { watched: 'no' } } });
    await core.deleteNamespacedConfigMap({ namespace: 'cn', name: 'w2' });
    await eventually(() => (events.length >= 5 ? true : undefined), 5000, 'five events');
    controller.abort();
    expect(events).toEqual(['ADDED:w1', 'ADDED:w2', 'MODIFIED:w1', 'DELETED:w1', 'DELETED:w2']);
  });

  it('replays history from an old resourceVersion and answers 410 Expired once it is compacted', async () => {
    const start = String(emu.store.resourceVersion);
    await core.createNamespacedConfigMap({ namespace: 'cn', body: { metadata: { name: 'replayed' } } });
    const replayed: string[] = [];
    const c1 = await new Watch(kc).watch(
      '/api/v1/namespaces/cn/configmaps',
      { resourceVersion: start },
      (type, obj: KubernetesObject) => replayed.push(`${type}:${obj.metadata?.name}`),
      () => undefined,
    );
    await eventually(() => (replayed.length > 0 ? true : undefined), 5000, 'replayed event');
    c1.abort();
    expect(replayed).toEqual(['ADDED:replayed']);
    emu.store.compact();
    const errors: Array<{ type: string; obj: any }> = [];
    let done: unknown = 'not yet';
    await new Watch(kc).watch(
      '/api/v1/namespaces/cn/configmaps',
      { resourceVersion: start },
      (type, obj) => errors.push({ type, obj }),
      (err) => (done = err),
    );
    await eventually(() => (done !== 'not yet' ? true : undefined), 5000, 'watch end');
    expect(errors).toEqual([
      {
        type: 'ERROR',
        obj: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${start} (${emu.store.oldestReplayableVersion + 1})`,
          reason: 'Expired',
          code: 410,
        },
      },
    ]);
    expect(done).toBeNull();
  });
});
