// Revisioned Istio on the emulated cluster (startEmulator({ istioRevision }), test/emulator/README.md
// "Istio revisions"): meshprobe finds the revision from the injector webhooks, labels the topology's
// namespaces so that revision injects them, reads the mesh settings from its istio-REV ConfigMap, and says
// which revision it uses. real-cluster-audit.md §8: a revision without a default tag got no sidecars
// ("sidecar injection is not working") and silently default mesh settings.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import type { EmulatorOptions } from '../emulator/index.js';
import { kubectl } from '../emulator/testing.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

const REV = '1-24-2';
type Any = Record<string, any>; // loosely typed Kubernetes objects

/** A mesh-wide STRICT policy and nothing expected: the oracle, with the mesh settings it read, decides. */
const ORACLE_ONLY = `apiVersion: meshprobe/v1
kind: Scenario
metadata:
  name: mesh-strict-oracle
spec:
  description: Mesh-wide STRICT; every cell as the oracle predicts from the mesh settings.
  objects:
    - apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata:
        name: default
        namespace: istio-system
      spec:
        mtls:
          mode: STRICT
`;

function setUp(options: EmulatorOptions) {
  const s: { cluster: TestCluster; dir: string } = { cluster: undefined as unknown as TestCluster, dir: '' };
  beforeAll(async () => {
    s.cluster = await testCluster('modern', options);
    s.dir = mkdtempSync(join(tmpdir(), 'meshprobe-revisions-'));
    writeFileSync(join(s.dir, 'oracle.yaml'), ORACLE_ONLY);
  }, 60_000);
  afterAll(() => s.cluster?.stop());
  return s;
}

async function meshprobe(s: { cluster: TestCluster; dir: string }, ...args: string[]) {
  return cli(['--kubeconfig', s.cluster.kubeconfig, ...args], { cwd: s.dir, env: { HOME: s.dir } });
}

/** `run --keep` of the baseline scenario; the kept namespaces show how they were labelled and injected. */
async function runKept(s: { cluster: TestCluster; dir: string }, ...flags: string[]) {
  const r = await meshprobe(s, 'run', '--scenario', 'baseline', '--keep', '-o', 'json', '--settle', '2', ...flags);
  const ns = (name: string) => s.cluster.emulator!.store.get('', 'namespaces', undefined, name) as Any;
  /** The istio.io/rev each pod was injected by: test1 runs httpbin, sleep and sleep-other, the others httpbin and sleep. */
  const proxyRevision = (namespace: string) =>
    (s.cluster.emulator!.store.list('', 'pods', namespace) as Any[])
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => p.metadata.annotations?.['istio.io/rev'] as string | undefined);
  return { ...r, ns, proxyRevision };
}

const preflightLine = (stderr: string) => stderr.split('\n').find((l) => l.includes('Istio control plane'));

describe.runIf(!REAL_KUBECONFIG)('revisioned Istio', () => {
  describe('no revision (the unrevisioned Helm install, as before)', () => {
    const s = setUp({});
    it('labels istio-injection=enabled and reads istio-system/istio', async () => {
      const r = await runKept(s);
      expect(r.code, r.stderr).toBe(0);
      expect(preflightLine(r.stderr)).toBe(
        'preflight: ok Istio control plane (the unrevisioned control plane (the default): namespaces labelled istio-injection=enabled, mesh config istio-system/istio)',
      );
      expect(r.ns('test1').metadata.labels).toMatchObject({ 'istio-injection': 'enabled' });
      expect(r.ns('test1').metadata.labels['istio.io/rev']).toBeUndefined();
      expect(r.ns('test3').metadata.labels).toMatchObject({ 'istio-injection': 'disabled' });
      expect(r.proxyRevision('test1')).toEqual(['default', 'default', 'default']);
    }, 300_000);
  });

  describe(`a revision (${REV}) without a default tag`, () => {
    const s = setUp({ istioRevision: { revision: REV } });

    it('labels istio.io/rev=REV, so the revision injects the sidecars, and says so in preflight', async () => {
      // Before: every namespace got istio-injection=enabled, which this install does not select, and
      // setup stopped with "sidecar injection is not working".
      const r = await runKept(s);
      expect(r.code, r.stderr).toBe(0);
      expect(preflightLine(r.stderr)).toBe(
        `preflight: ok Istio control plane (revision ${REV} (no default tag): namespaces labelled istio.io/rev=${REV}, mesh config istio-system/istio-${REV})`,
      );
      expect(r.stderr).not.toContain('warning:');
      expect(r.ns('test1').metadata.labels).toMatchObject({ 'istio.io/rev': REV });
      expect(r.ns('test1').metadata.labels['istio-injection']).toBeUndefined();
      expect(r.ns('test3').metadata.labels).toMatchObject({ 'istio-injection': 'disabled' });
      expect(r.proxyRevision('test1')).toEqual([REV, REV, REV]);
      expect(r.proxyRevision('test3')).toEqual([undefined, undefined]);
      await meshprobe(s, 'teardown');
    }, 300_000);

    it(`reads the mesh settings from istio-${REV}: auto mTLS off there is what the oracle predicts`, async () => {
      const cm = s.cluster.emulator!.store.get('', 'configmaps', 'istio-system', `istio-${REV}`) as Any;
      const mesh = String(cm.data.mesh).replace('enableAutoMtls: true', 'enableAutoMtls: false');
      expect(mesh).toContain('enableAutoMtls: false');
      const patched = await kubectl(s.cluster.kubeconfig, [
        ...['patch', 'cm', `istio-${REV}`, '-n', 'istio-system', '--type', 'merge'],
        ...['-p', JSON.stringify({ data: { mesh } })],
      ]);
      expect(patched.code, patched.stderr).toBe(0);
      const r = await meshprobe(s, 'run', '-f', 'oracle.yaml', '--allow-cluster-wide', '-o', 'json', '--settle', '2');
      // Read from istio (absent here) the oracle would assume auto mTLS on and predict mtls between
      // sidecars; the revision's istiod, with it off, sends plaintext that STRICT refuses: 503.
      expect(r.code, r.stderr).toBe(0);
      const cell = (JSON.parse(r.stdout) as ReportDocument).scenarios[0]!.cells.find(
        (c) => c.from === 'test1/sleep' && c.to === 'test2/httpbin:8000',
      )!;
      expect(cell).toMatchObject({ expected: { outcome: 'upstream-error' }, observed: { outcome: 'upstream-error' } });
    }, 300_000);

    it('a second revision without a default is ambiguous: exit 2 naming both, before any write', async () => {
      const canary = {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'istio-sidecar-injector-canary', labels: { 'istio.io/rev': 'canary' } },
        webhooks: [],
      };
      const applied = await kubectl(s.cluster.kubeconfig, ['apply', '-f', '-'], { stdin: JSON.stringify(canary) });
      expect(applied.code, applied.stderr).toBe(0);
      const before = s.cluster.emulator!.audit.entries().length;
      const r = await meshprobe(s, 'setup');
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(
        `meshprobe: error: this cluster has several Istio revisions and no default (no webhook selects istio-injection=enabled): ${REV}, canary\n`,
      );
      expect(r.stderr).toContain('meshprobe: fix: choose the one to test with --revision REV (a revision or a tag)');
      // The audit log holds writes only.
      expect(s.cluster.emulator!.audit.entries().slice(before)).toEqual([]);
      const unknown = await meshprobe(s, 'setup', '--revision', 'nope');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain(
        `--revision nope is neither a revision nor a tag of this cluster's Istio; it has ${REV}, canary`,
      );
    }, 120_000);
  });

  describe(`a revision with a tag (prod), no default`, () => {
    const s = setUp({ istioRevision: { revision: REV, revisionTags: ['prod'] } });
    it('--revision prod labels istio.io/rev=prod: the tag injects with the revision, whose mesh config is read', async () => {
      const r = await runKept(s, '--revision', 'prod');
      expect(r.code, r.stderr).toBe(0);
      expect(preflightLine(r.stderr)).toBe(
        `preflight: ok Istio control plane (revision ${REV} (no default tag; tags prod): namespaces labelled istio.io/rev=prod, mesh config istio-system/istio-${REV})`,
      );
      expect(r.ns('test2').metadata.labels).toMatchObject({ 'istio.io/rev': 'prod' });
      expect(r.proxyRevision('test2')).toEqual([REV, REV]);
    }, 300_000);
  });

  describe("istioctl's default-tag shape (unrevisioned, istio-revision-tag-default)", () => {
    const s = setUp({ istioRevision: { installer: 'istioctl' } });
    it('finds the default through the tag, not the deactivated injector', async () => {
      const r = await runKept(s);
      expect(r.code, r.stderr).toBe(0);
      expect(preflightLine(r.stderr)).toBe(
        'preflight: ok Istio control plane (the unrevisioned control plane (the default; tags default): namespaces labelled istio-injection=enabled, mesh config istio-system/istio)',
      );
      expect(r.ns('test1').metadata.labels).toMatchObject({ 'istio-injection': 'enabled' });
      expect(r.proxyRevision('test1')).toEqual(['default', 'default', 'default']);
    }, 300_000);
  });
});
