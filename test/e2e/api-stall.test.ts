// An API server that accepts the TCP connection and never answers (the emulator's api-stall fault):
// meshprobe gives up with one message naming the server and what it was doing, exit 3, instead of hanging
// (newcomer-walkthrough.md §2: `run` printed nothing for 150 s; kubectl says "TLS handshake timeout").
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { createPlainRuntime } from '../emulator/runtime/plain.js';
import { cli } from '../helpers/cli.js';

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ podReadyDelayMs: 20, runtime: createPlainRuntime });
});
afterEach(() => emu.faults.clear());
afterAll(() => emu?.stop());

const meshprobe = (...args: string[]) =>
  cli(['--kubeconfig', emu.kubeconfigPath, ...args], { env: { HOME: emu.kubeconfigPath.replace(/\/[^/]+$/, '') } });

describe('api-stall phase=tls: no TLS handshake', () => {
  for (const command of [['run', '--scenario', 'baseline'], ['probe']]) {
    it(`${command[0]}: exit 3 after the connect timeout, with defaults`, async () => {
      emu.faults.set([{ kind: 'api-stall', phase: 'tls' }]);
      const r = await meshprobe(...command);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').filter((l) => l.startsWith('meshprobe: error:'))).toEqual([
        `meshprobe: error: the Kubernetes API at ${emu.server} accepted the connection but did not complete the TLS handshake within 10 s while trying to read the server version`,
      ]);
      expect(r.stderr).toContain(
        'meshprobe: fix: check that the cluster is up and that "meshprobe-emulator" points at it (kubectl cluster-info)\n',
      );
    }, 90_000);
  }
});

describe('api-stall phase=request: the request is read and never answered', () => {
  it('run: exit 3 at the default --request-timeout (30 s)', async () => {
    emu.faults.set([{ kind: 'api-stall', phase: 'request' }]);
    const r = await meshprobe('run', '--scenario', 'baseline');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `meshprobe: error: the Kubernetes API at ${emu.server} did not answer within 30 s (--request-timeout) while trying to read the server version\n`,
    );
    expect(r.stderr).toContain('a slow API server may need a longer --request-timeout');
  }, 90_000);

  it('every call is bounded, not only the first: setup stops when listing pods stalls', async () => {
    emu.faults.set([{ kind: 'api-stall', phase: 'request', verbs: ['list'], resources: ['pods'] }]);
    const r = await meshprobe('--request-timeout', '2s', 'setup');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /meshprobe: error: the Kubernetes API at \S+ did not answer within 2 s \(--request-timeout\) while trying to list Pod in test\d\n/,
    );
    expect(emu.faults.hits()[0]).toBeGreaterThan(0);
  }, 90_000);
});

describe('--request-timeout', () => {
  it('takes what kubectl takes: seconds, or a duration with its unit', async () => {
    for (const bad of ['abc', '-1s', '1d', '10 s']) {
      const r = await cli(['--request-timeout', bad, 'predict', '--scenario', 'baseline']);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`--request-timeout must be a whole number of seconds or a duration with its unit`);
    }
    for (const good of ['0', '45', '1m30s', '500ms']) {
      const r = await cli(['--request-timeout', good, 'predict', '--scenario', 'baseline']);
      expect(r.code, `${good}: ${r.stderr}`).toBe(0);
    }
  });
});
