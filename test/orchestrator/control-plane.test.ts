// Which Istio control plane the topology joins, read from injector webhook configurations as Istio 1.24
// renders them (the emulator's renderings, cited from the charts and istioctl in test/emulator/istio/
// webhooks.ts), and what the mesh settings say when they cannot be read.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/events.js';
import type { KubeObject } from '../../src/model/kube-object.js';
import { chooseControlPlane, describeControlPlane } from '../../src/orchestrator/control-plane-select.js';
import { readMeshConfig } from '../../src/orchestrator/mesh-settings.js';
import { ClusterError } from '../../src/errors.js';
import { deactivated, injectorConfiguration, tagConfiguration } from '../emulator/istio/webhooks.js';
import { FakeCluster } from '../helpers/fake-cluster.js';

const REV = '1-24-2';
const helm = () => [injectorConfiguration(undefined)] as KubeObject[];
const istioctlDefault = () =>
  [deactivated(injectorConfiguration(undefined)), tagConfiguration('default', undefined)] as KubeObject[];
const revision = (...tags: string[]) =>
  [injectorConfiguration(REV), ...tags.map((t) => tagConfiguration(t, REV))] as KubeObject[];

describe('chooseControlPlane', () => {
  it('an unrevisioned Helm install: istio-injection=enabled, mesh config istio', () => {
    expect(chooseControlPlane(helm(), undefined)).toMatchObject({
      revision: 'default',
      label: { key: 'istio-injection', value: 'enabled' },
      namespace: 'istio-system',
      meshConfigMap: 'istio',
      isDefault: true,
      detected: true,
    });
  });

  it("istioctl's default-tag shape: the deactivated injector is not the default, the default tag is", () => {
    const cp = chooseControlPlane(istioctlDefault(), undefined);
    expect(cp).toMatchObject({ revision: 'default', label: { key: 'istio-injection', value: 'enabled' } });
    expect(cp.tags).toEqual(['default']);
    expect(cp.meshConfigMap).toBe('istio');
  });

  it('a revision without a default tag: istio.io/rev=REV and mesh config istio-REV', () => {
    const cp = chooseControlPlane(revision(), undefined);
    expect(cp).toMatchObject({
      revision: REV,
      label: { key: 'istio.io/rev', value: REV },
      meshConfigMap: `istio-${REV}`,
      isDefault: false,
    });
    expect(describeControlPlane(cp)).toBe(
      `revision ${REV} (no default tag): namespaces labelled istio.io/rev=${REV}, mesh config istio-system/istio-${REV}`,
    );
  });

  it('a revision with a tag: the tag is a name for it, and --revision TAG labels with the tag', () => {
    expect(chooseControlPlane(revision('prod'), undefined)).toMatchObject({
      revision: REV,
      label: { key: 'istio.io/rev', value: REV },
      tags: ['prod'],
    });
    expect(chooseControlPlane(revision('prod'), 'prod')).toMatchObject({
      revision: REV,
      label: { key: 'istio.io/rev', value: 'prod' },
      meshConfigMap: `istio-${REV}`,
    });
  });

  it('a revision that is the default (default tag): istio-injection=enabled, its own mesh config', () => {
    expect(chooseControlPlane(revision('default'), undefined)).toMatchObject({
      revision: REV,
      label: { key: 'istio-injection', value: 'enabled' },
      meshConfigMap: `istio-${REV}`,
      isDefault: true,
    });
  });

  it('a canary next to the unrevisioned default: the default unless --revision names the canary', () => {
    const both = [...helm(), ...revision()];
    expect(chooseControlPlane(both, undefined)).toMatchObject({ revision: 'default', meshConfigMap: 'istio' });
    expect(chooseControlPlane(both, REV)).toMatchObject({ revision: REV, label: { key: 'istio.io/rev', value: REV } });
  });

  it('two revisions and no default: an error listing them, as a usage error', () => {
    const two = [...revision('prod'), injectorConfiguration('1-25-0')] as KubeObject[];
    expect(() => chooseControlPlane(two, undefined)).toThrow(
      `this cluster has several Istio revisions and no default (no webhook selects istio-injection=enabled): 1-24-2 (tags prod), 1-25-0`,
    );
  });

  it('an unknown --revision: an error listing the revisions and tags', () => {
    expect(() => chooseControlPlane(revision('prod'), 'canary')).toThrow(
      `--revision canary is neither a revision nor a tag of this cluster's Istio; it has 1-24-2 (tags prod)`,
    );
    expect(() => chooseControlPlane([], 'canary')).toThrow(/shows no Istio revision/);
  });

  it('no revision webhooks at all (Istio before 1.6, or none): the unrevisioned assumption, said so', () => {
    const cp = chooseControlPlane([], undefined);
    expect(cp).toMatchObject({ detected: false, label: { key: 'istio-injection', value: 'enabled' } });
    expect(describeControlPlane(cp)).toContain('no revision webhooks found, so assumed');
  });
});

describe('readMeshConfig says what it could not read', () => {
  const apis = { flavor: 'modern' as const, groupVersions: ['security.istio.io/v1'] };
  const read = async (cluster: FakeCluster) => {
    const events: RunEvent[] = [];
    const cp = chooseControlPlane(revision(), undefined);
    const mesh = await readMeshConfig(cluster, apis, { controlPlane: cp, events: (e) => events.push(e) });
    return { mesh, warnings: events.flatMap((e) => (e.type === 'warning' ? [e.message] : [])) };
  };
  const configMap = (name: string, mesh: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'istio-system' },
    data: { mesh },
  });

  it("reads the revision's ConfigMap, not istio", async () => {
    const r = await read(
      new FakeCluster({
        objects: [
          configMap('istio', 'enableAutoMtls: true'),
          configMap(`istio-${REV}`, 'enableAutoMtls: false\ntrustDomain: td.example'),
        ],
      }),
    );
    expect(r.mesh).toMatchObject({ autoMtls: false, trustDomain: 'td.example' });
    expect(r.warnings).toEqual([]);
  });

  it('missing, forbidden or not YAML: a warning naming it and the defaults assumed', async () => {
    const missing = await read(new FakeCluster({ objects: [configMap('istio', 'enableAutoMtls: false')] }));
    expect(missing.mesh.autoMtls).toBe(true);
    expect(missing.warnings).toEqual([
      `mesh config istio-system/istio-${REV} not found: assuming Istio's defaults (auto mTLS on, root namespace istio-system, trust domain cluster.local)`,
    ]);
    const forbidden = new FakeCluster();
    forbidden.get = () => Promise.reject(new ClusterError('forbidden to read ConfigMap', undefined, { code: 403 }));
    expect((await read(forbidden)).warnings[0]).toMatch(/cannot be read \(forbidden to read ConfigMap\): assuming/);
    const bad = await read(new FakeCluster({ objects: [configMap(`istio-${REV}`, 'a: [')] }));
    expect(bad.warnings[0]).toMatch(/^mesh config istio-system\/istio-1-24-2 is not YAML/);
  });
});
