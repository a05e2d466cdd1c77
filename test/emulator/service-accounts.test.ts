// ServiceAccount token Secrets are filled in by the tokens controller, their tokens authenticate as the
// account while Secret and account exist, and what the account may do is what the RBAC objects in the
// store grant it: driven with the real kubectl, as an admin and with the token.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';

let emu: Emulator;
const dir = mkdtempSync(join(tmpdir(), 'meshprobe-sa-'));

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('kubectl', args, {
      env: { PATH: process.env.PATH, HOME: dir },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    if (input !== undefined) child.stdin!.end(input);
  });
}
const admin = (args: string[], input?: string) => kubectl(['--kubeconfig', emu.kubeconfigPath, ...args], input);
const asToken = (token: string, args: string[]) =>
  kubectl(['--server', emu.server, '--certificate-authority', join(dir, 'ca.crt'), '--token', token, ...args]);

async function tokenOf(namespace: string, secret: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const r = await admin(['-n', namespace, 'get', 'secret', secret, '-o', 'jsonpath={.data.token}']);
    if (r.code === 0 && r.stdout) return Buffer.from(r.stdout, 'base64').toString('utf8');
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`secret ${namespace}/${secret} got no token`);
}

const ACCOUNT = `
apiVersion: v1
kind: Namespace
metadata: { name: team }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: bot, namespace: team }
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: bot-token
  namespace: team
  annotations: { kubernetes.io/service-account.name: bot }
`;

beforeAll(async () => {
  emu = await startEmulator({ istio: 'none' });
  writeFileSync(join(dir, 'ca.crt'), emu.caPem);
  expect((await admin(['apply', '-f', '-'], ACCOUNT)).code).toBe(0);
});
afterAll(async () => {
  await emu?.stop();
});

describe('ServiceAccount tokens and RBAC from the store', () => {
  it('the tokens controller fills in token, ca.crt and namespace, and annotates the account UID', async () => {
    const token = await tokenOf('team', 'bot-token');
    const [, payload] = token.split('.');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))).toMatchObject({
      iss: 'kubernetes/serviceaccount',
      sub: 'system:serviceaccount:team:bot',
      'kubernetes.io/serviceaccount/secret.name': 'bot-token',
    });
    const secret = JSON.parse((await admin(['-n', 'team', 'get', 'secret', 'bot-token', '-o', 'json'])).stdout);
    expect(Buffer.from(secret.data['ca.crt'], 'base64').toString('utf8')).toBe(emu.caPem);
    expect(Buffer.from(secret.data.namespace, 'base64').toString('utf8')).toBe('team');
    const sa = JSON.parse((await admin(['-n', 'team', 'get', 'serviceaccount', 'bot', '-o', 'json'])).stdout);
    expect(secret.metadata.annotations['kubernetes.io/service-account.uid']).toBe(sa.metadata.uid);
  });

  it('the token is the account: nothing allowed without a binding, a RoleBinding in its namespace only, a ClusterRoleBinding everywhere', async () => {
    const token = await tokenOf('team', 'bot-token');
    const denied = await asToken(token, ['-n', 'team', 'get', 'configmaps']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'User "system:serviceaccount:team:bot" cannot list resource "configmaps" in API group "" in the namespace "team"',
    );
    const roles = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: read-configmaps }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [get, list] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: bot-reads, namespace: team }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: read-configmaps }
subjects: [{ kind: ServiceAccount, name: bot, namespace: team }]
`;
    expect((await admin(['apply', '-f', '-'], roles)).code).toBe(0);
    expect((await asToken(token, ['-n', 'team', 'get', 'configmaps', '-o', 'name'])).stdout).toContain(
      'configmap/kube-root-ca.crt',
    );
    expect((await asToken(token, ['-n', 'default', 'get', 'configmaps'])).code).toBe(1);
    const everywhere = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: bot-reads-all }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: read-configmaps }
subjects: [{ kind: Group, name: "system:serviceaccounts:team" }]
`;
    expect((await admin(['apply', '-f', '-'], everywhere)).code).toBe(0);
    expect((await asToken(token, ['-n', 'default', 'get', 'configmaps'])).code).toBe(0);
  });

  it('a forged token, or one whose Secret is gone, is 401; a token Secret for a missing account is deleted', async () => {
    const token = await tokenOf('team', 'bot-token');
    const [h, p] = token.split('.');
    const forged = await asToken(`${h}.${p}.AAAA`, ['-n', 'team', 'get', 'configmaps']);
    expect(forged.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
    expect((await admin(['-n', 'team', 'delete', 'secret', 'bot-token'])).code).toBe(0);
    const gone = await asToken(token, ['-n', 'team', 'get', 'configmaps']);
    expect(gone.stderr).toContain('Unauthorized');
    const orphan = `
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: nobody-token
  namespace: team
  annotations: { kubernetes.io/service-account.name: nobody }
`;
    expect((await admin(['apply', '-f', '-'], orphan)).code).toBe(0);
    let left = 0;
    for (let i = 0; i < 50; i++) {
      left = (await admin(['-n', 'team', 'get', 'secret', 'nobody-token'])).code;
      if (left !== 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(left).toBe(1);
  });
});
