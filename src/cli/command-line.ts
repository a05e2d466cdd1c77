// The exact meshprobe command line that finishes a job, with the flags that chose the cluster and the
// topology, for messages that say what is left in a cluster and how to remove it.
import { resolve } from 'node:path';
import { shellQuote } from '../probe/command.js';
import type { CommandContext } from './program.js';

export function commandLine(
  ctx: CommandContext,
  command: 'cleanup' | 'teardown',
  f: { topology?: string; namespacePrefix?: string },
  extra: string[] = [],
): string {
  const g = ctx.globals();
  const words = ['meshprobe'];
  // Paths absolute, so that the command works from another directory (as the reproduce lines do).
  if (g.kubeconfig) words.push('--kubeconfig', shellQuote(resolve(ctx.io.cwd, g.kubeconfig)));
  if (g.context) words.push('--context', shellQuote(g.context));
  words.push(command);
  if (f.topology) words.push('--topology', shellQuote(resolve(ctx.io.cwd, f.topology)));
  if (f.namespacePrefix) words.push('--namespace-prefix', shellQuote(f.namespacePrefix));
  return [...words, ...extra].join(' ');
}
