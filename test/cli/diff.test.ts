// `meshprobe diff`: what a reviewer of a policy change relies on. The cells that change and only those,
// each with its base and head outcome and the objects that decide it; exit 0 / 1 / 2 as documented;
// sides read from files, from git revisions (also in a bare clone), with the oracle's flavors,
// --namespace-prefix and custom topologies.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadScenarios } from '../../src/model/scenario-file.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { meshConfig } from '../../src/oracle/mesh.js';
import { objectsToApply } from '../../src/orchestrator/scenario-objects.js';
import { cli } from '../helpers/cli.js';
import { GRID_PLAIN, gridNamespace, writeGridTopology } from '../helpers/grid-topology.js';

const root = mkdtempSync(join(tmpdir(), 'meshprobe-diff-'));
let n = 0;
/** A fresh directory holding `files` (name → text). */
function dir(files: Record<string, string> = {}): string {
  const d = join(root, `d${++n}`);
  mkdirSync(d);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

const yaml = (...objects: object[]) => objects.map((o) => stringify(o)).join('---\n');
const peerAuthentication = (namespace: string, mode: string, name = 'default') => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name, namespace },
  spec: { mtls: { mode } },
});
const destinationRule = (name: string, namespace: string, host: string, mode: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name, namespace },
  spec: { host, trafficPolicy: { tls: { mode } } },
});
const MESH_STRICT = yaml(peerAuthentication('istio-system', 'STRICT'));
const MESH_POLICY = yaml({
  apiVersion: 'authentication.istio.io/v1alpha1',
  kind: 'MeshPolicy',
  metadata: { name: 'default' },
  spec: { peers: [{ mtls: {} }] },
});

async function diffJson(args: string[], cwd?: string) {
  const r = await cli(['diff', ...args, '-o', 'json'], cwd ? { cwd } : {});
  return { ...r, doc: r.stdout ? JSON.parse(r.stdout) : undefined };
}

const cellsOf = (doc: any) =>
  doc.changes.map((c: any) => [c.from, c.to, c.base.outcome, c.head.outcome, c.change].join(' '));

const STRICT_CELLS = [
  'test3/sleep test1/httpbin:8000 plaintext reset blocked',
  'test3/sleep test1/httpbin:9080 plaintext reset blocked',
  'test3/sleep test1/httpbin:8000 POST /anything plaintext reset blocked',
  'test3/sleep test2/httpbin:8000 plaintext reset blocked',
  'test3/sleep test2/httpbin:9080 plaintext reset blocked',
];

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: root,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    },
  });
}

describe('meshprobe diff', () => {
  it('no policy → mesh-wide STRICT: exactly the 5 cells from test3/sleep to the sidecar servers of test1 and test2, plaintext → reset, exit 1', async () => {
    const { code, doc, stderr } = await diffJson(['--base', dir(), '--head', dir({ 'mesh.yaml': MESH_STRICT })]);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(cellsOf(doc)).toEqual(STRICT_CELLS);
    expect(doc.summary).toEqual({
      cells: 40,
      changed: 5,
      failing: 5,
      kinds: { blocked: 5, 'mtls-lost': 0, reachable: 0, other: 0, 'mtls-gained': 0 },
    });
    // Both reasons, as `explain` names the deciding objects.
    expect(doc.changes[0].base.server).toEqual([{ by: 'default', says: 'PERMISSIVE (no PeerAuthentication applies)' }]);
    expect(doc.changes[0].head.server).toEqual([
      { by: 'PeerAuthentication istio-system/default', says: 'mesh-wide: STRICT' },
    ]);
    expect(doc.changes[0].head.client).toEqual([
      { by: 'client', says: 'no sidecar: the app talks to the server pod directly' },
    ]);
  });

  it('the table lists the changed cells and, under them, both chains of deciding objects', async () => {
    const r = await cli(['diff', '--base', dir(), '--head', dir({ 'mesh.yaml': MESH_STRICT })]);
    expect(r.code).toBe(1);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('│ test'));
    expect(
      rows.map((l) =>
        l
          .split('│')
          .map((c) => c.trim())
          .filter(Boolean),
      ),
    ).toEqual(
      [
        'test1/httpbin:8000',
        'test1/httpbin:9080',
        'test1/httpbin:8000 POST /anything',
        'test2/httpbin:8000',
        'test2/httpbin:9080',
      ].map((to) => ['test3/sleep', to, '✔ plain', '✘ reset', 'newly blocked']),
    );
    expect(r.stdout).toContain('5 cells: ✔ plain → ✘ reset (newly blocked)');
    expect(r.stdout).toMatch(/base: ✔ plain: .*\n.*\n +default: PERMISSIVE \(no PeerAuthentication applies\)/);
    expect(r.stdout).toContain('    PeerAuthentication istio-system/default: mesh-wide: STRICT');
    expect(r.stdout).toContain('5 of 40 cells change: 5 newly blocked.');
  });

  it('an AuthorizationPolicy is a change like any other: allow-nothing denies every cell to its server, and the head names the policy; an ALLOW by principal opens exactly that client', async () => {
    const allowNothing = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow-nothing', namespace: 'test1' },
      spec: { selector: { matchLabels: { app: 'httpbin' } } },
    };
    const closed = dir({ 'ap.yaml': yaml(allowNothing) });
    const { code, doc } = await diffJson(['--base', dir(), '--head', closed]);
    expect(code).toBe(1);
    const toTest1 = doc.changes.filter((c: any) => c.to.startsWith('test1/httpbin:'));
    // Every client to each of test1/httpbin's three requests, plaintext from test3 as well: nothing else.
    expect(toTest1).toHaveLength(15);
    expect(doc.changes).toHaveLength(15);
    expect(new Set(doc.changes.map((c: any) => `${c.head.outcome} ${c.change}`))).toEqual(new Set(['denied blocked']));
    expect(doc.changes[0].base.authorization).toBeUndefined();
    expect(doc.changes[0].head.authorization).toContainEqual({
      by: 'AuthorizationPolicy test1/allow-nothing',
      says: 'has no rules: it matches nothing',
    });
    const table = await cli(['diff', '--base', dir(), '--head', closed]);
    expect(table.stdout).toContain('    AuthorizationPolicy test1/allow-nothing: has no rules: it matches nothing');

    const allowTest2 = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow-test2', namespace: 'test1' },
      spec: {
        selector: { matchLabels: { app: 'httpbin' } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/test2/sa/sleep'] } }] }],
      },
    };
    const opened = await diffJson(['--base', closed, '--head', dir({ 'ap.yaml': yaml(allowNothing, allowTest2) })]);
    expect(cellsOf(opened.doc)).toEqual(
      ['test1/httpbin:8000', 'test1/httpbin:9080', 'test1/httpbin:8000 POST /anything'].map(
        (to) => `test2/sleep ${to} denied mtls reachable`,
      ),
    );
    expect(opened.doc.changes[0].head.authorization).toContainEqual(
      expect.objectContaining({ by: 'AuthorizationPolicy test1/allow-test2 rule 0' }),
    );
  });

  it('identical sides, even written differently (YAML documents or one JSON List), exit 0 with no change', async () => {
    const objects = [
      peerAuthentication('istio-system', 'STRICT'),
      destinationRule('all', 'istio-system', '*.local', 'ISTIO_MUTUAL'),
    ];
    const a = dir({ 'policies.yaml': yaml(...objects) });
    const b = dir({ 'nested/list.json': JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
    for (const [base, head] of [
      [a, a],
      [a, b],
    ]) {
      const { code, doc } = await diffJson(['--base', base!, '--head', head!]);
      expect(code).toBe(0);
      expect(doc.changes).toEqual([]);
      expect(doc.summary).toMatchObject({ cells: 40, changed: 0, failing: 0 });
    }
    const table = await cli(['diff', '--base', a, '--head', b]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('meshprobe diff: no cell changes (40 cells)');
  });

  it('reads REV:PATH sides with git, without a checkout: in the repository, in a bare clone, and a path the change adds', async () => {
    const repo = dir();
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'README.md'), 'policies come later\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'no policies yet');
    mkdirSync(join(repo, 'policies', 'mesh'), { recursive: true });
    writeFileSync(join(repo, 'policies', 'mesh', 'peer-authentication.yaml'), MESH_STRICT);
    writeFileSync(
      join(repo, 'policies', 'app.yaml'),
      yaml({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'test1' } }),
    );
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'mesh-wide STRICT');
    // The work tree moves on: the git sides must not read it.
    writeFileSync(join(repo, 'policies', 'mesh', 'peer-authentication.yaml'), 'not: [valid');
    const bare = join(root, `bare${++n}.git`);
    git(root, 'clone', '-q', '--bare', repo, bare);
    const head = git(repo, 'rev-parse', 'HEAD').trim();

    for (const cwd of [repo, bare]) {
      // The base revision has no policies/ directory yet: it is the change that adds it.
      const { code, doc, stderr } = await diffJson(['--base', 'main~1:policies', '--head', 'main:policies'], cwd);
      expect(stderr).toBe('');
      expect(code).toBe(1);
      expect(cellsOf(doc)).toEqual(STRICT_CELLS);
      expect(doc.base).toMatchObject({ side: 'main~1:policies', source: 'git', absent: true, files: 0, policies: [] });
      expect(doc.head).toMatchObject({
        side: 'main:policies',
        source: 'git',
        commit: head,
        files: 2,
        policies: [
          {
            kind: 'PeerAuthentication',
            namespace: 'istio-system',
            name: 'default',
            where: 'main:policies/mesh/peer-authentication.yaml:1:1',
          },
        ],
        ignored: { Service: 1 },
      });
    }
    // A single file at a revision, against the same file on disk from the other commit.
    const file = await diffJson(
      ['--base', 'HEAD:policies/mesh/peer-authentication.yaml', '--head', dir({ 'a.yaml': MESH_STRICT })],
      bare,
    );
    expect(file.code).toBe(0);

    const typo = await cli(['diff', '--base', 'main~1:polices', '--head', 'main:polices'], { cwd: repo });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('main~1:polices and main:polices: the path is in neither revision');
    const unknown = await cli(['diff', '--base', 'nosuch:policies', '--head', 'main:policies'], { cwd: repo });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('nosuch:policies: git knows no revision "nosuch"');
    const outside = await cli(['diff', '--base', 'main:policies', '--head', 'main:policies'], { cwd: root });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/main:policies: .* is not in a git repository/);
  });

  it('a malformed file names file:line:column, exits 2 and prints no diff; at a revision, REV:path:line:column', async () => {
    const bad = dir({
      'ok.yaml': MESH_STRICT,
      'bad.yaml':
        'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: x, namespace: test1}\nspec:\n  mtls:\n    mode: STRICTER\n',
    });
    const r = await cli(['diff', '--base', dir(), '--head', bad], { cwd: bad });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'meshprobe: error: bad.yaml:6:5: spec.mtls.mode: "STRICTER" is not allowed; expected one of "UNSET", "DISABLE", "PERMISSIVE", "STRICT"',
    );

    const repo = dir();
    git(repo, 'init', '-q');
    writeFileSync(join(repo, 'p.yaml'), 'apiVersion: v1\nkind: List\nitems:\n  - {kind: PeerAuthentication\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'broken');
    const g = await cli(['diff', '--base', 'HEAD:', '--head', dir()], { cwd: repo });
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/^meshprobe: error: HEAD:p\.yaml:\d+:\d+: invalid YAML: /m);
  });

  it('a MeshPolicy on the modern flavor is translated as `run` translates it before applying it', async () => {
    const meshPolicy = dir({ 'mesh-policy.yaml': MESH_POLICY });
    const { code, doc } = await diffJson(['--base', dir(), '--head', meshPolicy]);
    expect(code).toBe(1);
    expect(cellsOf(doc)).toEqual(STRICT_CELLS);
    expect(doc.changes[0].head.server).toEqual([
      { by: 'PeerAuthentication istio-system/default (from MeshPolicy default)', says: 'mesh-wide: STRICT' },
    ]);
    // What `run` applies on a cluster that serves only security.istio.io, written out as files: the same matrix.
    const topology = loadTopology();
    const [scenario] = loadScenarios(
      [join(import.meta.dirname, '../../scenarios/11-mesh-strict-no-dr.yaml')],
      topology,
    );
    const applied = objectsToApply(
      scenario!,
      topology,
      { flavor: 'modern', groupVersions: ['security.istio.io/v1', 'networking.istio.io/v1'] },
      meshConfig('modern'),
      'run-1',
    );
    expect(applied.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'security.istio.io/v1 PeerAuthentication istio-system/default',
    ]);
    const translated = dir({ 'applied.yaml': yaml(...applied) });
    const same = await diffJson(['--base', meshPolicy, '--head', translated]);
    expect(same.code).toBe(0);
    expect(same.doc.changes).toEqual([]);
  });

  it('--istio legacy: the PERMISSIVE MeshPolicy Istio 1.4 installs is the base, and a PeerAuthentication is refused where it is written', async () => {
    const { code, doc } = await diffJson([
      '--istio',
      'legacy',
      '--base',
      dir(),
      '--head',
      dir({ 'm.yaml': MESH_POLICY }),
    ]);
    expect(code).toBe(1);
    expect(doc.metadata.flavor).toBe('legacy');
    // Without auto mTLS the sidecars keep sending plaintext, which STRICT servers reset: the client sidecar answers 503.
    const between = doc.changes.find((c: any) => c.from === 'test1/sleep' && c.to === 'test2/httpbin:8000');
    expect([between.base.outcome, between.head.outcome, between.change]).toEqual([
      'plaintext',
      'upstream-error',
      'blocked',
    ]);
    expect(between.base.server).toEqual([{ by: 'MeshPolicy default', says: 'mesh-wide: PERMISSIVE' }]);

    const pa = dir({ 'pa.yaml': MESH_STRICT });
    const r = await cli(['diff', '--istio', 'legacy', '--base', dir(), '--head', pa], { cwd: pa });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'pa.yaml:1:1: PeerAuthentication istio-system/default: Istio 1.4 does not serve security.istio.io',
    );
  });

  it('a namespace Policy (Istio 1.4) is predicted on both flavors: translated on modern, as it is on legacy', async () => {
    const policy = dir({
      'test2.yaml': yaml({
        apiVersion: 'authentication.istio.io/v1alpha1',
        kind: 'Policy',
        metadata: { name: 'default', namespace: 'test2' },
        spec: { peers: [{ mtls: {} }] },
      }),
    });
    const modern = await diffJson(['--base', dir(), '--head', policy]);
    expect(cellsOf(modern.doc)).toEqual(STRICT_CELLS.filter((c) => c.includes('test2/httpbin')));
    expect(modern.doc.changes[0].head.server[0].by).toBe(
      'PeerAuthentication test2/default (from Policy test2/default)',
    );
    const legacy = await diffJson(['--istio', 'legacy', '--base', dir(), '--head', policy]);
    // Without auto mTLS every client's plaintext is refused by test2's STRICT servers: 503 from sidecars, reset without.
    expect(legacy.doc.changes.map((c: any) => `${c.from} ${c.to} ${c.head.outcome}`)).toEqual(
      ['test1/sleep', 'test1/sleep-other', 'test2/sleep', 'test3/sleep', 'ngtest/sleep'].flatMap((from) =>
        ['8000', '9080'].map(
          (port) => `${from} test2/httpbin:${port} ${from === 'test3/sleep' ? 'reset' : 'upstream-error'}`,
        ),
      ),
    );
    expect(legacy.doc.changes[0].head.server[0].by).toBe('Policy test2/default');
  });

  it('DestinationRules too; worst first in the text; --fail-on picks which kinds of change exit 1', async () => {
    const base = dir({ 'mesh.yaml': yaml(peerAuthentication('istio-system', 'PERMISSIVE')) });
    const head = dir({
      'mesh.yaml': yaml(peerAuthentication('istio-system', 'PERMISSIVE')),
      'test1.yaml': yaml(peerAuthentication('test1', 'STRICT')),
      'no-mtls-to-test2.yaml': yaml(
        destinationRule('httpbin-test2', 'istio-system', 'httpbin.test2.svc.cluster.local', 'DISABLE'),
      ),
    });
    const { code, doc } = await diffJson(['--base', base, '--head', head]);
    expect(code).toBe(1);
    expect(doc.summary.kinds).toEqual({ blocked: 3, 'mtls-lost': 8, reachable: 0, other: 0, 'mtls-gained': 0 });
    const lost = doc.changes.find((c: any) => c.change === 'mtls-lost');
    expect(lost).toMatchObject({
      from: 'test1/sleep',
      to: 'test2/httpbin:8000',
      base: { outcome: 'mtls' },
      head: { outcome: 'plaintext', mtls: false },
    });
    expect(lost.head.client[0]).toEqual({
      by: 'DestinationRule istio-system/httpbin-test2',
      says: expect.stringContaining('DISABLE'),
    });
    // The JSON keeps the matrix's order (test1/sleep's mTLS lost first); the text puts the blocked cells first.
    expect(doc.changes[0].change).toBe('mtls-lost');
    const table = await cli(['diff', '--base', base, '--head', head]);
    const rows = table.stdout.split('\n').filter((l) => l.startsWith('│ ') && !l.startsWith('│ from'));
    expect(rows.map((l) => l.split('│')[5]!.trim())).toEqual([
      ...Array(3).fill('newly blocked'),
      ...Array(8).fill('mTLS lost'),
    ]);

    expect((await cli(['diff', '--base', base, '--head', head, '--fail-on', 'blocked'])).code).toBe(1);
    expect((await cli(['diff', '--base', base, '--head', head, '--fail-on', 'reachable,mtls-gained'])).code).toBe(0);
    const plaintext = await diffJson(['--base', base, '--head', head, '--fail-on', 'plaintext']);
    expect(plaintext.code).toBe(1);
    expect(plaintext.doc.summary.failing).toBe(8);
    expect(plaintext.doc.metadata.failOn).toEqual(['plaintext']);
    // The reverse change: mTLS comes back, and test3/sleep reaches test1 again, in plaintext: that one is a plaintext.
    const back = await diffJson(['--base', head, '--head', base, '--fail-on', 'plaintext']);
    expect(back.doc.summary.kinds).toMatchObject({ reachable: 3, 'mtls-gained': 8 });
    expect([back.code, back.doc.summary.failing]).toEqual([1, 3]);
    expect((await cli(['diff', '--base', head, '--head', base, '--fail-on', 'mtls-lost,blocked'])).code).toBe(0);

    const wrong = await cli(['diff', '--base', base, '--head', head, '--fail-on', 'blocked,denyed']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--fail-on: "denyed" is not a kind of change');
  });

  it('--namespace-prefix moves the topology and the files with it', async () => {
    const { code, doc } = await diffJson([
      '--namespace-prefix',
      'ci-7',
      '--base',
      dir(),
      '--head',
      dir({ 't1.yaml': yaml(peerAuthentication('test1', 'STRICT')) }),
    ]);
    expect(code).toBe(1);
    expect(cellsOf(doc)).toEqual([
      'ci-7-test3/sleep ci-7-test1/httpbin:8000 plaintext reset blocked',
      'ci-7-test3/sleep ci-7-test1/httpbin:9080 plaintext reset blocked',
      'ci-7-test3/sleep ci-7-test1/httpbin:8000 POST /anything plaintext reset blocked',
    ]);
    expect(doc.metadata.namespacePrefix).toBe('ci-7');
    expect(doc.changes[0].head.server[0].by).toBe('PeerAuthentication ci-7-test1/default');
  });

  it('a custom 30×30 topology; Markdown stays under GitHub’s comment limit, worst first, and says what it left out', async () => {
    const topo = writeGridTopology(dir(), 30);
    const base = dir();
    const head = dir({
      'mesh.yaml': yaml(peerAuthentication('istio-system', 'STRICT')),
      // The plain namespace's own server stays reachable; every sidecar client now sends it mTLS it cannot take.
      'all.yaml': yaml(destinationRule('all', 'istio-system', '*.local', 'ISTIO_MUTUAL')),
    });
    const { code, doc } = await diffJson(['--topology', topo, '--base', base, '--head', head]);
    expect(code).toBe(1);
    expect(doc.metadata.topology).toBe('grid-30');
    expect(doc.summary.cells).toBe(900);
    // The plain client is reset by the 29 STRICT servers; the 29 sidecar clients get 503 from the plain server.
    expect(doc.summary.kinds).toEqual({ blocked: 58, 'mtls-lost': 0, reachable: 0, other: 0, 'mtls-gained': 0 });
    expect(doc.changes.find((c: any) => c.from === `${GRID_PLAIN}/sleep`).to).toBe(`${gridNamespace(1)}/httpbin:8000`);

    // DISABLE everywhere on top: 29×29 cells between sidecars lose mTLS (841), many more than a comment holds.
    const worse = dir({
      'mesh.yaml': yaml(peerAuthentication('istio-system', 'PERMISSIVE')),
      'all.yaml': yaml(destinationRule('all', 'istio-system', '*.local', 'DISABLE')),
      'strict-01.yaml': yaml(peerAuthentication(gridNamespace(1), 'STRICT')),
    });
    const md = await cli(['diff', '--topology', topo, '--base', base, '--head', worse, '-o', 'markdown']);
    expect(md.code).toBe(1);
    expect(Buffer.byteLength(md.stdout)).toBeLessThanOrEqual(65_536);
    expect(md.stdout.startsWith('<!-- meshprobe diff -->\n## ❌ meshprobe diff: ')).toBe(true);
    const sections = [...md.stdout.matchAll(/^### .*$/gm)].map((m) => m[0]);
    // grid-01 is STRICT now: 29 sidecar clients' plaintext gets 503 and the plain client is reset (30 blocked), listed before the 812 mTLS lost.
    expect(sections[0]).toBe('### ⛔ Newly blocked: 30');
    expect(sections[1]).toMatch(/^### 🔓 mTLS lost: 812 \(\d+ shown\)$/);
    const shown = Number(/\((\d+) shown\)/.exec(sections[1]!)![1]);
    expect(md.stdout).toContain(
      `_${812 - shown} changes left out to stay under GitHub's 65,536-character comment limit (${812 - shown} mTLS lost); \`meshprobe diff … -o json\` lists them all._`,
    );
    const rows = md.stdout.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows).toHaveLength(30 + shown);
  });

  it('bad sides and flags exit 2 with one message', async () => {
    const none = await cli(['diff', '--base', join(root, 'nowhere'), '--head', dir()]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no such file or directory');
    expect(none.stderr).toContain('meshprobe: fix: give a file or directory of Istio objects, REV:PATH');
    expect((await cli(['diff', '--head', dir()])).code).toBe(2);
    expect((await cli(['diff', '--base', dir(), '--head', dir(), '-o', 'junit'])).code).toBe(2);
  });
});
