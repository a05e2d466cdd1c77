// Every row of the outcome table in docs/semantics.md (section 5), in both flavors where it gives both.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/model/kube-object.js';
import type { Flavor } from '../../src/model/scenario.js';
import { meshConfig } from '../../src/oracle/mesh.js';
import { predict } from '../../src/oracle/predict.js';
import { dr, meshPolicy, miniTopology, pa, policies } from '../helpers/mini-topology.js';

type Mode = 'STRICT' | 'PERMISSIVE' | 'DISABLE' | 'n/a';
type Dr = 'ISTIO_MUTUAL' | 'DISABLE' | 'none' | 'n/a';

/** The server's mode, written the way each API generation writes it (legacy DISABLE = a Policy with no peers). */
function serverPolicy(flavor: Flavor, mode: Mode, level: 'mesh' | 'workload' = 'mesh'): KubeObject[] {
  if (mode === 'n/a') return [];
  if (flavor === 'modern') {
    return level === 'mesh'
      ? [pa('istio-system', 'default', { mtls: { mode } })]
      : [pa('s', 'app', { selector: { matchLabels: { app: 'app' } }, mtls: { mode } })];
  }
  const peers = mode === 'DISABLE' ? [] : [{ mtls: mode === 'STRICT' ? {} : { mode } }];
  return [meshPolicy({ peers })];
}

function cell(
  flavor: Flavor,
  clientSidecar: boolean,
  serverSidecar: boolean,
  mode: Mode,
  drMode: Dr,
  level: 'mesh' | 'workload' = 'mesh',
) {
  const objects = [...serverPolicy(flavor, mode, level)];
  if (drMode === 'ISTIO_MUTUAL' || drMode === 'DISABLE')
    objects.push(dr('istio-system', 'default', { host: '*.local', trafficPolicy: { tls: { mode: drMode } } }));
  const [p] = predict(miniTopology({ clientSidecar, serverSidecar }), policies(...objects), meshConfig(flavor));
  return { outcome: p!.outcome, row: p!.reason.row };
}

// [row, client sidecar, server sidecar, server mode, client DR, legacy outcome, modern outcome]
const table: Array<[number, boolean, boolean, Mode, Dr, string, string]> = [
  [1, false, false, 'n/a', 'n/a', 'plaintext', 'plaintext'],
  [2, false, true, 'STRICT', 'n/a', 'reset', 'reset'],
  [3, false, true, 'PERMISSIVE', 'n/a', 'plaintext', 'plaintext'],
  [4, false, true, 'DISABLE', 'n/a', 'plaintext', 'plaintext'],
  [5, true, false, 'n/a', 'ISTIO_MUTUAL', 'upstream-error', 'upstream-error'],
  [6, true, false, 'n/a', 'DISABLE', 'plaintext', 'plaintext'],
  [7, true, false, 'n/a', 'none', 'plaintext', 'plaintext'],
  [8, true, true, 'STRICT', 'ISTIO_MUTUAL', 'mtls', 'mtls'],
  [9, true, true, 'STRICT', 'DISABLE', 'upstream-error', 'upstream-error'],
  [10, true, true, 'STRICT', 'none', 'upstream-error', 'mtls'],
  [11, true, true, 'PERMISSIVE', 'ISTIO_MUTUAL', 'mtls', 'mtls'],
  [12, true, true, 'PERMISSIVE', 'DISABLE', 'plaintext', 'plaintext'],
  [13, true, true, 'PERMISSIVE', 'none', 'plaintext', 'mtls'],
  [14, true, true, 'DISABLE', 'ISTIO_MUTUAL', 'upstream-error', 'upstream-error'],
  [15, true, true, 'DISABLE', 'DISABLE', 'plaintext', 'plaintext'],
  [16, true, true, 'DISABLE', 'none', 'plaintext', 'plaintext'],
];

describe('outcome table, section 5 of docs/semantics.md', () => {
  for (const [row, cs, ss, mode, drMode, legacy, modern] of table) {
    it(`row ${row}: client ${cs ? 'with' : 'without'} sidecar -> server ${ss ? `sidecar ${mode}` : 'without sidecar'}, DR ${drMode}`, () => {
      expect(cell('legacy', cs, ss, mode, drMode)).toEqual({ outcome: legacy, row });
      expect(cell('modern', cs, ss, mode, drMode)).toEqual({ outcome: modern, row });
    });
  }

  it('row 16, modern, workload-level DISABLE: auto mTLS honours workload policies (Istio >= 1.12)', () => {
    expect(cell('modern', true, true, 'DISABLE', 'none', 'workload').outcome).toBe('plaintext');
    expect(cell('modern', true, true, 'STRICT', 'none', 'workload').outcome).toBe('mtls');
  });
});
