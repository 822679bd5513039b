/**
 * `sial erase --subject USER_ID | --session ID | --trace-id ID ... [--local DIR]`: erases a data
 * subject (or a session, or named traces) from every lake table, verifies it, records it in the erasure
 * ledger and prints the lineage report: the datasets that listed the erased traces and the model and
 * router versions trained on them, which are flagged in the registry, never deleted.
 *
 * With `--local DIR` the workflow runs over a local run's lake (DuckDB, Parquet files rewritten). Without
 * it, the stage's erasure state machine runs it (Athena DELETE, OPTIMIZE, VACUUM, S3 version expiry,
 * verification): the command pseudonymises the id and starts the execution (erase-aws.ts).
 */
import { loadStageConfig } from '../../config';
import { ErasureRequestError, type ErasureSelector } from '../../lambdas/erasure/erasure-request';
import { overdueErasures, type ErasureLedgerEntry } from '../../lambdas/erasure/ledger';
import { lineageLines } from '../../lambdas/erasure/lineage';
import { DEFAULT_LAKE_DIR, LakeDirRefused, openLakeDir } from '../../local/lake-dir';
import { runLocalErasure } from '../../local/local-erasure';
import { LocalErasureLedger } from '../../local/local-erasure-ledger';
import { join } from 'node:path';
import { EXIT, parseCommandLine, UsageError, type CliCommand, type CliContext } from './command';
import { awsErasureLedger, ERASE_ENV, isErasureStateMachineArn, startAwsErasure } from './erase-aws';

const USAGE = `usage:
  sial erase --subject USER_ID (--local DIR | [--state-machine ARN] [--key-secret ARN]) [--stage S] [--json]
  sial erase --session SESSION_ID (--local DIR | [--state-machine ARN] [--key-secret ARN]) [--stage S] [--json]
  sial erase --trace-id ID [--trace-id ID ...] (--local DIR | [--state-machine ARN]) [--stage S] [--json]
  sial erase --ledger (--local DIR | [--ledger-table NAME])

Erases every row of a data subject (the user id the producer sent: native user_id, Langfuse userId,
OTLP user.id or enduser.id), of a session, or of named traces from every lake table (traces, gate_audit,
feedback, judgments, reviews), verifies that none is left, records the request in the erasure ledger and
prints the lineage report: the datasets that listed the erased traces and the model and router versions
trained on them, flagged "trained on erased data" in the registry. Models are never deleted by it.

where:
  --local DIR   the run's lake directory (sial local run --lake-dir, e.g. ${DEFAULT_LAKE_DIR}); without it the
                stage's erasure state machine in AWS runs the workflow with your credentials
  --state-machine ARN  stack output ErasureStateMachineArn of sial-<stage>-loop (default: $${ERASE_ENV.stateMachine})
  --key-secret ARN     stack output PseudonymisationKeySecretArn, to pseudonymise --subject or --session
                       here (default: $${ERASE_ENV.keySecret}); the raw id never leaves this process
  --ledger-table NAME  stack output ErasureLedgerTableName (default: $${ERASE_ENV.ledgerTable})
  --region R    the stage's region (default: the --stage's)
  --stage S     the stage whose config applies (deadline, retention, router targets; default dev)
  --ledger      list the ledger's requests and any past their deadline
  --json        the ledger entry and the lineage report as JSON

The id is pseudonymised with the lake's key at once: it is not stored, logged or printed.`;

const OPTIONS = {
  subject: { type: 'string' },
  session: { type: 'string' },
  'trace-id': { type: 'string', multiple: true },
  local: { type: 'string' },
  'state-machine': { type: 'string' },
  'key-secret': { type: 'string' },
  'ledger-table': { type: 'string' },
  region: { type: 'string' },
  stage: { type: 'string', default: 'dev' },
  ledger: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function selectorOf(values: { subject?: string; session?: string; 'trace-id'?: string[] }): ErasureSelector {
  const given = [values.subject !== undefined, values.session !== undefined, values['trace-id'] !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError('name exactly one of --subject, --session or --trace-id');
  if (values.subject !== undefined) return { kind: 'subject', userId: values.subject };
  if (values.session !== undefined) return { kind: 'session', sessionId: values.session };
  return { kind: 'trace-ids', traceIds: values['trace-id'] ?? [] };
}

function ledgerLine(e: ErasureLedgerEntry): string {
  const rows = Object.values(e.rowsDeleted).reduce((a, b) => a + b, 0);
  return `${e.erasureId}  ${e.kind.padEnd(9)}  ${e.status.padEnd(19)}  requested ${e.requestedAt}  deadline ${e.deadline}  ${rows} row(s) deleted`;
}

function printLedger(entries: readonly ErasureLedgerEntry[], json: boolean, context: CliContext): number {
  const overdue = overdueErasures(entries, context.clock());
  if (json) context.io.out(JSON.stringify({ entries, overdue: overdue.map((e) => e.erasureId) }, null, 2));
  else {
    entries.forEach((e) => context.io.out(ledgerLine(e)));
    context.io.out(`${entries.length} request(s); ${overdue.length} past the deadline without a verified deletion${overdue.length > 0 ? ' (ALARM)' : ''}`);
  }
  return overdue.length > 0 ? EXIT.failed : EXIT.ok;
}

interface AwsValues {
  readonly 'state-machine'?: string;
  readonly 'key-secret'?: string;
  readonly 'ledger-table'?: string;
  readonly region?: string;
  readonly stage: string;
  readonly json?: boolean;
}

/** The AWS side: read the ledger table, or pseudonymise here and start the stage's state machine. */
async function runInAws(values: AwsValues, selector: ErasureSelector | undefined, context: CliContext): Promise<number> {
  let region = values.region;
  if (region === undefined) {
    try {
      region = loadStageConfig(values.stage).region;
    } catch (error) {
      throw new UsageError(`--stage: ${(error as Error).message}`);
    }
  }
  if (selector === undefined) {
    const table = values['ledger-table'] ?? context.env[ERASE_ENV.ledgerTable];
    if (table === undefined || table === '') throw new UsageError(`--ledger needs --local DIR or the ledger table: --ledger-table NAME (stack output ErasureLedgerTableName) or $${ERASE_ENV.ledgerTable}`);
    return printLedger(await awsErasureLedger(table, region).list(), values.json === true, context);
  }
  const stateMachineArn = values['state-machine'] ?? context.env[ERASE_ENV.stateMachine];
  if (stateMachineArn === undefined || stateMachineArn === '') throw new UsageError(`name --local DIR, or the stage's state machine: --state-machine ARN (stack output ErasureStateMachineArn) or $${ERASE_ENV.stateMachine}`);
  if (!isErasureStateMachineArn(stateMachineArn)) throw new UsageError('--state-machine must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)');
  const keySecretId = values['key-secret'] ?? context.env[ERASE_ENV.keySecret];
  if (selector.kind !== 'trace-ids' && (keySecretId === undefined || keySecretId === '')) {
    throw new UsageError(`--${selector.kind} is pseudonymised here before the execution starts: name the key with --key-secret ARN (stack output PseudonymisationKeySecretArn) or $${ERASE_ENV.keySecret}`);
  }
  let started;
  try {
    started = await startAwsErasure({ stateMachineArn, ...(keySecretId === undefined || keySecretId === '' ? {} : { keySecretId }), region, selector, now: context.clock() });
  } catch (error) {
    if (error instanceof ErasureRequestError) throw new UsageError(error.message);
    throw error;
  }
  if (values.json === true) context.io.out(JSON.stringify({ executionArn: started.executionArn, target: started.target }, null, 2));
  else {
    context.io.out(`Erasure started: ${started.executionArn}`);
    context.io.out(`Target: ${started.target.kind} (pseudonymised here; the raw id was not sent)`);
    context.io.out('The workflow records the request in the ledger, deletes, rewrites, waits out the snapshot age, vacuums, expires old versions and verifies; follow it with sial erase --ledger.');
  }
  return EXIT.ok;
}

export const eraseCommand: CliCommand = {
  name: 'erase',
  summary: 'erase a data subject, session or traces from the lake, verify, and report lineage: sial erase --subject USER_ID [--local DIR]',
  usage: USAGE,
  async run(args, context) {
    const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
    if (parsed === undefined) return EXIT.ok;
    const { values } = parsed;
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
    // A wrong command line is refused before anything is opened or recorded.
    const selector = values.ledger === true ? undefined : selectorOf(values);
    if (values.local === undefined) return runInAws(values, selector, context);
    let layout;
    try {
      layout = openLakeDir(values.local);
    } catch (error) {
      if (error instanceof LakeDirRefused) {
        context.io.err(`sial erase: ${error.message}`);
        return EXIT.failed;
      }
      throw error;
    }
    if (selector === undefined) return printLedger(await new LocalErasureLedger(join(layout.stateDir, 'erasure-ledger.json')).list(), values.json === true, context);
    let stage;
    try {
      stage = loadStageConfig(values.stage);
    } catch (error) {
      throw new UsageError(`--stage: ${(error as Error).message}`);
    }
    let result;
    try {
      result = await runLocalErasure(layout, stage, selector, context.clock);
    } catch (error) {
      if (error instanceof ErasureRequestError) throw new UsageError(error.message);
      throw error;
    }
    const { entry, lineage, filesRewritten } = result;
    if (values.json === true) {
      context.io.out(JSON.stringify({ entry, lineage, filesRewritten }, null, 2));
      return entry.status === 'verified' ? EXIT.ok : EXIT.failed;
    }
    context.io.out(`Erasure ${entry.erasureId} (${entry.kind}, target ${entry.target}), deadline ${entry.deadline}`);
    context.io.out(`Trace ids reached: ${entry.traceIds}`);
    for (const [table, rows] of Object.entries(entry.rowsDeleted)) context.io.out(`  ${table.padEnd(10)}  ${rows} row(s) deleted, ${filesRewritten[table] ?? 0} Parquet file(s) rewritten or removed`);
    const v = entry.verification;
    context.io.out(
      v?.verified === true
        ? `Verified: no row of the target is left in any table, and no earlier copy of a rewritten file remains (the local lake keeps no snapshots).`
        : `NOT VERIFIED: rows still matching ${JSON.stringify(v?.remainingRows ?? {})}, leftover files ${v?.leftoverFiles ?? '?'}`,
    );
    context.io.out('');
    context.io.out('Lineage report:');
    lineageLines(lineage).forEach((l) => context.io.out(`  ${l}`));
    context.io.out('');
    context.io.out(`Ledger: ${join(layout.stateDir, 'erasure-ledger.json')} (sial erase --ledger --local ${layout.lakeDir})`);
    return entry.status === 'verified' ? EXIT.ok : EXIT.failed;
  },
};
