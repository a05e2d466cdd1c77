import { runCli } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs meshprobe in-process with captured output, as a non-TTY (so no colour) unless `tty`. */
export async function cli(
  argv: string[],
  opts: { env?: Record<string, string>; tty?: boolean; cwd?: string } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s), isTTY: opts.tty ?? false },
    stderr: { write: (s: string) => (stderr += s) },
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}
