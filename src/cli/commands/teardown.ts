import type { Command } from 'commander';
import { checkReachable } from '../../orchestrator/preflight.js';
import { teardownTopology } from '../../orchestrator/topology-lifecycle.js';
import { connect } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { seconds, topologyOptions } from '../flags.js';
import { loadTopologyOption } from '../inputs.js';
import type { CommandContext } from '../program.js';
import { withProgress } from '../progress/create.js';

export function teardownCommand(program: Command, ctx: CommandContext): void {
  topologyOptions(
    program.command('teardown').description("Delete the topology's namespaces (only those meshprobe created)"),
  )
    .option('--timeout <s>', 'seconds to wait until they are gone', seconds('--timeout'), 300)
    .action(async (f: { topology?: string; namespacePrefix?: string; timeout: number }) => {
      const topology = loadTopologyOption(f, ctx.io.cwd);
      const cluster = connect(ctx);
      await withProgress(ctx, async (events) => {
        await checkReachable(cluster, events);
        await teardownTopology(cluster, topology, { timeoutMs: f.timeout * 1000, events });
      });
      ctx.exit(ExitCode.Ok);
    });
}
