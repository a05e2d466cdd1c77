// The PolicyDiff document is a contract like the MatrixReport: a CI step reads `changes[]` and
// `summary`. Every field listed here must stay in the documents `diff` writes, every field written must
// be listed, and the README's "The PolicyDiff document" must describe each of them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromObject } from '../../src/model/istio-objects.js';
import { diffPredictions, type DiffResult } from '../../src/model/policy-diff.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { meshConfig } from '../../src/oracle/mesh.js';
import { predict } from '../../src/oracle/predict.js';
import { buildDiffDocument } from '../../src/report/diff-document.js';
import { cli } from '../helpers/cli.js';

const FIELDS: Array<[path: string, optional?: 'optional']> = [
  ['apiVersion'],
  ['kind'],
  ['metadata.generatedAt'],
  ['metadata.meshprobeVersion'],
  ['metadata.flavor'],
  ['metadata.topology'],
  ['metadata.namespacePrefix', 'optional'],
  ['metadata.cluster.context', 'optional'],
  ['metadata.cluster.server', 'optional'],
  ['metadata.failOn[]', 'optional'],
  ...['base', 'head'].flatMap((side): Array<[string, 'optional'?]> => [
    [`${side}.side`],
    [`${side}.source`],
    [`${side}.commit`, 'optional'],
    [`${side}.absent`, 'optional'],
    [`${side}.files`],
    [`${side}.policies[].kind`],
    [`${side}.policies[].namespace`, 'optional'],
    [`${side}.policies[].name`],
    [`${side}.policies[].where`],
    [`${side}.ignored`],
  ]),
  ['summary.cells'],
  ['summary.changed'],
  ['summary.failing'],
  ['summary.kinds.blocked'],
  ['summary.kinds.mtls-lost'],
  ['summary.kinds.reachable'],
  ['summary.kinds.other'],
  ['summary.kinds.mtls-gained'],
  ['changes[].from'],
  ['changes[].to'],
  ['changes[].change'],
  ...['base', 'head'].flatMap((side): Array<[string, 'optional'?]> => [
    [`changes[].${side}.outcome`],
    [`changes[].${side}.reachable`],
    [`changes[].${side}.mtls`, 'optional'],
    [`changes[].${side}.summary`],
    [`changes[].${side}.client[].by`],
    [`changes[].${side}.client[].says`],
    [`changes[].${side}.server[].by`],
    [`changes[].${side}.server[].says`],
    [`changes[].${side}.authorization[].by`, 'optional'],
    [`changes[].${side}.authorization[].says`, 'optional'],
    [`changes[].${side}.tableRow`, 'optional'],
  ]),
];

/** Counts by kind: their keys are the kinds found, not fields of meshprobe/v1. */
const OPAQUE = new Set(['base.ignored', 'head.ignored']);

function fieldPaths(value: unknown, path = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    out.add(`${path}[]`);
    for (const item of value) fieldPaths(item, `${path}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      if (!Array.isArray(v)) out.add(p);
      if (!OPAQUE.has(p)) fieldPaths(v, p, out);
    }
  }
  return out;
}
const leaves = (paths: Set<string>): string[] =>
  [...paths].filter((p) => ![...paths].some((q) => q.startsWith(`${p}.`) || q.startsWith(`${p}[]`)));
/** An empty list is a leaf; it is listed when the fields of its items are. */
const unlisted = (paths: Set<string>) =>
  leaves(paths).filter((p) => !FIELDS.some(([f]) => f === p || (p.endsWith('[]') && f.startsWith(`${p}.`))));

const pa = (namespace: string, mode: string) =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: ${namespace}}\nspec: {mtls: {mode: ${mode}}}\n`;

/** A document with every optional field: a git side that is absent, a cluster side, a prefix, --fail-on. */
function fullDocument() {
  const topology = loadTopology();
  const mesh = meshConfig('modern');
  const strict = fromObject(
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'istio-system' },
      spec: { mtls: { mode: 'STRICT' } },
    },
    0,
  );
  const allowNothing = fromObject(
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow-nothing', namespace: 'test1' },
      spec: {},
    },
    1,
  );
  const result: DiffResult = {
    flavor: 'modern',
    topology: topology.name,
    clients: topology.clients.length,
    targets: topology.targets.length,
    namespacePrefix: 'ci',
    cluster: { context: 'staging', server: 'https://staging.example.com:6443' },
    base: {
      spec: 'HEAD~1:policies',
      source: 'git',
      commit: '0123456789abcdef0123456789abcdef01234567',
      absent: true,
      set: { policies: [], files: 0, ignored: {} },
    },
    head: {
      spec: 'cluster',
      source: 'cluster',
      set: {
        policies: [
          { policy: strict, where: 'cluster' },
          { policy: allowNothing, where: 'cluster' },
        ],
        files: 0,
        ignored: { 'Deployment.apps': 1 },
      },
    },
    changes: diffPredictions(predict(topology, [], mesh), predict(topology, [strict, allowNothing], mesh)),
    failOn: ['blocked'],
  };
  return buildDiffDocument(result, { generatedAt: '2026-12-01T00:00:00.000Z', meshprobeVersion: '0.1.0' });
}

async function filesDocument() {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-diff-doc-'));
  writeFileSync(join(dir, 'base.yaml'), pa('test1', 'PERMISSIVE'));
  writeFileSync(join(dir, 'head.yaml'), pa('test1', 'STRICT'));
  const r = await cli(['diff', '--base', 'base.yaml', '--head', 'head.yaml', '-o', 'json'], { cwd: dir });
  expect(r.code).toBe(1);
  return JSON.parse(r.stdout);
}

describe('the PolicyDiff document', () => {
  it('diff -o json writes every field that is not optional, and nothing unlisted', async () => {
    const paths = fieldPaths(await filesDocument());
    for (const [p, optional] of FIELDS) if (!optional) expect(paths, p).toContain(p);
    expect(unlisted(paths)).toEqual([]);
  });

  it('with a git side, a cluster side, a prefix and --fail-on, every listed field is written, and nothing unlisted', async () => {
    const doc = fullDocument();
    // 5 cells reset by STRICT (plaintext from test3), 12 mTLS cells to test1/httpbin denied by allow-nothing.
    expect(doc.summary).toMatchObject({ changed: 17, failing: 17 });
    const full = fieldPaths(JSON.parse(JSON.stringify(doc)));
    expect(unlisted(full)).toEqual([]);
    // One function writes both sides: a field seen on either side is a field of both.
    const side = (p: string) => p.replace(/^head\./, 'base.').replace('changes[].head.', 'changes[].base.');
    const paths = new Set([...full, ...fieldPaths(await filesDocument())].map(side));
    for (const [p] of FIELDS) expect(paths, p).toContain(side(p));
  });

  it('is documented field by field in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const docs = readme.split('## The PolicyDiff document')[1] ?? '';
    expect(FIELDS.map(([p]) => p).filter((p) => !docs.includes(`\`${p}\``))).toEqual([]);
  });
});
