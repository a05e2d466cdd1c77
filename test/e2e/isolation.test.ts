// --isolation namespaced on a shared cluster: the same observed matrices as the cluster-wide run of the
// article's scenarios, and not one write outside the topology's namespaces (the audit log says so).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

const WIDE = [
  'mesh-strict-dr-mutual',
  'mesh-strict-dr-disable-test3',
  'permissive-httpbin-test1',
  'https-nginx-mesh-mtls',
  'https-nginx-mesh-mtls-dr-disable',
  'mesh-strict-no-dr',
].flatMap((s) => ['--scenario', s]);
const TOPOLOGY = new Set(['test1', 'test2', 'test3', 'ngtest']);

describe.runIf(!REAL_KUBECONFIG).each(['modern', 'legacy'] as const)(
  '--isolation namespaced (%s, emulated cluster)',
  (flavor) => {
    let cluster: TestCluster;
    let wide: ReportDocument;
    let isolated: ReportDocument;
    let isolatedWrites: ReturnType<NonNullable<TestCluster['emulator']>['audit']['entries']>;

    beforeAll(async () => {
      cluster = await testCluster(flavor);
      const run = async (...flags: string[]) => {
        const r = await cli(
          ['--kubeconfig', cluster.kubeconfig, '-q', 'run', ...WIDE, ...flags, '-o', 'json', '--settle', '4'],
          { env: { HOME: cluster.emulator!.kubeconfigPath.replace(/\/[^/]+$/, '') } },
        );
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as ReportDocument;
      };
      wide = await run('--allow-cluster-wide');
      const start = cluster.emulator!.audit.entries().length;
      isolated = await run('--isolation', 'namespaced');
      isolatedWrites = cluster
        .emulator!.audit.entries()
        .slice(start)
        .filter((e) => e.code >= 200 && e.code < 300);
    }, 600_000);
    afterAll(() => cluster?.stop());

    it('observes the same matrix for every scenario as the cluster-wide run', () => {
      for (const s of wide.scenarios) {
        const other = isolated.scenarios.find((x) => x.name === s.name)!;
        expect(
          other.cells.map((c) => `${c.from} -> ${c.to}: ${c.observed!.outcome}`),
          s.name,
        ).toEqual(s.cells.map((c) => `${c.from} -> ${c.to}: ${c.observed!.outcome}`));
        expect(other.verdict).toBe('pass');
      }
    });

    it("writes nothing outside the topology's namespaces", () => {
      expect(isolatedWrites.length).toBeGreaterThan(50);
      const outside = isolatedWrites.filter(
        (e) =>
          e.resource !== 'selfsubjectaccessreviews' &&
          !(e.namespace ? TOPOLOGY.has(e.namespace) : e.resource === 'namespaces' && TOPOLOGY.has(e.name ?? '')),
      );
      expect(outside.map((e) => `${e.verb} ${e.resource} ${e.namespace ?? ''}/${e.name ?? ''}`)).toEqual([]);
    });
  },
);
