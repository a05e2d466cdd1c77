import type { Command } from 'commander';
import { ClusterError } from '../../errors.js';
import { cleanup } from '../../orchestrator/cleanup.js';
import { journalDir } from '../../orchestrator/journal.js';
import { checkReachable } from '../../orchestrator/preflight.js';
import { commandLine } from '../command-line.js';
import { connect } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { seconds, topologyOptions } from '../flags.js';
import { loadTopologyOption } from '../inputs.js';
import type { CommandContext } from '../program.js';
import { withProgress } from '../progress/create.js';

export function cleanupCommand(program: Command, ctx: CommandContext): void {
  topologyOptions(
    program
      .command('cleanup')
      .description(
        'Finish the clean-up of interrupted or killed runs of this topology (--namespace-prefix): restore what they replaced, delete what they created (from their journals), remove the topology; never a run that is still alive',
      ),
  )
    .option('--keep', "leave the topology's namespaces", false)
    .option('--force', 'also undo runs whose journal says they are alive (when their machine is gone)', false)
    .option('--timeout <s>', 'seconds to wait until deleted objects are gone', seconds('--timeout'), 300)
    .action(
      async (f: { topology?: string; namespacePrefix?: string; keep: boolean; force: boolean; timeout: number }) => {
        const topology = loadTopologyOption(f, ctx.io.cwd);
        const cluster = connect(ctx);
        await withProgress(ctx, async (events) => {
          await checkReachable(cluster, events);
        });
        let r;
        try {
          r = await cleanup(cluster, {
            topology,
            keepTopology: f.keep,
            force: f.force,
            journalDir: journalDir(ctx.io.env),
            timeoutMs: f.timeout * 1000,
          });
        } catch (e) {
          // A live run: say which command undoes it anyway, with this one's flags.
          if (e instanceof ClusterError && !f.force && /still alive/.test(e.message))
            throw new ClusterError(
              e.message,
              `wait until it ends (it removes what it made, or says what it left); if it is dead (its machine is gone): ${commandLine(ctx, 'cleanup', f, [...(f.keep ? ['--keep'] : []), '--force'])}`,
            );
          throw e;
        }
        const list = (xs: string[]) => `${xs.length}${xs.length ? ` (${xs.join(', ')})` : ''}`;
        ctx.io.stdout.write(
          `meshprobe cleanup: ${r.journals} journal${r.journals === 1 ? '' : 's'}; restored ${list(r.restored)}; deleted ${list(r.deleted)}\n`,
        );
        if (r.left.length)
          throw new ClusterError(
            `could not remove or put back ${r.left.join(', ')}`,
            `run \`${commandLine(ctx, 'cleanup', f, f.keep ? ['--keep'] : [])}\` again once that is fixed (its journals keep what is left)`,
          );
        ctx.exit(ExitCode.Ok);
      },
    );
}
