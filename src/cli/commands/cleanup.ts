import type { Command } from 'commander';
import { cleanup } from '../../orchestrator/cleanup.js';
import { journalDir } from '../../orchestrator/journal.js';
import { checkReachable } from '../../orchestrator/preflight.js';
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
        'Finish the clean-up of interrupted or killed runs: restore what they replaced, delete what they created (from their journals), remove the topology',
      ),
  )
    .option('--keep', "leave the topology's namespaces", false)
    .option('--timeout <s>', 'seconds to wait until deleted objects are gone', seconds('--timeout'), 300)
    .action(async (f: { topology?: string; namespacePrefix?: string; keep: boolean; timeout: number }) => {
      const topology = loadTopologyOption(f, ctx.io.cwd);
      const cluster = connect(ctx);
      await withProgress(ctx, async (events) => {
        await checkReachable(cluster, events);
      });
      const r = await cleanup(cluster, {
        topology,
        keepTopology: f.keep,
        journalDir: journalDir(ctx.io.env),
        timeoutMs: f.timeout * 1000,
      });
      const list = (xs: string[]) => `${xs.length}${xs.length ? ` (${xs.join(', ')})` : ''}`;
      ctx.io.stdout.write(
        `meshprobe cleanup: ${r.journals} journal${r.journals === 1 ? '' : 's'}; restored ${list(r.restored)}; deleted ${list(r.deleted)}\n`,
      );
      ctx.exit(ExitCode.Ok);
    });
}
