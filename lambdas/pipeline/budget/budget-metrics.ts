/**
 * The GPU budget's CloudWatch metrics (EMF through Powertools), published by both budget steps so the
 * 80 % alarm sees the month's usage when a run is proposed and again when its hours are booked.
 *
 * One dimension set, `Stage` alone: the check and record functions have different service names,
 * and Powertools adds `service` to every metric by default, which would split one stage's usage into
 * two series the alarm would have to combine. Each metric is therefore emitted through a single-metric
 * instance whose default dimensions are cleared.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';

/** Metric names: a contract with the budget alarm and the dashboard. */
export const BUDGET_METRIC = {
  /** Month's usage / ceiling, 0-1 (alarm when >= gpuBudget.alarmAtFraction). */
  usedFraction: 'GpuBudgetUsedFraction',
  /** Month's usage in GPU-hours. */
  usedGpuHours: 'GpuHoursUsed',
  /** The ceiling in GPU-hours, so a dashboard can draw the line. */
  ceilingGpuHours: 'GpuHoursCeiling',
  /** GPU-hours of one job of a run (training or eval) as it is booked (record steps only). */
  runGpuHours: 'RunGpuHours',
} as const;

/** The dimension of every budget metric. */
export const BUDGET_DIMENSION = { stage: 'Stage' } as const;

/** A month's usage of a stage. */
export interface BudgetFigures {
  readonly stage: string;
  readonly usedGpuHours: number;
  readonly ceilingGpuHours: number;
  /** Set by the record steps: the job just booked. */
  readonly runGpuHours?: number;
}

function emit(metrics: Metrics, stage: string, name: string, value: number): void {
  const single = metrics.singleMetric();
  single.clearDefaultDimensions();
  single.addDimension(BUDGET_DIMENSION.stage, stage);
  // A single-metric instance flushes its EMF document on addMetric.
  single.addMetric(name, MetricUnit.NoUnit, value);
}

/** Publishes the month's usage (and the run's hours, when given) with the `Stage` dimension only. */
export function publishBudgetMetrics(metrics: Metrics, figures: BudgetFigures): void {
  emit(metrics, figures.stage, BUDGET_METRIC.usedFraction, figures.usedGpuHours / figures.ceilingGpuHours);
  emit(metrics, figures.stage, BUDGET_METRIC.usedGpuHours, figures.usedGpuHours);
  emit(metrics, figures.stage, BUDGET_METRIC.ceilingGpuHours, figures.ceilingGpuHours);
  if (figures.runGpuHours !== undefined) emit(metrics, figures.stage, BUDGET_METRIC.runGpuHours, figures.runGpuHours);
}
