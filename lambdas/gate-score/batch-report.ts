/**
 * What happened to one Firehose batch, aggregated for metrics and the summary log line: counts per
 * result, per gate and reason, and per model variant and per agent the sums the canary alarms need.
 * Sums and counts (not means) are published so CloudWatch metric math can compute exact rates over
 * any period: mean reward = RewardSum / ScoredTraces, misroute rate = MisroutedTraces / RoutedTraces,
 * mean latency = LatencyMsSum / LatencyMeasured.
 */
import { reasonCode, type Discard, type GateName } from './gates/verdict';
import type { Reward } from './reward/score';
import type { Trace } from './trace';

export interface QualityTotals {
  tracesIn: number;
  kept: number;
  discarded: number;
  rewardSum: number;
  scored: number;
  groundednessSum: number;
  groundednessScored: number;
  misrouted: number;
  routed: number;
  errors: number;
  /** Sum and count of latencies of kept traces that report one: mean latency = sum / count. */
  latencyMsSum: number;
  latencyMeasured: number;
}

export interface VariantKey {
  readonly model: string;
  readonly variant: string;
}

export interface BatchReport {
  recordsIn: number;
  /** Ok records written to the traces table. */
  delivered: number;
  /** Ok records written to the audit table instead (a gate discarded the trace). */
  discarded: number;
  /** ProcessingFailed records (malformed input), by reason code. */
  failed: number;
  /** Dropped records: a second copy of a trace id already in this batch. */
  duplicates: number;
  readonly failuresByReason: Map<string, number>;
  /** Key `gate/reason_code`. */
  readonly discardsByGateReason: Map<string, { gate: GateName; reason: string; count: number }>;
  /** Key `model/variant/gate`: which gate drops a variant's traces (reasons are per gate above). */
  readonly discardsByVariantGate: Map<string, VariantKey & { gate: GateName; count: number }>;
  /** Key `agent/gate`. */
  readonly discardsByAgentGate: Map<string, { agent: string; gate: GateName; count: number }>;
  /** Key `model/variant`. */
  readonly byVariant: Map<string, VariantKey & QualityTotals>;
  readonly byAgent: Map<string, { agent: string } & QualityTotals>;
  /** Per agent: every kept trace's latency (published as values, so CloudWatch percentiles work) and the summed cost. */
  readonly operatingByAgent: Map<string, AgentOperatingTotals>;
}

export interface AgentOperatingTotals {
  readonly latenciesMs: number[];
  costUsd: number;
}

function emptyTotals(): QualityTotals {
  return { tracesIn: 0, kept: 0, discarded: 0, rewardSum: 0, scored: 0, groundednessSum: 0, groundednessScored: 0, misrouted: 0, routed: 0, errors: 0, latencyMsSum: 0, latencyMeasured: 0 };
}

export function newBatchReport(recordsIn: number): BatchReport {
  return {
    recordsIn,
    delivered: 0,
    discarded: 0,
    failed: 0,
    duplicates: 0,
    failuresByReason: new Map(),
    discardsByGateReason: new Map(),
    discardsByVariantGate: new Map(),
    discardsByAgentGate: new Map(),
    byVariant: new Map(),
    byAgent: new Map(),
    operatingByAgent: new Map(),
  };
}

function totalsFor(report: BatchReport, trace: Trace): QualityTotals[] {
  const variantKey = `${trace.model.name}/${trace.model.variant}`;
  let variant = report.byVariant.get(variantKey);
  if (variant === undefined) {
    variant = { model: trace.model.name, variant: trace.model.variant, ...emptyTotals() };
    report.byVariant.set(variantKey, variant);
  }
  let agent = report.byAgent.get(trace.agent_id);
  if (agent === undefined) {
    agent = { agent: trace.agent_id, ...emptyTotals() };
    report.byAgent.set(trace.agent_id, agent);
  }
  // A request routed by a trained router also counts for the router's version: the router's canary
  // compares its current and candidate versions on the requests each routed (misroute above all).
  const router = trace.route?.router;
  const routerVariant = trace.route?.router_variant;
  if (router === undefined || routerVariant === undefined) return [variant, agent];
  const routerKey = `${router}/${routerVariant}`;
  let routed = report.byVariant.get(routerKey);
  if (routed === undefined) {
    routed = { model: router, variant: routerVariant, ...emptyTotals() };
    report.byVariant.set(routerKey, routed);
  }
  return routed === variant ? [variant, agent] : [variant, agent, routed];
}

export function countFailure(report: BatchReport, reason: string): void {
  report.failed += 1;
  const code = reasonCode(reason);
  report.failuresByReason.set(code, (report.failuresByReason.get(code) ?? 0) + 1);
}

export function countDuplicate(report: BatchReport): void {
  report.duplicates += 1;
}

/** A well-formed, first-seen trace entered the gates. */
export function countTraceIn(report: BatchReport, trace: Trace): void {
  for (const totals of totalsFor(report, trace)) totals.tracesIn += 1;
}

export function countDiscard(report: BatchReport, trace: Trace, discard: Discard): void {
  report.discarded += 1;
  const code = reasonCode(discard.reason);
  const key = `${discard.gate}/${code}`;
  const entry = report.discardsByGateReason.get(key);
  if (entry === undefined) report.discardsByGateReason.set(key, { gate: discard.gate, reason: code, count: 1 });
  else entry.count += 1;
  for (const totals of totalsFor(report, trace)) totals.discarded += 1;
  const { name: model, variant } = trace.model;
  increment(report.discardsByVariantGate, `${model}/${variant}/${discard.gate}`, { model, variant, gate: discard.gate });
  increment(report.discardsByAgentGate, `${trace.agent_id}/${discard.gate}`, { agent: trace.agent_id, gate: discard.gate });
}

function increment<T extends object>(counts: Map<string, T & { count: number }>, key: string, fields: T): void {
  const entry = counts.get(key);
  if (entry === undefined) counts.set(key, { ...fields, count: 1 });
  else entry.count += 1;
}

/** A trace passed every gate and was scored (quality figures come from kept, masked traces only). */
export function countKept(report: BatchReport, masked: Trace, reward: Reward): void {
  report.delivered += 1;
  for (const totals of totalsFor(report, masked)) {
    totals.kept += 1;
    totals.rewardSum += reward.reward;
    totals.scored += 1;
    if (reward.components.groundedness !== null) {
      totals.groundednessSum += reward.components.groundedness;
      totals.groundednessScored += 1;
    }
    if (masked.route?.misrouted !== undefined) {
      totals.routed += 1;
      if (masked.route.misrouted) totals.misrouted += 1;
    }
    if (masked.error) totals.errors += 1;
    if (masked.latency_ms !== undefined) {
      totals.latencyMsSum += masked.latency_ms;
      totals.latencyMeasured += 1;
    }
  }
}

/** A kept trace's latency and cost, for the per-agent SLO and cost alarms. */
export function countOperating(report: BatchReport, agentId: string, latencyMs: number | undefined, costUsd: number | null): void {
  let totals = report.operatingByAgent.get(agentId);
  if (totals === undefined) {
    totals = { latenciesMs: [], costUsd: 0 };
    report.operatingByAgent.set(agentId, totals);
  }
  if (latencyMs !== undefined) totals.latenciesMs.push(latencyMs);
  if (costUsd !== null) totals.costUsd += costUsd;
}
