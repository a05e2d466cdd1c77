// One meshprobe probe round over a topology, in its own process so that its time and peak memory are
// meshprobe's alone (the emulated cluster runs in the benchmark's process). Uses the built dist/.
// Usage: node round.mjs KUBECONFIG TOPOLOGY_FILE
import { loadKubeconfig } from '../../dist/kube/kubeconfig.js';
import { ClientNodeCluster } from '../../dist/kube/client-node-cluster.js';
import { loadTopology } from '../../dist/model/topology-file.js';
import { ClientPods } from '../../dist/probe/pods.js';
import { DEFAULT_PROBE, probeRound } from '../../dist/probe/round.js';

const [kubeconfig, topologyFile, concurrency] = process.argv.slice(2);
const started = performance.now();
const topology = loadTopology(topologyFile);
const cluster = new ClientNodeCluster(loadKubeconfig({ kubeconfig, env: process.env }));
const round = await probeRound(cluster, topology, new ClientPods(cluster, topology), {
  ...DEFAULT_PROBE,
  concurrency: Number(concurrency ?? DEFAULT_PROBE.concurrency),
});
const codes = {};
for (const [from, to, cell] of round.cells.entries())
  codes[`${from} ${to}`] =
    cell.outcome === 'error' ? `error: ${cell.error}` : String(cell.httpCode ?? 0).padStart(3, '0');
process.stdout.write(
  JSON.stringify({
    roundSeconds: round.seconds,
    processSeconds: (performance.now() - started) / 1000,
    execs: round.execs,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    codes,
  }),
);
