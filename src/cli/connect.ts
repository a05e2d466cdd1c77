import { resolve } from 'node:path';
import { ClientNodeCluster } from '../kube/client-node-cluster.js';
import type { Cluster } from '../kube/cluster.js';
import { DEFAULT_TIMEOUTS } from '../kube/http-timeouts.js';
import { DEFAULT_RETRY } from '../kube/retry.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import type { CommandContext } from './program.js';

export function connect(ctx: CommandContext): Cluster {
  const g = ctx.globals();
  // A relative --kubeconfig is the user's, from where they ran meshprobe.
  const kubeconfig = g.kubeconfig !== undefined ? resolve(ctx.io.cwd, g.kubeconfig) : undefined;
  return new ClientNodeCluster(loadKubeconfig({ kubeconfig, context: g.context, env: ctx.io.env }), DEFAULT_RETRY, {
    ...DEFAULT_TIMEOUTS,
    requestMs: g.requestTimeout,
  });
}
