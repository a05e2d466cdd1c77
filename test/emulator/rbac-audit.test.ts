// Authentication (401), RBAC-style users (403 and SelfSubjectAccessReview), and the audit log.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizationV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';
// These tests are about the API server; the plain runtime keeps exec results free of mesh behaviour.
import { createPlainRuntime } from './runtime/plain.js';
import { kubectl, raw } from './testing.js';

let emu: Emulator;
let dir: string;

const UNAUTHORIZED = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshprobe-rbac-'));
  emu = await startEmulator({
    runtime: createPlainRuntime,
    istio: 'none',
    podReadyDelayMs: 20,
    auditFile: join(dir, 'audit.jsonl'),
    users: [
      {
        name: 'alice',
        token: 'alice-token',
        rules: [
          { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'namespaces'] },
          { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'], namespaces: ['team'] },
          {
            verbs: ['create', 'patch', 'delete'],
            apiGroups: ['security.istio.io'],
            resources: ['peerauthentications'],
            namespaces: ['team'],
          },
        ],
      },
      { name: 'nobody', token: 'nobody-token', rules: [] },
    ],
  });
  const objects = KubernetesObjectApi.makeApiClient(loadAs());
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
});

afterAll(async () => {
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function loadAs(user?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfig(user ? { user } : {}));
  return kc;
}

describe('authentication', () => {
  it('answers 401 without a token and with a wrong one; /version stays public', async () => {
    for (const token of [null, 'wrong']) {
      const r = await raw(emu, 'GET', '/api/v1/namespaces', { token });
      expect(r.status).toBe(401);
      expect(r.json()).toEqual(UNAUTHORIZED);
    }
    expect((await raw(emu, 'GET', '/version', { token: 'wrong' })).status).toBe(401);
    const version = await raw(emu, 'GET', '/version', { token: null });
    expect(version.status).toBe(200);
    expect(version.json()).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.4' });
  });

  it('makes kubectl say what a real cluster says for a bad token', async () => {
    const kubeconfig = join(dir, 'bad.yaml');
    await emu.writeKubeconfig(kubeconfig);
    const text = readFileSync(kubeconfig, 'utf8').replace(emu.token, 'not-the-token');
    const bad = join(dir, 'bad2.yaml');
    writeFileSync(bad, text);
    const r = await kubectl(bad, ['get', 'pods', '--request-timeout=5s']);
    expect(r.code).toBe(1);
    // client-go words a 401 on discovery this way (not with the Status message).
    expect(r.stderr).toContain(
      'error: You must be logged in to the server (the server has asked for the client to provide credentials)',
    );
  });
});

describe('RBAC users', () => {
  it('allows what the rules grant and forbids the rest with the exact 403 Status', async () => {
    const alice = join(dir, 'alice.yaml');
    await emu.writeKubeconfig(alice, { user: 'alice', namespace: 'team' });
    expect(readFileSync(alice, 'utf8')).toContain('token: alice-token');
    expect((await kubectl(alice, ['get', 'pods'])).stderr).toBe('No resources found in team namespace.\n');
    const denied = await kubectl(alice, ['get', 'services']);
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim()).toBe(
      'Error from server (Forbidden): services is forbidden: User "alice" cannot list resource "services" in API group "" in the namespace "team"',
    );
    const cm = await raw(emu, 'GET', '/api/v1/namespaces/team/configmaps/kube-root-ca.crt', { token: 'alice-token' });
    expect(cm.status).toBe(403);
    expect(cm.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message:
        'configmaps "kube-root-ca.crt" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "team"',
      details: { name: 'kube-root-ca.crt', kind: 'configmaps' },
    });
    const crossNamespace = await raw(emu, 'POST', '/apis/security.istio.io/v1/namespaces/default/peerauthentications', {
      token: 'alice-token',
      body: JSON.stringify({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'x' } }),
    });
    expect(crossNamespace.json()).toMatchObject({
      code: 403,
      message:
        'peerauthentications.security.istio.io is forbidden: User "alice" cannot create resource "peerauthentications" in API group "security.istio.io" in the namespace "default"',
      details: { group: 'security.istio.io', kind: 'peerauthentications' },
    });
    const clusterScope = await raw(emu, 'DELETE', '/api/v1/namespaces/team', { token: 'alice-token' });
    // The API server's RequestInfo puts a namespace's own name in the namespace attribute too.
    expect(clusterScope.json().message).toBe(
      'namespaces "team" is forbidden: User "alice" cannot delete resource "namespaces" in API group "" in the namespace "team"',
    );
    const allNamespaces = await raw(emu, 'GET', '/api/v1/services', { token: 'alice-token' });
    expect(allNamespaces.json().message).toBe(
      'services is forbidden: User "alice" cannot list resource "services" in API group "" at the cluster scope',
    );
    const objects = KubernetesObjectApi.makeApiClient(loadAs('alice'));
    const pa = await objects
      .patch(
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'PeerAuthentication',
          metadata: { name: 'default', namespace: 'team' },
          spec: { mtls: { mode: 'STRICT' } },
        } as KubernetesObject,
        undefined,
        undefined,
        'meshprobe',
        true,
        PatchStrategy.ServerSideApply,
      )
      .catch((e: unknown) => e);
    // No Istio here: the group is not served at all.
    expect(String((pa as Error).message)).toContain('404');
  });

  it('refuses exec without pods/exec create, before any upgrade', async () => {
    const r = await raw(emu, 'GET', '/api/v1/namespaces/default/pods/x/exec?command=true&stdout=true', {
      token: 'alice-token',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
      },
    });
    expect(r.status).toBe(403);
    expect(r.json().message).toBe(
      'pods "x" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "default"',
    );
  });

  it('evaluates SelfSubjectAccessReviews with the same rules (admin: everything)', async () => {
    const review = async (
      user: string | undefined,
      attributes: Record<string, string>,
    ): Promise<boolean | undefined> => {
      const api = loadAs(user).makeApiClient(AuthorizationV1Api);
      const r = await api.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: attributes },
        },
      });
      return r.status?.allowed;
    };
    expect(await review(undefined, { verb: 'delete', resource: 'namespaces' })).toBe(true);
    expect(await review('alice', { verb: 'list', resource: 'pods', namespace: 'team' })).toBe(true);
    expect(await review('alice', { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'team' })).toBe(
      true,
    );
    expect(await review('alice', { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'default' })).toBe(
      false,
    );
    expect(
      await review('alice', {
        verb: 'patch',
        group: 'security.istio.io',
        resource: 'peerauthentications',
        namespace: 'team',
      }),
    ).toBe(true);
    expect(
      await review('alice', {
        verb: 'patch',
        group: 'networking.istio.io',
        resource: 'destinationrules',
        namespace: 'team',
      }),
    ).toBe(false);
    expect(await review('nobody', { verb: 'get', resource: 'pods', namespace: 'team' })).toBe(false);
  });
});

describe('audit log', () => {
  it('records every write with verb, user, resource, namespace, name and code, and nothing for reads', async () => {
    emu.audit.clear();
    const objects = KubernetesObjectApi.makeApiClient(loadAs());
    await objects.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'team' },
    } as KubernetesObject);
    await objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'team' } });
    await objects.patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'a', namespace: 'team' },
        data: { x: 'y' },
      } as KubernetesObject,
      undefined,
      undefined,
      'meshprobe',
      true,
      PatchStrategy.ServerSideApply,
    );
    await objects.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'team' } });
    await raw(emu, 'POST', '/api/v1/namespaces/team/configmaps', {
      token: 'nobody-token',
      body: JSON.stringify({ metadata: { name: 'b' } }),
    });
    await raw(emu, 'POST', '/api/v1/namespaces/team/configmaps?dryRun=All', {
      body: JSON.stringify({ metadata: { name: 'c' } }),
    });
    const entries = emu.audit.entries().map(({ verb, user, apiGroup, resource, namespace, name, code, dryRun }) => ({
      verb,
      user,
      apiGroup,
      resource,
      namespace,
      name,
      code,
      ...(dryRun ? { dryRun } : {}),
    }));
    expect(entries).toEqual([
      {
        verb: 'create',
        user: 'kubernetes-admin',
        apiGroup: '',
        resource: 'configmaps',
        namespace: 'team',
        name: 'a',
        code: 201,
      },
      {
        verb: 'patch',
        user: 'kubernetes-admin',
        apiGroup: '',
        resource: 'configmaps',
        namespace: 'team',
        name: 'a',
        code: 200,
      },
      {
        verb: 'delete',
        user: 'kubernetes-admin',
        apiGroup: '',
        resource: 'configmaps',
        namespace: 'team',
        name: 'a',
        code: 200,
      },
      {
        verb: 'create',
        user: 'nobody',
        apiGroup: '',
        resource: 'configmaps',
        namespace: 'team',
        name: undefined,
        code: 403,
      },
      {
        verb: 'create',
        user: 'kubernetes-admin',
        apiGroup: '',
        resource: 'configmaps',
        namespace: 'team',
        name: 'c',
        code: 201,
        dryRun: true,
      },
    ]);
    await loadAs('nobody')
      .makeApiClient(AuthorizationV1Api)
      .createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
        },
      });
    expect(emu.audit.entries().at(-1)).toMatchObject({
      verb: 'create',
      user: 'nobody',
      apiGroup: 'authorization.k8s.io',
      resource: 'selfsubjectaccessreviews',
      code: 201,
    });
    expect(emu.audit.writes().map((e) => e.verb)).toEqual(['create', 'patch', 'delete']);
    expect(emu.store.get('', 'configmaps', 'team', 'c')).toBeUndefined();
    const file = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name?: string; time: string });
    expect(file.slice(-6, -1).map((e) => e.name)).toEqual(['a', 'a', 'a', undefined, 'c']);
    expect(file.at(-1)?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
