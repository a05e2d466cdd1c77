// The probe script run for real (sh + curl of this machine) against local servers that behave as the
// mesh's pieces do, and its output parsed and classified.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import https from 'node:https';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/pki/certificate.js';
import { classify, type Classified } from '../../src/probe/classify.js';
import { isReachable, mtlsOf } from '../../src/model/outcome.js';
import {
  curlRelease,
  hasTransferVariables,
  probeCommand,
  reproduceCommand,
  trailerIndices,
  type ProbeRequest,
} from '../../src/probe/command.js';
import { parseProbeOutput } from '../../src/probe/parse.js';
import type { Target } from '../../src/model/topology.js';

const run = promisify(execFile);
const servers: Array<http.Server | net.Server> = [];
let base = '';
let tlsBase = '';
let resetPort = 0;
let closedPort = 0;
const seenPaths: string[] = [];

async function listen<T extends http.Server | net.Server>(s: T): Promise<number> {
  servers.push(s);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as AddressInfo).port;
}

beforeAll(async () => {
  const app = http.createServer((req, res) => {
    seenPaths.push(req.url ?? '');
    if (req.url === '/headers/mtls')
      return res.end(
        JSON.stringify({
          headers: {
            Host: ['x'],
            'X-Forwarded-Client-Cert': [
              'By=spiffe://cluster.local/ns/test1/sa/httpbin;Hash=ab12;Subject="";URI=spiffe://cluster.local/ns/test2/sa/sleep',
            ],
          },
        }),
      );
    if (req.url === '/headers/python')
      return res.end(
        JSON.stringify({
          headers: {
            'X-Forwarded-Client-Cert':
              'By=spiffe://cluster.local/ns/a/sa/b;Hash=cd;Subject="";URI=spiffe://cluster.local/ns/foo/sa/sleep',
          },
        }),
      );
    if (req.url === '/503')
      return res
        .writeHead(503, { server: 'envoy' })
        .end('upstream connect error or disconnect/reset before headers. reset reason: connection termination');
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 3000);
    // Envoy's RBAC filter and an app's own 403.
    if (req.url === '/403') return res.writeHead(403, { server: 'envoy' }).end('RBAC: access denied');
    if (req.url === '/forbidden') return res.writeHead(403).end('Forbidden');
    if (req.url === '/method') return res.end(JSON.stringify({ method: req.method }));
    res.end(JSON.stringify({ headers: { Host: ['x'] } }));
  });
  base = `http://127.0.0.1:${await listen(app)}`;
  resetPort = await listen(net.createServer((s) => s.once('data', () => s.resetAndDestroy())));
  const closer = net.createServer();
  closedPort = await listen(closer);
  closer.close();
  const now = Date.now();
  const cert = issueCertificate({
    role: 'leaf',
    subject: { commonName: 'my-nginx' },
    altNames: { dns: ['my-nginx'] },
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
  });
  tlsBase = `https://127.0.0.1:${await listen(https.createServer({ cert: cert.certPem, key: cert.keyPem }, (_q, r) => r.end('<h1>Welcome to nginx!</h1>')))}`;
});

afterAll(() => {
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
});

const httpTarget = {
  scheme: 'http',
  service: 's',
  namespace: 'n',
  port: { name: 'http', port: 1, targetPort: 1, protocol: 'http' },
  path: '/',
  id: 'n/s:1',
} as Target;
const httpsTarget = { ...httpTarget, scheme: 'https' } as Target;

async function probe(requests: ProbeRequest[], timeout = 2, perUrl = false) {
  const nonce = 'c0ffee00';
  const [cmd, ...args] = probeCommand(nonce, timeout, requests, perUrl);
  const { stdout } = await run(cmd!, args);
  const records = parseProbeOutput(stdout, nonce, requests.length);
  return trailerIndices(requests, perUrl).map((i) => records[i]);
}

describe.each([false, true])('the probe script (one curl per target: %s), run by a real sh and curl', (perUrl) => {
  it('returns one record per target and classifies each', async () => {
    const recs = await probe(
      [
        { url: `${base}/headers/mtls`, insecure: false, method: 'GET' },
        { url: `${base}/headers/python`, insecure: false, method: 'GET' },
        { url: `${base}/headers`, insecure: false, method: 'GET' },
        { url: `${base}/503`, insecure: false, method: 'GET' },
        { url: `http://127.0.0.1:${resetPort}/`, insecure: false, method: 'GET' },
        { url: `http://127.0.0.1:${closedPort}/`, insecure: false, method: 'GET' },
        { url: `${tlsBase}/`, insecure: true, method: 'GET' },
        { url: `${base}/403`, insecure: false, method: 'GET' },
        { url: `${base}/`, insecure: false, method: 'GET' },
        { url: `${base}/forbidden`, insecure: false, method: 'GET' },
      ],
      2,
      perUrl,
    );
    const targets = [
      httpTarget,
      httpTarget,
      httpTarget,
      httpTarget,
      httpTarget,
      httpTarget,
      httpsTarget,
      httpTarget,
      httpTarget,
      httpTarget,
    ];
    // reachable and mtls are not stored in a cell: they follow from its outcome.
    const got = recs.map((r, i) => {
      const c = classify(r, targets[i]!);
      return { ...c, reachable: isReachable(c.outcome), mtls: mtlsOf(c.outcome) };
    }) as Array<Classified & { reachable: boolean; mtls?: boolean; peer?: string; detail?: string }>;
    expect(got.map((c) => c.outcome)).toEqual([
      'mtls',
      'mtls',
      'plaintext',
      'upstream-error',
      'reset',
      'refused',
      'reached',
      'denied',
      'plaintext',
      'http-error',
    ]);
    expect(got[0]).toMatchObject({
      reachable: true,
      mtls: true,
      httpCode: 200,
      curlExit: 0,
      peer: 'spiffe://cluster.local/ns/test2/sa/sleep',
    });
    expect(got[1]!.peer).toBe('spiffe://cluster.local/ns/foo/sa/sleep');
    expect(got[2]).toMatchObject({ reachable: true, mtls: false });
    expect(got[3]).toMatchObject({ reachable: false, httpCode: 503, curlExit: 0 });
    expect(got[4]).toMatchObject({ curlExit: 56 });
    // curl's message comes from its write-out variables; the per-target fallback for old curls has none.
    if (!perUrl) expect(got[4]!.detail).toContain('reset by peer');
    expect(got[4]).not.toHaveProperty('httpCode');
    expect(got[5]).toMatchObject({ curlExit: 7 });
    expect(got[7]).toMatchObject({ httpCode: 403, reachable: false, detail: 'RBAC: access denied' });
    expect(got[9]).toMatchObject({ httpCode: 403, detail: 'Forbidden' });
  });

  it('sends each request with its method, in the topology order, whatever the mix', async () => {
    const methods = ['POST', 'GET', 'GET', 'PUT', 'POST', 'DELETE'];
    const recs = await probe(
      methods.map((method) => ({ url: `${base}/method`, insecure: false, method })),
      2,
      perUrl,
    );
    expect(recs.map((r) => (JSON.parse(r!.body) as { method: string }).method)).toEqual(methods);
    expect(recs.every((r) => r!.curlExit === 0 && r!.httpCode === 200)).toBe(true);
  });

  it('times out a slow server as `timeout`, not as an error', async () => {
    const [rec] = await probe([{ url: `${base}/slow`, insecure: false, method: 'GET' }], 1, perUrl);
    expect(classify(rec, httpTarget)).toMatchObject({ outcome: 'timeout', curlExit: 28 });
  });

  it('passes hostile paths to curl untouched: nothing reaches a shell', async () => {
    const marker = `/tmp/meshprobe-pwned-${process.pid}`;
    const path = `/x'$(touch ${marker})\`touch ${marker}\`;"q"&a=1`;
    await probe(
      [
        { url: `${base}${encodeURI(path).replace(/'/g, '%27')}`, insecure: false, method: 'GET' },
        { url: `${base}/a b;ls`, insecure: false, method: 'GET' },
      ],
      2,
      perUrl,
    );
    expect(seenPaths.some((p) => decodeURIComponent(p) === path)).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it('marks targets the script never reached as errors, never as blocked', () => {
    const recs = parseProbeOutput('{"headers": {}}\n@@c0ffee00 0 http 200 exit 0 err \n{"trunc', 'c0ffee00', 3);
    expect(classify(recs[0], httpTarget).outcome).toBe('plaintext');
    const missing = classify(recs[1], httpTarget);
    expect(missing).toMatchObject({ outcome: 'error' });
    expect(isReachable(missing.outcome)).toBe(false);
    expect(classify(recs[2], httpTarget).outcome).toBe('error');
  });

  it("prints a kubectl exec line for the client's Deployment, on the kubeconfig and context of the run", () => {
    expect(
      reproduceCommand({
        kubectl: { kubeconfig: '/home/me/my clusters/kind.yaml', context: 'kind-mesh' },
        namespace: 'test1',
        deployment: 'sleep',
        container: 'sleep',
        request: { url: 'http://httpbin.test2:8000/headers', insecure: false, method: 'GET' },
        timeoutSeconds: 5,
      }),
    ).toBe(
      "kubectl --kubeconfig '/home/me/my clusters/kind.yaml' --context kind-mesh exec -n test1 deploy/sleep -c sleep -- curl -sS --max-time 5 -w '\\nHTTP %{http_code}\\n' http://httpbin.test2:8000/headers",
    );
    expect(
      reproduceCommand({
        namespace: 'test1',
        deployment: 'sleep',
        container: 'sleep',
        request: { url: 'https://my-nginx.ngtest:443/', insecure: true, method: 'GET' },
        timeoutSeconds: 5,
      }),
    ).toBe(
      "kubectl exec -n test1 deploy/sleep -c sleep -- curl -sS -k --max-time 5 -w '\\nHTTP %{http_code}\\n' https://my-nginx.ngtest:443/",
    );
    expect(
      reproduceCommand({
        namespace: 'test1',
        deployment: 'sleep',
        container: 'sleep',
        request: { url: 'http://httpbin.test1:8000/anything', insecure: false, method: 'POST' },
        timeoutSeconds: 5,
      }),
    ).toBe(
      "kubectl exec -n test1 deploy/sleep -c sleep -- curl -sS -X POST --max-time 5 -w '\\nHTTP %{http_code}\\n' http://httpbin.test1:8000/anything",
    );
  });
});

/** A PATH with sh and, if given, a `curl` of our own: what a container without (a working) curl offers. */
function pathWith(curl?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-path-'));
  symlinkSync('/bin/sh', join(dir, 'sh'));
  if (curl) writeFileSync(join(dir, 'curl'), `#!/bin/sh\n${curl}\n`, { mode: 0o755 });
  return dir;
}

async function runScript(perUrl: boolean, path: string) {
  const nonce = 'c0ffee00';
  const [cmd, ...args] = probeCommand(
    nonce,
    1,
    [
      { url: `${base}/`, insecure: false, method: 'GET' },
      { url: `${base}/`, insecure: false, method: 'GET' },
    ],
    perUrl,
  );
  const r = await run(join(path, cmd!), args, { env: { PATH: path } }).then(
    (x) => ({ ...x, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => e,
  );
  return { ...r, records: parseProbeOutput(r.stdout, nonce, 2) };
}

describe('when curl cannot run or dies', () => {
  it("the one-exec script exits with the shell's 127 and leaves its message on stderr", async () => {
    const r = await runScript(false, pathWith());
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/curl: (command )?not found/);
    expect(r.records).toEqual([undefined, undefined]);
    expect(classify(r.records[0], httpTarget, { exitCode: r.code, stderr: r.stderr })).toMatchObject({
      outcome: 'error',
      error: expect.stringMatching(
        /^no result for this target: the probe script stopped early \(exit 127; stderr: .*curl: (command )?not found\)$/,
      ),
    });
  });

  it('a curl killed mid-run: the one-exec script exits 128+9', async () => {
    const r = await runScript(false, pathWith('kill -9 $$'));
    expect(r.code).toBe(137);
  });

  it('the per-URL script writes every trailer itself, with the exit code, when curl wrote none', async () => {
    const missing = await runScript(true, pathWith());
    expect(missing.records.map((x) => x && [x.httpCode, x.curlExit])).toEqual([
      [0, 127],
      [0, 127],
    ]);
    expect(classify(missing.records[0], httpTarget, { exitCode: 0, stderr: missing.stderr })).toMatchObject({
      outcome: 'error',
      curlExit: 127,
      error: expect.stringMatching(/^curl cannot be run in the client container \(stderr: .*not found/),
    });
    const killed = await runScript(true, pathWith('kill -9 $$'));
    expect(classify(killed.records[1], httpTarget)).toMatchObject({
      outcome: 'error',
      curlExit: 137,
      error: 'curl was killed (signal 9)',
    });
  });

  it("reads curl's release from `curl --version`; 7.75.0 is the first with per-transfer variables", async () => {
    const { stdout } = await run('curl', ['--version']);
    expect(curlRelease(stdout)).toEqual(expect.arrayContaining([expect.any(Number)]));
    expect(curlRelease('curl 8.16.0 (x86_64-pc-linux-musl) libcurl/8.16.0 OpenSSL/3.5.2')).toEqual([8, 16, 0]);
    expect(hasTransferVariables([7, 74, 0])).toBe(false);
    expect(hasTransferVariables([7, 75, 0])).toBe(true);
    expect(hasTransferVariables([8, 0, 1])).toBe(true);
    expect(curlRelease('sh: curl: not found')).toBeUndefined();
  });
});
