// Pods that run real commands: DNS as a cluster resolves it, nothing leaves loopback, per-image executables,
// the istio-proxy container's pilot-agent, and failures the way a container runtime reports them.
import { X509Certificate } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from './fixture.js';

describe('exec in emulated pods', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await Cluster.start('modern', { propagationDelayMs: { min: 0, max: 0 } });
    await c.deploy('httpbin.yaml', 'test1', true);
    await c.deploy('sleep.yaml', 'test1', true);
    await c.deploy('httpbin.yaml', 'test3', false);
    await c.deploy('sleep.yaml', 'test3', false);
    await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => c?.stop());

  it('resolves every in-cluster name form, short names only in the own namespace', async () => {
    for (const host of [
      'httpbin',
      'httpbin.test1',
      'httpbin.test1.svc',
      'httpbin.test1.svc.cluster.local',
      'httpbin.test3',
    ]) {
      const r = await c.curl('test1', `http://${host}:8000/status/204`);
      expect({ host, exit: r.exit, http: r.http }).toEqual({ host, exit: 0, http: '204' });
    }
    const short = await c.curl('test3', 'http://httpbin:8000/get');
    expect(JSON.parse(short.body).headers.Host).toEqual(['httpbin:8000']);
    // The short name means the client's own namespace: test1's httpbin for a test1 client (By=.../ns/test1/...).
    const own = await c.curl('test1', 'http://httpbin:8000/headers');
    expect(JSON.parse(own.body).headers['X-Forwarded-Client-Cert'][0]).toMatch(
      /^By=spiffe:\/\/cluster\.local\/ns\/test1\/sa\/httpbin;/,
    );
    // A service port with nothing listening behind it: refused between plain pods, a 503 where a sidecar is involved.
    expect((await c.curl('test3', 'http://sleep:80/')).exit).toBe(7);
    expect((await c.curl('test3', 'http://sleep.test1:80/')).http).toBe('503');
    const viaSidecar = await c.curl('test1', 'http://sleep.test3:80/');
    expect({ exit: viaSidecar.exit, http: viaSidecar.http }).toEqual({ exit: 0, http: '503' });
    expect(viaSidecar.body).toMatch(
      /^upstream connect error or disconnect\/reset before headers\. retried and the latest reset reason: connection failure/,
    );
  });

  it('fails unknown names as curl fails on DNS (exit 6), in both sidecar and plain pods', async () => {
    for (const ns of ['test1', 'test3']) {
      const r = await c.curl(ns, 'http://nosuch.test1:8000/');
      expect({ ns, exit: r.exit, http: r.http }).toEqual({ ns, exit: 6, http: '000' });
      expect(r.stderr).toMatch(/resolve host/);
    }
  });

  it('keeps traffic on loopback: an unknown pod IP or a missing service port fails locally with exit 7', async () => {
    for (const url of ['http://10.244.200.200:8080/', 'http://httpbin.test1:1234/', 'http://localhost:6443/']) {
      const r = await c.curl('test3', url);
      expect({ url, exit: r.exit }).toEqual({ url, exit: 7 });
    }
  });

  it('reaches pods by IP and answers /ip with the calling pod for a sidecar client', async () => {
    const target = c.store.get('', 'pods', 'test3', 'httpbin-0')!;
    const ip = (target.status as { podIP: string }).podIP;
    const r = await c.curl('test1', `http://${ip}:8080/ip`);
    const client = (c.store.get('', 'pods', 'test1', 'sleep-0')!.status as { podIP: string }).podIP;
    expect({ exit: r.exit, http: r.http, origin: JSON.parse(r.body).origin }).toEqual({
      exit: 0,
      http: '200',
      origin: client,
    });
  });

  // On a pod network the app sees the client pod's address; here a pod's curl binds to its loopback alias.
  it('answers /ip with the calling pod between pods without sidecars', async () => {
    const target = c.store.get('', 'pods', 'test3', 'httpbin-0')!;
    const ip = (target.status as { podIP: string }).podIP;
    const r = await c.curl('test3', `http://${ip}:8080/ip`);
    const client = (c.store.get('', 'pods', 'test3', 'sleep-0')!.status as { podIP: string }).podIP;
    expect(JSON.parse(r.body).origin).toBe(client);
  });

  it('pilot-agent request GET certs prints the real workload certificate (SPIFFE SAN, 24 h, not-before 2 min back)', async () => {
    const r = await c.exec('test1', 'httpbin-0', 'istio-proxy', ['pilot-agent', 'request', 'GET', 'certs']);
    expect(r.code).toBe(0);
    const certs = JSON.parse(r.stdout) as {
      certificates: Array<{
        cert_chain: Array<{
          subject_alt_names: Array<{ uri: string }>;
          valid_from: string;
          expiration_time: string;
          days_until_expiration: string;
        }>;
      }>;
    };
    const leaf = certs.certificates[0]!.cert_chain[0]!;
    expect(leaf.subject_alt_names).toEqual([{ uri: 'spiffe://cluster.local/ns/test1/sa/httpbin' }]);
    expect(Date.parse(leaf.expiration_time) - Date.parse(leaf.valid_from)).toBe(24 * 3600_000 + 120_000);
    expect(Date.now() - Date.parse(leaf.valid_from)).toBeGreaterThanOrEqual(119_000);
    expect(leaf.days_until_expiration).toBe('0');
  });

  it('serves the same certificate the sidecar presents in handshakes', async () => {
    const r = await c.curl('test1', 'http://httpbin.test1:8000/headers');
    const xfcc = JSON.parse(r.body).headers['X-Forwarded-Client-Cert'][0] as string;
    const certs = await c.exec('test1', 'sleep-0', 'sleep', ['curl', '-s', 'http://localhost:15000/certs']);
    expect(JSON.parse(certs.stdout).certificates[0].cert_chain[0].subject_alt_names[0].uri).toBe(
      'spiffe://cluster.local/ns/test1/sa/sleep',
    );
    const net = c.runtime.mesh.podByKey('test1/sleep-0')!;
    const hash = (await import('node:crypto'))
      .createHash('sha256')
      .update(new X509Certificate(net.cert!.certPem).raw)
      .digest('hex');
    expect(xfcc).toContain(`Hash=${hash};`);
  });

  it('has only the image executables: shell in curl, none in distroless go-httpbin, unknown commands fail like containerd', async () => {
    const sh = await c.exec('test1', 'sleep-0', 'sleep', ['sh', '-c', 'echo "$HOSTNAME"; exit 3']);
    expect(sh).toEqual({ code: 3, stdout: 'sleep-0\n', stderr: '' });
    const distroless = await c.exec('test1', 'httpbin-0', 'httpbin', ['sh', '-c', 'true']);
    expect(distroless.code).toMatch(
      /^runtime-error: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: exec failed: unable to start container process: exec: "sh": executable file not found in \$PATH: unknown$/,
    );
    const missing = await c.exec('test1', 'sleep-0', 'sleep', ['nslookup', 'httpbin']);
    expect(String(missing.code)).toContain('exec: "nslookup": executable file not found in $PATH');
    const inShell = await c.exec('test1', 'sleep-0', 'sleep', ['sh', '-c', 'wget -q http://httpbin:8000/']);
    expect(inShell.code).toBe(127);
  });

  it('kills the process when the client goes away', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const pod = c.store.get('', 'pods', 'test1', 'sleep-0')!;
    const run = c.runtime.exec({
      pod,
      container: 'sleep',
      command: ['sleep', '30'],
      stdin: null,
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      tty: false,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 200);
    const r = await run;
    expect(r).toEqual({ kind: 'exited', code: 137 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('keeps access logs for kubectl logs: the client sidecar, the server sidecar and httpbin', async () => {
    await c.curl('test1', 'http://httpbin.test1:8000/status/418');
    const client = c.runtime.logs(c.store.get('', 'pods', 'test1', 'sleep-0')!, 'istio-proxy');
    expect(client).toMatch(
      /"GET \/status\/418 HTTP\/1.1" 418 - via_upstream "httpbin.test1:8000" "10\.244\.0\.\d+:8080 istio-mutual \(no DestinationRule; auto mTLS\)" outbound\|8000\|\|httpbin\.test1\.svc\.cluster\.local/,
    );
    const server = c.runtime.logs(c.store.get('', 'pods', 'test1', 'httpbin-0')!, 'istio-proxy');
    expect(server).toMatch(
      /"GET \/status\/418 HTTP\/1.1" 418 - mtls peer=spiffe:\/\/cluster\.local\/ns\/test1\/sa\/sleep/,
    );
    expect(c.runtime.logs(c.store.get('', 'pods', 'test1', 'httpbin-0')!, 'httpbin')).toMatch(
      /status=418 method="GET" uri="\/status\/418"/,
    );
  });

  it('passes stdin through', async () => {
    const pod = c.store.get('', 'pods', 'test1', 'sleep-0')!;
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    const run = c.runtime.exec({
      pod,
      container: 'sleep',
      command: ['cat'],
      stdin,
      stdout,
      stderr: new PassThrough(),
      tty: false,
      signal: new AbortController().signal,
    });
    stdin.end('hello\n');
    expect(await run).toEqual({ kind: 'exited', code: 0 });
    expect(out).toBe('hello\n');
  });
});

describe('curl -q', () => {
  it('still uses the pod DNS and capture', async () => {
    const c = await Cluster.start('modern');
    try {
      await c.deploy('httpbin.yaml', 'test3', false);
      await c.deploy('sleep.yaml', 'test3', false);
      const r = await c.exec('test3', 'sleep-0', 'sleep', [
        'curl',
        '-q',
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        'http://httpbin:8000/status/204',
      ]);
      expect(r).toEqual({ code: 0, stdout: '204', stderr: '' });
    } finally {
      await c.stop();
    }
  });
});
