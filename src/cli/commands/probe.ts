import type { Command } from 'commander';
import { executeRun, type RunFlags } from '../execute-run.js';
import { detectedIstio, probeOptions } from '../flags.js';
import type { CommandContext } from '../program.js';
import { addReportOptions } from '../report-options.js';

export function probeCommand(program: Command, ctx: CommandContext): void {
  detectedIstio(
    addReportOptions(
      probeOptions(
        program
          .command('probe')
          .description(
            "Probe the cluster's own policies as they stand: set up the topology where it is missing, apply no scenario objects, predict from the PeerAuthentications, DestinationRules and legacy policies the cluster holds, probe, compare, and remove only what it set up (--keep leaves that too)",
          ),
      ),
    ),
  ).action(async (f: RunFlags) =>
    ctx.exit(await executeRun(ctx, { ...f, scenario: [], file: [], allowClusterWide: false }, 'probe')),
  );
}
