/**
 * What every `sial` command module implements, and what the entry point gives it. A command is a
 * module exporting one {@link CliCommand}; main.ts lists them, so adding `sial pipeline start` or
 * `sial rollback` is a new module plus one line there.
 */

/** Output streams, injected so commands are testable without a terminal. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface CliContext {
  readonly io: CliIo;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: () => Date;
}

export interface CliCommand {
  /** The first word after `sial`. */
  readonly name: string;
  /** One line for `sial --help`. */
  readonly summary: string;
  /** The command's own help text. */
  readonly usage: string;
  /** Runs with the words after the command's name; resolves to the process exit code. */
  run(args: readonly string[], context: CliContext): Promise<number>;
}

/** Exit codes: 0 done, 1 refused or failed (the message says why), 2 the command line was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A wrong command line; main.ts prints the message and the command's usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** node:util parseArgs errors (unknown option, missing value) are usage errors too. */
export function isParseArgsError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
