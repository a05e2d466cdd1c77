/** Where the CLI writes and what it knows of its terminal: the only side of the process the commands see. */
export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** SIGINT/SIGTERM: the first calls `handler`, a second exits at once. */
  onSignal?(handler: () => void): () => void;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onSignal(handler) {
      let count = 0;
      const listener = (signal: NodeJS.Signals) => {
        count++;
        if (count === 1) {
          process.stderr.write(`\nmeshprobe: ${signal}: stopping and cleaning up (send it again to exit at once)\n`);
          handler();
        } else {
          process.stderr.write('meshprobe: exiting without cleanup; `meshprobe teardown` removes the topology\n');
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
