// Property-based tests (fast-check) for the one boundary where input meets a shell: the kubectl line
// shown to people (shellQuote, reproduceCommand) is parsed here by a real /bin/sh, and the probe
// script is run by a real sh and curl against a 127.0.0.1 server. Names are checked against
// independently written DNS-1123 predicates, through the real loaders.
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { prefixNamespaces } from '../../src/model/namespace-prefix.js';
import { loadScenarios } from '../../src/model/scenario-file.js';
import { loadTopology, TARGET_PATH } from '../../src/model/topology-file.js';
import type { Target } from '../../src/model/topology.js';
import { probeCommand, requestFor, reproduceCommand, shellQuote } from '../../src/probe/command.js';
import { parseProbeOutput } from '../../src/probe/parse.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'meshprobe-shell-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Cases checked per property, printed at the end for the issue's figures. */
const figures = new Map<string, number>();
const count = (name: string, n = 1) => figures.set(name, (figures.get(name) ?? 0) + n);
afterAll(() => {
  const total = [...figures.values()].reduce((a, b) => a + b, 0);
  console.info(`shell/name properties: ${[...figures].map(([k, v]) => `${k} ${v}`).join(', ')}; total ${total} cases`);
});

// --- generators -------------------------------------------------------------------------------

/** Pieces a shell would act on if they ever reached one unquoted. */
const HOSTILE = [
  "'",
  '"',
  '\\',
  '$(',
  ')',
  '`',
  '${',
  '}',
  '$HOME',
  '$IFS',
  '$1',
  '$@',
  '*',
  '?',
  '[a-z]',
  '{a,b}',
  '~',
  ';',
  '&',
  '&&',
  '|',
  '>',
  '<',
  '#',
  '!',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u000b',
  '=',
  '%',
  '-',
  '--',
  '-x',
  'é',
  '\u0085',
  '\u2028',
  '\u{1F600}',
  '\u001b[31m',
  '\u007f',
  'a',
  'Z',
  '0',
  '.',
  '/',
];
const hostile = fc.string({ unit: fc.constantFrom(...HOSTILE), maxLength: 12 });
/** Any Unicode text except NUL, which no argv element or shell word can hold. */
const anyText = fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/\0/g, ''));
const word = fc.oneof(anyText, hostile, fc.constantFrom('', "'", "''", "'\\''", '-', '--', '~', '*', '$', '\\', '\n'));

// --- shellQuote -------------------------------------------------------------------------------

/** Runs `printf '%s\0' WORDS` in a real /bin/sh, where WORDS are the quoted forms, and returns what it printed. */
function printfWords(quoted: string[]): string[] {
  const script = `printf '%s\\000' ${quoted.join(' ')}`;
  expect(script.length).toBeLessThan(100_000); // one argv element must stay under the kernel's 128 KiB
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'buffer' });
  expect(r.status, r.stderr.toString()).toBe(0);
  const out = r.stdout.toString('utf8').split('\0');
  expect(out.pop()).toBe('');
  return out;
}

describe('shellQuote, parsed by a real /bin/sh', () => {
  it('gives back exactly the string, for any text (unicode, control characters, quotes, $(), backticks, newlines)', () => {
    const perRun = 25;
    fc.assert(
      fc.property(fc.array(word, { minLength: perRun, maxLength: perRun }), (strings) => {
        expect(printfWords(strings.map(shellQuote))).toEqual(strings);
        count('shellQuote', strings.length);
      }),
      { numRuns: 80 },
    );
  });

  it('leaves no word unquoted that a shell would expand or split', () => {
    // The unquoted fast path is the risky part: check its alphabet against every shell-special character.
    for (const c of '\'"\\$`*?[]{}~;&|<>()#! \t\n!^') expect(shellQuote(`a${c}b`)).toMatch(/^'/);
    expect(shellQuote('')).toBe("''");
    expect(printfWords([shellQuote('-n'), shellQuote('a=b'), shellQuote('%s')])).toEqual(['-n', 'a=b', '%s']);
  });
});

// --- reproduceCommand -------------------------------------------------------------------------

/** A shell function stands in for kubectl and prints its argv: `$#` then each argument, NUL-terminated. */
function kubectlArgv(lines: string[]): string[][] {
  const script = `kubectl() { printf '%s\\000' "$#" kubectl "$@"; }\n${lines.join('\n')}\n`;
  expect(script.length).toBeLessThan(100_000);
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'buffer' });
  expect(r.status, r.stderr.toString()).toBe(0);
  const fields = r.stdout.toString('utf8').split('\0');
  expect(fields.pop()).toBe('');
  const argvs: string[][] = [];
  while (fields.length) {
    const n = Number(fields.shift());
    argvs.push(fields.splice(0, n + 1));
  }
  return argvs;
}

describe('reproduceCommand, split by a real /bin/sh', () => {
  it('yields exactly the argv meshprobe intends: no word splitting, globbing or substitution', () => {
    const line = fc.record({
      kubeconfig: fc.option(word, { nil: undefined }),
      context: fc.option(word, { nil: undefined }),
      namespace: word,
      deployment: word,
      container: word,
      url: fc.oneof(
        word,
        fc.webUrl().map((u) => `${u}/$(id)\`id\`'"*`),
      ),
      insecure: fc.boolean(),
      timeoutSeconds: fc.integer({ min: 1, max: 86_400 }),
    });
    const perRun = 20;
    fc.assert(
      fc.property(fc.array(line, { minLength: perRun, maxLength: perRun }), (cases) => {
        const lines = cases.map((c) =>
          reproduceCommand({
            kubectl: { kubeconfig: c.kubeconfig, context: c.context },
            namespace: c.namespace,
            deployment: c.deployment,
            container: c.container,
            request: { url: c.url, insecure: c.insecure, method: 'GET' },
            timeoutSeconds: c.timeoutSeconds,
          }),
        );
        const intended = cases.map((c) => [
          'kubectl',
          ...(c.kubeconfig ? ['--kubeconfig', c.kubeconfig] : []),
          ...(c.context ? ['--context', c.context] : []),
          'exec',
          '-n',
          c.namespace,
          `deploy/${c.deployment}`,
          '-c',
          c.container,
          '--',
          'curl',
          '-sS',
          ...(c.insecure ? ['-k'] : []),
          '--max-time',
          String(c.timeoutSeconds),
          '-w',
          '\\nHTTP %{http_code}\\n',
          c.url,
        ]);
        expect(kubectlArgv(lines)).toEqual(intended);
        count('reproduceCommand', cases.length);
      }),
      { numRuns: 50 },
    );
  });
});

// --- the probe script -------------------------------------------------------------------------

/** RFC 3986 §5.2.4 remove_dot_segments: curl applies it to every URL path before sending it. */
function removeDotSegments(path: string): string {
  let input = path;
  let output = '';
  while (input) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../') || input === '/..') {
      input = `/${input.slice(input === '/..' ? 3 : 4)}`;
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', 1);
      const seg = next === -1 ? input : input.slice(0, next);
      output += seg;
      input = input.slice(seg.length);
    }
  }
  return output;
}

describe('the probe script, run by a real sh and curl through a 127.0.0.1 proxy', () => {
  // curl honours http_proxy: every probe goes to this server as an absolute-form request line, so the
  // whole URL meshprobe built (service, namespace, port, path) arrives here, and nothing else is contacted.
  let proxy: http.Server;
  let proxyUrl = '';
  const received: string[] = [];
  const marker = join(dir, 'pwned');

  beforeAll(async () => {
    proxy = http.createServer((req, res) => {
      received.push(req.url ?? '');
      res.end(`seen ${req.url}`);
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    proxy.closeAllConnections();
    proxy.close();
  });

  const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
  const serviceName = fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/); // RFC 1035, as Kubernetes requires of Services
  const pathChar = fc.constantFrom(..."ABCXYZabcxyz0189._~!$&'()*+,;=:@%/-".split(''));
  /** Valid paths, and paths built from shell attacks spelled only with characters the schema allows. */
  const attack = fc.constantFrom(
    `$(touch$IFS${marker})`,
    `';touch$IFS${marker};'`,
    `&touch$IFS${marker}&`,
    `;touch$IFS${marker}`,
    `'$(touch$IFS${marker})'`,
    '$IFS',
    "'",
    '$(',
    '/../',
    '/./',
    '/..',
    '%00',
    '%0a',
    '%27',
    '%zz',
    '*',
    '&&',
    ';',
  );
  const path = fc.oneof(
    fc.stringMatching(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/),
    fc.string({ unit: fc.oneof(pathChar, attack), maxLength: 8 }).map((s) => `/${s}`),
  );
  const target = fc.record({ service: serviceName, namespace: label, port: fc.integer({ min: 1, max: 65_535 }), path });

  it('delivers every URL intact (after RFC 3986 dot-segment removal) and runs nothing from it', async () => {
    const perRun = 10;
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', http_proxy: proxyUrl };
    await fc.assert(
      fc.asyncProperty(fc.array(target, { minLength: perRun, maxLength: perRun }), async (ts) => {
        for (const t of ts) expect(TARGET_PATH.test(t.path), t.path).toBe(true); // the generator stays inside the schema
        const targets = ts.map(
          (t, i) =>
            ({
              id: `${i}`,
              namespace: t.namespace,
              service: t.service,
              scheme: 'http',
              method: 'GET',
              path: t.path,
              port: { name: 'http', port: t.port, targetPort: t.port, protocol: 'http' },
            }) as Target,
        );
        const requests = targets.map(requestFor);
        received.length = 0;
        const nonce = 'feedc0de';
        const [cmd, ...args] = probeCommand(nonce, 5, requests);
        const { stdout } = await run(cmd!, args, { env });
        const want = ts.map(
          (t) => `http://${t.service}.${t.namespace}${t.port === 80 ? '' : `:${t.port}`}${removeDotSegments(t.path)}`,
        );
        expect(received).toEqual(want);
        const records = parseProbeOutput(stdout, nonce, requests.length);
        expect(records.map((r) => [r?.httpCode, r?.curlExit, r?.body])).toEqual(want.map((u) => [200, 0, `seen ${u}`]));
        expect(existsSync(marker)).toBe(false);
        count('probe script (valid paths)', ts.length);
      }),
      { numRuns: 20 },
    );
  });

  it('runs nothing even from URLs the schema refuses (spaces, backticks, quotes, newlines)', async () => {
    const perRun = 10;
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', http_proxy: proxyUrl };
    const bad = fc.string({
      unit: fc.oneof(
        fc.constantFrom(
          `\`touch ${marker}\``,
          `$(touch ${marker})`,
          `"; touch ${marker}; "`,
          `\ntouch ${marker}\n`,
          ' ',
          '\t',
          '|',
          '>',
          `>${marker}`,
        ),
        pathChar,
      ),
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(bad, { minLength: perRun, maxLength: perRun }), async (paths) => {
        const [cmd, ...args] = probeCommand(
          'feedc0de',
          2,
          paths.map((p) => ({ url: `http://x.y:8000/${p}`, insecure: false, method: 'GET' })),
        );
        const { stdout } = await run(cmd!, args, { env });
        expect(parseProbeOutput(stdout, 'feedc0de', paths.length).every((r) => r !== undefined)).toBe(true);
        expect(existsSync(marker)).toBe(false);
        count('probe script (refused paths)', paths.length);
      }),
      { numRuns: 10 },
    );
  });

  it('the path schema refuses every character outside RFC 3986 pchar and "/"', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const allowed = (c: string) => /^[A-Za-z0-9]$/.test(c) || "-._~!$&'()*+,;=:@%/".split('').includes(c);
        expect(TARGET_PATH.test(`/${s}`)).toBe([...s].every(allowed));
        count('path schema', 1);
      }),
      { numRuns: 1000 },
    );
  });
});

// --- DNS-1123 names through the loaders ------------------------------------------------------

/** Letters, digits and "-", starting and ending with a letter or digit: written without a regex, independently of the loaders. */
function isDnsPart(s: string): boolean {
  const ok = (c: string) => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '-';
  return s.length > 0 && [...s].every(ok) && s[0] !== '-' && s[s.length - 1] !== '-';
}
/** A DNS-1123 label (namespaces, containers, most names): 63 characters at most. */
const isLabel = (s: string): boolean => isDnsPart(s) && s.length <= 63;
/** An RFC 1035 label (what Kubernetes requires of Service names): a DNS-1123 label starting with a letter. */
const isServiceName = (s: string): boolean => isLabel(s) && s[0]! >= 'a' && s[0]! <= 'z';
/** A DNS-1123 subdomain as Kubernetes checks object names: parts joined by ".", 253 characters at most in all. */
const isSubdomain = (s: string): boolean => s.length <= 253 && s.split('.').every(isDnsPart);

/** Names that are valid, nearly valid, and anything at all. */
const nameLike = fc.oneof(
  fc.stringMatching(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
  fc.stringMatching(/^[a-z]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?){0,3}$/),
  fc.constantFrom(
    'a'.repeat(63),
    'a'.repeat(64),
    `${'a'.repeat(62)}-`,
    '-a',
    'a-',
    'A',
    'a_b',
    'a.b',
    'a..b',
    '.a',
    'abc\n',
    '\nabc',
    'ａbc',
    'K',
    'ı',
    'a b',
    '0',
    '9-9',
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`,
  ),
  fc
    .stringMatching(/^[a-z0-9]{1,8}$/)
    .chain((s) =>
      fc.constantFrom(s.toUpperCase(), `${s}-`, `-${s}`, `${s}_x`, `${s}$(id)`, `${s};`, `${s}\u0000`, `${s}é`),
    ),
  word,
);

let fileNo = 0;
const writeFile = (text: string, ext = 'yaml') => {
  const f = join(dir, `f${++fileNo}.${ext}`);
  writeFileSync(f, text);
  return f;
};
/** Loads, and returns the result or the ConfigError; anything else fails the test. */
function verdict<T>(load: () => T): T | ConfigError {
  try {
    return load();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

describe('Kubernetes names: every name a loader accepts is a DNS-1123 name', () => {
  const topology = loadTopology();

  it('scenario names, and Istio object names and namespaces', () => {
    const namespaces = ['istio-system', ...topology.namespaces.map((n) => n.name)];
    fc.assert(
      fc.property(
        nameLike,
        nameLike,
        fc.oneof(fc.constantFrom(...namespaces), nameLike),
        (scenarioName, objectName, namespace) => {
          const doc = {
            apiVersion: 'meshprobe/v1',
            kind: 'Scenario',
            metadata: { name: scenarioName },
            spec: {
              description: 'x',
              objects: [
                {
                  apiVersion: 'security.istio.io/v1',
                  kind: 'PeerAuthentication',
                  metadata: { name: objectName, namespace },
                  spec: { mtls: { mode: 'STRICT' } },
                },
              ],
            },
          };
          const r = verdict(() => loadScenarios([writeFile(stringify(doc))], topology));
          const valid =
            isLabel(scenarioName) && isSubdomain(objectName) && isLabel(namespace) && namespaces.includes(namespace);
          expect(r instanceof ConfigError ? `refused: ${r.message}` : 'accepted').toEqual(
            valid ? 'accepted' : expect.stringMatching(/^refused: .*:\d+:\d+: /),
          );
          if (!(r instanceof ConfigError)) {
            expect(
              isLabel(r[0]!.name) && isSubdomain(r[0]!.objects[0]!.name) && isLabel(r[0]!.objects[0]!.namespace!),
            ).toBe(true);
          }
          count('scenario names', 1);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('topology namespaces, workloads, containers, secrets, and the Services of workload manifests', () => {
    const manifestsDir = join(dir, 'manifests');
    mkdirSync(manifestsDir, { recursive: true });
    fc.assert(
      fc.property(
        fc.record({ ns: nameLike, workload: nameLike, container: nameLike, service: nameLike, secret: nameLike }),
        (n) => {
          const manifest = join(manifestsDir, `m${++fileNo}.yaml`);
          const objects = [
            {
              apiVersion: 'v1',
              kind: 'Service',
              metadata: { name: n.service },
              spec: { selector: { app: 'x' }, ports: [{ name: 'http', port: 8000, targetPort: 8080 }] },
            },
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              metadata: { name: n.workload },
              spec: {
                selector: { matchLabels: { app: 'x' } },
                template: {
                  metadata: { labels: { app: 'x' } },
                  spec: { containers: [{ name: n.container, image: 'curl' }] },
                },
              },
            },
          ];
          writeFileSync(manifest, objects.map((o) => stringify(o)).join('---\n'));
          const topo = {
            apiVersion: 'meshprobe/v1',
            kind: 'Topology',
            metadata: { name: 't' },
            spec: {
              namespaces: [{ name: n.ns, injection: true, workloads: [n.workload] }],
              workloads: {
                [n.workload]: {
                  manifest,
                  client: { container: n.container },
                  serve: [{ ports: ['http'], path: '/' }],
                  secrets: [{ name: n.secret, type: 'tls', commonName: 'x' }],
                },
              },
            },
          };
          const r = verdict(() => loadTopology(writeFile(stringify(topo))));
          const valid =
            isLabel(n.ns) &&
            isLabel(n.workload) &&
            isLabel(n.container) &&
            isServiceName(n.service) &&
            isLabel(n.secret);
          expect(r instanceof ConfigError ? `refused: ${r.message}` : 'accepted').toEqual(
            valid ? 'accepted' : expect.stringMatching(/^refused: .*:\d+:\d+: /),
          );
          if (!(r instanceof ConfigError)) {
            const names = [
              ...r.namespaces.map((x) => x.name),
              ...r.workloads.map((w) => w.name),
              ...r.clients.map((c) => c.container),
              ...r.services.map((s) => s.name),
              ...r.namespaces.flatMap((x) => x.secrets.map((s) => s.name)),
            ];
            expect(names.every(isLabel)).toBe(true);
            expect(r.targets.map((t) => requestFor(t).url)).toEqual([`http://${n.service}.${n.ns}:8000/`]);
          }
          count('topology names', 1);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('--namespace-prefix: accepted only as a label, and every namespace it makes is a label of at most 63 characters', () => {
    fc.assert(
      fc.property(nameLike, (prefix) => {
        const r = verdict(() => prefixNamespaces(topology, [], prefix));
        const longest = Math.max(...topology.namespaces.map((n) => n.name.length));
        const valid = isLabel(prefix) && prefix.length + 1 + longest <= 63;
        expect(r instanceof ConfigError ? 'refused' : 'accepted').toBe(valid ? 'accepted' : 'refused');
        if (!(r instanceof ConfigError)) {
          const names = [
            ...r.topology.namespaces.map((x) => x.name),
            ...r.topology.workloads.map((w) => w.namespace),
            ...r.topology.targets.map((t) => t.namespace),
          ];
          expect(names.every((x) => isLabel(x) && x.startsWith(`${prefix}-`))).toBe(true);
        }
        count('namespace prefixes', 1);
      }),
      { numRuns: 1000 },
    );
  });
});
