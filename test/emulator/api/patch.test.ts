import { describe, expect, it } from 'vitest';
import { serverSideApply, trackUpdate, fieldPaths, toFieldsV1, fromFieldsV1 } from './managed-fields.js';
import { jsonMergePatch, jsonPatch, strategicMergePatch } from './patch.js';
import { ApiError } from './status.js';

type Any = Record<string, any>;

const deployment = (): Any => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns', labels: { app: 'web' }, finalizers: ['a'] },
  spec: {
    replicas: 1,
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 8080 }] },
          { name: 'side', image: 'side:1' },
        ],
      },
    },
  },
});

describe('JSON merge patch', () => {
  it('merges maps, deletes on null, replaces lists', () => {
    expect(jsonMergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: null, d: 3 }, l: [3] })).toEqual({
      a: { b: 1, d: 3 },
      l: [3],
    });
  });
});

describe('JSON patch', () => {
  it('applies add, replace, remove, move, copy and test', () => {
    const out = jsonPatch({ a: [1, 2], b: { c: 1 } }, [
      { op: 'add', path: '/a/1', value: 9 },
      { op: 'replace', path: '/b/c', value: 2 },
      { op: 'copy', from: '/b', path: '/d' },
      { op: 'move', from: '/d/c', path: '/e' },
      { op: 'remove', path: '/a/0' },
      { op: 'test', path: '/e', value: 2 },
    ]);
    expect(out).toEqual({ a: [9, 2], b: { c: 2 }, d: {}, e: 2 });
  });

  it('fails a test op or a missing path with a 422', () => {
    expect(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(ApiError);
    expect(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/zz' }])).toThrow(/missing/);
  });
});

describe('strategic merge patch', () => {
  it('merges keyed lists by their merge key and keeps the rest', () => {
    const out = strategicMergePatch(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: '2' }] }] } } },
    }) as Any;
    expect(out.spec.template.spec.containers).toEqual([
      {
        name: 'app',
        image: 'app:2',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 8080 }],
      },
      { name: 'side', image: 'side:1' },
    ]);
  });

  it('honours the directives kubectl three-way patches carry', () => {
    const patch = {
      metadata: { labels: { app: null, tier: 'x' }, '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'side' }, { name: 'new' }],
            containers: [
              { $patch: 'delete', name: 'app' },
              { name: 'new', image: 'new:1' },
            ],
          },
        },
      },
    };
    const out = strategicMergePatch(deployment(), patch) as Any;
    expect(out.metadata.labels).toEqual({ tier: 'x' });
    expect(out.metadata.finalizers).toEqual([]);
    expect(out.spec.template.spec.containers.map((c: Any) => c.name)).toEqual(['side', 'new']);
    const replaced = strategicMergePatch(deployment(), {
      spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'o' }] } } },
    }) as Any;
    expect(replaced.spec.template.spec.containers).toEqual([{ name: 'only', image: 'o' }]);
    const retained = strategicMergePatch({ s: { a: 1, b: 2 } }, { s: { $retainKeys: ['a'], a: 3 } }) as Any;
    expect(retained.s).toEqual({ a: 3 });
  });

  it('merges service ports on port and container ports on containerPort', () => {
    const svc = strategicMergePatch(
      { spec: { ports: [{ port: 80, name: 'http' }] } },
      { spec: { ports: [{ port: 443, name: 'https' }] } },
    ) as Any;
    expect(svc.spec.ports.map((p: Any) => p.port)).toEqual([80, 443]);
  });
});

describe('server-side apply', () => {
  const apply = (live: Any | undefined, config: Any, manager: string, force = false, custom = false): Any =>
    serverSideApply({ live, config, manager, force, apiVersion: 'v1', custom });

  it('records ownership, and drops what an applier stops sending (unless someone else owns it)', () => {
    const pa = (spec: Any): Any => ({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'ns' },
      spec,
    });
    const first = apply(
      undefined,
      pa({ mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } }),
      'meshprobe',
      false,
      true,
    );
    expect(first.metadata.managedFields).toEqual([
      expect.objectContaining({
        manager: 'meshprobe',
        operation: 'Apply',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:mtls': { 'f:mode': {} }, 'f:portLevelMtls': { 'f:8080': { 'f:mode': {} } } } },
      }),
    ]);
    const second = apply(first, pa({ mtls: { mode: 'PERMISSIVE' } }), 'meshprobe', false, true);
    expect(second.spec).toEqual({ mtls: { mode: 'PERMISSIVE' } });
    const shared = apply(first, pa({ portLevelMtls: { '8080': { mode: 'DISABLE' } } }), 'other', false, true);
    const dropped = apply(shared, pa({ mtls: { mode: 'STRICT' } }), 'meshprobe', false, true);
    expect(dropped.spec).toEqual({ mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } });
  });

  it('conflicts on a field another manager set to a different value; force takes it over', () => {
    const live = apply(
      undefined,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'a', same: 'x' } },
      'first',
    );
    let error: unknown;
    try {
      apply(
        live,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'b', same: 'x' } },
        'second',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "first" using v1: .data.k',
    });
    const forced = apply(
      live,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'b', same: 'x' } },
      'second',
      true,
    );
    expect(forced.data).toEqual({ k: 'b', same: 'x' });
    const owners = Object.fromEntries(
      (forced.metadata.managedFields as Any[]).map((m) => [m.manager, Object.keys(m.fieldsV1['f:data'])]),
    );
    expect(owners).toEqual({ first: ['f:same'], second: ['f:k', 'f:same'] });
  });

  it('merges keyed lists of built-ins by key, and treats custom resources lists as atomic', () => {
    const live = apply(undefined, deployment(), 'a');
    const merged = apply(
      live,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'ns' },
        spec: { template: { spec: { containers: [{ name: 'extra', image: 'e:1' }] } } },
      },
      'b',
    );
    expect(merged.spec.template.spec.containers.map((c: Any) => c.name)).toEqual(['app', 'side', 'extra']);
    const cr = apply(
      undefined,
      { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'x' }, spec: { list: [1, 2] } },
      'a',
      false,
      true,
    );
    expect(
      apply(cr, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'x' }, spec: { list: [3] } }, 'a', false, true).spec
        .list,
    ).toEqual([3]);
  });

  it('moves ownership of changed fields to the updater', () => {
    const live = apply(
      undefined,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'a', j: 'b' } },
      'applier',
    );
    const edited = structuredClone(live);
    edited.data.k = 'edited';
    trackUpdate(live, edited, 'kubectl-edit', 'v1', false);
    const owners = Object.fromEntries(
      (edited.metadata.managedFields as Any[]).map((m) => [
        `${m.manager}/${m.operation}`,
        Object.keys(m.fieldsV1['f:data']),
      ]),
    );
    expect(owners).toEqual({ 'applier/Apply': ['f:j'], 'kubectl-edit/Update': ['f:k'] });
  });

  it('round-trips FieldsV1 with keyed items and set members', () => {
    const paths = fieldPaths(deployment(), false);
    const tree = toFieldsV1(paths) as Any;
    expect(tree['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"app"}']).toMatchObject({
      '.': {},
      'f:image': {},
      'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:value': {} } },
    });
    expect(tree['f:metadata']['f:finalizers']).toEqual({ 'v:"a"': {} });
    expect(fromFieldsV1(tree)).toEqual(paths);
  });
});
