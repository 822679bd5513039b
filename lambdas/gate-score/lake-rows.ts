/**
 * Builds the rows Firehose writes into the Iceberg tables (see lambdas/shared/lake-tables.ts for the
 * column definitions; a unit test keeps the two in step). Timestamps are epoch microseconds, which is
 * what Firehose's Iceberg destination expects for timestamp columns.
 */
import type { DataBoundary } from '../../config/boundaries';
import type { ConfidentialityLevel } from '../../config/schema';
import type { TrainingScope } from './gates/confidentiality-gate';
import type { Discard } from './gates/verdict';
import type { Reward, RewardComponents } from './reward/score';
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
  session_id: string | null;
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
}

export interface GateAuditRow {
  trace_id: string;
  gate: string;
  reason: string;
  discarded_at: number;
  agent_id: string | null;
  model: string | null;
  data_boundary: DataBoundary;
}

/** Everything known about a kept trace once it has passed every gate and been scored. */
export interface KeptTrace {
  readonly masked: Trace;
  readonly format: TraceFormat;
  readonly boundary: DataBoundary;
  readonly confidentiality: ConfidentialityLevel;
  readonly scope: TrainingScope;
  readonly language: string;
  readonly scanner: string;
  readonly entitiesMasked: number;
  readonly reward: Reward;
}

/** The lake row of a kept trace. Only called after the consent gate, hence `consent: true`. */
export function traceRow(kept: KeptTrace, gatedAt: Date): TraceLakeRow {
  const t = kept.masked;
  return {
    trace_id: t.trace_id,
    ts: toEpochMicros(new Date(t.timestamp)),
    agent_id: t.agent_id,
    request_id: t.request_id ?? null,
    session_id: t.session_id ?? null,
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
    cost_usd: t.usage.cost_usd ?? null,
    route_tier: t.route?.tier ?? null,
    misrouted: t.route?.misrouted ?? null,
    pii_scanner: kept.scanner,
    pii_entities_masked: kept.entitiesMasked,
    reward: kept.reward.reward,
    reward_components: kept.reward.components,
    reward_policy_version: kept.reward.policyVersion,
    source_format: kept.format,
    gated_at: toEpochMicros(gatedAt),
  };
}

/** The content-free audit row of a discarded trace: ids, gate, reason and time, nothing the user wrote. */
export function auditRow(trace: Trace, discard: Discard, boundary: DataBoundary, at: Date): GateAuditRow {
  return {
    trace_id: trace.trace_id,
    gate: discard.gate,
    reason: discard.reason,
    discarded_at: toEpochMicros(at),
    agent_id: trace.agent_id,
    model: trace.model.name,
    data_boundary: boundary,
  };
}
