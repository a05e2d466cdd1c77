// istiod's sync status as a real client reaches it on the emulated cluster: `/debug/syncz` from inside the
// istiod pod (kubectl exec ... pilot-discovery request, or curl localhost:15014) tells truthfully which
// push each proxy has acknowledged; through the API server's service proxy istiod 1.24.2 answers 401, as it
// does for any request that is neither local nor authenticated (the API server drops the caller's token).
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { PassThrough } from 'node:stream';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../index.js';
import { workloadYaml } from './api-harness.js';

const DELAY = { min: 2500, max: 3500 };
const NONCE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\/\d+[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TYPES = [
  'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  'type.googleapis.com/envoy.config.listener.v3.Listener',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
];
const STRICT_TEST1 =
  'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: test1\nspec:\n  mtls:\n    mode: STRICT\n';
const SYNCZ = '/api/v1/namespaces/istio-system/services/istiod:15014/proxy/debug/syncz';

interface SyncStatus {
  proxy: string;
  listener_sent: string;
  listener_acked: string;
  resources: Record<string, { sent: string; acked: string; sentTime: string }>;
  [k: string]: unknown;
}

/** The push counter of a nonce: the push context version "TIME/N" before the 36-character UUID. */
const counter = (n: string) => Number(n.slice(0, -36).split('/')[1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let emu: Emulator;
let kc: KubeConfig;

function kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, KUBECONFIG: emu.kubeconfigPath };
    const child = execFile('kubectl', args, { env }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

async function exec(ns: string, pod: string, container: string, command: string[]) {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kc).exec(ns, pod, container, command, stdout, new PassThrough(), null, false, resolve).catch(reject);
  });
  return { status: status.status, stdout: out };
}

function podName(ns: string, app: string): string {
  const p = emu.store.list('', 'pods', ns).find((x) => x.metadata.labels?.app === app && !x.metadata.deletionTimestamp);
  if (!p) throw new Error(`no ${app} pod in ${ns}`);
  return p.metadata.name;
}

async function syncz(query = ''): Promise<SyncStatus[]> {
  const r = await exec('istio-system', podName('istio-system', 'istiod'), 'discovery', [
    'pilot-discovery',
    'request',
    'GET',
    `/debug/syncz${query}`,
  ]);
  return JSON.parse(r.stdout) as SyncStatus[];
}

/** A raw GET on the API server with a bearer token, as a client library sends it. */
function rawGet(
  path: string,
  token: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${emu.server}${path}`,
      { ca: emu.caPem, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function waitReady(namespaces: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pods = namespaces.flatMap((ns) => emu.store.list('', 'pods', ns));
    const ready = (p: (typeof pods)[number]) =>
      ((p.status as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []).some(
        (c) => c.type === 'Ready' && c.status === 'True',
      );
    if (pods.length >= namespaces.length && pods.every(ready)) return;
    if (Date.now() > deadline) throw new Error('pods not ready');
    await sleep(50);
  }
}

beforeAll(async () => {
  emu = await startEmulator({
    podReadyDelayMs: 50,
    propagationDelayMs: DELAY,
    seed: 4,
    users: [
      {
        name: 'prober',
        token: 'prober-token',
        rules: [{ verbs: ['get'], apiGroups: [''], resources: ['services/proxy'], namespaces: ['istio-system'] }],
      },
      { name: 'viewer', token: 'viewer-token', rules: [{ verbs: ['get', 'list'], resources: ['services'] }] },
    ],
  });
  kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfig());
  const ns = (name: string, injected: boolean) =>
    `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n${injected ? '  labels:\n    istio-injection: enabled\n' : ''}`;
  expect(
    (await kubectl(['apply', '-f', '-'], [ns('test1', true), ns('test3', false), ns('plain', false)].join('---\n')))
      .code,
  ).toBe(0);
  for (const [n, w] of [
    ['test1', 'httpbin'],
    ['test1', 'sleep'],
    ['test3', 'sleep'],
    ['plain', 'httpbin'],
  ] as const)
    expect((await kubectl(['apply', '-n', n, '-f', '-'], workloadYaml(w))).code).toBe(0);
  await waitReady(['istio-system', 'test1', 'test3', 'plain']);
  await sleep(DELAY.max + 100);
}, 90_000);
afterAll(async () => emu?.stop());

describe('/debug/syncz from inside the istiod pod', () => {
  it('lists each sidecar as istiod 1.24.2 does: its fields, nonces and type URLs, all acked once settled', async () => {
    const r = await kubectl([
      'exec',
      '-n',
      'istio-system',
      'deploy/istiod',
      '--',
      'pilot-discovery',
      'request',
      'GET',
      '/debug/syncz',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith(']\n')).toBe(true);
    const rows = JSON.parse(r.stdout) as SyncStatus[];
    expect(rows.map((x) => x.proxy)).toEqual(
      [`${podName('test1', 'httpbin')}.test1`, `${podName('test1', 'sleep')}.test1`].sort(),
    );
    for (const row of rows) {
      expect(Object.keys(row)).toEqual([
        'cluster_id',
        'proxy',
        'proxy_type',
        'istio_version',
        'cluster_sent',
        'cluster_acked',
        'listener_sent',
        'listener_acked',
        'route_sent',
        'route_acked',
        'endpoint_sent',
        'endpoint_acked',
        'resources',
      ]);
      expect({ cluster: row.cluster_id, type: row.proxy_type, version: row.istio_version }).toEqual({
        cluster: 'Kubernetes',
        type: 'sidecar',
        version: '1.24.2',
      });
      expect(Object.keys(row.resources)).toEqual(TYPES);
      for (const res of Object.values(row.resources)) {
        expect(res.sent).toMatch(NONCE);
        expect(res.acked).toBe(res.sent);
        expect(res.sentTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/);
      }
      expect(row.listener_sent).toBe(row.resources[TYPES[2]!]!.sent);
    }
    // Filtered by namespace (a namespace without sidecars has none), and the same answer over curl.
    expect(await syncz('?namespace=test3')).toEqual([]);
    const curl = await kubectl([
      'exec',
      '-n',
      'istio-system',
      'deploy/istiod',
      '--',
      'curl',
      '-si',
      'localhost:15014/debug/syncz',
    ]);
    expect(curl.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Type: application\/json\r\n/);
    expect(JSON.parse(curl.stdout.slice(curl.stdout.indexOf('\r\n\r\n') + 4))).toEqual(rows);
  });

  it('shows a proxy acknowledging a change only once it applies it: old nonce until then, and the data plane agrees', async () => {
    const before = await syncz();
    const lastCounter = Math.max(...before.flatMap((r) => Object.values(r.resources).map((x) => counter(x.acked))));
    const applied = Date.now();
    expect((await kubectl(['apply', '-f', '-'], STRICT_TEST1)).code).toBe(0);
    const early = await syncz();
    // Meaningful only while no proxy can have been sent the push yet (90 % of the smallest delay).
    expect(Date.now() - applied).toBeLessThan(DELAY.min * 0.9);
    expect(early).toEqual(before);

    const httpbin = `${podName('test1', 'httpbin')}.test1`;
    const ackedAt = new Map<string, number>();
    while (ackedAt.size < 2 && Date.now() - applied < 20_000) {
      for (const row of await syncz()) {
        const old = before.find((b) => b.proxy === row.proxy)!;
        if (ackedAt.has(row.proxy) || row.listener_acked === old.listener_acked) continue;
        ackedAt.set(row.proxy, Date.now() - applied);
        // A newer push context than any the proxies had, sent on LDS (and CDS, EDS) but not RDS.
        expect(counter(row.listener_acked)).toBeGreaterThan(lastCounter);
        expect(row.resources[TYPES[3]!]).toEqual(old.resources[TYPES[3]!]);
        if (row.proxy === httpbin) {
          // Acked means applied: the server sidecar now refuses plaintext from a pod without a sidecar.
          const r = await exec('test3', podName('test3', 'sleep'), 'sleep', [
            'curl',
            '-sS',
            '-o',
            '/dev/null',
            '-w',
            '%{http_code}',
            'http://httpbin.test1:8000/get',
          ]);
          expect(r.stdout).toBe('000');
        }
      }
      await sleep(100);
    }
    expect([...ackedAt.keys()].sort()).toEqual(before.map((b) => b.proxy));
    for (const t of ackedAt.values()) expect(t).toBeGreaterThanOrEqual(DELAY.min * 0.9);
  });
});

describe('/debug/syncz through the API server service proxy', () => {
  it('gets istiod’s bare 401 (the token never reaches istiod), which kubectl reports as a login failure', async () => {
    const r = await kubectl(['get', '--raw', SYNCZ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: You must be logged in to the server (the server has asked for the client to provide credentials)\n',
    );
    const raw = await rawGet(SYNCZ, emu.token);
    // istiod's answer, relayed: no Status body, no content type (the API server's own 401 has both).
    expect({ status: raw.status, body: raw.body, type: raw.headers['content-type'] }).toEqual({
      status: 401,
      body: '',
      type: undefined,
    });
  });

  it('needs get on services/proxy in istio-system; without it the API server answers 403 before proxying', async () => {
    const allowed = await rawGet(SYNCZ, 'prober-token');
    expect({ status: allowed.status, body: allowed.body }).toEqual({ status: 401, body: '' });
    const denied = await rawGet(SYNCZ, 'viewer-token');
    expect(denied.status).toBe(403);
    expect((JSON.parse(denied.body) as { message: string }).message).toBe(
      'services "istiod:15014" is forbidden: User "viewer" cannot get resource "services/proxy" in API group "" in the namespace "istio-system"',
    );
  });

  it('relays an ordinary service’s answer with the caller’s token removed and the X-Forwarded headers set', async () => {
    const path = '/api/v1/namespaces/plain/services/httpbin:8000/proxy/headers';
    const r = await kubectl(['get', '--raw', path]);
    expect(r.code).toBe(0);
    const headers = (JSON.parse(r.stdout) as { headers: Record<string, string[]> }).headers;
    expect(headers.Authorization).toBeUndefined();
    expect(headers['X-Forwarded-Uri']).toEqual([path]);
    expect(headers['X-Forwarded-Proto']).toEqual(['https']);
    const ip = (emu.store.list('', 'pods', 'plain')[0]!.status as { podIP: string }).podIP;
    expect(headers.Host).toEqual([`${ip}:8080`]);
  });

  it('answers as the API server does for a port the service lacks, a service without endpoints, and a refused dial', async () => {
    expect((await kubectl(['get', '--raw', SYNCZ.replace(':15014', ':9999')])).stderr).toBe(
      'Error from server (ServiceUnavailable): no service port 9999 found for service "istiod"\n',
    );
    await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: lonely\n  namespace: plain\nspec:\n  selector:\n    app: nobody\n  ports:\n  - name: http\n    port: 80\n',
    );
    let lonely = '';
    for (let i = 0; i < 50 && !lonely.includes('no endpoints'); i++) {
      lonely = (await kubectl(['get', '--raw', '/api/v1/namespaces/plain/services/lonely:80/proxy/'])).stderr;
      await sleep(50);
    }
    expect(lonely).toBe('Error from server (ServiceUnavailable): no endpoints available for service "lonely"\n');
    // istiod's Service port 15010 targets a port nothing serves in the emulated istiod.
    const refused = await kubectl(['get', '--raw', '/api/v1/namespaces/istio-system/services/istiod:15010/proxy/']);
    expect(refused.stderr).toMatch(
      /^Error from server \(ServiceUnavailable\): error trying to reach service: dial tcp 10\.244\.\d+\.\d+:15010: connect: connection refused\n$/,
    );
  });
});
