import type { Command } from 'commander';
import { executeRun, type RunFlags } from '../execute-run.js';
import { detectedIstio, probeOptions, scenarioOptions } from '../flags.js';
import type { CommandContext } from '../program.js';
import { addReportOptions } from '../report-options.js';

export function runCommand(program: Command, ctx: CommandContext): void {
  const command = program
    .command('run')
    .description(
      'Set up the topology, apply each scenario, probe every client -> server port until converged, compare with the expected matrix, clean up',
    );
  detectedIstio(addReportOptions(probeOptions(scenarioOptions(command)))).action(async (f: RunFlags) =>
    ctx.exit(await executeRun(ctx, f, 'run')),
  );
}
