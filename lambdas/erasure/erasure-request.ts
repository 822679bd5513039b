/**
 * An erasure request: whom to erase (a data subject's user id, a session id, or trace ids) turned into
 * what the lake stores (keyed pseudonyms, validated trace ids) and into the row predicate of each lake
 * table. The raw user or session id is pseudonymised here and never stored, logged or returned: the
 * ledger and the report hold only its pseudonym.
 *
 * Pure apart from node:crypto; no AWS SDK. The SQL it writes is the same for Athena and DuckDB.
 */
import { createHash } from 'node:crypto';
import { IDENTIFIER_RULES, identifierViolation } from '../gate-score/identifiers';
import { MAX_SESSION_ID_CHARS } from '../gate-score/trace';
import { SUBJECT_TABLES, type LakeTableDefinition } from '../shared/lake-tables';
import type { Pseudonym, Pseudonymiser } from '../shared/pseudonymisation';

/** What the operator named, as given on the command line (raw ids: never stored). */
export type ErasureSelector =
  | { readonly kind: 'subject'; readonly userId: string }
  | { readonly kind: 'session'; readonly sessionId: string }
  | { readonly kind: 'trace-ids'; readonly traceIds: readonly string[] };

/** What the lake is searched by: pseudonyms and trace ids only. */
export type ErasureTarget =
  | { readonly kind: 'subject'; readonly subjectKey: Pseudonym }
  | { readonly kind: 'session'; readonly sessionKey: Pseudonym }
  | { readonly kind: 'trace-ids'; readonly traceIds: readonly string[] };

/** Most trace ids one request may name (the predicate is an IN list). */
export const MAX_TRACE_IDS_PER_REQUEST = 1_000;

/** A request the workflow refuses; the message never quotes the id. */
export class ErasureRequestError extends Error {
  override name = 'ErasureRequestError';
}

const NO_CONTROL_CHARACTERS = /^\P{Cc}+$/u;

function checkOpaqueId(what: string, value: string): void {
  if (value.length === 0 || value.length > MAX_SESSION_ID_CHARS || !NO_CONTROL_CHARACTERS.test(value)) {
    throw new ErasureRequestError(`${what} must be 1 to ${MAX_SESSION_ID_CHARS} characters without control characters, exactly as the producer sent it`);
  }
}

/**
 * The target of a selector, under the stage's pseudonymiser (the same key the gate used, so the
 * pseudonym equals the rows' `subject_key` or `session_id`).
 *
 * @throws ErasureRequestError for an empty, oversized or malformed id
 */
export function erasureTarget(selector: ErasureSelector, pseudonymiser: Pseudonymiser): ErasureTarget {
  switch (selector.kind) {
    case 'subject':
      checkOpaqueId('--subject', selector.userId);
      return { kind: 'subject', subjectKey: pseudonymiser.pseudonymise('subject', selector.userId) };
    case 'session':
      checkOpaqueId('--session', selector.sessionId);
      return { kind: 'session', sessionKey: pseudonymiser.pseudonymise('session', selector.sessionId) };
    case 'trace-ids': {
      const unique = [...new Set(selector.traceIds)];
      if (unique.length === 0) throw new ErasureRequestError('--trace-id needs at least one trace id');
      if (unique.length > MAX_TRACE_IDS_PER_REQUEST) throw new ErasureRequestError(`at most ${MAX_TRACE_IDS_PER_REQUEST} trace ids per request; split it`);
      unique.forEach((id, i) => {
        const violation = identifierViolation(IDENTIFIER_RULES['trace-id'], id);
        if (violation !== undefined) throw new ErasureRequestError(`--trace-id number ${i + 1}: ${violation}`);
      });
      return { kind: 'trace-ids', traceIds: unique.sort() };
    }
  }
}

/** The key the ledger files a request under: what it erases, never the raw id. */
export function targetKey(target: ErasureTarget): string {
  switch (target.kind) {
    case 'subject':
      return `subject:${target.subjectKey}`;
    case 'session':
      return `session:${target.sessionKey}`;
    case 'trace-ids':
      return `trace-ids:sha256:${createHash('sha256').update(target.traceIds.join('\n')).digest('hex')}`;
  }
}

/** A validated identifier or pseudonym as a SQL string literal (both have no quote characters; checked anyway). */
export function sqlLiteral(value: string): string {
  if (!/^[A-Za-z0-9._:-]+$/.test(value)) throw new ErasureRequestError('refusing to put a value with characters outside letters, digits and . _ : - into SQL');
  return `'${value}'`;
}

function inList(column: string, values: readonly string[]): string {
  return values.length === 0 ? 'false' : `${column} IN (${values.map(sqlLiteral).join(', ')})`;
}

/** What a target reaches in the lake: trace ids, and the (agent, request) pairs of its kept traces. */
export interface ReachedRows {
  readonly traceIds: readonly string[];
  readonly requests: readonly { readonly agentId: string; readonly requestId: string }[];
}

/** The rows of {@link reachedQuery} (columns trace_id, agent_id, request_id) as {@link ReachedRows}. */
export function reachedRows(rows: readonly Record<string, unknown>[]): ReachedRows {
  const traceIds = new Set<string>();
  const requests = new Map<string, { agentId: string; requestId: string }>();
  for (const row of rows) {
    if (typeof row.trace_id === 'string') traceIds.add(row.trace_id);
    if (typeof row.agent_id === 'string' && typeof row.request_id === 'string') requests.set(`${row.agent_id}\n${row.request_id}`, { agentId: row.agent_id, requestId: row.request_id });
  }
  return { traceIds: [...traceIds].sort(), requests: [...requests.values()] };
}

/**
 * The predicate that selects the target's rows in `table`, once what the target reaches in traces and
 * gate_audit is known. Tables with a subject key are matched by it (subject requests) and by trace id
 * (all requests); feedback also by the agent's request id; the rest by trace id.
 */
export function rowPredicate(table: LakeTableDefinition, target: ErasureTarget, reached: ReachedRows, options: { readonly hasSubjectKey?: boolean } = {}): string {
  const entry = SUBJECT_TABLES.find((s) => s.table.name === table.name);
  if (entry === undefined) throw new Error(`no erasure rule for lake table ${table.name}`);
  const byTrace = inList('trace_id', reached.traceIds);
  // Files written before the column existed have no subject_key: their rows are reached by trace id.
  if (entry.by === 'subject_key' && target.kind === 'subject' && options.hasSubjectKey !== false) return `(subject_key = ${sqlLiteral(target.subjectKey)} OR ${byTrace})`;
  if (entry.by === 'trace_or_request_id' && reached.requests.length > 0) {
    const pairs = reached.requests.map((r) => `(${sqlLiteral(r.agentId)}, ${sqlLiteral(r.requestId)})`).join(', ');
    return `(${byTrace} OR (agent_id, request_id) IN (${pairs}))`;
  }
  return byTrace;
}

/**
 * The query that lists what a target reaches: trace ids of the rows of traces and gate_audit that name
 * the subject, the session or the trace ids, with the agent and request ids of the kept ones.
 */
export function reachedQuery(target: ErasureTarget, tables: { readonly traces: string; readonly gateAudit: string }): string {
  const kept = `SELECT trace_id, agent_id, request_id FROM ${tables.traces}`;
  const discarded = `SELECT trace_id, agent_id, CAST(NULL AS VARCHAR) AS request_id FROM ${tables.gateAudit}`;
  switch (target.kind) {
    case 'subject': {
      const key = sqlLiteral(target.subjectKey);
      return `${kept} WHERE subject_key = ${key} UNION ${discarded} WHERE subject_key = ${key}`;
    }
    case 'session':
      // gate_audit rows carry no session: a discarded trace of the session is erased by its subject or trace id.
      return `${kept} WHERE session_id = ${sqlLiteral(target.sessionKey)}`;
    case 'trace-ids': {
      const ids = target.traceIds.map(sqlLiteral).join(', ');
      // Named ids not in the lake are still erased from the tables keyed by trace id (judgments, reviews, feedback).
      return `${kept} WHERE trace_id IN (${ids}) UNION ${discarded} WHERE trace_id IN (${ids}) UNION SELECT trace_id, CAST(NULL AS VARCHAR) AS agent_id, CAST(NULL AS VARCHAR) AS request_id FROM (VALUES ${target.traceIds.map((id) => `(${sqlLiteral(id)})`).join(', ')}) AS named(trace_id)`;
    }
  }
}
