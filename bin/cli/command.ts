/**
 * What every `sial` command module implements, and what the entry point gives it. A command is a
 * module exporting one {@link CliCommand}; main.ts lists them, so adding `sial pipeline start` or
 * `sial rollback` is a new module plus one line there.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { TerminalStream } from '../../local/run/progress';

/** Output streams, injected so commands are testable without a terminal. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface CliContext {
  readonly io: CliIo;
  /**
   * The interactive terminal standard output is, when it is one: a command may then draw a status line
   * in place (`sial local run`'s progress). Absent for pipes, CI and tests, which get plain lines.
   */
  readonly terminal?: TerminalStream;
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

/** An option or environment value, with an empty string read as not given (`--table ''`, `VAR=`). */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
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

/** What a command's options look like to node:util parseArgs. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** A command line parsed by {@link parseCommandLine}: option values and positionals. */
export type ParsedCommandLine<O extends CliOptions> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>;

/**
 * Parses a command's words strictly (unknown options refused, positionals allowed), or answers its
 * `--help`: undefined when the usage was printed and the command is done.
 *
 * @throws UsageError for a wrong command line.
 */
export function parseCommandLine<O extends CliOptions>(args: readonly string[], options: O, usage: string, context: CliContext): ParsedCommandLine<O> | undefined {
  let parsed: ParsedCommandLine<O>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    if (isParseArgsError(error)) throw new UsageError((error as Error).message);
    throw error;
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    context.io.out(usage);
    return undefined;
  }
  return parsed;
}
