// /openapi/v2, which kubectl fetches to validate a kind OpenAPI v3 does not describe: with it served,
// `kubectl apply` of a file holding a kind whose CRD is missing reports that kind as a real server does and
// still applies the rest (newcomer walkthrough: the article's MeshPolicy on a modern Istio).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { kubectl, raw } from './testing.js';

let emu: Emulator;
let file: string;

beforeAll(async () => {
  emu = await startEmulator({ istio: 'modern', podReadyDelayMs: 20, runtime: createPlainRuntime });
  file = join(mkdtempSync(join(tmpdir(), 'meshprobe-openapi-')), 'meshpolicy.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: authentication.istio.io/v1alpha1',
      'kind: MeshPolicy',
      'metadata:',
      '  name: default',
      'spec:',
      '  peers:',
      '  - mtls: {}',
      '---',
      'apiVersion: networking.istio.io/v1alpha3',
      'kind: DestinationRule',
      'metadata:',
      '  name: default',
      '  namespace: istio-system',
      'spec:',
      '  host: "*.local"',
      '  trafficPolicy:',
      '    tls:',
      '      mode: ISTIO_MUTUAL',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await emu?.stop();
});

describe('kubectl apply -f with a kind the cluster does not serve', () => {
  it('applies the rest and names the missing kind, with exit code 1', async () => {
    const r = await kubectl(emu.kubeconfigPath, ['apply', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('destinationrule.networking.istio.io/default created\n');
    expect(r.stderr).toBe(
      `error: resource mapping not found for name: "default" namespace: "" from "${file}": no matches for kind "MeshPolicy" in version "authentication.istio.io/v1alpha1"\nensure CRDs are installed first\n`,
    );
    expect(emu.store.get('networking.istio.io', 'destinationrules', 'istio-system', 'default')).toBeDefined();
  });
});

describe('/openapi/v2', () => {
  it("answers client-go's protobuf Accept with the content type kube-openapi uses, and JSON otherwise", async () => {
    const pb = await raw(emu, 'GET', '/openapi/v2', {
      headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' },
    });
    expect(pb.status).toBe(200);
    expect(pb.headers['content-type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    // Document{swagger "2.0", info{title "Kubernetes", version "v1.32.4"}, paths{}}
    expect(pb.body).toBe('\n\u00032.0\u0012\u0015\n\nKubernetes\u0012\u0007v1.32.4B\u0000');
    const json = await raw(emu, 'GET', '/openapi/v2');
    expect(json.headers['content-type']).toBe('application/json');
    expect(json.json()).toMatchObject({ swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.4' } });
  });
});
