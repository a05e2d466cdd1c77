// kubectl's typed commands send protobuf (the "k8s\0" envelope around the object's generated.proto message)
// and prefer it back. The real kubectl drives these; raw requests check the negotiation itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/pki/certificate.js';
import { decodeObject, encodeObject, PROTOBUF } from './api/protobuf/codec.js';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { kubectl } from './testing.js';

type Any = Record<string, any>;

let emu: Emulator;
let dir: string;
let viewer: string;

const run = (args: string[], kubeconfig = emu.kubeconfigPath) => kubectl(kubeconfig, args);

/** One request with a binary body; the response body as bytes. */
function send(
  method: string,
  path: string,
  body: Uint8Array | undefined,
  headers: Record<string, string>,
): Promise<{ status: number; contentType: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${emu.server}${path}`,
      { method, headers: { Authorization: `Bearer ${emu.token}`, ...headers }, ca: emu.caPem },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  emu = await startEmulator({
    istio: 'none',
    podReadyDelayMs: 20,
    runtime: createPlainRuntime,
    users: [{ name: 'viewer', token: 'viewer-token', rules: [{ verbs: ['get', 'list'], resources: ['pods'] }] }],
  });
  dir = mkdtempSync(join(tmpdir(), 'meshprobe-protobuf-'));
  viewer = join(dir, 'viewer.kubeconfig');
  await emu.writeKubeconfig(viewer, { user: 'viewer' });
});

afterAll(async () => {
  await emu?.stop();
});

describe('kubectl typed commands (protobuf bodies)', () => {
  it('create namespace, then label and annotate it; a second create is AlreadyExists', async () => {
    expect(await run(['create', 'namespace', 'ngtest'])).toMatchObject({
      code: 0,
      stdout: 'namespace/ngtest created\n',
    });
    expect(emu.store.get('', 'namespaces', undefined, 'ngtest')).toMatchObject({
      metadata: { labels: { 'kubernetes.io/metadata.name': 'ngtest' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    expect((await run(['label', 'namespace', 'ngtest', 'istio-injection=enabled'])).stdout).toBe(
      'namespace/ngtest labeled\n',
    );
    expect((await run(['annotate', 'namespace', 'ngtest', 'owner=team-a'])).stdout).toBe(
      'namespace/ngtest annotated\n',
    );
    const ns = emu.store.get('', 'namespaces', undefined, 'ngtest')!;
    expect(ns.metadata.labels?.['istio-injection']).toBe('enabled');
    expect(ns.metadata.annotations?.owner).toBe('team-a');
    // The error comes back as a protobuf Status, which kubectl prints as from any server.
    const again = await run(['create', 'namespace', 'ngtest']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('Error from server (AlreadyExists): namespaces "ngtest" already exists\n');
  });

  it('create secret tls and generic: the bytes arrive as sent', async () => {
    const cert = issueCertificate({
      subject: { commonName: 'my-nginx.ngtest.svc', organization: 'meshprobe' },
      role: 'leaf',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3600_000),
    });
    writeFileSync(join(dir, 'tls.crt'), cert.certPem);
    writeFileSync(join(dir, 'tls.key'), cert.keyPem);
    const tls = await run([
      'create',
      'secret',
      'tls',
      'nginxsecret',
      '-n',
      'ngtest',
      '--cert',
      join(dir, 'tls.crt'),
      '--key',
      join(dir, 'tls.key'),
    ]);
    expect(tls).toMatchObject({ code: 0, stdout: 'secret/nginxsecret created\n' });
    const secret = emu.store.get('', 'secrets', 'ngtest', 'nginxsecret') as Any;
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Buffer.from(secret.data['tls.crt'], 'base64').toString()).toBe(cert.certPem);
    expect(Buffer.from(secret.data['tls.key'], 'base64').toString()).toBe(cert.keyPem);

    writeFileSync(join(dir, 'blob'), Buffer.from([0, 1, 2, 253, 254, 255]));
    const generic = await run([
      'create',
      'secret',
      'generic',
      'mixed',
      '-n',
      'ngtest',
      '--from-literal=user=admin',
      `--from-file=blob=${join(dir, 'blob')}`,
    ]);
    expect(generic).toMatchObject({ code: 0, stdout: 'secret/mixed created\n' });
    const mixed = emu.store.get('', 'secrets', 'ngtest', 'mixed') as Any;
    expect(mixed.type).toBe('Opaque');
    expect(mixed.data).toEqual({ user: Buffer.from('admin').toString('base64'), blob: 'AAEC/f7/' });
  });

  it('create configmap --from-file and serviceaccount', async () => {
    const conf = 'server {\n    listen 443 ssl;\n    server_name localhost;\n}\n';
    writeFileSync(join(dir, 'default.conf'), conf);
    const cm = await run([
      'create',
      'configmap',
      'nginxconfigmap',
      '-n',
      'ngtest',
      `--from-file=${join(dir, 'default.conf')}`,
    ]);
    expect(cm).toMatchObject({ code: 0, stdout: 'configmap/nginxconfigmap created\n' });
    expect((emu.store.get('', 'configmaps', 'ngtest', 'nginxconfigmap') as Any).data).toEqual({ 'default.conf': conf });
    const sa = await run(['create', 'serviceaccount', 'builder', '-n', 'ngtest']);
    expect(sa).toMatchObject({ code: 0, stdout: 'serviceaccount/builder created\n' });
    expect(emu.store.get('', 'serviceaccounts', 'ngtest', 'builder')).toMatchObject({
      kind: 'ServiceAccount',
      metadata: { name: 'builder', namespace: 'ngtest' },
    });
  });

  it('--dry-run=server -o json prints the object the protobuf answer carried', async () => {
    const r = await run([
      'create',
      'configmap',
      'preview',
      '-n',
      'ngtest',
      '--from-literal=a=b',
      '--dry-run=server',
      '-o',
      'json',
    ]);
    expect(r.code).toBe(0);
    const obj = JSON.parse(r.stdout) as Any;
    expect(obj).toMatchObject({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'preview', namespace: 'ngtest' },
      data: { a: 'b' },
    });
    expect(obj.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(emu.store.get('', 'configmaps', 'ngtest', 'preview')).toBeUndefined();
  });

  it('auth can-i (SelfSubjectAccessReview) and auth whoami (SelfSubjectReview)', async () => {
    expect(await run(['auth', 'can-i', 'delete', 'namespaces'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await run(['auth', 'can-i', 'list', 'pods', '-n', 'ngtest'], viewer)).toMatchObject({
      code: 0,
      stdout: 'yes\n',
    });
    expect(await run(['auth', 'can-i', 'create', 'secrets', '-n', 'ngtest'], viewer)).toMatchObject({
      code: 1,
      stdout: 'no\n',
    });
    const whoami = await run(['auth', 'whoami'], viewer);
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toMatch(/^ATTRIBUTE\s+VALUE\nUsername\s+viewer\nGroups\s+\[system:authenticated\]\n$/);
  });
});

describe('negotiation', () => {
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'raw-pb', labels: { team: 'a' } } };

  it('answers a protobuf-preferring create in protobuf, and a JSON-only one in JSON', async () => {
    const created = await send('POST', '/api/v1/namespaces?fieldManager=raw-test', encodeObject(namespace), {
      'Content-Type': PROTOBUF,
      Accept: `${PROTOBUF},application/json`,
    });
    expect(created.status).toBe(201);
    expect(created.contentType).toBe(PROTOBUF);
    const obj = decodeObject(created.body) as Any;
    expect(obj).toMatchObject({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'raw-pb', labels: { team: 'a' } },
    });
    expect(obj.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(obj.metadata.managedFields[0]).toMatchObject({ manager: 'raw-test', operation: 'Update' });
    expect(obj.metadata.managedFields[0].fieldsV1).toMatchObject({ 'f:metadata': expect.any(Object) });
    const json = await send('GET', '/api/v1/namespaces/raw-pb', undefined, { Accept: 'application/json' });
    expect(json.contentType).toBe('application/json');
    expect(JSON.parse(json.body.toString())).toEqual(obj);
  });

  it('answers a list, which has no message here, in JSON (the Accept allows it)', async () => {
    const list = await send('GET', '/api/v1/namespaces', undefined, { Accept: `${PROTOBUF},application/json` });
    expect(list.status).toBe(200);
    expect(list.contentType).toBe('application/json');
  });

  it('refuses a protobuf body it cannot read: 400 for garbage, 415 for a kind without a message here', async () => {
    const garbage = await send('POST', '/api/v1/namespaces', Buffer.from('k8s\u0000\u00ff\u00ff'), {
      'Content-Type': PROTOBUF,
      Accept: 'application/json',
    });
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body.toString())).toMatchObject({ reason: 'BadRequest' });
    const pod = Buffer.concat([
      Buffer.from('k8s\u0000'),
      // Unknown{typeMeta{apiVersion v1, kind Pod}, raw, contentEncoding, contentType}
      Buffer.from([
        0x0a, 0x09, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x03, 0x50, 0x6f, 0x64, 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00,
      ]),
    ]);
    const refused = await send('POST', '/api/v1/namespaces/ngtest/pods', pod, {
      'Content-Type': PROTOBUF,
      Accept: 'application/json',
    });
    expect(refused.status).toBe(415);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ reason: 'UnsupportedMediaType' });
  });
});

describe('the codec', () => {
  it('keeps the zero value of a Go pointer field and drops the others, as the JSON form does', () => {
    const sa = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'x', namespace: '', generation: 0, deletionGracePeriodSeconds: 0 },
      automountServiceAccountToken: false,
    };
    expect(decodeObject(encodeObject(sa)!)).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'x', deletionGracePeriodSeconds: 0 },
      automountServiceAccountToken: false,
    });
  });

  it('carries negative int32s, nested messages and string maps; a field the message lacks means JSON', () => {
    const status = {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      message: 'm',
      details: { causes: [{ reason: 'FieldValueInvalid', field: 'spec' }], retryAfterSeconds: 2 },
      code: -1,
    };
    expect(decodeObject(encodeObject(status)!)).toEqual(status);
    expect(encodeObject({ ...status, extra: 1 })).toBeUndefined();
    expect(encodeObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })).toBeUndefined();
  });

  it('skips fields it does not know, as every protobuf reader does', () => {
    // ConfigMap{metadata{name: c}, field 99: varint 7}, in an envelope built by hand.
    const inner = Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x63, 0x98, 0x06, 0x07]);
    const typeMeta = Buffer.from([0x0a, 0x02, 0x76, 0x31, 0x12, 0x09, ...Buffer.from('ConfigMap')]);
    const envelope = Buffer.concat([
      Buffer.from('k8s\u0000'),
      Buffer.from([0x0a, typeMeta.length]),
      typeMeta,
      Buffer.from([0x12, inner.length]),
      inner,
    ]);
    expect(decodeObject(envelope)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
  });
});
