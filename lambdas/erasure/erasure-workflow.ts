/**
 * The steps of the stage's erasure state machine (stepfunctions/erasure.ts), each a function of the
 * workflow's state over ports: Athena statements, the lake bucket's object versions, the ledger and the
 * lineage. The handler (handler.ts) binds the AWS adapters; tests bind fakes.
 *
 * Why each step exists:
 * - Athena's DELETE on an Iceberg table writes delete files: the data files that held the rows stay,
 *   referenced by the current snapshot, until `OPTIMIZE ... REWRITE DATA` rewrites them without the rows;
 * - the older snapshots still reference the old files until `VACUUM` expires them and deletes the files
 *   (snapshots older than the table's `vacuum_max_snapshot_age_seconds`, which the workflow lowers
 *   for the lake tables before it waits that long, see ERASURE_VACUUM_SNAPSHOT_AGE_SECONDS);
 * - the lake bucket is versioned, so a deleted file remains as a noncurrent version until it is
 *   deleted by version id;
 * - verification checks all three: no current row matches, and no stored version is left of any file
 *   that held one of the rows (recorded from Athena's "$path" before the DELETE).
 *
 * Nothing here sees a raw user or session id: the execution input carries the pseudonym or trace ids.
 */
import { IDENTIFIER_RULES, identifierViolation } from '../gate-score/identifiers';
import { SUBJECT_TABLES } from '../shared/lake-tables';
import { isPseudonym, type Pseudonym } from '../shared/pseudonymisation';
import { MAX_TRACE_IDS_PER_REQUEST, reachedQuery, reachedRows, rowPredicate, targetKey, type ErasureTarget, type ReachedRows } from './erasure-request';
import { erasureDeadline, erasureId, type ErasureLedger, type ErasureLedgerEntry, type ErasureVerification } from './ledger';

/**
 * What the workflow sets `vacuum_max_snapshot_age_seconds` to on every lake table, and (plus a margin)
 * how long it waits between the rewrite and VACUUM. Athena's VACUUM is run by this workflow only (the
 * routine snapshot expiry is the Glue table optimizer's, with its own retention days), so the low value
 * shortens no one else's time travel.
 */
export const ERASURE_VACUUM_SNAPSHOT_AGE_SECONDS = 300;

/** Runs Athena statements in the stage's workgroup. */
export interface LakeStatements {
  /** A SELECT: resolves to its rows. */
  query(name: string, sql: string): Promise<Record<string, unknown>[]>;
  /** DML or table maintenance (DELETE, OPTIMIZE, VACUUM, ALTER TABLE): resolves when it succeeded. */
  execute(name: string, sql: string): Promise<void>;
}

/** The lake bucket's object versions under the table prefixes. */
export interface LakeObjectVersions {
  /** Deletes every noncurrent version under `prefix` (a key prefix ending in `/`); resolves to how many. */
  deleteNoncurrentVersions(prefix: string): Promise<number>;
  /** How many versions (current or not, delete markers excluded) are stored under exactly `key`. */
  storedVersions(key: string): Promise<number>;
}

/** The workflow's state between steps, as the state machine passes it. */
export interface ErasureRunState {
  readonly erasureId: string;
  readonly target: ErasureTarget;
  readonly reached?: ReachedRows;
  /** Object keys (in the lake bucket) of the data files that held the target's rows, per table. */
  readonly files?: Readonly<Record<string, readonly string[]>>;
}

export interface ErasureWorkflowDeps {
  readonly ledger: ErasureLedger;
  readonly athena: LakeStatements;
  readonly versions: LakeObjectVersions;
  /** The Glue database of the lake tables. */
  readonly database: string;
  /** The lake bucket and the key prefix of each table (`tables/<name>/`). */
  readonly bucket: string;
  readonly tablePrefix: (table: string) => string;
  readonly deadlineDays: number;
  readonly now: () => Date;
}

/** An execution input the workflow refuses; names the field, never its value. */
export class ErasureInputError extends Error {
  override name = 'ErasureInputError';
}

/** Verification found rows or files left; the ledger already records what. */
export class ErasureNotVerified extends Error {
  override name = 'ErasureNotVerified';
}

/** The execution input's target, checked: a pseudonym, or valid trace ids. */
export function parseErasureTarget(input: unknown): ErasureTarget {
  const t = (input as { target?: unknown } | null)?.target as Record<string, unknown> | undefined;
  if (t === undefined || t === null || typeof t !== 'object') throw new ErasureInputError('the input needs a target: { kind: subject|session|trace-ids, ... }');
  const pseudonym = (field: string): Pseudonym => {
    const value = t[field];
    if (typeof value !== 'string' || !isPseudonym(value)) throw new ErasureInputError(`target.${field} must be a keyed pseudonym (hmac-sha256:<64 hex>); pseudonymise the id before starting the workflow`);
    return value;
  };
  switch (t.kind) {
    case 'subject':
      return { kind: 'subject', subjectKey: pseudonym('subjectKey') };
    case 'session':
      return { kind: 'session', sessionKey: pseudonym('sessionKey') };
    case 'trace-ids': {
      const ids = t.traceIds;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_TRACE_IDS_PER_REQUEST) throw new ErasureInputError(`target.traceIds must list 1 to ${MAX_TRACE_IDS_PER_REQUEST} trace ids`);
      ids.forEach((id, i) => {
        const violation = typeof id === 'string' ? identifierViolation(IDENTIFIER_RULES['trace-id'], id) : 'not a string';
        if (violation !== undefined) throw new ErasureInputError(`target.traceIds[${i}]: ${violation}`);
      });
      return { kind: 'trace-ids', traceIds: [...new Set(ids as string[])].sort() };
    }
    default:
      throw new ErasureInputError('target.kind must be subject, session or trace-ids');
  }
}

async function update(deps: ErasureWorkflowDeps, id: string, change: (entry: ErasureLedgerEntry) => Partial<ErasureLedgerEntry>): Promise<ErasureLedgerEntry> {
  const entry = await deps.ledger.get(id);
  if (entry === undefined) throw new Error(`erasure ${id} is not in the ledger`);
  const next = { ...entry, ...change(entry), updatedAt: deps.now().toISOString() };
  await deps.ledger.put(next);
  return next;
}

const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * `database.table`, unquoted: OPTIMIZE, VACUUM and ALTER TABLE are parsed as Athena DDL, which quotes
 * with backticks, DELETE and SELECT as Trino SQL, which quotes with double quotes; plain lower-case
 * names need neither, so only such names are accepted.
 */
function qualified(deps: ErasureWorkflowDeps, table: string): string {
  for (const name of [deps.database, table]) if (!PLAIN_IDENTIFIER.test(name)) throw new Error(`"${name}" is not a plain lower-case identifier; the erasure statements name the lake tables unquoted`);
  return `${deps.database}.${table}`;
}

function count(rows: readonly Record<string, unknown>[]): number {
  const n = Number(rows[0]?.n ?? Number.NaN);
  if (!Number.isSafeInteger(n)) throw new Error('a count query returned no count');
  return n;
}

/** `s3://bucket/key` of "$path" as the key, refusing a file outside the lake bucket's table prefix. */
function keyOfPath(deps: ErasureWorkflowDeps, table: string, path: string): string {
  const prefix = `s3://${deps.bucket}/`;
  const key = path.startsWith(prefix) ? path.slice(prefix.length) : '';
  if (!key.startsWith(deps.tablePrefix(table))) throw new Error(`a ${table} data file is outside the table's location in the lake bucket`);
  return key;
}

/** Record request: the ledger entry (status requested). A re-delivered start of the same execution records it once. */
export async function recordRequest(deps: ErasureWorkflowDeps, input: unknown, startedAt: string): Promise<ErasureRunState> {
  const target = parseErasureTarget(input);
  const requestedAt = new Date(startedAt);
  if (Number.isNaN(requestedAt.getTime())) throw new ErasureInputError('startedAt must be the execution start time');
  const key = targetKey(target);
  const id = erasureId(requestedAt, key);
  if ((await deps.ledger.get(id)) === undefined) {
    await deps.ledger.put({
      erasureId: id,
      target: key,
      kind: target.kind,
      requestedAt: requestedAt.toISOString(),
      deadline: erasureDeadline(requestedAt, deps.deadlineDays).toISOString(),
      status: 'requested',
      updatedAt: deps.now().toISOString(),
      traceIds: 0,
      rowsDeleted: {},
      snapshotIds: {},
      verification: null,
      lineage: null,
    });
  }
  return { erasureId: id, target };
}

/** Resolve targets: the trace ids the target reaches, and the data files ("$path") holding its rows in each table. */
export async function resolveTargets(deps: ErasureWorkflowDeps, state: ErasureRunState): Promise<ErasureRunState> {
  const reached = reachedRows(await deps.athena.query('erasure-reached', reachedQuery(state.target, { traces: qualified(deps, 'traces'), gateAudit: qualified(deps, 'gate_audit') })));
  const files: Record<string, string[]> = {};
  for (const { table } of SUBJECT_TABLES) {
    const rows = await deps.athena.query(`erasure-files-${table.name}`, `SELECT DISTINCT "$path" AS path FROM ${qualified(deps, table.name)} WHERE ${rowPredicate(table, state.target, reached)}`);
    files[table.name] = rows.map((r) => keyOfPath(deps, table.name, String(r.path))).sort();
  }
  return { ...state, reached, files };
}

function reachedOf(state: ErasureRunState): ReachedRows {
  if (state.reached === undefined) throw new Error('the state has no resolved targets (Resolve targets must run first)');
  return state.reached;
}

/** Delete rows: Athena DELETE on every lake table; the ledger gets the counts (status rows-deleted). */
export async function deleteRows(deps: ErasureWorkflowDeps, state: ErasureRunState): Promise<ErasureRunState> {
  const reached = reachedOf(state);
  const rowsDeleted: Record<string, number> = {};
  for (const { table } of SUBJECT_TABLES) {
    const predicate = rowPredicate(table, state.target, reached);
    rowsDeleted[table.name] = count(await deps.athena.query(`erasure-count-${table.name}`, `SELECT count(*) AS n FROM ${qualified(deps, table.name)} WHERE ${predicate}`));
    if (rowsDeleted[table.name]! > 0) await deps.athena.execute(`erasure-delete-${table.name}`, `DELETE FROM ${qualified(deps, table.name)} WHERE ${predicate}`);
  }
  await update(deps, state.erasureId, () => ({ status: 'rows-deleted', traceIds: reached.traceIds.length, rowsDeleted }));
  return state;
}

/**
 * Rewrite files: OPTIMIZE rewrites the data files that carry delete files, so the current snapshot no
 * longer references a file with the rows; and the tables' VACUUM age is set (see the constant).
 */
export async function rewriteFiles(deps: ErasureWorkflowDeps, state: ErasureRunState): Promise<ErasureRunState> {
  for (const { table } of SUBJECT_TABLES) {
    await deps.athena.execute(`erasure-optimize-${table.name}`, `OPTIMIZE ${qualified(deps, table.name)} REWRITE DATA USING BIN_PACK`);
    await deps.athena.execute(`erasure-vacuum-age-${table.name}`, `ALTER TABLE ${qualified(deps, table.name)} SET TBLPROPERTIES ('vacuum_max_snapshot_age_seconds'='${ERASURE_VACUUM_SNAPSHOT_AGE_SECONDS}')`);
  }
  return state;
}

/** Vacuum: expires the snapshots older than the VACUUM age, deleting the files only they referenced. */
export async function vacuumTables(deps: ErasureWorkflowDeps, state: ErasureRunState): Promise<ErasureRunState> {
  for (const { table } of SUBJECT_TABLES) await deps.athena.execute(`erasure-vacuum-${table.name}`, `VACUUM ${qualified(deps, table.name)}`);
  return state;
}

/** Expire versions: deletes the noncurrent object versions under every table prefix (what VACUUM's deletes left). */
export async function expireVersions(deps: ErasureWorkflowDeps, state: ErasureRunState): Promise<ErasureRunState & { readonly versionsDeleted: Readonly<Record<string, number>> }> {
  const versionsDeleted: Record<string, number> = {};
  for (const { table } of SUBJECT_TABLES) versionsDeleted[table.name] = await deps.versions.deleteNoncurrentVersions(deps.tablePrefix(table.name));
  return { ...state, versionsDeleted };
}

/**
 * Verify: no current row of any table matches, and no version of any file that held a row is stored.
 * Writes the verification to the ledger (verified or verification-failed), then fails the step when
 * it is not verified, so the state machine's failure path alerts.
 */
export async function verifyErasure(deps: ErasureWorkflowDeps, state: ErasureRunState): Promise<ErasureVerification> {
  const reached = reachedOf(state);
  const remainingRows: Record<string, number> = {};
  let leftoverFiles = 0;
  for (const { table } of SUBJECT_TABLES) {
    remainingRows[table.name] = count(await deps.athena.query(`erasure-verify-${table.name}`, `SELECT count(*) AS n FROM ${qualified(deps, table.name)} WHERE ${rowPredicate(table, state.target, reached)}`));
    for (const key of state.files?.[table.name] ?? []) leftoverFiles += await deps.versions.storedVersions(key);
  }
  const verified = Object.values(remainingRows).every((n) => n === 0) && leftoverFiles === 0;
  const verification: ErasureVerification = { verified, checkedAt: deps.now().toISOString(), remainingRows, leftoverFiles };
  await update(deps, state.erasureId, () => ({ status: verified ? 'verified' : 'verification-failed', verification }));
  if (!verified) throw new ErasureNotVerified(`erasure ${state.erasureId} not verified: rows left ${JSON.stringify(remainingRows)}, stored versions of erased files ${leftoverFiles}`);
  return verification;
}

/** Mark failed: the ledger entry of a failed execution (status failed, the error name and the execution). */
export async function markFailed(deps: ErasureWorkflowDeps, erasure: string, failure: { readonly error: string; readonly execution: string }): Promise<ErasureLedgerEntry> {
  return update(deps, erasure, () => ({ status: 'failed', failure }));
}
