/**
 * The rollout's CloudWatch metrics (EMF through Powertools), each with the dimensions `Stage` and
 * `Model` alone: emitted through a single-metric instance without the default `service` dimension, so
 * the alarm Lambda's and the game day's figures land in one series per model that a dashboard or an
 * alarm reads without combining services (as lambdas/pipeline/budget/budget-metrics.ts does).
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';

/** Metric names: a contract with the dashboard and the game-day alarm. */
export const ROLLOUT_METRIC = {
  /** Breach (alarm state change) to verified 100 % current, by the alarm Lambda. */
  rollbackSeconds: 'RollbackSeconds',
  /** The same, measured by a game-day drill. */
  gameDayRollbackSeconds: 'GameDayRollbackSeconds',
  /** Rollbacks by actor (the alarm Lambda or the state machine). */
  rollbacks: 'Rollbacks',
  promotions: 'Promotions',
} as const;

export const ROLLOUT_DIMENSION = { stage: 'Stage', model: 'Model', by: 'By' } as const;

function emit(metrics: Metrics, dimensions: Readonly<Record<string, string>>, name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void {
  const single = metrics.singleMetric();
  single.clearDefaultDimensions();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  // A single-metric instance flushes its EMF document on addMetric.
  single.addMetric(name, unit, value);
}

/** Seconds from breach to verified rollback (alarm Lambda: RollbackSeconds; game day: GameDayRollbackSeconds). */
export function publishRollbackSeconds(metrics: Metrics, name: typeof ROLLOUT_METRIC.rollbackSeconds | typeof ROLLOUT_METRIC.gameDayRollbackSeconds, stage: string, model: string, seconds: number): void {
  emit(metrics, { [ROLLOUT_DIMENSION.stage]: stage, [ROLLOUT_DIMENSION.model]: model }, name, MetricUnit.Seconds, seconds);
}

/** One rollback, by who made it. */
export function publishRollback(metrics: Metrics, stage: string, model: string, by: string): void {
  emit(metrics, { [ROLLOUT_DIMENSION.stage]: stage, [ROLLOUT_DIMENSION.model]: model, [ROLLOUT_DIMENSION.by]: by }, ROLLOUT_METRIC.rollbacks, MetricUnit.Count, 1);
}

/** One promotion. */
export function publishPromotion(metrics: Metrics, stage: string, model: string): void {
  emit(metrics, { [ROLLOUT_DIMENSION.stage]: stage, [ROLLOUT_DIMENSION.model]: model }, ROLLOUT_METRIC.promotions, MetricUnit.Count, 1);
}
