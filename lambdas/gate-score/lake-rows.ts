/**
 * Builds the rows Firehose writes into the Iceberg tables (see lambdas/shared/lake-tables.ts for the
 * column definitions; a unit test keeps the two in step). Timestamps are epoch microseconds, which is
 * what Firehose's Iceberg destination expects for timestamp columns.
 *
 * Both builders check the finished row against its table definition (row-guard.ts) and throw
 * RowGuardError rather than return a row with a column that holds what it must not.
 */
import type { DataBoundary } from '../../config/boundaries';
import type { ConfidentialityLevel } from '../../config/schema';
import type { TrainingScope } from './gates/confidentiality-gate';
import type { Discard } from './gates/verdict';
import { GATE_AUDIT_TABLE, TRACES_TABLE } from '../shared/lake-tables';
import type { Pseudonym } from '../shared/pseudonymisation';
import type { Reward, RewardComponents } from './reward/score';
import { canonicalUtcMs } from './iso-instant';
import { guardRow } from './row-guard';
import type { Message, ToolCall, Trace, TraceFormat } from './trace';

/** Milliseconds since the epoch -> microseconds. */
export function toEpochMicros(date: Date): number {
  return date.getTime() * 1000;
}

export interface TraceLakeRow {
  trace_id: string;
  ts: number;
  agent_id: string;
  request_id: string | null;
  /** The keyed pseudonym of the producer's session id, never the id itself. */
  session_id: Pseudonym | null;
  model: string;
  model_family: string;
  model_version: string;
  model_variant: string;
  consent: boolean;
  data_region: string;
  data_boundary: DataBoundary;
  confidentiality: ConfidentialityLevel;
  training_scope: TrainingScope;
  language: string;
  input_messages: Message[];
  retrieved_contexts: string[];
  output: string;
  tool_calls: Array<{ name: string; arguments: string; result: string | null; status: ToolCall['status'] }>;
  feedback_outcome: string | null;
  feedback_quality: number | null;
  error: boolean;
  latency_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  route_tier: string | null;
  misrouted: boolean | null;
  pii_scanner: string;
  pii_entities_masked: number;
  reward: number;
  reward_components: RewardComponents;
  reward_policy_version: string;
  source_format: TraceFormat;
  gated_at: number;
  /** The keyed pseudonym of the producer's user id (the data subject), never the id itself. */
  subject_key: Pseudonym | null;
}

export interface GateAuditRow {
  trace_id: string;
  gate: string;
  reason: string;
  discarded_at: number;
  agent_id: string | null;
  model: string | null;
  data_boundary: DataBoundary;
  subject_key: Pseudonym | null;
}

/** Everything known about a kept trace once it has passed every gate and been scored. */
export interface KeptTrace {
  /** The masked trace. Its `session_id`, if any, is ignored: only {@link session} is written. */
  readonly masked: Trace;
  /** The pseudonym of the trace's session id (process-batch.ts computes it right after normalisation). */
  readonly session: Pseudonym | null;
  /** The pseudonym of the trace's user id: the data subject's key. */
  readonly subject: Pseudonym | null;
  readonly format: TraceFormat;
  readonly boundary: DataBoundary;
  readonly confidentiality: ConfidentialityLevel;
  readonly scope: TrainingScope;
  readonly language: string;
  readonly scanner: string;
  readonly entitiesMasked: number;
  readonly reward: Reward;
  /** What the producer reported, else the stage's price of its tokens; null when neither is known (absent: the producer's). */
  readonly costUsd?: number | null;
}

/**
 * The lake row of a kept trace. Only called after the consent gate, hence `consent: true`.
 *
 * @throws RowGuardError when a column would hold what its definition does not allow
 */
export function traceRow(kept: KeptTrace, gatedAt: Date): TraceLakeRow {
  const t = kept.masked;
  const row: TraceLakeRow = {
    trace_id: t.trace_id,
    ts: (canonicalUtcMs(t.timestamp) ?? Date.parse(t.timestamp)) * 1000,
    agent_id: t.agent_id,
    request_id: t.request_id ?? null,
    session_id: kept.session,
    model: t.model.name,
    model_family: t.model.family,
    model_version: t.model.version,
    model_variant: t.model.variant,
    consent: true,
    data_region: t.data_region ?? kept.boundary,
    data_boundary: kept.boundary,
    confidentiality: kept.confidentiality,
    training_scope: kept.scope,
    language: kept.language,
    input_messages: t.input_messages,
    retrieved_contexts: t.retrieved_contexts,
    output: t.output,
    tool_calls: t.tool_calls.map((c) => ({ name: c.name, arguments: c.arguments, result: c.result ?? null, status: c.status })),
    feedback_outcome: t.feedback?.outcome ?? null,
    feedback_quality: t.feedback?.quality ?? null,
    error: t.error,
    latency_ms: t.latency_ms ?? null,
    input_tokens: t.usage.input_tokens ?? null,
    output_tokens: t.usage.output_tokens ?? null,
    cost_usd: kept.costUsd ?? t.usage.cost_usd ?? null,
    route_tier: t.route?.tier ?? null,
    misrouted: t.route?.misrouted ?? null,
    pii_scanner: kept.scanner,
    pii_entities_masked: kept.entitiesMasked,
    reward: kept.reward.reward,
    reward_components: kept.reward.components,
    reward_policy_version: kept.reward.policyVersion,
    source_format: kept.format,
    gated_at: toEpochMicros(gatedAt),
    subject_key: kept.subject,
  };
  guardRow(TRACES_TABLE, row);
  return row;
}

/**
 * The content-free audit row of a discarded trace: ids, gate, reason and time, nothing the user wrote.
 *
 * @throws RowGuardError when a column would hold what its definition does not allow (e.g. a reason
 *   that did not pass `safeReason`)
 */
export function auditRow(trace: Trace, discard: Discard, boundary: DataBoundary, at: Date, subject: Pseudonym | null = null): GateAuditRow {
  const row: GateAuditRow = {
    trace_id: trace.trace_id,
    gate: discard.gate,
    reason: discard.reason,
    discarded_at: toEpochMicros(at),
    agent_id: trace.agent_id,
    model: trace.model.name,
    data_boundary: boundary,
    subject_key: subject,
  };
  guardRow(GATE_AUDIT_TABLE, row);
  return row;
}
