// Fuzzing the scenario and topology loaders with fast-check: arbitrary YAML values, structural
// mutations of the shipped files, and byte-level mutations of their text. Whatever the input, a
// loader either returns its result or throws a ConfigError whose every message names the file
// (`file:line:col: ...`, or `file: ...` for what concerns the whole file): never another exception.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, ConfigErrors } from '../../src/errors.js';
import { loadScenarios, SCENARIO_DIR } from '../../src/model/scenario-file.js';
import { DEFAULT_TOPOLOGY, loadTopology } from '../../src/model/topology-file.js';
import { displayPath } from '../../src/model/yaml-source.js';

const dir = mkdtempSync(join(tmpdir(), 'meshprobe-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const figures = new Map<string, { cases: number; accepted: number; refused: number }>();
let crashes = 0;
afterAll(() => {
  const all = [...figures.values()].reduce(
    (a, f) => ({ cases: a.cases + f.cases, accepted: a.accepted + f.accepted, refused: a.refused + f.refused }),
    { cases: 0, accepted: 0, refused: 0 },
  );
  console.info(
    `loader fuzz: ${[...figures].map(([k, f]) => `${k} ${f.cases} (${f.accepted} accepted, ${f.refused} refused)`).join('; ')}; total ${all.cases} cases, ${crashes} crashes`,
  );
});

const topology = loadTopology();
const shippedScenarios = readdirSync(SCENARIO_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(join(SCENARIO_DIR, f), 'utf8'));

// The default topology and its manifests, copied so that mutations stay in the temporary directory.
const topoDir = join(dir, 'topology');
mkdirSync(join(dir, 'workloads'), { recursive: true });
mkdirSync(topoDir, { recursive: true });
const manifestNames = readdirSync(resolve(dirname(DEFAULT_TOPOLOGY), '../workloads')).sort();
for (const m of manifestNames)
  copyFileSync(resolve(dirname(DEFAULT_TOPOLOGY), '../workloads', m), join(dir, 'workloads', m));
const shippedTopology = readFileSync(DEFAULT_TOPOLOGY, 'utf8');
const workloadFiles = manifestNames.map((m) => join(dir, 'workloads', m));
const shippedManifests = manifestNames.map((m) => readFileSync(join(dir, 'workloads', m), 'utf8'));

let n = 0;
function write(text: string, where = dir): string {
  const file = join(where, `case${++n}.yaml`);
  writeFileSync(file, text);
  return file;
}

/**
 * Runs a loader on a file: returns whether it was accepted; a ConfigError is a refusal whose every
 * message must start with the file's name; anything else thrown is a crash and fails the property.
 */
function check(kind: string, files: string[], load: () => unknown): void {
  const file = files[0]!;
  const f = figures.get(kind) ?? { cases: 0, accepted: 0, refused: 0 };
  figures.set(kind, f);
  f.cases++;
  try {
    const result = load();
    f.accepted++;
    // What was accepted is plain JSON data, exactly as written: it is what the API server will be sent.
    JSON.stringify(result, (_k, v: unknown) => (v instanceof Map ? [...v] : v)); // throws on a cycle
    for (const raw of rawObjects(result)) expect(isPlainJson(raw), JSON.stringify(raw)).toBe(true);
  } catch (e) {
    if (!(e instanceof ConfigError)) {
      crashes++;
      throw new Error(
        `crash: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n--- input ---\n${readFileSync(file, 'utf8').slice(0, 2000)}`,
        { cause: e },
      );
    }
    f.refused++;
    const names = files.map((f) => displayPath(f).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    for (const err of e instanceof ConfigErrors ? e.errors : [e]) {
      expect(err.message).toMatch(new RegExp(`^(${names})(:\\d+:\\d+)?: \\S`));
    }
  }
}

/** null, a string, a boolean, a finite number, or lists and plain mappings of those: what JSON carries unchanged. */
function isPlainJson(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isPlainJson);
  return typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(isPlainJson);
}

/** The Kubernetes objects a loaded result would apply: scenario objects, or the topology's manifests. */
function rawObjects(result: unknown): unknown[] {
  if (Array.isArray(result))
    return result.flatMap((s: { objects: Array<{ raw: unknown }> }) => s.objects.map((o) => o.raw));
  return (result as { namespaces: Array<{ objects: unknown[] }> }).namespaces.flatMap((n) => n.objects);
}

// --- generators -------------------------------------------------------------------------------

const KEYS = [
  'apiVersion',
  'kind',
  'metadata',
  'name',
  'namespace',
  'spec',
  'description',
  'source',
  'objects',
  'expect',
  'all',
  'modern',
  'legacy',
  'from',
  'to',
  'note',
  'certificates',
  'mtls',
  'mode',
  'selector',
  'matchLabels',
  'portLevelMtls',
  'host',
  'exportTo',
  'trafficPolicy',
  'tls',
  'portLevelSettings',
  'port',
  'number',
  'targets',
  'peers',
  'ports',
  'labels',
  'annotations',
  'namespaces',
  'injection',
  'workloads',
  'manifest',
  'client',
  'container',
  'serve',
  'path',
  'scheme',
  'secrets',
  'type',
  'commonName',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '<<',
  '',
  ' ',
  '8000',
  '0',
];
const STRINGS = [
  'meshprobe/v1',
  'Scenario',
  'Topology',
  'PeerAuthentication',
  'DestinationRule',
  'MeshPolicy',
  'Policy',
  'security.istio.io/v1',
  'security.istio.io/v1beta1',
  'networking.istio.io/v1alpha3',
  'authentication.istio.io/v1alpha1',
  'STRICT',
  'PERMISSIVE',
  'DISABLE',
  'UNSET',
  'ISTIO_MUTUAL',
  'SIMPLE',
  'test1',
  'test2',
  'test3',
  'ngtest',
  'istio-system',
  'default',
  'sleep',
  'httpbin',
  'my-nginx',
  'test1/sleep',
  'test1/httpbin:8000',
  'test1/httpbin:http',
  '*',
  '*/*',
  'mtls',
  'plaintext',
  'reset',
  'reached',
  'blocked',
  '*.test2.svc.cluster.local',
  'httpbin.test1.svc.cluster.local',
  '/headers',
  '/',
  'http',
  'https',
  'tls',
  '../workloads/sleep.yaml',
  '/dev/null',
  '.',
  '..',
  '~',
  'null',
  'true',
  '0x10',
  '1e400',
  '-1',
  '65536',
  '8000',
];
const scalar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(0, -1, 1, 8000, 65535, 65536, 1e21, Number.MAX_SAFE_INTEGER + 2),
    ),
  },
);
const { value: jsonish } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), tie('value'), { maxKeys: 5 }),
  ),
}));

/** Every path to a node of a JSON value. */
function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

type Mutation = { pick: number; op: 'replace' | 'delete' | 'add' | 'duplicate'; key: string; value: unknown };
const mutation = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('replace', 'delete', 'add', 'duplicate'),
  key: fc.constantFrom(...KEYS),
  value: jsonish,
}) as fc.Arbitrary<Mutation>;

/** Structural mutations: replace, delete, add or duplicate a node somewhere in the document. */
function mutateValue(doc: unknown, ms: Mutation[]): unknown {
  let root = structuredClone(doc);
  for (const m of ms) {
    const all = paths(root);
    const at = all[m.pick % all.length]!;
    if (at.length === 0) {
      if (m.op === 'replace') root = m.value;
      continue;
    }
    const parent = at.slice(0, -1).reduce<any>((o, k) => o[k], root);
    const key = at[at.length - 1]!;
    const node = parent[key];
    if (m.op === 'replace') parent[key] = m.value;
    else if (m.op === 'delete') Array.isArray(parent) ? parent.splice(key as number, 1) : delete parent[key];
    else if (m.op === 'add' && node && typeof node === 'object')
      Array.isArray(node)
        ? node.push(m.value)
        : Object.defineProperty(node, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
    else if (m.op === 'duplicate' && Array.isArray(parent)) parent.push(structuredClone(node));
  }
  return root;
}

/** Pieces of YAML syntax to splice into texts. */
const SNIPPETS = [
  '\n',
  '\n  ',
  '  ',
  ':',
  ': ',
  '- ',
  '-',
  '[',
  ']',
  '{',
  '}',
  ',',
  '"',
  "'",
  '#',
  '&a ',
  '*a',
  '*b',
  '!',
  '!!str ',
  '!!binary ',
  '!!map ',
  '!!seq ',
  '!foo ',
  '|',
  '>',
  '|-',
  '%YAML 1.1\n---\n',
  '%TAG ! tag:x,2000:\n---\n',
  '---\n',
  '...\n',
  '? ',
  '<<: *a\n',
  '\t',
  '\r\n',
  '\uFEFF',
  '\u0000',
  '\u0085',
  '\u2028',
  'é',
  '\u{1F600}',
  '@',
  '`',
  '%',
  'null',
  '~',
  '0x',
  '1e400',
  'kind: Scenario\n',
  'namespace: test9\n',
  'apiVersion: meshprobe/v1\n',
];
type TextMutation = {
  op: 'delete' | 'insert' | 'flip' | 'dupline' | 'swaplines' | 'indent';
  at: number;
  len: number;
  text: string;
};
const textMutation = fc.record({
  op: fc.constantFrom('delete', 'insert', 'flip', 'dupline', 'swaplines', 'indent'),
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 40 }),
  text: fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 })),
}) as fc.Arbitrary<TextMutation>;

/** Byte-level mutations: deletions, insertions, flipped characters, duplicated, swapped or re-indented lines. */
function mutateText(text: string, ms: TextMutation[]): string {
  let t = text;
  for (const m of ms) {
    const at = t.length ? m.at % t.length : 0;
    const lines = t.split('\n');
    const li = lines.length ? m.at % lines.length : 0;
    switch (m.op) {
      case 'delete':
        t = t.slice(0, at) + t.slice(at + m.len);
        break;
      case 'insert':
        t = t.slice(0, at) + m.text + t.slice(at);
        break;
      case 'flip':
        t = t.slice(0, at) + String.fromCharCode((t.charCodeAt(at) ^ (1 << (m.len % 8))) & 0xffff) + t.slice(at + 1);
        break;
      case 'dupline':
        lines.splice(li, 0, lines[li] ?? '');
        t = lines.join('\n');
        break;
      case 'swaplines': {
        const lj = (li + m.len) % lines.length;
        [lines[li], lines[lj]] = [lines[lj]!, lines[li]!];
        t = lines.join('\n');
        break;
      }
      case 'indent':
        lines[li] = m.len % 2 ? `  ${lines[li]}` : (lines[li] ?? '').replace(/^ {1,2}/, '');
        t = lines.join('\n');
        break;
    }
  }
  return t;
}

/**
 * YAML constructs that a JSON-shaped generator never writes: alias cycles and chains, deep nesting,
 * tags for binary data, timestamps and sets, non-finite numbers, complex keys, duplicate keys, NULs.
 */
const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
const HOSTILE_YAML = [
  '&c [*c]',
  '&m {a: *m}',
  '&l [[[*l]]]',
  '*c',
  '*nope',
  '&x {b: 1}',
  '[*x, *x, *x]',
  deep(40),
  deep(70),
  deep(3000),
  deep(20000),
  `${'{a: '.repeat(2000)}1${'}'.repeat(2000)}`,
  '.inf',
  '-.inf',
  '.nan',
  '!!binary aGVsbG8=',
  '!!timestamp 2001-12-14',
  '2001-12-14t21:59:43.10-05:00',
  '!!set {a, b}',
  '!!omap [a: 1]',
  '!!pairs [a: 1]',
  '!!float 1e400',
  '!!int 0x',
  '!!null x',
  '!!str',
  '!foo bar',
  '!<tag:yaml.org,2002:js/function> x',
  '{? [a, b]: c}',
  '{? {a: b}: c}',
  '{a: 1, a: 2}',
  '"\\u0000"',
  '"\\uD800"',
  '0o17',
  '0x1F',
  '1_000',
  '123456789012345678901234567890',
  '-0',
  '"\\x1b[31m"',
  '"\\u2028"',
];
const hostileYaml = fc.oneof(
  fc.constantFrom(...HOSTILE_YAML),
  fc
    .array(fc.constantFrom(...HOSTILE_YAML.filter((h) => h.length < 100)), { minLength: 2, maxLength: 4 })
    .map((a) => `[${a.join(', ')}]`),
);

/** Puts a hostile construct as the value of a random `key: value` line, or as a new sibling key, or as a new document directive. */
type Splice = { line: number; mode: 'value' | 'sibling' | 'prefix'; key: string; yaml: string };
const splice = fc.record({
  line: fc.nat(),
  mode: fc.constantFrom('value', 'sibling', 'prefix'),
  key: fc.constantFrom(...KEYS.filter((k) => /^[a-z]+$/i.test(k)), 'connectionPool', 'loadBalancer', 'x'),
  yaml: hostileYaml,
}) as fc.Arbitrary<Splice>;
function spliceYaml(text: string, sp: Splice): string {
  if (sp.mode === 'prefix') return `%YAML 1.1\n---\n${spliceYaml(text, { ...sp, mode: 'value' })}`;
  const lines = text.split('\n');
  const candidates = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*(- )?[\w.-]+:( |$)/.test(l));
  if (!candidates.length) return text;
  const [line, i] = candidates[sp.line % candidates.length]!;
  const m = /^(\s*)(- )?([\w.-]+):/.exec(line)!;
  if (sp.mode === 'value') lines[i] = `${m[1]}${m[2] ?? ''}${m[3]}: ${sp.yaml}`;
  else lines.splice(i + 1, 0, `${m[1]}${m[2] ? '  ' : ''}${sp.key}: ${sp.yaml}`);
  return lines.join('\n');
}

/** A valid scenario whose free-form fields (which meshprobe passes to the API server unchecked) hold hostile YAML. */
const freeForm = (a: string, b: string, anchor: string) => `apiVersion: meshprobe/v1
kind: Scenario
metadata: {name: free-form}
spec:
  description: ${anchor}
  objects:
    - apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: x, namespace: test1}
      spec:
        host: httpbin.test1.svc.cluster.local
        trafficPolicy:
          connectionPool: ${a}
          loadBalancer: ${b}
          tls: {mode: ISTIO_MUTUAL}
`;

// --- scenario loader ------------------------------------------------------------------------

describe('the scenario loader, fuzzed', () => {
  it('arbitrary YAML values: scenarios or a located ConfigError', () => {
    fc.assert(
      fc.property(fc.array(jsonish, { minLength: 1, maxLength: 3 }), (docs) => {
        const file = write(docs.map((d) => stringify(d)).join('---\n'));
        check('scenario: arbitrary values', [file], () => loadScenarios([file], topology));
      }),
      { numRuns: 800 },
    );
  });

  it('structural mutations of the shipped scenarios', () => {
    const shipped = shippedScenarios.map((t) => parse(t) as unknown);
    fc.assert(
      fc.property(fc.nat({ max: shipped.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        const file = write(stringify(mutateValue(shipped[i], ms)));
        check('scenario: structural mutations', [file], () => loadScenarios([file], topology));
      }),
      { numRuns: 1000 },
    );
  });

  it('hostile YAML constructs spliced into the shipped scenario files', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: shippedScenarios.length - 1 }),
        fc.array(splice, { minLength: 1, maxLength: 3 }),
        (i, sps) => {
          const file = write(sps.reduce(spliceYaml, shippedScenarios[i]!));
          check('scenario: hostile YAML', [file], () => loadScenarios([file], topology));
        },
      ),
      { numRuns: 600 },
    );
  });

  it('hostile YAML in the free-form fields an Istio object may carry', () => {
    fc.assert(
      fc.property(
        hostileYaml,
        hostileYaml,
        fc.constantFrom('plain text', '&x {b: 1}', '&c [*c]', deep(30)),
        (a, b, anchor) => {
          const file = write(freeForm(a, b, anchor));
          check('scenario: hostile free-form fields', [file], () => loadScenarios([file], topology));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('text mutations of the shipped scenario files (deletions, insertions, byte flips)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: shippedScenarios.length - 1 }),
        fc.array(textMutation, { minLength: 1, maxLength: 6 }),
        (i, ms) => {
          const file = write(mutateText(shippedScenarios[i]!, ms));
          check('scenario: text mutations', [file], () => loadScenarios([file], topology));
        },
      ),
      { numRuns: 1200 },
    );
  });
});

// --- topology loader ------------------------------------------------------------------------

describe('the topology loader, fuzzed', () => {
  it('arbitrary YAML values', () => {
    fc.assert(
      fc.property(jsonish, (doc) => {
        const file = write(stringify(doc), topoDir);
        check('topology: arbitrary values', [file, ...workloadFiles], () => loadTopology(file));
      }),
      { numRuns: 300 },
    );
  });

  it('structural mutations of the default topology', () => {
    const shipped = parse(shippedTopology) as unknown;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const file = write(stringify(mutateValue(shipped, ms)), topoDir);
        check('topology: structural mutations', [file, ...workloadFiles], () => loadTopology(file));
      }),
      { numRuns: 500 },
    );
  });

  it('text mutations of the default topology', () => {
    fc.assert(
      fc.property(fc.array(textMutation, { minLength: 1, maxLength: 6 }), (ms) => {
        const file = write(mutateText(shippedTopology, ms), topoDir);
        check('topology: text mutations', [file, ...workloadFiles], () => loadTopology(file));
      }),
      { numRuns: 500 },
    );
  });

  it('hostile YAML constructs spliced into the default topology', () => {
    fc.assert(
      fc.property(fc.array(splice, { minLength: 1, maxLength: 3 }), (sps) => {
        const file = write(sps.reduce(spliceYaml, shippedTopology), topoDir);
        check('topology: hostile YAML', [file, ...workloadFiles], () => loadTopology(file));
      }),
      { numRuns: 300 },
    );
  });

  it('structural and text mutations of the workload manifests it reads', () => {
    const parsed = shippedManifests.map((t) => t.split(/^---$/m).map((d) => parse(d) as unknown));
    fc.assert(
      fc.property(
        fc.nat({ max: manifestNames.length - 1 }),
        fc.constantFrom('structural', 'text', 'hostile'),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.array(textMutation, { minLength: 1, maxLength: 4 }),
        fc.array(splice, { minLength: 1, maxLength: 2 }),
        fc.nat(),
        (i, how, ms, ts, sps, docPick) => {
          const docs = parsed[i]!;
          const k = docPick % docs.length;
          const text =
            how === 'structural'
              ? docs.map((d, j) => stringify(j === k ? mutateValue(d, ms) : d)).join('---\n')
              : how === 'text'
                ? mutateText(shippedManifests[i]!, ts)
                : sps.reduce(spliceYaml, shippedManifests[i]!);
          const workDir = join(dir, `w${++n}`);
          mkdirSync(join(workDir, 'workloads'), { recursive: true });
          mkdirSync(join(workDir, 'topology'));
          manifestNames.forEach((m, j) =>
            writeFileSync(join(workDir, 'workloads', m), j === i ? text : shippedManifests[j]!),
          );
          const file = join(workDir, 'topology', 'default.yaml');
          writeFileSync(file, shippedTopology);
          const manifests = manifestNames.map((m) => join(workDir, 'workloads', m));
          check('topology: manifest mutations', [manifests[i]!, file, ...manifests], () => loadTopology(file));
        },
      ),
      { numRuns: 400 },
    );
  });
});
