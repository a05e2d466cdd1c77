import type { Command } from 'commander';
import { executeRun, type RunFlags } from '../execute-run.js';
import { probeOptions } from '../flags.js';
import type { CommandContext } from '../program.js';
import { addReportOptions } from '../report-options.js';

export function probeCommand(program: Command, ctx: CommandContext): void {
  addReportOptions(
    probeOptions(
      program
        .command('probe')
        .description(
          "Probe the cluster's own policies as they stand: apply nothing, predict from the PeerAuthentications and DestinationRules the cluster holds, compare",
        ),
    ),
  ).action(async (f: RunFlags) =>
    ctx.exit(await executeRun(ctx, { ...f, scenario: [], file: [], allowClusterWide: false }, 'probe')),
  );
}
