/**
 * The per-agent regression report: each dimension of the current window against the baseline window;
 * a dimension that moved the configured number of points the wrong way is a regression. Pure: the
 * figures come from the lake (sql/agent-window-metrics.sql), the report is JSON in one fixed shape:
 * `{target, window, regressions: [{dimension, baseline, current, delta_pp, affected_trace_ids,
 * hypothesized_cause}]}`. A report with no regression is a report too (an empty list).
 */

/** The dimensions compared, in report order. */
export const REGRESSION_DIMENSIONS = ['faithfulness', 'positive_feedback_rate', 'error_rate', 'latency_percentile', 'cost_per_request', 'misroute_rate'] as const;
export type RegressionDimension = (typeof REGRESSION_DIMENSIONS)[number];

/**
 * How a dimension is compared. Rates (0..1) move in percentage points; latency and cost are not rates,
 * so their `delta_pp` is the change in percent of the baseline (a p95 from 400 to 440 ms is +10).
 */
const DIRECTION: Readonly<Record<RegressionDimension, { readonly worse: 'lower' | 'higher'; readonly scale: 'rate' | 'relative' }>> = {
  faithfulness: { worse: 'lower', scale: 'rate' },
  positive_feedback_rate: { worse: 'lower', scale: 'rate' },
  error_rate: { worse: 'higher', scale: 'rate' },
  latency_percentile: { worse: 'higher', scale: 'relative' },
  cost_per_request: { worse: 'higher', scale: 'relative' },
  misroute_rate: { worse: 'higher', scale: 'rate' },
};

/** One agent's figures in one window; null where the window has nothing to measure it by. */
export interface WindowMetrics {
  readonly requests: number;
  readonly faithfulness: number | null;
  readonly positive_feedback_rate: number | null;
  readonly error_rate: number | null;
  readonly latency_percentile: number | null;
  readonly cost_per_request: number | null;
  readonly misroute_rate: number | null;
  /** How many requests each dimension was measured on. */
  readonly samples: Readonly<Record<RegressionDimension, number>>;
}

/** What served the agent in a window: model versions and their share of its requests. */
export interface ServingMix {
  readonly window: 'baseline' | 'current';
  readonly model: string;
  readonly model_version: string;
  readonly requests: number;
}

export interface Regression {
  readonly dimension: RegressionDimension;
  readonly baseline: number;
  readonly current: number;
  readonly delta_pp: number;
  readonly affected_trace_ids: readonly string[];
  readonly hypothesized_cause: string;
}

export interface RegressionReport {
  /** The agent the report is about. */
  readonly target: string;
  /** The two windows compared, as ISO 8601 intervals (start/end, end excluded). */
  readonly window: { readonly baseline: string; readonly current: string };
  readonly regressions: readonly Regression[];
}

export interface RegressionInput {
  readonly agentId: string;
  readonly window: RegressionReport['window'];
  readonly baseline: WindowMetrics | undefined;
  readonly current: WindowMetrics | undefined;
  /** Trace ids of the current window that show each dimension's problem, worst first. */
  readonly affected: Readonly<Partial<Record<RegressionDimension, readonly string[]>>>;
  readonly servingMix: readonly ServingMix[];
  readonly thresholdPoints: number;
  /** A dimension measured on fewer requests than this in either window is not compared (noise). */
  readonly minRequests: number;
  readonly maxAffectedTraceIds: number;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The signed change in points (rates) or percent of the baseline (latency, cost); positive = went up. */
export function deltaPoints(dimension: RegressionDimension, baseline: number, current: number): number {
  if (DIRECTION[dimension].scale === 'rate') return round((current - baseline) * 100, 2);
  if (baseline === 0) return current === 0 ? 0 : Infinity;
  return round(((current - baseline) / baseline) * 100, 2);
}

/** Whether a change of `delta` points is a regression of at least `threshold` points in the bad direction. */
export function isRegression(dimension: RegressionDimension, delta: number, threshold: number): boolean {
  return DIRECTION[dimension].worse === 'lower' ? delta <= -threshold : delta >= threshold;
}

/**
 * A first guess at why, for the person who reads the report: a model version that serves a share of the
 * current window it did not serve in the baseline is the usual cause; without one, the report says that
 * nothing changed in serving and points at the traces. A guess, labelled as one.
 */
export function hypothesizedCause(dimension: RegressionDimension, mix: readonly ServingMix[]): string {
  const total = (w: ServingMix['window']) => mix.filter((m) => m.window === w).reduce((sum, m) => sum + m.requests, 0);
  const share = (w: ServingMix['window'], m: ServingMix) => {
    const all = total(w);
    const same = mix.find((x) => x.window === w && x.model === m.model && x.model_version === m.model_version);
    return all === 0 || same === undefined ? 0 : same.requests / all;
  };
  const newVersions = mix
    .filter((m) => m.window === 'current')
    .map((m) => ({ m, rise: share('current', m) - share('baseline', m) }))
    .filter(({ rise }) => rise >= 0.2)
    .sort((a, b) => b.rise - a.rise);
  const top = newVersions[0];
  if (top !== undefined) {
    return `hypothesis: ${top.m.model} version ${top.m.model_version} serves ${Math.round(share('current', top.m) * 100)} % of the current window against ${Math.round(share('baseline', top.m) * 100)} % of the baseline; its ${dimension.replaceAll('_', ' ')} is the first thing to check`;
  }
  return `hypothesis: no change in the serving model versions between the windows; the cause is outside the model (prompt, tools, retrieval, traffic mix): read the affected traces`;
}

/** The report for one agent. A dimension with no figure, or too few requests, in either window is not compared. */
export function regressionReport(input: RegressionInput): RegressionReport {
  const { baseline, current } = input;
  const regressions: Regression[] = [];
  if (baseline !== undefined && current !== undefined) {
    for (const dimension of REGRESSION_DIMENSIONS) {
      const before = baseline[dimension];
      const now = current[dimension];
      if (before === null || now === null) continue;
      if (baseline.samples[dimension] < input.minRequests || current.samples[dimension] < input.minRequests) continue;
      const delta = deltaPoints(dimension, before, now);
      if (!isRegression(dimension, delta, input.thresholdPoints)) continue;
      regressions.push({
        dimension,
        baseline: round(before, 6),
        current: round(now, 6),
        delta_pp: delta,
        affected_trace_ids: (input.affected[dimension] ?? []).slice(0, input.maxAffectedTraceIds),
        hypothesized_cause: hypothesizedCause(dimension, input.servingMix),
      });
    }
  }
  return { target: input.agentId, window: input.window, regressions };
}

/**
 * Checks that a value has exactly the report's shape (keys, types, no extras): what `sial report` and
 * the workflow write, and what subscribers may rely on.
 */
export function isRegressionReport(value: unknown): value is RegressionReport {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const keys = (v: Record<string, unknown>, expected: readonly string[]) => Object.keys(v).sort().join(',') === [...expected].sort().join(',');
  if (!isObject(value) || !keys(value, ['target', 'window', 'regressions']) || typeof value.target !== 'string') return false;
  const window = value.window;
  if (!isObject(window) || !keys(window, ['baseline', 'current']) || typeof window.baseline !== 'string' || typeof window.current !== 'string') return false;
  if (!Array.isArray(value.regressions)) return false;
  return value.regressions.every(
    (r: unknown) =>
      isObject(r) &&
      keys(r, ['dimension', 'baseline', 'current', 'delta_pp', 'affected_trace_ids', 'hypothesized_cause']) &&
      (REGRESSION_DIMENSIONS as readonly unknown[]).includes(r.dimension) &&
      typeof r.baseline === 'number' &&
      typeof r.current === 'number' &&
      typeof r.delta_pp === 'number' &&
      Array.isArray(r.affected_trace_ids) &&
      r.affected_trace_ids.every((id) => typeof id === 'string') &&
      typeof r.hypothesized_cause === 'string',
  );
}
