// Typed errors. Only the CLI turns them into messages and exit codes (src/cli/exit-codes.ts).

/** Bad input: a flag, a scenario or topology file. Exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** What the user can do about it, printed on its own line. */
    readonly fix?: string,
  ) {
    super(message);
  }
}

/** Several bad inputs found in one pass, so the user can fix them all at once. */
export class ConfigErrors extends ConfigError {
  override name = 'ConfigErrors';
  constructor(readonly errors: ConfigError[]) {
    super(errors.map((e) => e.message).join('\n'), errors.find((e) => e.fix)?.fix);
  }
}

/** The cluster cannot be used: unreachable, unauthorized, Istio missing, RBAC, timeouts. Exit code 3. */
export class ClusterError extends Error {
  override name = 'ClusterError';
  constructor(
    message: string,
    readonly fix?: string,
    /** The API server's Status, when there was one. */
    readonly status?: { code?: number; reason?: string; message?: string },
  ) {
    super(message);
  }
}

/**
 * A command stopped (an error, or SIGINT) after it had changed the cluster, and could not undo all of
 * it: `cause` is what stopped it, `left` what is still there. The CLI prints both, and the command that
 * removes what is left.
 */
export class Unfinished extends Error {
  override name = 'Unfinished';
  /** The command that removes what is left, filled in by the CLI, which knows the flags. */
  cleanup?: string;
  constructor(
    override readonly cause: unknown,
    readonly left: string[],
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}
