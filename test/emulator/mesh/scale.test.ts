// Scale: 30 namespaces (60 pods: httpbin and sleep each, two thirds with sidecars) start and serve on one
// machine, and stop() leaves no listening socket, connection or child process behind.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startApiHarness as startHarness } from './api-harness.js';

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

function children(): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !/\bps$/.test(l));
  } catch {
    return [];
  }
}

describe('scale', () => {
  it('30 namespaces / 60 pods start, serve, and stop cleanly', { timeout: 120_000 }, async () => {
    const before = handles();
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    const namespaces = Array.from({ length: 30 }, (_, i) => ({
      ns: `ns${i}`,
      injected: i % 3 !== 2,
      workloads: ['httpbin', 'sleep'] as Array<'httpbin' | 'sleep'>,
    }));
    const h = await startHarness('modern', namespaces);
    const startup = Date.now() - started;
    let served = 0;
    try {
      // Every client calls the next namespace's httpbin; the expected result follows from who has a sidecar.
      const probeStart = Date.now();
      for (let i = 0; i < 30; i++) {
        const to = (i + 1) % 30;
        const out = await h.curl(`ns${i}`, `http://httpbin.ns${to}:8000/headers`);
        expect({ from: i, to, exit: out.exit, http: out.http }).toEqual({ from: i, to, exit: 0, http: '200' });
        expect({ from: i, to, xfcc: out.body.includes('X-Forwarded-Client-Cert') }).toEqual({
          from: i,
          to,
          xfcc: namespaces[i]!.injected && namespaces[to]!.injected,
        });
        served++;
      }
      const probeMs = Date.now() - probeStart;
      const rss = process.memoryUsage().rss;
      console.log(
        `scale: emulator + kubectl apply + 60 pods Ready + one propagation settle in ${startup} ms; 30 probes in ${probeMs} ms; RSS ${(rss / 2 ** 20).toFixed(0)} MiB (+${((rss - rssBefore) / 2 ** 20).toFixed(0)} MiB over the test process before start)`,
      );
    } finally {
      await h.stop();
    }
    expect(served).toBe(30);
    await new Promise((r) => setTimeout(r, 100));
    const after = handles();
    for (const kind of ['TCPServerWrap', 'TCPSocketWrap', 'TLSWrap', 'ProcessWrap', 'PipeWrap'])
      expect({ kind, n: after[kind] ?? 0 }).toEqual({ kind, n: before[kind] ?? 0 });
    expect(children()).toEqual([]);
  });
});
