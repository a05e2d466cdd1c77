import type { Command } from 'commander';
import { ClusterError } from '../../errors.js';
import { checkReachable } from '../../orchestrator/preflight.js';
import { teardownTopology } from '../../orchestrator/topology-lifecycle.js';
import { commandLine } from '../command-line.js';
import { connect } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { seconds, topologyOptions } from '../flags.js';
import { loadTopologyOption } from '../inputs.js';
import type { CommandContext } from '../program.js';
import { withProgress } from '../progress/create.js';

export function teardownCommand(program: Command, ctx: CommandContext): void {
  topologyOptions(
    program
      .command('teardown')
      .description(
        "Delete the topology's namespaces that meshprobe created; from adopted ones, only what meshprobe put there",
      ),
  )
    .option('--timeout <s>', 'seconds to wait until they are gone', seconds('--timeout'), 300)
    .action(async (f: { topology?: string; namespacePrefix?: string; timeout: number }) => {
      const topology = loadTopologyOption(f, ctx.io.cwd);
      const cluster = connect(ctx);
      await withProgress(ctx, async (events) => {
        await checkReachable(cluster, events);
        const left = await teardownTopology(cluster, topology, { timeoutMs: f.timeout * 1000, events });
        if (left.length)
          throw new ClusterError(
            `could not remove ${left.map((l) => l.description).join(', ')}`,
            `run \`${commandLine(ctx, 'teardown', f)}\` again once that is fixed (a namespace held by a finalizer goes when its controller removes it)`,
          );
      });
      ctx.exit(ExitCode.Ok);
    });
}
