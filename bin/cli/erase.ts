/**
 * `sial erase --subject USER_ID | --session ID | --trace-id ID ... [--local DIR]`: erases a data
 * subject (or a session, or named traces) from every lake table, verifies it, records it in the erasure
 * ledger and prints the lineage report: the datasets that listed the erased traces and the model and
 * router versions trained on them, which are flagged in the registry, never deleted.
 *
 * With `--local DIR` the workflow runs over a local run's lake (DuckDB, Parquet files rewritten). In AWS
 * the stage's erasure state machine runs it (Athena DELETE, OPTIMIZE, VACUUM, S3 version expiry): start
 * it with `sial erase ... --state-machine ARN`.
 */
import { loadStageConfig } from '../../config';
import { ErasureRequestError, type ErasureSelector } from '../../lambdas/erasure/erasure-request';
import { overdueErasures, type ErasureLedgerEntry } from '../../lambdas/erasure/ledger';
import { lineageLines } from '../../lambdas/erasure/lineage';
import { DEFAULT_LAKE_DIR, LakeDirRefused, openLakeDir } from '../../local/lake-dir';
import { runLocalErasure } from '../../local/local-erasure';
import { LocalErasureLedger } from '../../local/local-erasure-ledger';
import { join } from 'node:path';
import { EXIT, parseCommandLine, UsageError, type CliCommand } from './command';

const USAGE = `usage:
  sial erase --subject USER_ID [--local DIR] [--stage S] [--json]
  sial erase --session SESSION_ID [--local DIR] [--stage S] [--json]
  sial erase --trace-id ID [--trace-id ID ...] [--local DIR] [--stage S] [--json]
  sial erase --ledger [--local DIR]

Erases every row of a data subject (the user id the producer sent: native user_id, Langfuse userId,
OTLP user.id or enduser.id), of a session, or of named traces from every lake table (traces, gate_audit,
feedback, judgments, reviews), verifies that none is left, records the request in the erasure ledger and
prints the lineage report: the datasets that listed the erased traces and the model and router versions
trained on them, flagged "trained on erased data" in the registry. Models are never deleted by it.

where:
  --local DIR   the run's lake directory (sial local run --lake-dir; default ${DEFAULT_LAKE_DIR})
  --stage S     the stage whose config applies (deadline, retention, router targets; default dev)
  --ledger      list the ledger's requests and any past their deadline
  --json        the ledger entry and the lineage report as JSON

The id is pseudonymised with the lake's key at once: it is not stored, logged or printed.`;

const OPTIONS = {
  subject: { type: 'string' },
  session: { type: 'string' },
  'trace-id': { type: 'string', multiple: true },
  local: { type: 'string', default: DEFAULT_LAKE_DIR },
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
    if (selector === undefined) {
      const entries = await new LocalErasureLedger(join(layout.stateDir, 'erasure-ledger.json')).list();
      const overdue = overdueErasures(entries, context.clock());
      if (values.json === true) context.io.out(JSON.stringify({ entries, overdue: overdue.map((e) => e.erasureId) }, null, 2));
      else {
        entries.forEach((e) => context.io.out(ledgerLine(e)));
        context.io.out(`${entries.length} request(s); ${overdue.length} past the deadline without a verified deletion${overdue.length > 0 ? ' (ALARM)' : ''}`);
      }
      return overdue.length > 0 ? EXIT.failed : EXIT.ok;
    }
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
