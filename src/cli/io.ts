/** Where the CLI writes and what it knows of its terminal: the only side of the process the commands see. */
export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** SIGINT/SIGTERM: the first calls `first`, a second prints `whatIsLeft()` and exits at once. */
  onSignal?(first: () => void, whatIsLeft?: () => string): () => void;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onSignal(first, whatIsLeft) {
      let count = 0;
      const listener = (signal: NodeJS.Signals) => {
        count++;
        if (count === 1) {
          process.stderr.write(`\nmeshprobe: ${signal}: stopping and cleaning up (send it again to exit at once)\n`);
          first();
        } else {
          process.stderr.write(
            `meshprobe: exiting at once; ${whatIsLeft?.() ?? '`meshprobe cleanup` will finish the clean-up'}\n`,
          );
          process.exit(130);
        }
      };
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
  };
}
