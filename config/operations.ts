/**
 * How operators run the loop per agent: latency SLO percentiles, what tokens and serving cost per model,
 * the cost-anomaly alarm, the daily regression report's threshold and windows, and the confidence scores'
 * decay and blending. Part of the stage configuration (`operations`); validated with it.
 */
import * as z from '../lambdas/shared/zod-mini';

/** The latency percentiles an agent's SLO may name (CloudWatch extended statistics). */
export const SLO_PERCENTILES = ['p50', 'p90', 'p95', 'p99'] as const;
export type SloPercentile = (typeof SLO_PERCENTILES)[number];

/**
 * Builds a schema when the module loads, in a call esbuild may drop when nothing reads the result.
 * A bundle that needs only {@link modelPriceSchema} (the gate prices traces with it) would otherwise
 * keep every schema below: esbuild must assume a plain zod call has side effects.
 */
const schema = /* @__NO_SIDE_EFFECTS__ */ <T>(build: () => T): T => build();

const modelName = schema(() => z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'must be a model name as traces carry it (model.name)')));

/** What one model's traffic costs: tokens at list price plus the serving compute per request. */
export const modelPriceSchema = z.strictObject({
  inputPer1kTokensUsd: z.number().check(z.nonnegative()),
  outputPer1kTokensUsd: z.number().check(z.nonnegative()),
  /** The serving compute one request costs (instance hours / requests served), added to the tokens' cost. */
  servingPerRequestUsd: z.number().check(z.nonnegative()),
});
export type ModelPrice = z.infer<typeof modelPriceSchema>;

export const regressionSettingsSchema = schema(() =>
  z.strictObject({
    /** A metric this many percentage points worse than its baseline window is a regression (5 by default). */
    thresholdPoints: z.number().check(z.positive(), z.lte(100)),
    /** The current window: the days before the report's end. */
    currentWindowDays: z.number().check(z.int(), z.positive(), z.lte(90)),
    /** The baseline window: the days before the current window. */
    baselineWindowDays: z.number().check(z.int(), z.positive(), z.lte(365)),
    /** Fewer requests than this in either window: the agent's dimensions are not compared (noise). */
    minRequests: z.number().check(z.int(), z.positive()),
    /** At most this many affected trace ids are listed per regression. */
    maxAffectedTraceIds: z.number().check(z.int(), z.positive(), z.lte(1000)),
  }),
);
export type RegressionSettings = z.infer<typeof regressionSettingsSchema>;

export const confidenceSettingsSchema = schema(() =>
  z.strictObject({
    /** Share of the score's distance from the prior lost per day without feedback (0.1 = 10 %). */
    decayPerIdleDay: z.number().check(z.gte(0), z.lte(1)),
    /** Feedback events after which the agent x model score stands on its own (`weight = min(1, n / this)`). */
    fullWeightFeedback: z.number().check(z.int(), z.positive()),
    /** A blended score this many points from the global score is logged for human review. */
    divergenceReviewPoints: z.number().check(z.positive(), z.lte(100)),
  }),
);
export type ConfidenceSettings = z.infer<typeof confidenceSettingsSchema>;

export const operationsSchema = schema(() =>
  z.strictObject({
    /** Token and serving prices per model name; a trace of an unpriced model keeps cost_usd null. */
    modelPrices: z.record(modelName, modelPriceSchema),
    /**
     * Alarm when an agent's daily cost rises above its expected value plus this many standard deviations
     * (a CloudWatch anomaly detection band, trained on the metric's own history).
     */
    costAnomalyStdDevs: z.number().check(z.positive(), z.lte(10)),
    regression: regressionSettingsSchema,
    confidence: confidenceSettingsSchema,
    /** When the daily report workflow runs (EventBridge Scheduler expression, schedules.timezone; off unless schedules.enabled). */
    reportSchedule: z.string().check(z.regex(/^(cron|rate)\(.+\)$/, 'must be an EventBridge Scheduler expression such as cron(0 5 * * ? *)')),
  }),
);
export type OperationsConfig = z.infer<typeof operationsSchema>;

/** An agent's latency SLO as the alarms and the reports read it. */
export interface AgentLatencySlo {
  readonly agentId: string;
  readonly percentile: SloPercentile;
  readonly targetMs: number;
}

/**
 * The SLO of every listed agent: its own target and percentile (p95 when it names none, the percentile
 * the reward's latency component was always read at).
 */
export function agentSlos(agents: ReadonlyArray<{ readonly id: string; readonly latencySloMs: number; readonly latencySloPercentile?: SloPercentile | undefined }>): AgentLatencySlo[] {
  return agents.map((a) => ({ agentId: a.id, percentile: a.latencySloPercentile ?? 'p95', targetMs: a.latencySloMs }));
}
