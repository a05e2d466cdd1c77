import type { Command } from 'commander';
import { newRunId } from '../../orchestrator/ownership.js';
import { checkReachable } from '../../orchestrator/preflight.js';
import { setupTopology } from '../../orchestrator/topology-lifecycle.js';
import { connect } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { seconds, topologyOptions } from '../flags.js';
import { loadTopologyOption } from '../inputs.js';
import type { CommandContext } from '../program.js';
import { withProgress } from '../progress/create.js';

export function setupCommand(program: Command, ctx: CommandContext): void {
  topologyOptions(
    program.command('setup').description('Create (or update) the topology and wait until it is ready; idempotent'),
  )
    .option('--adopt', 'use topology namespaces not created by meshprobe', false)
    .option('--ready-timeout <s>', 'seconds to wait for readiness', seconds('--ready-timeout'), 300)
    .action(async (f: { topology?: string; namespacePrefix?: string; adopt: boolean; readyTimeout: number }) => {
      const topology = loadTopologyOption(f, ctx.io.cwd);
      const cluster = connect(ctx);
      await withProgress(ctx, async (events) => {
        await checkReachable(cluster, events);
        await setupTopology(cluster, topology, {
          runId: newRunId(),
          adopt: f.adopt,
          readyTimeoutMs: f.readyTimeout * 1000,
          events,
        });
      });
      ctx.exit(ExitCode.Ok);
    });
}
