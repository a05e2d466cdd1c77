// An API server that accepts the TCP connection and then never answers (the api-stall fault): before the
// TLS handshake, or after the request. What the real kubectl makes of it is what a user sees.
import { request } from 'node:https';
import { connect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseFaultSpec } from './api/faults.js';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { kubectl } from './testing.js';

let emu: Emulator;

/** Connects; reports whether TCP connected and whether the TLS handshake finished within `waitMs`. */
function handshake(waitMs: number): Promise<{ tcp: boolean; tls: boolean }> {
  return new Promise((resolve) => {
    let tcp = false;
    const socket = connect({ host: '127.0.0.1', port: emu.port, ca: emu.caPem, servername: 'localhost' });
    socket.once('connect', () => (tcp = true));
    const done = (tls: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ tcp, tls });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** One GET; resolves with its status, or 'no answer' if nothing came within `waitMs`. */
function get(path: string, waitMs: number): Promise<number | 'no answer'> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${emu.server}${path}`,
      { headers: { Authorization: `Bearer ${emu.token}` }, ca: emu.caPem, agent: false },
      (res) => {
        clearTimeout(timer);
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve('no answer');
    }, waitMs);
    req.on('error', (e) => (String(e).includes('socket hang up') ? undefined : reject(e)));
    req.end();
  });
}

beforeAll(async () => {
  emu = await startEmulator({ istio: 'none', podReadyDelayMs: 20, runtime: createPlainRuntime });
});

afterEach(() => emu.faults.clear());

afterAll(async () => {
  await emu?.stop();
});

describe('api-stall phase=tls (the default)', () => {
  it('accepts TCP and never completes the handshake; times=1 holds only the first connection', async () => {
    emu.faults.set([{ kind: 'api-stall', times: 1 }]);
    expect(await handshake(1000)).toEqual({ tcp: true, tls: false });
    expect(await handshake(5000)).toEqual({ tcp: true, tls: true });
    expect(emu.faults.hits()).toEqual([1]);
  });

  it('makes kubectl give up with "TLS handshake timeout" (client-go waits 10 s), and serves again once cleared', async () => {
    emu.faults.set([{ kind: 'api-stall', phase: 'tls' }]);
    const started = Date.now();
    const r = await kubectl(emu.kubeconfigPath, ['get', '--raw', '/version'], { timeoutMs: 60_000 });
    const elapsed = Date.now() - started;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Unable to connect to the server: net/http: TLS handshake timeout\n');
    expect(elapsed).toBeGreaterThanOrEqual(10_000);
    emu.faults.clear();
    const after = await kubectl(emu.kubeconfigPath, ['get', '--raw', '/version']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ gitVersion: 'v1.32.4' });
  }, 60_000);
});

describe('api-stall phase=request', () => {
  it('completes the handshake, reads the request and never answers the ones it matches', async () => {
    emu.faults.set([{ kind: 'api-stall', phase: 'request', resources: ['namespaces'] }]);
    expect(await handshake(5000)).toEqual({ tcp: true, tls: true });
    expect(await get('/api/v1/namespaces', 1000)).toBe('no answer');
    expect(await get('/api/v1/namespaces/default/pods', 5000)).toBe(200);
    expect(emu.faults.hits()).toEqual([1]);
  });

  it('makes kubectl fail at its --request-timeout, while other resources answer', async () => {
    emu.faults.set([{ kind: 'api-stall', phase: 'request', resources: ['namespaces'] }]);
    const r = await kubectl(emu.kubeconfigPath, ['get', 'namespaces', '--request-timeout=2s']);
    expect(r.code).toBe(1);
    // kubectl's request context and its http.Client share the timeout; whichever fires first names it
    // (net/http's client.go wraps the context's error with the Client.Timeout note when both have passed).
    // (A loaded machine can add client-go's discovery complaints before it.)
    expect(r.stderr.trim().split('\n').at(-1), r.stderr).toMatch(
      /^Unable to connect to the server: (context deadline exceeded( \(Client\.Timeout exceeded while awaiting headers\))?|net\/http: request canceled \(Client\.Timeout exceeded while awaiting headers\))$/,
    );
    const pods = await kubectl(emu.kubeconfigPath, ['get', 'pods', '--request-timeout=20s']);
    expect(pods.code, pods.stderr).toBe(0);
  });

  it('holds an exec upgrade too: no 101, no refusal', async () => {
    emu.faults.set([{ kind: 'api-stall', phase: 'request', resources: ['pods/exec'] }]);
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(
        `wss://127.0.0.1:${emu.port}/api/v1/namespaces/default/pods/none/exec?command=true&stdout=true`,
        ['v5.channel.k8s.io'],
        { ca: emu.caPem, headers: { Authorization: `Bearer ${emu.token}` } },
      );
      const timer = setTimeout(() => {
        ws.terminate();
        resolve('no answer');
      }, 1000);
      const answered = (what: string) => () => {
        clearTimeout(timer);
        resolve(what);
      };
      ws.on('open', answered('open'));
      ws.on('unexpected-response', answered('refused'));
      ws.on('error', () => undefined);
    });
    expect(outcome).toBe('no answer');
  });
});

describe('the api-stall spec', () => {
  it('parses the CLI form; phase tls takes no request filters', () => {
    expect(parseFaultSpec('api-stall')).toEqual({ kind: 'api-stall' });
    expect(parseFaultSpec('api-stall phase=request verbs=get resources=pods times=3')).toEqual({
      kind: 'api-stall',
      phase: 'request',
      verbs: ['get'],
      resources: ['pods'],
      times: 3,
    });
    expect(() => parseFaultSpec('api-stall verbs=get')).toThrow('need phase=request');
    expect(() => parseFaultSpec('api-stall phase=dns')).toThrow('phase must be tls or request');
  });
});
