// A server whose certificate does not name the host meshprobe connects to (newcomer-walkthrough.md §15:
// it said only "TLS verification failed" and pointed at the certificate-authority; kubectl names the real
// cause). The emulated API server's certificate holds localhost, kubernetes... and 127.0.0.1; a kubeconfig
// whose tls-server-name is another name makes Node's own hostname check fail, as it would on a cluster
// reached through an address its certificate lacks.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { createPlainRuntime } from '../emulator/runtime/plain.js';
import { cli } from '../helpers/cli.js';

let emu: Emulator;
let kubeconfig: string;

beforeAll(async () => {
  emu = await startEmulator({ podReadyDelayMs: 20, runtime: createPlainRuntime });
  const config = parse(readFileSync(emu.kubeconfigPath, 'utf8')) as {
    clusters: Array<{ cluster: Record<string, unknown> }>;
  };
  config.clusters[0]!.cluster['tls-server-name'] = 'not-the-apiserver.example';
  kubeconfig = join(dirname(emu.kubeconfigPath), 'wrong-name');
  writeFileSync(kubeconfig, stringify(config));
});
afterAll(() => emu?.stop());

describe('a certificate that does not name the server', () => {
  it('says which name the certificate lacks and which it holds, and how to fix it; exit 3', async () => {
    const r = await cli(['--kubeconfig', kubeconfig, 'probe'], { env: { HOME: dirname(kubeconfig) } });
    expect(r.code).toBe(3);
    const [error, fix] = r.stderr.trimEnd().split('\n').slice(-2);
    expect(error).toBe(
      `meshprobe: error: cannot reach the Kubernetes API at ${emu.server}: its certificate is not valid for the name meshprobe connected to (Host: not-the-apiserver.example. is not in the cert's altnames: DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:127.0.0.1) while trying to read the server version`,
    );
    expect(fix).toBe(
      'meshprobe: fix: use a server address the certificate names in context "meshprobe-emulator", or set the cluster\'s tls-server-name to one of them (kubectl config view --minify shows both)',
    );
  }, 60_000);
});
