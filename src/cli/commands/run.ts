import type { Command } from 'commander';
import { executeRun, type RunFlags } from '../execute-run.js';
import { probeOptions, scenarioOptions } from '../flags.js';
import type { CommandContext } from '../program.js';
import { addReportOptions } from '../report-options.js';

export function runCommand(program: Command, ctx: CommandContext): void {
  addReportOptions(
    probeOptions(
      scenarioOptions(
        program
          .command('run')
          .description(
            'Set up the topology, apply each scenario, probe every client -> server port until converged, compare with the expected matrix, clean up',
          ),
      ),
    ),
  )
    .addHelpText(
      'after',
      '\nExit code: 0 every cell as expected, 1 a cell is not, 2 bad input, 3 cluster failure or cells that could not be probed, 130 interrupted.',
    )
    .action(async (f: RunFlags) => ctx.exit(await executeRun(ctx, f, 'run')));
}
