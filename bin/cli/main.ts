/**
 * `sial`: the operator CLI. Dispatches to the command modules listed in {@link COMMANDS}.
 */
import { approvalsCommand } from './approvals';
import { EXIT, UsageError, type CliCommand, type CliContext } from './command';
import { eraseCommand } from './erase';
import { ingestCommand } from './ingest';
import { jobsCommand } from './jobs';
import { lakeCommand } from './lake';
import { localCommand } from './local';
import { policyCommand } from './policy';
import { reportCommand } from './report';
import { reviewCommand } from './review';
import { retentionCommand } from './retention';
import { rolloutCommand } from './rollout';

/** Every command; a new one is a module exporting a CliCommand, added here. */
export const COMMANDS: readonly CliCommand[] = [localCommand, lakeCommand, ingestCommand, approvalsCommand, jobsCommand, rolloutCommand, reviewCommand, policyCommand, eraseCommand, reportCommand, retentionCommand];

function help(commands: readonly CliCommand[]): string[] {
  const width = Math.max(...commands.map((c) => c.name.length));
  return ['usage: sial <command> [options]', '', 'commands:', ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '', 'sial <command> --help shows the options of a command.'];
}

/** Runs `sial` with its arguments (without node and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], context: CliContext, commands: readonly CliCommand[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    help(commands).forEach((l) => context.io.out(l));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    context.io.err(`sial: unknown command "${name}"`);
    help(commands).forEach((l) => context.io.err(l));
    return EXIT.usage;
  }
  try {
    return await command.run(rest, context);
  } catch (error) {
    if (error instanceof UsageError) {
      context.io.err(`sial ${command.name}: ${error.message}`);
      context.io.err(command.usage);
      return EXIT.usage;
    }
    const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
    context.io.err(`sial ${command.name}: ${message}`);
    return EXIT.failed;
  }
}
