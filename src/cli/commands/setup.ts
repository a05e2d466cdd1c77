import type { Command } from 'commander';
import { Unfinished } from '../../errors.js';
import { Journal, journalDir } from '../../orchestrator/journal.js';
import { newRunId } from '../../orchestrator/ownership.js';
import { detectControlPlane } from '../../orchestrator/control-plane.js';
import { checkIstio, checkReachable } from '../../orchestrator/preflight.js';
import { planNamespaces, setupTopology, undoSetup } from '../../orchestrator/topology-lifecycle.js';
import { commandLine } from '../command-line.js';
import { connect } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { revisionOption, seconds, topologyOptions } from '../flags.js';
import { loadTopologyOption } from '../inputs.js';
import type { CommandContext } from '../program.js';
import { withProgress } from '../progress/create.js';

export function setupCommand(program: Command, ctx: CommandContext): void {
  revisionOption(
    topologyOptions(
      program
        .command('setup')
        .description(
          'Create (or update) the topology and wait until it is ready; idempotent. It stays until `meshprobe teardown`',
        ),
    ),
  )
    .option(
      '--adopt',
      'use topology namespaces not created by meshprobe (teardown removes only what meshprobe put there)',
      false,
    )
    .option('--ready-timeout <s>', 'seconds to wait for readiness', seconds('--ready-timeout'), 300)
    .action(
      async (f: {
        topology?: string;
        namespacePrefix?: string;
        adopt: boolean;
        readyTimeout: number;
        revision?: string;
      }) => {
        const topology = loadTopologyOption(f, ctx.io.cwd);
        const cluster = connect(ctx);
        const abort = new AbortController();
        const stop = ctx.onSignal(() => abort.abort());
        let interrupted = false;
        try {
          await withProgress(ctx, async (events) => {
            await checkReachable(cluster, events);
            // Without Istio the workloads would come up without sidecars: refuse before creating anything.
            await checkIstio(cluster, events);
            const controlPlane = await detectControlPlane(cluster, f.revision, events);
            const plan = await planNamespaces(cluster, topology, f.adopt, controlPlane);
            abort.signal.throwIfAborted();
            const runId = newRunId();
            const journal = await Journal.open(cluster, {
              runId,
              dir: journalDir(ctx.io.env),
              mirror: false,
              command: 'setup',
              namespaces: topology.namespaces.map((n) => n.name),
              timeoutMs: f.readyTimeout * 1000,
              signal: abort.signal,
            });
            try {
              await setupTopology(cluster, topology, {
                runId,
                adopt: f.adopt,
                keep: true,
                plan,
                readyTimeoutMs: f.readyTimeout * 1000,
                events,
                journal,
                signal: abort.signal,
                controlPlane,
              });
            } catch (e) {
              // A setup that fails removes what it made: the user asked for a topology, not for half of one.
              const left = await undoSetup(cluster, topology, { journal, timeoutMs: f.readyTimeout * 1000, events });
              if (left.length) {
                await journal.end();
                const u = new Unfinished(
                  e,
                  left.map((l) => l.description),
                );
                u.cleanup = commandLine(ctx, 'cleanup', f);
                throw u;
              }
              await journal.close();
              throw e;
            }
            await journal.close();
          });
        } catch (e) {
          if (!abort.signal.aborted) throw e;
          interrupted = true;
          if (e instanceof Unfinished) throw e;
        } finally {
          stop();
        }
        if (interrupted) {
          ctx.io.stderr.write('meshprobe: interrupted; what setup had made was removed\n');
          ctx.exit(ExitCode.Interrupted);
        } else ctx.exit(ExitCode.Ok);
      },
    );
}
