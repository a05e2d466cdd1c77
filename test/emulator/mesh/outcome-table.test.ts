// Semantics reference §5: every row of the outcome table, both flavors, with real curl through the mesh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTCOME_TABLE, destinationRule, serverModePolicy } from './outcomes.js';
import { startApiHarness as startHarness } from './api-harness.js';
import type { Harness } from './harness.js';
import type { Flavor } from './policy/types.js';

for (const flavor of ['modern', 'legacy'] as Flavor[]) {
  describe(`outcome table (${flavor})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(flavor, [
        { ns: 'meshed', injected: true, workloads: ['httpbin', 'sleep'] },
        { ns: 'naked', injected: false, workloads: ['httpbin', 'sleep'] },
      ]);
    });
    afterAll(async () => h?.stop());

    for (const r of OUTCOME_TABLE) {
      const e = r.expect[flavor];
      const title = `row ${r.row}${r.modeLevel === 'workload' ? ' (workload-level mode)' : ''}: client ${r.clientSidecar ? 'sidecar' : 'naked'}, server ${r.serverSidecar ? `sidecar ${r.serverMode}` : 'naked'}, DR ${r.clientDr ?? 'n/a'} -> exit ${e.exit}, HTTP ${e.http}${e.xfcc === undefined ? '' : e.xfcc ? ', XFCC' : ', no XFCC'}`;
      it(title, async () => {
        const serverNs = r.serverSidecar ? 'meshed' : 'naked';
        const clientNs = r.clientSidecar ? 'meshed' : 'naked';
        const objects: string[] = [];
        if (r.serverMode) objects.push(serverModePolicy(flavor, serverNs, r.serverMode, r.modeLevel));
        if (r.clientDr && r.clientDr !== 'none')
          objects.push(destinationRule(clientNs, 'httpbin', `httpbin.${serverNs}.svc.cluster.local`, r.clientDr));
        await h.apply(objects);
        try {
          await h.settle();
          const out = await h.curl(clientNs, `http://httpbin.${serverNs}:8000/headers`);
          expect({ exit: out.exit, http: out.http }).toEqual({ exit: e.exit, http: e.http });
          if (e.xfcc !== undefined) expect(out.body.includes('X-Forwarded-Client-Cert')).toBe(e.xfcc);
          if (e.xfcc)
            expect(out.body).toMatch(
              new RegExp(
                `By=spiffe://cluster\\.local/ns/${serverNs}/sa/httpbin;Hash=[0-9a-f]{64};Subject=\\\\"\\\\";URI=spiffe://cluster\\.local/ns/${clientNs}/sa/sleep`,
              ),
            );
          if (e.bodyPrefix) expect(out.body.startsWith(e.bodyPrefix)).toBe(true);
          if (e.exit === 56) expect(out.stderr).toContain('Connection reset by peer');
        } finally {
          await h.remove(objects);
          await h.settle();
        }
      });
    }
  });
}
