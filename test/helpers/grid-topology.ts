// An N×N topology file like the probe benchmark's: N namespaces, N−1 with sidecar injection and one
// (`grid-plain`) without, each with httpbin (one HTTP port) and sleep. N clients × N probed ports.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './bin.js';

export const gridNamespace = (i: number): string => `grid-${String(i).padStart(2, '0')}`;
export const GRID_PLAIN = 'grid-plain';

export function writeGridTopology(dir: string, n: number): string {
  const namespaces = [
    ...Array.from(
      { length: n - 1 },
      (_, i) => `    - {name: ${gridNamespace(i + 1)}, injection: true, workloads: [httpbin, sleep]}`,
    ),
    `    - {name: ${GRID_PLAIN}, injection: false, workloads: [httpbin, sleep]}`,
  ];
  const file = join(dir, `grid-${n}.yaml`);
  writeFileSync(
    file,
    [
      'apiVersion: meshprobe/v1',
      'kind: Topology',
      `metadata: {name: grid-${n}}`,
      'spec:',
      '  namespaces:',
      ...namespaces,
      '  workloads:',
      '    httpbin:',
      `      manifest: ${join(ROOT, 'manifests/workloads/httpbin.yaml')}`,
      '      serve: [{ports: [http], path: /headers}]',
      '    sleep:',
      `      manifest: ${join(ROOT, 'manifests/workloads/sleep.yaml')}`,
      '      client: {container: sleep}',
      '',
    ].join('\n'),
  );
  return file;
}
