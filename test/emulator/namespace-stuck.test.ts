// A namespace whose deletion never completes (the namespace-stuck fault), as the namespace controller
// leaves it: Terminating, its conditions saying why, new content refused; clearing the fault lets it go.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseFaultSpec } from './api/faults.js';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, kubectl, raw } from './testing.js';

type Any = Record<string, any>;

let emu: Emulator;

async function namespaceWithContent(name: string): Promise<void> {
  expect((await raw(emu, 'POST', '/api/v1/namespaces', { body: JSON.stringify({ metadata: { name } }) })).status).toBe(
    201,
  );
  for (const [resource, body] of [
    ['configmaps', { metadata: { name: 'team-settings' }, data: { a: 'b' } }],
    ['secrets', { metadata: { name: 'token' }, stringData: { t: 'x' } }],
  ] as const) {
    const r = await raw(emu, 'POST', `/api/v1/namespaces/${name}/${resource}`, { body: JSON.stringify(body) });
    expect(r.status).toBe(201);
  }
}

const ns = (name: string): Any | undefined => emu.store.get('', 'namespaces', undefined, name) as Any | undefined;
const conditions = (name: string): Any[] =>
  ((ns(name)?.status?.conditions ?? []) as Any[]).map(({ lastTransitionTime, ...rest }) => {
    expect(lastTransitionTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    return rest;
  });

const ALL_CLEAR = [
  {
    type: 'NamespaceDeletionDiscoveryFailure',
    status: 'False',
    reason: 'ResourcesDiscovered',
    message: 'All resources successfully discovered',
  },
  {
    type: 'NamespaceDeletionGroupVersionParsingFailure',
    status: 'False',
    reason: 'ParsedGroupVersions',
    message: 'All legacy kube types successfully parsed',
  },
  {
    type: 'NamespaceDeletionContentFailure',
    status: 'False',
    reason: 'ContentDeleted',
    message: 'All content successfully deleted, may be waiting on finalization',
  },
  {
    type: 'NamespaceContentRemaining',
    status: 'False',
    reason: 'ContentRemoved',
    message: 'All content successfully removed',
  },
  {
    type: 'NamespaceFinalizersRemaining',
    status: 'False',
    reason: 'ContentRemoved',
    message: 'All content successfully removed',
  },
];

beforeAll(async () => {
  emu = await startEmulator({ istio: 'none', podReadyDelayMs: 20, runtime: createPlainRuntime });
});

afterEach(() => emu.faults.clear());

afterAll(async () => {
  await emu?.stop();
});

describe('namespace-stuck cause=content (the default)', () => {
  it('leaves the namespace Terminating with the objects that keep the finalizer, and says so in its conditions', async () => {
    emu.faults.set([{ kind: 'namespace-stuck', names: ['stuck-*'] }]);
    await namespaceWithContent('stuck-a');
    const deleted = await kubectl(emu.kubeconfigPath, ['delete', 'namespace', 'stuck-a', '--timeout=1s']);
    expect(deleted.stdout).toBe('namespace "stuck-a" deleted\n');
    expect(deleted.code).toBe(1);
    // Under load client-go may log a "very short watch" warning first: the wait's deadline ends its watch.
    expect(deleted.stderr.trim().split('\n').at(-1)).toBe(
      'error: timed out waiting for the condition on namespaces/stuck-a',
    );

    await eventually(() => (conditions('stuck-a').length === 5 ? true : undefined), 5000, 'conditions');
    expect(ns('stuck-a')).toMatchObject({ spec: { finalizers: ['kubernetes'] }, status: { phase: 'Terminating' } });
    expect(ns('stuck-a')?.metadata.deletionTimestamp).toBeDefined();
    expect(conditions('stuck-a')).toEqual([
      ...ALL_CLEAR.slice(0, 3),
      {
        type: 'NamespaceContentRemaining',
        status: 'True',
        reason: 'SomeResourcesRemain',
        message: 'Some resources are remaining: configmaps. has 2 resource instances',
      },
      {
        type: 'NamespaceFinalizersRemaining',
        status: 'True',
        reason: 'SomeFinalizerRemain',
        message: 'Some finalizers are remaining: emulator.meshprobe.dev/never-cleared in 2 resource instances',
      },
    ]);
    // The secret went; the config maps stay, marked for deletion, holding the finalizer.
    expect(emu.store.list('', 'secrets', 'stuck-a')).toEqual([]);
    const kept = emu.store.list('', 'configmaps', 'stuck-a');
    expect(kept.map((c) => c.metadata.name).sort()).toEqual(['kube-root-ca.crt', 'team-settings']);
    for (const c of kept) {
      expect(c.metadata.deletionTimestamp).toBeDefined();
      expect(c.metadata.finalizers).toEqual(['emulator.meshprobe.dev/never-cleared']);
    }

    const get = await kubectl(emu.kubeconfigPath, ['get', 'namespace', 'stuck-a', '--no-headers']);
    expect(get.stdout).toMatch(/^stuck-a\s+Terminating\s+\d+s\n$/);
    const create = await raw(emu, 'POST', '/api/v1/namespaces/stuck-a/configmaps', {
      body: JSON.stringify({ metadata: { name: 'late' } }),
    });
    expect(create.status).toBe(403);
    expect(create.json().message).toBe(
      'configmaps "late" is forbidden: unable to create new content in namespace stuck-a because it is being terminated',
    );
    // Still there a while later: nothing finishes it.
    await new Promise((r) => setTimeout(r, 300));
    expect(ns('stuck-a')?.status?.phase).toBe('Terminating');
    expect(emu.faults.hits()).toEqual([1]);

    emu.faults.clear();
    await eventually(() => (ns('stuck-a') ? undefined : true), 5000, 'stuck-a gone once the fault is cleared');
    expect(emu.store.list('', 'configmaps', 'stuck-a')).toEqual([]);
  });

  it('touches only the namespaces it names, and only as many as times= allows', async () => {
    emu.faults.set([{ kind: 'namespace-stuck', names: ['only-*'], times: 1 }]);
    for (const name of ['only-1', 'only-2', 'other']) await namespaceWithContent(name);
    for (const name of ['only-1', 'only-2', 'other'])
      expect((await raw(emu, 'DELETE', `/api/v1/namespaces/${name}`)).status).toBe(200);
    await eventually(() => (ns('only-2') || ns('other') ? undefined : true), 5000, 'only-2 and other gone');
    expect(ns('only-1')?.status?.phase).toBe('Terminating');
    expect(emu.faults.hits()).toEqual([1]);
  });
});

describe('namespace-stuck cause=finalizer', () => {
  it("empties the namespace, removes only the controller's own token, and keeps it Terminating", async () => {
    emu.faults.set([{ kind: 'namespace-stuck', names: ['held'], cause: 'finalizer', finalizer: 'example.com/agent' }]);
    await namespaceWithContent('held');
    expect((await raw(emu, 'DELETE', '/api/v1/namespaces/held')).status).toBe(200);
    await eventually(
      () => (ns('held')?.spec?.finalizers?.join() === 'example.com/agent' ? true : undefined),
      5000,
      'kubernetes token removed',
    );
    expect(emu.store.list('', 'configmaps', 'held')).toEqual([]);
    expect(emu.store.list('', 'secrets', 'held')).toEqual([]);
    expect(ns('held')?.status?.phase).toBe('Terminating');
    expect(conditions('held')).toEqual(ALL_CLEAR);
    const json = await kubectl(emu.kubeconfigPath, ['get', 'namespace', 'held', '-o', 'jsonpath={.spec.finalizers}']);
    expect(json.stdout).toBe('["example.com/agent"]');

    emu.faults.clear();
    await eventually(() => (ns('held') ? undefined : true), 5000, 'held gone once the fault is cleared');
  });
});

describe('the namespace-stuck spec', () => {
  it('parses the CLI form and needs names', () => {
    expect(parseFaultSpec('namespace-stuck names=test1,test2 cause=finalizer finalizer=example.com/x')).toEqual({
      kind: 'namespace-stuck',
      names: ['test1', 'test2'],
      cause: 'finalizer',
      finalizer: 'example.com/x',
    });
    expect(() => parseFaultSpec('namespace-stuck')).toThrow('name the namespaces');
    expect(() => parseFaultSpec('namespace-stuck names=a cause=gravity')).toThrow('cause must be content or finalizer');
  });
});
