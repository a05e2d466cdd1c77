// What the emulated cluster looks like on the wire and in the store: discovery, OpenAPI, Tables, watch
// details, the Istio flavors and injection, pods, endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from './contracts.js';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, raw } from './testing.js';

type Any = Record<string, any>;

const AGGREGATED =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const TABLE =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

async function post(emu: Emulator, path: string, body: object): Promise<Any> {
  const r = await raw(emu, 'POST', path, { body: JSON.stringify(body) });
  expect(r.status, r.body).toBe(201);
  return r.json();
}

function pod(
  name: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: name, ...extra.labels },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36', ports: [{ containerPort: 8080, name: 'http' }] }] },
  };
}

function ready(p: KubeObject | undefined): boolean {
  return ((p?.status as Any | undefined)?.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');
}

describe('modern flavor', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ istio: 'modern', podReadyDelayMs: 30, runtime: createPlainRuntime });
    await post(emu, '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'mesh', labels: { 'istio-injection': 'enabled' } },
    });
    await post(emu, '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'off', labels: { 'istio-injection': 'disabled' } },
    });
  });
  afterAll(() => emu?.stop());

  it('serves legacy and aggregated discovery with the Istio groups, preferred version first', async () => {
    const groups = (await raw(emu, 'GET', '/apis')).json();
    expect(groups.kind).toBe('APIGroupList');
    const security = groups.groups.find((g: Any) => g.name === 'security.istio.io');
    expect(security.versions.map((v: Any) => v.version)).toEqual(['v1', 'v1beta1']);
    expect(security.preferredVersion).toEqual({ groupVersion: 'security.istio.io/v1', version: 'v1' });
    const networking = groups.groups.find((g: Any) => g.name === 'networking.istio.io');
    expect(networking.versions.map((v: Any) => v.version)).toEqual(['v1', 'v1beta1', 'v1alpha3']);
    const v1 = (await raw(emu, 'GET', '/api/v1')).json();
    expect(v1.resources.find((r: Any) => r.name === 'pods')).toEqual({
      name: 'pods',
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['po'],
      categories: ['all'],
    });
    expect(v1.resources.find((r: Any) => r.name === 'pods/exec')).toEqual({
      name: 'pods/exec',
      singularName: '',
      namespaced: true,
      kind: 'PodExecOptions',
      verbs: ['create', 'get'],
    });
    const aggregated = await raw(emu, 'GET', '/apis', { headers: { Accept: AGGREGATED } });
    expect(aggregated.headers['content-type']).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const item = aggregated.json().items.find((i: Any) => i.metadata.name === 'security.istio.io');
    expect(item.versions[0].resources.find((r: Any) => r.resource === 'peerauthentications')).toMatchObject({
      responseKind: { group: 'security.istio.io', version: 'v1', kind: 'PeerAuthentication' },
      scope: 'Namespaced',
      singularResource: 'peerauthentication',
      shortNames: ['pa'],
    });
    expect((await raw(emu, 'GET', '/apis/authentication.istio.io/v1alpha1')).status).toBe(404);
  });

  it('lists the Istio CRDs as CustomResourceDefinitions, Established', async () => {
    const crds = (await raw(emu, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).json();
    const names = crds.items.map((c: Any) => c.metadata.name);
    expect(names).toEqual(
      expect.arrayContaining(['peerauthentications.security.istio.io', 'destinationrules.networking.istio.io']),
    );
    expect(names).not.toContain('meshpolicies.authentication.istio.io');
    const pa = crds.items.find((c: Any) => c.metadata.name === 'peerauthentications.security.istio.io');
    expect(pa.spec.versions.map((v: Any) => `${v.name}:${v.storage}`)).toEqual(['v1:false', 'v1beta1:true']);
    expect(pa.status.conditions.find((c: Any) => c.type === 'Established').status).toBe('True');
  });

  it('serves OpenAPI v3 with fieldValidation on every PATCH, so kubectl apply validates', async () => {
    const index = (await raw(emu, 'GET', '/openapi/v3')).json();
    expect(index.paths['api/v1'].serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    const doc = (await raw(emu, 'GET', index.paths['apis/networking.istio.io/v1'].serverRelativeURL)).json();
    const patch = doc.paths['/apis/networking.istio.io/v1/namespaces/{namespace}/destinationrules/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'networking.istio.io',
      version: 'v1',
      kind: 'DestinationRule',
    });
    expect(patch.parameters.map((p: Any) => p.name)).toContain('fieldValidation');
  });

  it('installs istiod, its mesh config and the root certificate in every namespace', async () => {
    const istiod = emu.store.list('', 'pods', 'istio-system');
    expect(istiod).toHaveLength(1);
    expect((istiod[0]?.spec as Any).containers[0].image).toBe('docker.io/istio/pilot:1.24.2');
    expect(ready(istiod[0])).toBe(true);
    expect(emu.store.get('', 'services', 'istio-system', 'istiod')).toBeDefined();
    const mesh = (emu.store.get('', 'configmaps', 'istio-system', 'istio')?.data as Any).mesh as string;
    expect(mesh).toContain('enableAutoMtls: true');
    expect(mesh).toContain('rootNamespace: istio-system');
    expect(mesh).toContain('trustDomain: cluster.local');
    const rootCert = (emu.store.get('', 'configmaps', 'mesh', 'istio-ca-root-cert')?.data as Any)['root-cert.pem'];
    expect(rootCert).toContain('BEGIN CERTIFICATE');
    expect(emu.store.get('', 'configmaps', 'kube-system', 'istio-ca-root-cert')).toBeUndefined();
  });

  it('injects the sidecar as the webhook does, honouring opt-outs', async () => {
    const injected = await post(emu, '/api/v1/namespaces/mesh/pods', pod('a', { labels: { version: 'v2' } }));
    expect(injected.spec.containers.map((c: Any) => c.name)).toEqual(['app', 'istio-proxy']);
    expect(injected.spec.initContainers.map((c: Any) => c.name)).toEqual(['istio-init']);
    const proxy = injected.spec.containers[1];
    expect(proxy.image).toBe('docker.io/istio/proxyv2:1.24.2');
    expect(proxy.ports).toEqual([{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }]);
    expect(injected.metadata.labels).toMatchObject({
      'security.istio.io/tlsMode': 'istio',
      'service.istio.io/canonical-name': 'a',
      'service.istio.io/canonical-revision': 'v2',
    });
    expect(JSON.parse(injected.metadata.annotations['sidecar.istio.io/status'])).toMatchObject({
      initContainers: ['istio-init'],
      containers: ['istio-proxy'],
      revision: 'default',
    });
    expect(injected.metadata.annotations['kubectl.kubernetes.io/default-container']).toBe('app');
    const byAnnotation = await post(
      emu,
      '/api/v1/namespaces/mesh/pods',
      pod('b', { annotations: { 'sidecar.istio.io/inject': 'false' } }),
    );
    const byLabel = await post(
      emu,
      '/api/v1/namespaces/mesh/pods',
      pod('c', { labels: { 'sidecar.istio.io/inject': 'false' } }),
    );
    const disabledNs = await post(
      emu,
      '/api/v1/namespaces/off/pods',
      pod('d', { labels: { 'sidecar.istio.io/inject': 'true' } }),
    );
    const optIn = await post(
      emu,
      '/api/v1/namespaces/default/pods',
      pod('e', { labels: { 'sidecar.istio.io/inject': 'true' } }),
    );
    for (const p of [byAnnotation, byLabel, disabledNs]) {
      expect(
        p.spec.containers.map((c: Any) => c.name),
        p.metadata.name,
      ).toEqual(['app']);
      expect(p.metadata.labels['security.istio.io/tlsMode']).toBeUndefined();
    }
    expect(optIn.spec.containers.map((c: Any) => c.name)).toEqual(['app', 'istio-proxy']);
  });

  it('runs pods as a node would report them: Pending, then Running with IPs, then Ready', async () => {
    const created = await post(emu, '/api/v1/namespaces/mesh/pods', pod('life'));
    expect(created.status).toEqual({ phase: 'Pending', qosClass: 'Burstable' });
    expect(created.spec.nodeName).toBeUndefined();
    const p = (await eventually(
      () => {
        const current = emu.store.get('', 'pods', 'mesh', 'life');
        return ready(current) ? current : undefined;
      },
      5000,
      'life Ready',
    )) as Any;
    expect(p.spec.nodeName).toBe('meshprobe-control-plane');
    expect(p.status.phase).toBe('Running');
    expect(p.status.hostIP).toBe('172.18.0.2');
    expect(p.status.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    expect(p.status.podIPs).toEqual([{ ip: p.status.podIP }]);
    expect(Date.parse(p.status.startTime)).not.toBeNaN();
    expect(p.status.conditions.map((c: Any) => `${c.type}=${c.status}`).sort()).toEqual([
      'ContainersReady=True',
      'Initialized=True',
      'PodReadyToStartContainers=True',
      'PodScheduled=True',
      'Ready=True',
    ]);
    expect(
      p.status.containerStatuses.map((s: Any) => [s.name, s.ready, s.started, s.restartCount, Object.keys(s.state)[0]]),
    ).toEqual([
      ['app', true, true, 0, 'running'],
      ['istio-proxy', true, true, 0, 'running'],
    ]);
    expect(p.status.initContainerStatuses[0]).toMatchObject({
      name: 'istio-init',
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    });
    const ips = emu.store
      .list('', 'pods')
      .map((x) => (x.status as Any)?.podIP)
      .filter(Boolean);
    expect(new Set(ips).size).toBe(ips.length);
  });

  it('keeps a pod ContainerCreating until its Secret exists, and records the events kubectl describe shows', async () => {
    await post(emu, '/api/v1/namespaces/mesh/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'mounts', annotations: { 'sidecar.istio.io/inject': 'false' } },
      spec: {
        containers: [{ name: 'app', image: 'nginx:1.27.5' }],
        volumes: [{ name: 'tls', secret: { secretName: 'tls-later' } }],
      },
    });
    const events = (): string[] =>
      emu.store
        .list('', 'events', 'mesh')
        .filter((e) => (e as Any).involvedObject.name === 'mounts')
        .map((e) => `${(e as Any).type}/${(e as Any).reason}: ${(e as Any).message}`);
    await eventually(
      () => (events().some((e) => e.startsWith('Warning/FailedMount')) ? true : undefined),
      5000,
      'a FailedMount event',
    );
    expect(events()).toContain(
      'Warning/FailedMount: MountVolume.SetUp failed for volume "tls" : secret "tls-later" not found',
    );
    await new Promise((r) => setTimeout(r, 100));
    const waiting = emu.store.get('', 'pods', 'mesh', 'mounts') as Any;
    expect(waiting.status.phase).toBe('Pending');
    expect(waiting.status.containerStatuses[0].state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    await post(emu, '/api/v1/namespaces/mesh/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls-later' },
      stringData: { 'tls.crt': 'x' },
    });
    await eventually(
      () => (ready(emu.store.get('', 'pods', 'mesh', 'mounts')) ? true : undefined),
      5000,
      'mounts Ready once its Secret exists',
    );
    expect(events()).toEqual(
      expect.arrayContaining([
        'Normal/Scheduled: Successfully assigned mesh/mounts to meshprobe-control-plane',
        'Normal/Pulled: Container image "nginx:1.27.5" already present on machine',
        'Normal/Created: Created container app',
        'Normal/Started: Started container app',
      ]),
    );
    const secret = emu.store.get('', 'secrets', 'mesh', 'tls-later') as Any;
    expect(secret).toMatchObject({ type: 'Opaque', data: { 'tls.crt': 'eA==' } });
    expect(secret.stringData).toBeUndefined();
  });

  it('keeps Endpoints and EndpointSlices current: ready pods as addresses, others not ready', async () => {
    await post(emu, '/api/v1/namespaces/mesh/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { tier: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await post(emu, '/api/v1/namespaces/mesh/pods', pod('web-1', { labels: { tier: 'web' } }));
    await post(
      emu,
      '/api/v1/namespaces/mesh/pods',
      pod('web-2', { labels: { tier: 'web' }, annotations: { 'emulator.meshprobe.dev/fault': 'never-ready' } }),
    );
    const ep = (await eventually(
      () => {
        const e = emu.store.get('', 'endpoints', 'mesh', 'web') as Any;
        return e?.subsets?.[0]?.addresses?.length === 1 && e.subsets[0].notReadyAddresses?.length === 1 ? e : undefined;
      },
      5000,
      'endpoints with one ready and one not ready address',
    )) as Any;
    const web1 = emu.store.get('', 'pods', 'mesh', 'web-1') as Any;
    expect(ep.subsets[0].addresses[0]).toMatchObject({
      ip: web1.status.podIP,
      nodeName: 'meshprobe-control-plane',
      targetRef: { kind: 'Pod', name: 'web-1', namespace: 'mesh' },
    });
    expect(ep.subsets[0].ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const slices = emu.store
      .list('discovery.k8s.io', 'endpointslices', 'mesh')
      .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'web') as Any[];
    expect(slices).toHaveLength(1);
    expect(slices[0]!.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slices[0]!.endpoints.map((e: Any) => [e.targetRef.name, e.conditions.ready]).sort()).toEqual([
      ['web-1', true],
      ['web-2', false],
    ]);
    await raw(emu, 'DELETE', '/api/v1/namespaces/mesh/pods/web-1?gracePeriodSeconds=0');
    await eventually(
      () =>
        (emu.store.get('', 'endpoints', 'mesh', 'web') as Any)?.subsets?.[0]?.addresses === undefined
          ? true
          : undefined,
      5000,
      'web-1 out of the endpoints',
    );
  });

  it('answers kubectl get with Tables, including the object metadata for -A', async () => {
    const t = (await raw(emu, 'GET', '/api/v1/pods?limit=500', { headers: { Accept: TABLE } })).json();
    expect(t.kind).toBe('Table');
    expect(t.columnDefinitions.map((c: Any) => `${c.name}:${c.priority}`)).toEqual([
      'Name:0',
      'Ready:0',
      'Status:0',
      'Restarts:0',
      'Age:0',
      'IP:1',
      'Node:1',
      'Nominated Node:1',
      'Readiness Gates:1',
    ]);
    const row = t.rows.find((r: Any) => r.cells[0] === 'life');
    expect(row.cells.slice(1, 4)).toEqual(['2/2', 'Running', '0']);
    expect(row.object).toMatchObject({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { name: 'life', namespace: 'mesh' },
    });
    const page = (await raw(emu, 'GET', '/api/v1/pods?limit=2')).json();
    expect(page.items).toHaveLength(2);
    expect(page.items[0].kind).toBeUndefined();
    expect(page.metadata.remainingItemCount).toBeGreaterThan(0);
    const next = (
      await raw(emu, 'GET', `/api/v1/pods?limit=2&continue=${encodeURIComponent(page.metadata.continue)}`)
    ).json();
    expect(next.items[0].metadata.name).not.toBe(page.items[0].metadata.name);
  });

  it('ignores status on create and replace where status is a subresource, and serves /status', async () => {
    const created = await post(emu, '/apis/apps/v1/namespaces/mesh/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'st' },
      spec: {
        selector: { matchLabels: { app: 'st' } },
        template: { metadata: { labels: { app: 'st' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } },
      },
      status: { replicas: 7, readyReplicas: 7 },
    });
    expect(created.status).toEqual({});
    expect(created.metadata.generation).toBe(1);
    const pa = await post(emu, '/apis/security.istio.io/v1/namespaces/mesh/peerauthentications', {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'st' },
      spec: {},
      status: { x: 1 },
    });
    expect(pa.status).toBeUndefined();
    const viaStatus = await raw(
      emu,
      'PATCH',
      '/apis/security.istio.io/v1/namespaces/mesh/peerauthentications/st/status',
      {
        body: JSON.stringify({ status: { validationMessages: [] }, spec: { mtls: { mode: 'STRICT' } } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      },
    );
    expect(viaStatus.json().status).toEqual({ validationMessages: [] });
    expect(viaStatus.json().spec).toEqual({});
    expect(viaStatus.json().metadata.generation).toBe(1);
  });

  it('refuses undecodable protobuf bodies, unknown paths and bad selectors as the API server does', async () => {
    const proto = await raw(emu, 'POST', '/api/v1/namespaces/mesh/configmaps', {
      body: 'k8s\u0000',
      headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' },
    });
    expect(proto.status).toBe(400);
    expect(proto.json()).toMatchObject({
      reason: 'BadRequest',
      message: 'the object provided is unrecognized (must be of type ConfigMap): empty body (6b387300)',
    });
    const unknown = await raw(emu, 'GET', '/apis/example.com/v1/widgets');
    expect(unknown.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server could not find the requested resource',
      reason: 'NotFound',
      details: {},
      code: 404,
    });
    const field = await raw(emu, 'GET', '/api/v1/pods?fieldSelector=spec.colour%3Dred');
    expect(field.json()).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'field label not supported: spec.colour',
    });
    const selected = (
      await raw(emu, 'GET', '/api/v1/namespaces/mesh/pods?labelSelector=app%20in%20(a,life),version!%3Dv2')
    ).json();
    expect(selected.items.map((p: Any) => p.metadata.name)).toEqual(['life']);
  });

  it('sends watch bookmarks when asked, and ends a watch at timeoutSeconds', async () => {
    const short = await startEmulator({ istio: 'none', bookmarkIntervalMs: 100, runtime: createPlainRuntime });
    try {
      const started = Date.now();
      const r = await raw(
        short,
        'GET',
        `/api/v1/namespaces?watch=true&allowWatchBookmarks=true&resourceVersion=${short.store.resourceVersion}&timeoutSeconds=1`,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      const events = r.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Any);
      expect(events.length).toBeGreaterThanOrEqual(5);
      expect(
        events.every((e) => e.type === 'BOOKMARK' && e.object.kind === 'Namespace' && e.object.apiVersion === 'v1'),
      ).toBe(true);
      expect(Number(events[0]!.object.metadata.resourceVersion)).toBe(short.store.resourceVersion);
    } finally {
      await short.stop();
    }
  });
});

describe('legacy flavor', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ istio: 'legacy', podReadyDelayMs: 30, runtime: createPlainRuntime });
    await post(emu, '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'old', labels: { 'istio-injection': 'enabled' } },
    });
  });
  afterAll(() => emu?.stop());

  it('serves authentication.istio.io v1alpha1 (cluster-scoped MeshPolicy), networking v1alpha3 only, no security.istio.io', async () => {
    const groups = (await raw(emu, 'GET', '/apis'))
      .json()
      .groups.map((g: Any) => `${g.name}:${g.versions.map((v: Any) => v.version).join(',')}`);
    expect(groups).toContain('authentication.istio.io:v1alpha1');
    expect(groups).toContain('networking.istio.io:v1alpha3');
    expect(groups.some((g: string) => g.startsWith('security.istio.io'))).toBe(false);
    const resources = (await raw(emu, 'GET', '/apis/authentication.istio.io/v1alpha1')).json().resources;
    expect(resources.map((r: Any) => `${r.kind}:${r.namespaced}`)).toEqual(['MeshPolicy:false', 'Policy:true']);
    const meshPolicy = (await raw(emu, 'GET', '/apis/authentication.istio.io/v1alpha1/meshpolicies/default')).json();
    expect(meshPolicy.spec).toEqual({ peers: [{ mtls: { mode: 'PERMISSIVE' } }] });
    const policy = await post(emu, '/apis/authentication.istio.io/v1alpha1/namespaces/old/policies', {
      apiVersion: 'authentication.istio.io/v1alpha1',
      kind: 'Policy',
      metadata: { name: 'default' },
      spec: { peers: [{ mtls: {} }] },
    });
    expect(policy.metadata.generation).toBe(1);
  });

  it('runs istiod 1.4 and injects proxyv2 1.4 sidecars; auto mTLS is off', async () => {
    const istiod = emu.store.list('', 'pods', 'istio-system')[0] as Any;
    expect(istiod.spec.containers[0].image).toBe('docker.io/istio/pilot:1.4.10');
    expect((emu.store.get('', 'configmaps', 'istio-system', 'istio')?.data as Any).mesh).toContain(
      'enableAutoMtls: false',
    );
    const p = await post(emu, '/api/v1/namespaces/old/pods', pod('legacy'));
    expect(p.spec.containers.map((c: Any) => `${c.name}=${c.image}`)).toEqual([
      'app=busybox:1.36',
      'istio-proxy=docker.io/istio/proxyv2:1.4.10',
    ]);
    expect(p.metadata.labels['security.istio.io/tlsMode']).toBe('istio');
    expect(JSON.parse(p.metadata.annotations['sidecar.istio.io/status']).containers).toEqual(['istio-proxy']);
    // 1.4 honoured only the annotation for opting out.
    const labelled = await post(
      emu,
      '/api/v1/namespaces/old/pods',
      pod('labelled', { labels: { 'sidecar.istio.io/inject': 'false' } }),
    );
    expect(labelled.spec.containers).toHaveLength(2);
  });
});

describe('no Istio', () => {
  it('has no istio-system, no Istio APIs and injects nothing', async () => {
    const emu = await startEmulator({ istio: 'none', podReadyDelayMs: 10, runtime: createPlainRuntime });
    try {
      expect(emu.store.get('', 'namespaces', undefined, 'istio-system')).toBeUndefined();
      const groups = (await raw(emu, 'GET', '/apis')).json().groups.map((g: Any) => g.name as string);
      expect(groups.filter((g: string) => g.endsWith('istio.io'))).toEqual([]);
      expect(groups).toEqual([
        'apps',
        'authentication.k8s.io',
        'authorization.k8s.io',
        'rbac.authorization.k8s.io',
        'admissionregistration.k8s.io',
        'apiextensions.k8s.io',
        'discovery.k8s.io',
      ]);
      await post(emu, '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'plain', labels: { 'istio-injection': 'enabled' } },
      });
      const p = await post(emu, '/api/v1/namespaces/plain/pods', pod('x'));
      expect(p.spec.containers).toHaveLength(1);
      expect((await raw(emu, 'GET', '/apis/security.istio.io/v1/namespaces/plain/peerauthentications')).status).toBe(
        404,
      );
    } finally {
      await emu.stop();
    }
  });
});
