/**
 * The gate-and-score path for one Firehose batch, independent of Lambda and AWS: decode, normalise,
 * de-duplicate, gate (region, consent, confidentiality, then PII), score, and route each record.
 *
 *   malformed record            -> ProcessingFailed (Firehose keeps it in the encrypted error output)
 *   repeat of a trace id        -> Dropped (the first copy is the one written)
 *   discarded by a gate         -> Ok, routed to `gate_audit` as a content-free row
 *   kept                        -> Ok, routed to `traces` as a masked, scored row
 *
 * What leaves this function never carries text that skipped the PII checks:
 * - identifiers were validated by the schema gate (identifiers.ts) before any row exists;
 * - a producer's session id and user id are replaced by their keyed pseudonyms right after
 *   normalisation, before the gates, the scan, the rows or the diagnostics see the trace;
 * - with `hashAgentIds`, both rows carry the agent id's keyed pseudonym (the metrics count the id itself:
 *   declared agents keep their series, the rest are folded into `unlisted`);
 * - every reason (audit column, metric dimension, diagnostic) passes `safeReason`;
 * - every row is checked column by column against its table definition (row-guard.ts) as it is built.
 */
import type { PiiEntityDetector, Sleep } from '../shared/ports';
import { agentPseudonym } from '../shared/agent-pseudonyms';
import type { Pseudonym, Pseudonymiser } from '../shared/pseudonymisation';
import { countDiscard, countDuplicate, countFailure, countKept, countOperating, countTraceIn, newBatchReport, type BatchReport } from './batch-report';
import { decodeRecord, okRecord, type FirehoseInputRecord, type FirehoseOutputRecord, type IcebergRoute } from './firehose-records';
import type { GateConfig } from './gate-config';
import { checkConfidentiality, type TrainingScope } from './gates/confidentiality-gate';
import { checkConsent } from './gates/consent-gate';
import { checkRegion } from './gates/region-gate';
import type { Discard } from './gates/verdict';
import { auditRow, traceRow } from './lake-rows';
import { normalizeRecord } from './normalize';
import { scanAndMaskTraces, type PiiScanRequest } from './pii/pii-scan';
import { IDENTIFIER_RULES, identifierViolation } from './identifiers';
import { safeReason } from './reasons';
import { RowGuardError } from './row-guard';
import { scoreTrace } from './reward/score';
import { requestCostUsd } from '../operations/cost';
import type { Trace, TraceFormat } from './trace';
import type { ConfidentialityLevel } from '../../config/schema';

export interface GateDependencies {
  readonly config: GateConfig;
  readonly detector: PiiEntityDetector;
  /** Keyed pseudonyms under the stage's pseudonymisation key (session ids, subject keys). */
  readonly pseudonymiser: Pseudonymiser;
  /** The clock stamped on rows (`gated_at`, `discarded_at`). */
  readonly now: () => Date;
  readonly sleep?: Sleep;
}

/** Per-record diagnostics for logs: never content, only validated ids and checked reasons. */
export interface RecordDiagnostic {
  readonly recordId: string;
  readonly traceId?: string;
  readonly result: FirehoseOutputRecord['result'];
  readonly table?: string;
  readonly reason?: string;
}

export interface BatchOutcome {
  readonly records: FirehoseOutputRecord[];
  readonly report: BatchReport;
  readonly diagnostics: RecordDiagnostic[];
}

interface Candidate {
  readonly index: number;
  readonly record: FirehoseInputRecord;
  readonly trace: Trace;
  /** The pseudonym of the producer's session id; the raw id is not kept anywhere. */
  readonly session: Pseudonym | null;
  /** The pseudonym of the producer's user id (the subject key); the raw id is not kept anywhere. */
  readonly subject: Pseudonym | null;
  readonly format: TraceFormat;
  readonly confidentiality: ConfidentialityLevel;
  readonly scope: TrainingScope;
}

/**
 * The trace id as diagnostics may carry it: the schema gate validated it already, and this checks it
 * again at the point where it leaves for the log, like every other value that leaves.
 */
function loggable(traceId: string | undefined): { traceId?: string } {
  return traceId !== undefined && identifierViolation(IDENTIFIER_RULES['trace-id'], traceId) === undefined ? { traceId } : {};
}

/** Runs the cheap local gates in order; the first that discards decides the reason. */
function localGates(trace: Trace, config: GateConfig): Discard | { confidentiality: ConfidentialityLevel; scope: TrainingScope } {
  const region = checkRegion(trace, config.dataBoundary);
  if (region !== undefined) return region;
  const consent = checkConsent(trace);
  if (consent !== undefined) return consent;
  const confidentiality = checkConfidentiality(trace);
  if (!confidentiality.kept) return confidentiality.discard;
  return { confidentiality: confidentiality.level, scope: confidentiality.scope };
}

/** Gates and scores a batch. Every input record gets exactly one output record, in input order. */
export async function processBatch(input: readonly FirehoseInputRecord[], deps: GateDependencies): Promise<BatchOutcome> {
  const { config } = deps;
  const now = deps.now();
  const report = newBatchReport(input.length);
  const output: Array<FirehoseOutputRecord | undefined> = new Array(input.length);
  const diagnostics: RecordDiagnostic[] = [];
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  const tracesRoute: IcebergRoute = { destinationDatabaseName: config.databaseName, destinationTableName: config.tracesTable, operation: 'insert' };
  const auditRoute: IcebergRoute = { destinationDatabaseName: config.databaseName, destinationTableName: config.auditTable, operation: 'insert' };
  /** The trace as its rows see it: the agent id replaced by its pseudonym when the stage stores pseudonyms. */
  const forRow = <T extends Trace>(trace: T): T => (config.hashAgentIds === true ? { ...trace, agent_id: agentPseudonym(deps.pseudonymiser, trace.agent_id) } : trace);

  /** A record that cannot be written: counted, logged with a checked reason, kept raw by Firehose only. */
  const fail = (index: number, record: FirehoseInputRecord, reason: string, traceId?: string): void => {
    const safe = safeReason(reason);
    countFailure(report, safe);
    output[index] = { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
    diagnostics.push({ recordId: record.recordId, ...loggable(traceId), result: 'ProcessingFailed', reason: `schema: ${safe}` });
  };

  const discard = (index: number, record: FirehoseInputRecord, trace: Trace, subject: Pseudonym | null, found: Discard): void => {
    const verdict: Discard = { gate: found.gate, reason: safeReason(found.reason) };
    let row;
    try {
      row = auditRow(forRow(trace), verdict, config.dataBoundary, now, subject);
    } catch (error) {
      if (error instanceof RowGuardError) return fail(index, record, error.reason, trace.trace_id);
      throw error;
    }
    countDiscard(report, trace, verdict);
    output[index] = okRecord(record.recordId, row, auditRoute);
    diagnostics.push({ recordId: record.recordId, ...loggable(trace.trace_id), result: 'Ok', table: config.auditTable, reason: `${verdict.gate}: ${verdict.reason}` });
  };

  input.forEach((record, index) => {
    const decoded = decodeRecord(record.data);
    const normalised = decoded.ok ? normalizeRecord(decoded.value) : { ok: false as const, reason: decoded.reason };
    if (!normalised.ok) return fail(index, record, normalised.reason);
    // The raw session and user ids go no further than this line: only their pseudonyms travel with the trace.
    const { session_id: sessionId, user_id: userId, ...trace } = normalised.trace;
    const session = sessionId === undefined ? null : deps.pseudonymiser.pseudonymise('session', sessionId);
    const subject = userId === undefined ? null : deps.pseudonymiser.pseudonymise('subject', userId);
    if (seen.has(trace.trace_id)) {
      countDuplicate(report);
      output[index] = { recordId: record.recordId, result: 'Dropped', data: record.data };
      diagnostics.push({ recordId: record.recordId, ...loggable(trace.trace_id), result: 'Dropped', reason: 'duplicate: trace id already in this batch' });
      return;
    }
    seen.add(trace.trace_id);
    countTraceIn(report, trace);
    const verdict = localGates(trace, config);
    if ('gate' in verdict) discard(index, record, trace, subject, verdict);
    else candidates.push({ index, record, trace, session, subject, format: normalised.format, ...verdict });
  });

  // PII last: only traces every cheaper gate kept are sent to the scanner (less cost, less data in flight).
  const requests: PiiScanRequest[] = candidates.map((c) => ({ key: c.record.recordId, trace: c.trace }));
  const scans = await scanAndMaskTraces(requests, { detector: deps.detector, config: config.pii, ...(deps.sleep ? { sleep: deps.sleep } : {}) });

  candidates.forEach((candidate, i) => {
    const { index, record } = candidate;
    const scan = scans[i];
    if (scan === undefined || scan.key !== record.recordId) {
      // The scanner broke its one-outcome-per-request contract: fail closed for this trace.
      discard(index, record, candidate.trace, candidate.subject, { gate: 'pii', reason: 'pii_scan_failed: no scan outcome for this trace' });
      return;
    }
    if (scan.status === 'discarded') {
      discard(index, record, candidate.trace, candidate.subject, { gate: 'pii', reason: scan.reason });
      return;
    }
    const sloMs = config.agentSlosMs[scan.trace.agent_id] ?? config.defaultLatencySloMs;
    const reward = scoreTrace(scan.trace, config.rewardPolicy, sloMs);
    const price = config.modelPrices[scan.trace.model.name];
    const costUsd = scan.trace.usage.cost_usd ?? (price === undefined ? null : requestCostUsd(price, scan.trace.usage.input_tokens, scan.trace.usage.output_tokens));
    let row;
    try {
      row = traceRow(
        {
          masked: forRow(scan.trace),
          session: candidate.session,
          subject: candidate.subject,
          format: candidate.format,
          boundary: config.dataBoundary,
          confidentiality: candidate.confidentiality,
          scope: candidate.scope,
          language: scan.language,
          // The detector's own name, so a row scanned by a simulated detector says so.
          scanner: scan.scanner === 'comprehend' ? deps.detector.name : scan.scanner,
          entitiesMasked: scan.entitiesMasked,
          reward,
          costUsd,
        },
        now,
      );
    } catch (error) {
      if (error instanceof RowGuardError) return fail(index, record, error.reason, scan.trace.trace_id);
      throw error;
    }
    countKept(report, scan.trace, reward);
    countOperating(report, scan.trace.agent_id, scan.trace.latency_ms, costUsd);
    output[index] = okRecord(record.recordId, row, tracesRoute);
    diagnostics.push({ recordId: record.recordId, ...loggable(scan.trace.trace_id), result: 'Ok', table: config.tracesTable });
  });

  const records = output.map((record, index) => {
    if (record !== undefined) return record;
    // Unreachable by construction; kept so a future edit cannot silently lose a record.
    const recordId = input[index]?.recordId ?? `missing-${index}`;
    countFailure(report, 'internal_error: record was not processed');
    return { recordId, result: 'ProcessingFailed' as const, data: input[index]?.data ?? '' };
  });
  return { records, report, diagnostics };
}
