// Regression tests for the YAML inputs the fuzzer and hand probing broke: what a file may be, how
// deep and how large it may expand, and which values JSON (and so the API server) can hold.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadScenarios } from '../../src/model/scenario-file.js';
import { DEFAULT_TOPOLOGY, loadTopology } from '../../src/model/topology-file.js';
import { MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, parseYaml, readYamlFile } from '../../src/model/yaml-source.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'meshprobe-yaml-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const write = (text: string | Buffer, name = `f${++n}.yaml`) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

/** The message of the ConfigError `f` throws; fails on any other outcome. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const deep = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
const topology = loadTopology();
const scenario = (spec: string) =>
  `apiVersion: meshprobe/v1\nkind: Scenario\nmetadata: {name: s}\nspec:\n  description: d\n${spec}`;
const dr = (trafficPolicy: string) =>
  scenario(`  objects:
    - apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: x, namespace: test1}
      spec:
        host: httpbin.test1.svc.cluster.local
        trafficPolicy:
${trafficPolicy}
`);

describe('what a file may be', () => {
  it(`refuses a file over MAX_FILE_BYTES (${MAX_FILE_BYTES}), naming its size and the limit, and reads one of exactly that size`, () => {
    const big = write(`# ${'x'.repeat(MAX_FILE_BYTES - 2)}\n`);
    expect(readFileSync(big).length).toBe(MAX_FILE_BYTES + 1);
    expect(refusal(() => readYamlFile(big))).toBe(
      `${big}: file is ${MAX_FILE_BYTES + 1} bytes, more than the ${MAX_FILE_BYTES}-byte limit for meshprobe files`,
    );
    const fits = write(`# ${'x'.repeat(MAX_FILE_BYTES - 3)}\n`);
    expect(readYamlFile(fits)).toEqual([]);
  });

  it('reads at most the limit from a stream that never ends (/dev/zero), instead of hanging', () => {
    expect(refusal(() => readYamlFile('/dev/zero'))).toBe(
      `/dev/zero: file has more than the ${MAX_FILE_BYTES}-byte limit for meshprobe files`,
    );
  });

  it('refuses a directory given as a file, as bad input (exit 2), not as a crash', async () => {
    const d = join(dir, 'a-directory');
    mkdirSync(d);
    expect(refusal(() => readYamlFile(d))).toBe(`${d}: is a directory, not a YAML file`);
    const r = await cli(['predict', '--topology', d]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`meshprobe: error: ${d}: is a directory, not a YAML file`);
    expect(r.stderr).not.toContain('bug');
  });

  it('a file that does not exist', () => {
    expect(refusal(() => readYamlFile(join(dir, 'nope.yaml')))).toBe(`${join(dir, 'nope.yaml')}: file not found`);
    expect(refusal(() => readYamlFile(join(write('x: 1'), 'below-a-file.yaml')))).toMatch(/: file not found$/);
  });
});

describe('depth and size after parsing', () => {
  it(`accepts ${MAX_DEPTH} nested levels and refuses ${MAX_DEPTH + 1}, at the first level too deep`, () => {
    expect(parseYaml('f.yaml', deep(MAX_DEPTH))[0]!.data).toBeDefined();
    expect(refusal(() => parseYaml('f.yaml', deep(MAX_DEPTH + 1)))).toBe(
      `f.yaml:1:${MAX_DEPTH + 1}: nested more than ${MAX_DEPTH} levels deep`,
    );
    const block = Array.from({ length: MAX_DEPTH + 1 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1';
    expect(refusal(() => parseYaml('f.yaml', block))).toBe(
      `f.yaml:${MAX_DEPTH + 1}:${MAX_DEPTH + 1}: nested more than ${MAX_DEPTH} levels deep`,
    );
  });

  it('refuses thousands of levels again and again in one process (two stack overflows in the YAML composer once aborted Node)', () => {
    for (const text of [
      deep(20_000),
      deep(100_000),
      `${'{a: '.repeat(50_000)}1${'}'.repeat(50_000)}`,
      `${'- '.repeat(100_000)}x`,
    ]) {
      expect(refusal(() => parseYaml('f.yaml', text))).toMatch(/^f\.yaml:1:\d+: nested more than 64 levels deep$/);
    }
  });

  it('follows aliases: a chain of anchors nesting past the limit is refused', () => {
    const chain = Array.from(
      { length: 5 },
      (_, i) => `a${i}: &a${i} ${'['.repeat(20)}${i ? `*a${i - 1}` : '1'}${']'.repeat(20)}`,
    ).join('\n');
    expect(refusal(() => parseYaml('f.yaml', chain))).toMatch(
      /^f\.yaml:\d+:\d+: nested more than 64 levels deep \(following aliases\)$/,
    );
  });

  it('refuses an alias cycle (JSON cannot hold one) at the alias', () => {
    expect(refusal(() => parseYaml('f.yaml', 'a: &c [1, *c]\n'))).toBe(
      'f.yaml:1:11: alias *c refers to a node that contains it; JSON cannot hold a cycle',
    );
    expect(refusal(() => loadScenarios([write(dr('          connectionPool: &m {tcp: *m}'))], topology))).toMatch(
      /f\d+\.yaml:13:36: alias \*m refers to a node that contains it/,
    );
  });

  it('refuses an alias to no anchor at the alias (a ReferenceError crash before)', () => {
    expect(refusal(() => parseYaml('f.yaml', 'a: 1\nb: *nope\n'))).toBe(
      'f.yaml:2:4: alias *nope names no anchor defined before it',
    );
  });

  it(`refuses a billion laughs: aliases expanding past ${MAX_NODES} values`, () => {
    const laughs = [
      'l0: &l0 [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`),
    ].join('\n');
    expect(refusal(() => parseYaml('f.yaml', laughs))).toBe(
      `f.yaml:1:1: expands to more than ${MAX_NODES} values through its aliases`,
    );
  });
});

describe('values JSON cannot hold, and keys it cannot have', () => {
  it('refuses a list or mapping as a mapping key, without a Node warning on stderr', () => {
    const warn = vi.spyOn(process, 'emitWarning');
    try {
      expect(refusal(() => parseYaml('f.yaml', '? [a, b]\n: c\n'))).toBe(
        'f.yaml:1:3: a mapping key must be a plain value, not a list, a mapping or an alias',
      );
      expect(refusal(() => parseYaml('f.yaml', 'x: {? {a: b}: c}\n'))).toMatch(
        /^f\.yaml:1:7: a mapping key must be a plain value/,
      );
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('refuses .inf, .nan, !!binary, timestamps and sets where a free-form field would pass them to the API server', () => {
    expect(
      refusal(() => loadScenarios([write(dr('          connectionPool: {tcp: {maxConnections: .inf}}'))], topology)),
    ).toMatch(
      /f\d+\.yaml:13:34: spec\.objects\[0\]\.spec\.trafficPolicy\.connectionPool\.tcp\.maxConnections: Infinity is not a number meshprobe or Kubernetes can use/,
    );
    expect(refusal(() => loadScenarios([write(dr('          loadBalancer: .nan'))], topology))).toMatch(
      /:13:11: spec\.objects\[0\]\.spec\.trafficPolicy\.loadBalancer: NaN is not a number/,
    );
    expect(refusal(() => loadScenarios([write(dr('          loadBalancer: !!binary aGVsbG8='))], topology))).toMatch(
      /loadBalancer: is a binary value \(!!binary\), which a JSON document cannot hold/,
    );
    expect(
      refusal(() =>
        loadScenarios(
          [write(`%YAML 1.1\n---\n${dr('          loadBalancer: {a: 2001-12-14, b: !!set {x}}')}`)],
          topology,
        ),
      ),
    ).toMatch(/loadBalancer\.(a: is a timestamp|b: is a set)/);
  });

  it('names odd field keys readably, quoted, instead of leaving a blank', () => {
    expect(refusal(() => loadScenarios([write(`${scenario('')}" ": 1\n`)], topology))).toMatch(
      /:6:1: \[" "\]: unknown field " "; allowed here: apiVersion, kind, metadata, spec$/,
    );
  });
});

describe('workload manifests', () => {
  const manifestDir = join(dir, 'workloads');
  mkdirSync(manifestDir, { recursive: true });
  const topologyWith = (manifest: string) => {
    const m = join(manifestDir, `m${++n}.yaml`);
    writeFileSync(m, manifest);
    return write(
      readFileSync(DEFAULT_TOPOLOGY, 'utf8')
        .replace('manifest: ../workloads/sleep.yaml', `manifest: ${m}`)
        .replace(/manifest: \.\.\//g, `manifest: ${join(DEFAULT_TOPOLOGY, '../../')}`),
    );
  };
  const sleep = readFileSync(join(DEFAULT_TOPOLOGY, '../../workloads/sleep.yaml'), 'utf8');

  it('loads the shipped sleep manifest from elsewhere (the fixture works)', () => {
    expect(loadTopology(topologyWith(sleep)).clients.map((c) => c.id)).toContain('test1/sleep');
  });

  it('a Service name that Kubernetes would refuse is refused at its line, before it could reach a probe URL', () => {
    expect(
      refusal(() =>
        loadTopology(topologyWith(sleep.replace('  name: sleep\n  labels', '  name: "sleep;touch x"\n  labels'))),
      ),
    ).toMatch(/m\d+\.yaml:10:3: metadata\.name: must be a DNS-1123 subdomain/);
    expect(
      refusal(() => loadTopology(topologyWith(sleep.replace('  name: sleep\n  labels', '  name: 0sleep\n  labels')))),
    ).toMatch(/m\d+\.yaml:10:3: metadata\.name: must be a DNS-1035 label, as Kubernetes requires of Services/);
    expect(refusal(() => loadTopology(topologyWith(sleep.replace('port: 80', 'port: "80 -o /tmp/x"'))))).toMatch(
      /m\d+\.yaml:\d+:\d+: spec\.ports\[0\]\.port: "80 -o \/tmp\/x" is not a valid number/,
    );
  });

  it('a Deployment without a pod template, or a named targetPort that matches nothing, is a located error', () => {
    expect(refusal(() => loadTopology(topologyWith(sleep.replace(/  template:[\s\S]*$/, '  paused: true\n'))))).toMatch(
      /m\d+\.yaml:\d+:\d+: spec\.template: is required/,
    );
    expect(
      refusal(() => loadTopology(topologyWith(sleep.replace('port: 80', 'port: 80\n      targetPort: web')))),
    ).toMatch(
      /f\d+\.yaml:\d+:\d+: spec\.workloads\.sleep\.manifest: Service "sleep" port 80: named targetPort "web" matches no container port of Deployment "sleep"/,
    );
  });
});
