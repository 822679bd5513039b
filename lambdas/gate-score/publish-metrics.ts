/**
 * Publishes a batch report as CloudWatch EMF through Powertools Metrics, one EMF document per
 * dimension set. Per model variant the figures are high-resolution (1 s) because the canary alarms
 * compare candidate and current variants within seconds; per agent and per gate, standard resolution.
 */
import { MetricResolution, MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';

type Resolution = (typeof MetricResolution)[keyof typeof MetricResolution];
import type { BatchReport, QualityTotals } from './batch-report';

/** Metric names: a contract with the dashboards and the canary alarms. */
export const METRIC = {
  recordsIn: 'RecordsIn',
  tracesDelivered: 'TracesDelivered',
  tracesDiscarded: 'TracesDiscarded',
  recordsFailed: 'RecordsFailed',
  duplicatesDropped: 'DuplicatesDropped',
  gateDrops: 'GateDrops',
  tracesIn: 'TracesIn',
  tracesKept: 'TracesKept',
  rewardSum: 'RewardSum',
  scoredTraces: 'ScoredTraces',
  groundednessSum: 'GroundednessSum',
  groundednessScored: 'GroundednessScored',
  misroutedTraces: 'MisroutedTraces',
  routedTraces: 'RoutedTraces',
  errorTraces: 'ErrorTraces',
  latencyMsSum: 'LatencyMsSum',
  latencyMeasured: 'LatencyMeasured',
  /** Per agent: each kept trace's latency as an EMF value (not a sum), so alarms can read p95 or p99. */
  latencyMs: 'LatencyMs',
  /** Per agent: the summed cost of kept traces (producer's, else priced by the gate); the daily cost alarm sums it. */
  costUsd: 'CostUsd',
} as const;

/** The `Variant` dimension values the canary alarms compare; serving tags every trace with one of them. */
export const CANARY_VARIANTS = { current: 'current', candidate: 'candidate' } as const;

/** The `Variant` of traces tagged with any other variant: one shared series (cardinality, as for agents). */
export const OTHER_VARIANT = 'other';

/** Metric dimension names, also a contract with the alarms. */
export const DIMENSION = { model: 'Model', variant: 'Variant', agent: 'Agent', gate: 'Gate', reason: 'Reason', stage: 'Stage' } as const;

function addQuality(metrics: Metrics, totals: QualityTotals, resolution: Resolution): void {
  metrics.addMetric(METRIC.tracesIn, MetricUnit.Count, totals.tracesIn, resolution);
  metrics.addMetric(METRIC.tracesKept, MetricUnit.Count, totals.kept, resolution);
  metrics.addMetric(METRIC.tracesDiscarded, MetricUnit.Count, totals.discarded, resolution);
  metrics.addMetric(METRIC.rewardSum, MetricUnit.NoUnit, totals.rewardSum, resolution);
  metrics.addMetric(METRIC.scoredTraces, MetricUnit.Count, totals.scored, resolution);
  metrics.addMetric(METRIC.groundednessSum, MetricUnit.NoUnit, totals.groundednessSum, resolution);
  metrics.addMetric(METRIC.groundednessScored, MetricUnit.Count, totals.groundednessScored, resolution);
  metrics.addMetric(METRIC.misroutedTraces, MetricUnit.Count, totals.misrouted, resolution);
  metrics.addMetric(METRIC.routedTraces, MetricUnit.Count, totals.routed, resolution);
  metrics.addMetric(METRIC.errorTraces, MetricUnit.Count, totals.errors, resolution);
  metrics.addMetric(METRIC.latencyMsSum, MetricUnit.Milliseconds, totals.latencyMsSum, resolution);
  metrics.addMetric(METRIC.latencyMeasured, MetricUnit.Count, totals.latencyMeasured, resolution);
}

/** The `Agent` dimension of agents the stage does not list: trace producers choose agent ids, and
 * every distinct dimension value is a billed custom metric, so unlisted ones share one series. */
export const UNLISTED_AGENT = 'unlisted';

/** The `Model` of traces of models the stage does not train (the same reason): one shared series. */
export const UNLISTED_MODEL = 'unlisted';

/** The metric series a trace's model and variant fall into: the stage's target models and the canary's two variants as they are, any other value folded. */
export function variantSeries(model: string, variant: string, targetModels: ReadonlySet<string>): { model: string; variant: string } {
  const variants: readonly string[] = Object.values(CANARY_VARIANTS);
  return { model: targetModels.has(model) ? model : UNLISTED_MODEL, variant: variants.includes(variant) ? variant : OTHER_VARIANT };
}

/** Sums per-variant totals by the series they fall into ({@link variantSeries}). */
export function variantTotals(report: BatchReport, targetModels: ReadonlySet<string>): Map<string, { model: string; variant: string } & QualityTotals> {
  const merged = new Map<string, { model: string; variant: string } & QualityTotals>();
  for (const { model, variant, ...totals } of report.byVariant.values()) {
    const series = variantSeries(model, variant, targetModels);
    const key = `${series.model}/${series.variant}`;
    const into = merged.get(key);
    if (into === undefined) merged.set(key, { ...series, ...totals });
    else for (const name of Object.keys(totals) as Array<keyof QualityTotals>) into[name] += totals[name];
  }
  return merged;
}

/** Sums per-agent totals, folding agents outside `knownAgents` into {@link UNLISTED_AGENT}. */
export function agentTotals(report: BatchReport, knownAgents: ReadonlySet<string>): Map<string, QualityTotals> {
  const merged = new Map<string, QualityTotals>();
  for (const { agent, ...totals } of report.byAgent.values()) {
    const key = knownAgents.has(agent) ? agent : UNLISTED_AGENT;
    const into = merged.get(key);
    if (into === undefined) merged.set(key, { ...totals });
    else for (const name of Object.keys(totals) as Array<keyof QualityTotals>) into[name] += totals[name];
  }
  return merged;
}

/** Drops per model variant series and gate (key `model\nvariant\ngate`, folded by {@link variantSeries}). */
export function variantGateDrops(report: BatchReport, targetModels: ReadonlySet<string>): Map<string, number> {
  const merged = new Map<string, number>();
  for (const { model, variant, gate, count } of report.discardsByVariantGate.values()) {
    const series = variantSeries(model, variant, targetModels);
    const key = `${series.model}\n${series.variant}\n${gate}`;
    merged.set(key, (merged.get(key) ?? 0) + count);
  }
  return merged;
}

/** Drops per agent and gate (key `agent\ngate`), agents outside `knownAgents` folded into {@link UNLISTED_AGENT}. */
export function agentGateDrops(report: BatchReport, knownAgents: ReadonlySet<string>): Map<string, number> {
  const merged = new Map<string, number>();
  for (const { agent, gate, count } of report.discardsByAgentGate.values()) {
    const key = `${knownAgents.has(agent) ? agent : UNLISTED_AGENT}\n${gate}`;
    merged.set(key, (merged.get(key) ?? 0) + count);
  }
  return merged;
}

/**
 * Latency values per EMF document: EMF holds at most 100 values of a metric, and Powertools flushes a
 * document by itself on the 100th, so 99 keep each document's flush (and its dimensions) ours.
 */
const LATENCY_VALUES_PER_DOCUMENT = 99;

/** Per agent, each latency as a value (so alarms can read p95 or p99) and the batch's cost as one value. */
function publishAgentOperating(metrics: Metrics, report: BatchReport, knownAgents: ReadonlySet<string>): void {
  const merged = new Map<string, { latenciesMs: number[]; costUsd: number }>();
  for (const [agent, totals] of report.operatingByAgent) {
    const key = knownAgents.has(agent) ? agent : UNLISTED_AGENT;
    const into = merged.get(key) ?? { latenciesMs: [], costUsd: 0 };
    into.latenciesMs.push(...totals.latenciesMs);
    into.costUsd += totals.costUsd;
    merged.set(key, into);
  }
  for (const [agent, totals] of merged) {
    for (let i = 0; i < Math.max(1, totals.latenciesMs.length); i += LATENCY_VALUES_PER_DOCUMENT) {
      metrics.addDimensions({ [DIMENSION.agent]: agent });
      for (const value of totals.latenciesMs.slice(i, i + LATENCY_VALUES_PER_DOCUMENT)) metrics.addMetric(METRIC.latencyMs, MetricUnit.Milliseconds, value);
      if (i === 0) metrics.addMetric(METRIC.costUsd, MetricUnit.NoUnit, totals.costUsd);
      metrics.publishStoredMetrics();
    }
  }
}

/**
 * Emits the per-variant, per-agent and per-gate documents immediately, and leaves the batch totals in
 * the buffer for the `logMetrics` middleware to flush with the invocation.
 */
export function publishBatchMetrics(metrics: Metrics, report: BatchReport, known: { readonly agents: ReadonlySet<string>; readonly targetModels: ReadonlySet<string> }, stage: string): void {
  // Powertools adds `service` to every document by default. The canary alarms and the dashboard read
  // exactly `Model` x `Variant` (and the other sets below): a series with `service` added is another
  // series, and the alarms would never see a datapoint.
  metrics.clearDefaultDimensions();
  for (const totals of variantTotals(report, known.targetModels).values()) {
    metrics.addDimensions({ [DIMENSION.model]: totals.model, [DIMENSION.variant]: totals.variant });
    addQuality(metrics, totals, MetricResolution.High);
    metrics.publishStoredMetrics();
  }
  for (const [agent, totals] of agentTotals(report, known.agents)) {
    metrics.addDimensions({ [DIMENSION.agent]: agent });
    addQuality(metrics, totals, MetricResolution.Standard);
    metrics.publishStoredMetrics();
  }
  publishAgentOperating(metrics, report, known.agents);
  const drops = [
    ...[...report.failuresByReason].map(([reason, count]) => ({ gate: 'schema', reason, count })),
    ...report.discardsByGateReason.values(),
  ];
  for (const drop of drops) {
    metrics.addDimensions({ [DIMENSION.gate]: drop.gate, [DIMENSION.reason]: drop.reason });
    metrics.addMetric(METRIC.gateDrops, MetricUnit.Count, drop.count);
    metrics.publishStoredMetrics();
  }
  // Which gate drops whose traces: per model variant, and per agent (unlisted agents folded as above).
  for (const [key, count] of variantGateDrops(report, known.targetModels)) {
    const [model, variant, gate] = key.split('\n') as [string, string, string];
    metrics.addDimensions({ [DIMENSION.model]: model, [DIMENSION.variant]: variant, [DIMENSION.gate]: gate });
    metrics.addMetric(METRIC.gateDrops, MetricUnit.Count, count);
    metrics.publishStoredMetrics();
  }
  for (const [key, count] of agentGateDrops(report, known.agents)) {
    const [agent, gate] = key.split('\n') as [string, string];
    metrics.addDimensions({ [DIMENSION.agent]: agent, [DIMENSION.gate]: gate });
    metrics.addMetric(METRIC.gateDrops, MetricUnit.Count, count);
    metrics.publishStoredMetrics();
  }
  // The batch totals, flushed by the logMetrics middleware: one series per stage.
  metrics.addDimensions({ [DIMENSION.stage]: stage });
  metrics.addMetric(METRIC.recordsIn, MetricUnit.Count, report.recordsIn);
  metrics.addMetric(METRIC.tracesDelivered, MetricUnit.Count, report.delivered);
  metrics.addMetric(METRIC.tracesDiscarded, MetricUnit.Count, report.discarded);
  metrics.addMetric(METRIC.recordsFailed, MetricUnit.Count, report.failed);
  metrics.addMetric(METRIC.duplicatesDropped, MetricUnit.Count, report.duplicates);
}
