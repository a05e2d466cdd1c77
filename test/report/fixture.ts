// Fixed meshprobe/v1 documents for the report goldens: a run with passing cells of every kind, a
// mismatch, a probe error, certificates and convergence; and a prediction where the scenario and
// the oracle disagree. Text with markup characters checks the escapers.
import type { Expectation, Outcome } from '../../src/model/outcome.js';
import { isReachable, mtlsOf } from '../../src/model/outcome.js';
import {
  summarize,
  type CellReport,
  type ObservedReport,
  type ReportDocument,
  type ScenarioReport,
} from '../../src/report/document.js';

const CLIENTS = ['test1/sleep', 'test3/sleep'];
const TARGETS = ['test1/httpbin:8000', 'test3/httpbin:8000', 'ngtest/my-nginx:443'];

const HTTP: Partial<Record<Outcome, [number, number]>> = {
  mtls: [200, 0],
  plaintext: [200, 0],
  reached: [200, 0],
  reset: [0, 56],
  'upstream-error': [503, 0],
  'tls-error': [0, 35],
  denied: [403, 0],
};

const SUMMARY: Partial<Record<Outcome, string>> = {
  mtls: 'client sidecar sends mtls; server sidecar is STRICT: STRICT accepts mTLS',
  plaintext: 'client sends plaintext; the server takes plaintext',
  reached: "client sends the app's TLS; server has no sidecar",
  reset: 'client has no sidecar; server sidecar is STRICT: STRICT resets plaintext',
  'upstream-error': 'client sidecar sends mtls; server has no sidecar: the client sidecar answers 503',
  denied:
    'client sidecar sends mtls; server sidecar is PERMISSIVE: PERMISSIVE accepts mTLS; denied by AuthorizationPolicy test1/deny-other rule 0',
};

function command(from: string, to: string): string {
  const [ns, wl] = from.split('/');
  const [svcNs, rest] = to.split('/');
  const [svc, port] = rest!.split(':');
  const scheme = port === '443' ? 'https' : 'http';
  return `kubectl --context staging exec -n ${ns} deploy/${wl} -c ${wl} -- curl -sS -o /dev/null -w '%{http_code}' --max-time 5 ${scheme}://${svc}.${svcNs}:${port}/headers`;
}

interface CellSpec {
  expect: Expectation;
  observed?: Outcome;
  predicted?: Outcome;
  rule?: string;
  error?: string;
  attempts?: number;
  authorization?: CellReport['reason']['authorization'];
}

function cell(from: string, to: string, spec: CellSpec): CellReport {
  const predicted =
    spec.predicted ??
    (spec.expect === 'blocked' ? 'upstream-error' : spec.expect === 'pass' ? 'plaintext' : spec.expect);
  const c: CellReport = {
    from,
    to,
    expected: {
      outcome: spec.expect,
      reachable: isReachable(spec.expect),
      ...(mtlsOf(spec.expect) === undefined ? {} : { mtls: mtlsOf(spec.expect) }),
      source: spec.rule ? 'scenario' : 'oracle',
      ...(spec.rule ? { rule: spec.rule } : {}),
    },
    reason: {
      summary: SUMMARY[predicted as Outcome] ?? `predicted ${predicted}`,
      predicted: predicted as Outcome,
      client: [{ by: 'client sidecar', says: `no DestinationRule for ${to.split(':')[0]}` }],
      server: [{ by: 'PeerAuthentication istio-system/default', says: 'mesh-wide: STRICT' }],
      tableRow: 7,
      ...(spec.authorization ? { authorization: spec.authorization } : {}),
    },
    match: spec.observed
      ? spec.observed !== 'error' &&
        (spec.observed === spec.expect || (spec.expect === 'blocked' && !isReachable(spec.observed)))
      : predicted === spec.expect,
  };
  if (spec.observed) {
    const [httpCode, curlExit] = HTTP[spec.observed] ?? [undefined, undefined];
    const observed: ObservedReport = {
      outcome: spec.observed,
      reachable: isReachable(spec.observed),
      ...(mtlsOf(spec.observed) === undefined ? {} : { mtls: mtlsOf(spec.observed) }),
      ...(httpCode === undefined ? {} : { httpCode, curlExit }),
      ...(spec.observed === 'mtls' ? { peer: `spiffe://cluster.local/ns/${from.split('/')[0]}/sa/sleep` } : {}),
      attempts: spec.attempts ?? 1,
      ...(spec.error ? { error: spec.error } : {}),
      ...(spec.observed === 'reset' ? { detail: 'Recv failure: Connection reset by peer' } : {}),
      ...(spec.observed === 'denied' ? { detail: 'RBAC: access denied' } : {}),
      command: command(from, to),
    };
    c.observed = observed;
  }
  return c;
}

function scenario(
  name: string,
  description: string,
  specs: CellSpec[],
  extra: Partial<ScenarioReport> = {},
): ScenarioReport {
  const clients = extra.clients ?? CLIENTS;
  const targets = extra.targets ?? TARGETS;
  const cells = clients.flatMap((from, i) => targets.map((to, j) => cell(from, to, specs[i * targets.length + j]!)));
  const errors = cells.some((c) => c.observed?.outcome === 'error');
  return {
    name,
    description,
    sources: [
      'https://istio.io/latest/docs/tasks/security/authentication/authn-policy/',
      'article: Mesh-wide Scenarios',
    ],
    file: `scenarios/${name}.yaml`,
    objects: [],
    clients,
    targets,
    verdict: errors ? 'error' : cells.every((c) => c.match) ? 'pass' : 'mismatch',
    cells,
    ...extra,
  };
}

const meshStrict = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'default', namespace: 'istio-system' },
  spec: { mtls: { mode: 'STRICT' } },
};

export function runDocument(): ReportDocument {
  const scenarios = [
    scenario(
      'mesh-strict',
      'Mesh-wide STRICT: sidecars talk mTLS, clients without a sidecar are reset.',
      [
        { expect: 'mtls', observed: 'mtls', rule: 'scenarios/mesh-strict.yaml:14:9' },
        { expect: 'plaintext', observed: 'plaintext' },
        { expect: 'reached', observed: 'reached' },
        { expect: 'reset', observed: 'reset', rule: 'scenarios/mesh-strict.yaml:15:9' },
        { expect: 'plaintext', observed: 'plaintext' },
        { expect: 'reached', observed: 'reached' },
      ],
      {
        objects: [meshStrict],
        convergence: { rounds: 2, converged: true, seconds: 6.4 },
        certificates: [
          {
            workload: 'test1/sleep',
            pod: 'sleep-5d8f7c9b6-x2k4q',
            spiffe: ['spiffe://cluster.local/ns/test1/sa/sleep'],
            serial: '5c:1e:0a:93',
            notBefore: '2026-11-28T20:00:00Z',
            notAfter: '2026-11-29T20:00:00Z',
            daysLeft: 1,
          },
          {
            workload: 'test1/httpbin',
            pod: 'httpbin-6b9d4f7c8-p7w2m',
            spiffe: ['spiffe://cluster.local/ns/test1/sa/httpbin'],
            serial: '7a:02:4d:11',
            notBefore: '2026-11-28T20:00:00Z',
            notAfter: '2027-02-26T20:00:00Z',
            daysLeft: 90,
          },
        ],
      },
    ),
    scenario(
      'dr-disable-test1',
      'A DestinationRule with tls.mode DISABLE for <test1/httpbin> & a PERMISSIVE "default": plaintext expected.',
      [
        { expect: 'plaintext', observed: 'mtls', rule: 'scenarios/dr-disable-test1.yaml:21:9' },
        { expect: 'plaintext', observed: 'plaintext' },
        { expect: 'blocked', observed: 'upstream-error', rule: 'scenarios/dr-disable-test1.yaml:23:9' },
        { expect: 'plaintext', observed: 'reset', rule: 'scenarios/dr-disable-test1.yaml:25:9', attempts: 4 },
        { expect: 'plaintext', observed: 'plaintext' },
        { expect: 'reached', observed: 'reached' },
      ],
      {
        objects: [
          {
            apiVersion: 'networking.istio.io/v1',
            kind: 'DestinationRule',
            metadata: { name: 'httpbin', namespace: 'test1' },
            spec: { host: 'httpbin.test1.svc.cluster.local', trafficPolicy: { tls: { mode: 'DISABLE' } } },
          },
          {
            apiVersion: 'security.istio.io/v1',
            kind: 'PeerAuthentication',
            metadata: { name: 'default', namespace: 'test1' },
            spec: { mtls: { mode: 'PERMISSIVE' } },
          },
        ],
        convergence: {
          rounds: 3,
          converged: false,
          seconds: 12.25,
          history: [
            { round: 1, at: 2.1, seconds: 1.9, matched: 3, mismatched: 3, errors: 0, execs: 2 },
            {
              round: 2,
              at: 6.2,
              seconds: 2.05,
              matched: 4,
              mismatched: 2,
              errors: 0,
              execs: 2,
              changed: ['test3/sleep -> test3/httpbin:8000: reset => plaintext'],
            },
            { round: 3, at: 10.2, seconds: 2, matched: 4, mismatched: 2, errors: 0, execs: 2, changed: [] },
          ],
        },
      },
    ),
    scenario(
      'port-level',
      'Port-level PERMISSIVE on 8000; one client pod went away during the probe.',
      [
        {
          expect: 'mtls',
          observed: 'error',
          error: 'exec: pods "sleep-5d8f7c9b6-x2k4q" not found <pod gone> & 3 retries',
          attempts: 3,
        },
        { expect: 'plaintext', observed: 'plaintext' },
        { expect: 'reached', observed: 'reached' },
        { expect: 'plaintext', observed: 'plaintext' },
        { expect: 'plaintext', observed: 'plaintext' },
        { expect: 'reached', observed: 'reached' },
      ],
      { objects: [meshStrict], convergence: { rounds: 1, converged: true, seconds: 3.1 } },
    ),
    scenario(
      'authz-deny-other',
      'A DENY AuthorizationPolicy on <test1/httpbin> for one principal, and a CUSTOM one nobody can predict.',
      [
        {
          expect: 'denied',
          observed: 'denied',
          rule: 'scenarios/authz-deny-other.yaml:20:9',
          authorization: {
            effect: 'denied',
            matchedPolicy: 'ns[test1]-policy[deny-other]-rule[0]',
            decidedBy: 'AuthorizationPolicy test1/deny-other rule 0',
            steps: [
              {
                by: 'CUSTOM policies',
                says: 'test1/ext-authz: not predicted; the prediction assumes its external authorizer allows',
              },
              { by: 'DENY policies', says: 'test1/deny-other: a request matching one of their rules is denied' },
              {
                by: 'AuthorizationPolicy test1/deny-other rule 0',
                says: 'source.principals [cluster.local/ns/test1/sa/sleep] matched cluster.local/ns/test1/sa/sleep',
              },
              {
                by: 'server sidecar (HTTP RBAC filter)',
                says: 'denied by AuthorizationPolicy test1/deny-other rule 0 (DENY)',
              },
            ],
            notes: [
              "AuthorizationPolicy test1/ext-authz is CUSTOM (provider <ext>): its external authorizer's answer is out of meshprobe's scope, so the prediction assumes it allows",
            ],
          },
        },
        { expect: 'plaintext', observed: 'plaintext' },
        { expect: 'reached', observed: 'reached' },
        { expect: 'plaintext', observed: 'denied', rule: 'scenarios/authz-deny-other.yaml:22:9' },
        { expect: 'plaintext', observed: 'plaintext' },
        { expect: 'reached', observed: 'reached' },
      ],
      { convergence: { rounds: 2, converged: true, seconds: 4.2 } },
    ),
  ];
  return {
    apiVersion: 'meshprobe/v1',
    kind: 'MatrixReport',
    metadata: {
      command: 'run',
      generatedAt: '2026-11-28T21:30:00.000Z',
      meshprobeVersion: '0.1.0',
      flavor: 'modern',
      topology: 'fixture',
      cluster: { context: 'staging', server: 'https://staging.example.com:6443' },
    },
    summary: summarize(scenarios),
    scenarios,
  };
}

export function predictDocument(): ReportDocument {
  const scenarios = [
    scenario('baseline', 'No policy: auto mTLS between sidecars.', [
      { expect: 'mtls' },
      { expect: 'plaintext' },
      { expect: 'reached' },
      { expect: 'plaintext' },
      { expect: 'plaintext' },
      { expect: 'reached' },
    ]),
    scenario('wrong-expectation', 'Expects mTLS from a client without a sidecar.', [
      { expect: 'mtls', rule: 'wrong.yaml:9:9' },
      { expect: 'plaintext' },
      { expect: 'reached' },
      { expect: 'mtls', predicted: 'plaintext', rule: 'wrong.yaml:10:9' },
      { expect: 'plaintext' },
      { expect: 'reached' },
    ]),
  ];
  return {
    apiVersion: 'meshprobe/v1',
    kind: 'MatrixReport',
    metadata: {
      command: 'predict',
      generatedAt: '2026-11-28T21:30:00.000Z',
      meshprobeVersion: '0.1.0',
      flavor: 'legacy',
      topology: 'fixture',
    },
    summary: summarize(scenarios),
    scenarios,
  };
}

// The article's topology: 4 clients × 7 server ports, the full table about 130 columns wide, for the
// terminal layouts at 80 and 120 columns.
const ARTICLE_CLIENTS = ['test1/sleep', 'test2/sleep', 'test3/sleep', 'ngtest/sleep'];
const ARTICLE_TARGETS = [
  'test1/httpbin:8000',
  'test1/httpbin:9080',
  'test2/httpbin:8000',
  'test2/httpbin:9080',
  'test3/httpbin:8000',
  'test3/httpbin:9080',
  'ngtest/my-nginx:443',
];

/** mesh-strict-dr-mutual's matrix: mTLS between sidecars, 503 towards test3, resets from test3, tls-err to nginx. */
function meshStrictRow(client: string): CellSpec[] {
  if (client === 'test3/sleep')
    return [
      ...Array.from({ length: 4 }, (): CellSpec => ({ expect: 'reset', observed: 'reset' })),
      { expect: 'plaintext', observed: 'plaintext' },
      { expect: 'plaintext', observed: 'plaintext' },
      { expect: 'reached', observed: 'reached' },
    ];
  return [
    ...Array.from({ length: 4 }, (): CellSpec => ({ expect: 'mtls', observed: 'mtls' })),
    { expect: 'upstream-error', observed: 'upstream-error' },
    { expect: 'upstream-error', observed: 'upstream-error' },
    { expect: 'tls-error', observed: 'tls-error' },
  ];
}

export function articleRunDocument(): ReportDocument {
  const article = { clients: ARTICLE_CLIENTS, targets: ARTICLE_TARGETS };
  const strict = ARTICLE_CLIENTS.flatMap(meshStrictRow);
  // A user's scenario: test2 STRICT with a DISABLE rule, and the belief that sidecar clients still get
  // through in plaintext; the oracle predicts the 503 the cluster answers. One pod went away.
  const mine = ARTICLE_CLIENTS.flatMap(meshStrictRow).map((spec, i): CellSpec => {
    const client = ARTICLE_CLIENTS[Math.floor(i / ARTICLE_TARGETS.length)]!;
    const target = ARTICLE_TARGETS[i % ARTICLE_TARGETS.length]!;
    if (client !== 'test3/sleep' && target.startsWith('test2/'))
      return {
        expect: 'plaintext',
        observed: 'upstream-error',
        predicted: 'upstream-error',
        rule: 'my-scenario.yaml:19:9',
      };
    if (client === 'test1/sleep' && target === 'test1/httpbin:8000')
      return { expect: 'mtls', predicted: 'mtls', observed: 'plaintext', rule: 'my-scenario.yaml:17:9' };
    if (client === 'ngtest/sleep' && target === 'ngtest/my-nginx:443')
      return {
        expect: 'tls-error',
        observed: 'error',
        error: 'exec: pods "sleep-7c9f8d6b5-q4r8t" not found',
        attempts: 3,
      };
    return spec;
  });
  const scenarios = [
    scenario(
      'mesh-strict-dr-mutual',
      'Mesh-wide STRICT mTLS in the article\'s form: a MeshPolicy "default" with `mtls: {}` and a "*.local" DestinationRule with ISTIO_MUTUAL. Sidecars talk mTLS.',
      strict,
      { ...article, objects: [meshStrict], convergence: { rounds: 4, converged: true, seconds: 3.5 } },
    ),
    scenario('my-test2-strict', 'test2 STRICT with a DISABLE DestinationRule for its httpbin.', mine, {
      ...article,
      file: 'my-scenario.yaml',
      convergence: { rounds: 11, converged: true, seconds: 15.7 },
    }),
  ];
  return {
    apiVersion: 'meshprobe/v1',
    kind: 'MatrixReport',
    metadata: {
      command: 'run',
      generatedAt: '2026-11-28T21:30:00.000Z',
      meshprobeVersion: '0.1.0',
      flavor: 'modern',
      topology: 'article',
      cluster: { context: 'meshprobe-emulator', server: 'https://127.0.0.1:6443' },
    },
    summary: summarize(scenarios),
    scenarios,
  };
}
