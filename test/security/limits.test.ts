// Limits on file size, matrix size, probe request size and scenarios per run: each refused when the
// files are loaded, with one ConfigError naming the count and the limit; just under each is accepted.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { MAX_MATRIX_CELLS, MAX_PROBE_REQUEST_BYTES, MAX_SCENARIOS } from '../../src/model/limits.js';
import { prefixNamespaces } from '../../src/model/namespace-prefix.js';
import { loadScenarios } from '../../src/model/scenario-file.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { MAX_FILE_BYTES } from '../../src/model/yaml-source.js';
import { probeRequestBytes } from '../../src/probe/command.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'meshprobe-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const write = (text: string, name = `f${++n}.yaml`) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

function refusal(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/**
 * A topology of `namespaces` namespaces, each running one workload that is a client and serves
 * `ports` ports at `path`: namespaces clients × namespaces·ports targets.
 */
function topologyFile(o: { namespaces: number; ports: number; path?: string }): string {
  const manifest = write(
    [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'app' },
        spec: {
          selector: { app: 'app' },
          ports: Array.from({ length: o.ports }, (_, i) => ({ name: `http-${i}`, port: 1000 + i, targetPort: 8080 })),
        },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'app' },
        spec: {
          selector: { matchLabels: { app: 'app' } },
          template: { metadata: { labels: { app: 'app' } }, spec: { containers: [{ name: 'app', image: 'curl' }] } },
        },
      },
    ]
      .map((d) => stringify(d))
      .join('---\n'),
  );
  return write(
    stringify({
      apiVersion: 'meshprobe/v1',
      kind: 'Topology',
      metadata: { name: 'big' },
      spec: {
        namespaces: Array.from({ length: o.namespaces }, (_, i) => ({
          name: `ns${i}`,
          injection: true,
          workloads: ['app'],
        })),
        workloads: {
          app: {
            manifest,
            client: { container: 'app' },
            serve: [{ ports: Array.from({ length: o.ports }, (_, i) => 1000 + i), path: o.path ?? '/' }],
          },
        },
      },
    }),
  );
}

describe('matrix size', () => {
  it(`accepts ${MAX_MATRIX_CELLS} cells (100 clients × 100 ports)`, () => {
    const t = loadTopology(topologyFile({ namespaces: 100, ports: 1 }));
    expect(t.clients.length * t.targets.length).toBe(MAX_MATRIX_CELLS);
  });

  it('refuses one client more, at load time, with one error naming the count and the limit', () => {
    const file = topologyFile({ namespaces: 101, ports: 1 });
    const e = refusal(() => loadTopology(file));
    expect(e.constructor).toBe(ConfigError); // one error, not a list
    expect(e.message).toBe(
      `${file}:5:1: spec: the matrix would have 10201 cells (101 clients × 101 probed ports), more than the limit of ${MAX_MATRIX_CELLS}`,
    );
    expect(e.fix).toMatch(/split the topology/);
  });

  it('the CLI exits 2 with that message, before any cluster is needed', async () => {
    const file = topologyFile({ namespaces: 20, ports: 30 });
    for (const command of [['predict'], ['run'], ['probe'], ['setup']]) {
      const r = await cli([...command, '--topology', file]);
      expect(r.code, command.join(' ')).toBe(2);
      expect(r.stderr).toContain(
        `spec: the matrix would have 12000 cells (20 clients × 600 probed ports), more than the limit of ${MAX_MATRIX_CELLS}`,
      );
    }
  });
});

describe('probe request size (every target URL of a client travels in one exec request)', () => {
  it('the article topology is far below the limit', () => {
    expect(probeRequestBytes(loadTopology())).toBeLessThan(4096);
  });

  it('refuses a topology whose URLs would not fit, naming the size and the limit', async () => {
    // "%" is percent-encoded to three bytes: 50 ports × 2,000 of them is about 300 KiB.
    const file = topologyFile({ namespaces: 1, ports: 50, path: `/${'%'.repeat(2000)}` });
    const e = refusal(() => loadTopology(file, { requestBytes: probeRequestBytes }));
    expect(e.message).toMatch(
      new RegExp(
        `^${file}:5:1: spec: probing all 50 ports from one client takes an exec request of \\d+ bytes, more than the limit of ${MAX_PROBE_REQUEST_BYTES} \\(the exec API carries the command in the request URL\\)`,
      ),
    );
    // The CLI hands the loaders the probe's measure: every command refuses it before a cluster is needed.
    for (const command of [['predict'], ['run'], ['setup']]) {
      const r = await cli([...command, '--topology', file]);
      expect(r.code, command.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/spec: probing all 50 ports from one client takes an exec request of \d+ bytes/);
    }
    expect(
      loadTopology(topologyFile({ namespaces: 1, ports: 40, path: `/${'%'.repeat(2000)}` }), {
        requestBytes: probeRequestBytes,
      }).targets,
    ).toHaveLength(40);
  });

  it('refuses a probed path longer than 2048 characters', () => {
    expect(
      refusal(() => loadTopology(topologyFile({ namespaces: 1, ports: 1, path: `/${'a'.repeat(2048)}` }))).message,
    ).toMatch(/spec\.workloads\.app\.serve\[0\]\.path: Too big: expected string to have <=2048 characters/);
  });

  it('--namespace-prefix is checked too: longer namespaces make longer URLs', () => {
    // Just under the limit as loaded; a 50-character prefix adds 51 bytes to each of the 43 URLs.
    const topology = loadTopology(topologyFile({ namespaces: 1, ports: 43, path: `/${'%'.repeat(2000)}` }));
    const bytes = probeRequestBytes(topology);
    expect(bytes).toBeLessThanOrEqual(MAX_PROBE_REQUEST_BYTES);
    expect(bytes + 43 * 51).toBeGreaterThan(MAX_PROBE_REQUEST_BYTES);
    expect(refusal(() => prefixNamespaces(topology, [], 'p'.repeat(50), probeRequestBytes)).message).toMatch(
      new RegExp(
        `^--namespace-prefix "p{50}": probing all 43 ports from one client takes an exec request of \\d+ bytes, more than the limit of ${MAX_PROBE_REQUEST_BYTES}`,
      ),
    );
    expect(prefixNamespaces(topology, [], 'p', probeRequestBytes).topology.namespaces[0]!.name).toBe('p-ns0');
  });
});

describe('scenarios per run', () => {
  const topology = loadTopology();
  const doc = (i: number) =>
    `apiVersion: meshprobe/v1\nkind: Scenario\nmetadata: {name: s${i}}\nspec: {description: d}\n`;

  it(`accepts ${MAX_SCENARIOS} scenarios in one file and refuses ${MAX_SCENARIOS + 1}, naming the file`, () => {
    expect(
      loadScenarios([write(Array.from({ length: MAX_SCENARIOS }, (_, i) => doc(i)).join('---\n'))], topology),
    ).toHaveLength(MAX_SCENARIOS);
    const file = write(Array.from({ length: MAX_SCENARIOS + 1 }, (_, i) => doc(i)).join('---\n'));
    expect(refusal(() => loadScenarios([file], topology)).message).toBe(
      `${file}: ${MAX_SCENARIOS + 1} scenario documents so far, more than the limit of ${MAX_SCENARIOS} scenarios in one run`,
    );
  });

  it('counts across files, and stops reading at the file that goes over', () => {
    const files = Array.from({ length: MAX_SCENARIOS }, (_, i) => write(doc(i)));
    const over = write(doc(MAX_SCENARIOS));
    const never = join(dir, 'never-read.yaml'); // does not exist: reading it would be a different error
    expect(refusal(() => loadScenarios([...files, over, never], topology)).message).toBe(
      `${MAX_SCENARIOS + 2} scenario files, more than the limit of ${MAX_SCENARIOS} scenarios in one run`,
    );
    expect(
      refusal(() =>
        loadScenarios([...files.slice(2), write(`${doc(997)}---\n${doc(998)}---\n${doc(999)}`), never], topology),
      ).message,
    ).toMatch(new RegExp(`f\\d+\\.yaml: ${MAX_SCENARIOS + 1} scenario documents so far, more than the limit`));
  });

  it('a directory of too many scenario files, through the CLI: exit 2', async () => {
    const d = join(dir, 'many');
    mkdirSync(d);
    for (let i = 0; i <= MAX_SCENARIOS; i++) writeFileSync(join(d, `s${String(i).padStart(3, '0')}.yaml`), doc(i));
    const r = await cli(['predict', '-f', d]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `meshprobe: error: ${MAX_SCENARIOS + 1} scenario files, more than the limit of ${MAX_SCENARIOS} scenarios in one run`,
    );
  });
});

describe('file size', () => {
  it(`a scenario or topology file over ${MAX_FILE_BYTES} bytes is refused before parsing, through the CLI`, async () => {
    const big = write(`# ${'x'.repeat(MAX_FILE_BYTES)}\n`);
    for (const argv of [
      ['predict', '-f', big],
      ['predict', '--topology', big],
      ['teardown', '--topology', big],
    ]) {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `meshprobe: error: ${big}: file is ${MAX_FILE_BYTES + 3} bytes, more than the ${MAX_FILE_BYTES}-byte limit for meshprobe files`,
      );
    }
  });
});
