import { deltaPoints, hypothesizedCause, isRegression, isRegressionReport, REGRESSION_DIMENSIONS, regressionReport, type RegressionDimension, type RegressionInput, type WindowMetrics } from '../../../lambdas/operations/regression';

const samples = (n: number) => Object.fromEntries(REGRESSION_DIMENSIONS.map((d) => [d, n])) as Record<RegressionDimension, number>;

const steady: WindowMetrics = {
  requests: 100,
  faithfulness: 0.9,
  positive_feedback_rate: 0.85,
  error_rate: 0.02,
  latency_percentile: 400,
  cost_per_request: 0.001,
  misroute_rate: 0.1,
  samples: samples(100),
};

function input(current: Partial<WindowMetrics>, overrides: Partial<RegressionInput> = {}): RegressionInput {
  return {
    agentId: 'chat-assistant',
    window: { baseline: '2026-10-01T00:00:00.000Z/2026-10-29T00:00:00.000Z', current: '2026-10-29T00:00:00.000Z/2026-11-05T00:00:00.000Z' },
    baseline: steady,
    current: { ...steady, ...current },
    affected: { error_rate: ['t-1', 't-2', 't-3'] },
    servingMix: [],
    thresholdPoints: 5,
    minRequests: 20,
    maxAffectedTraceIds: 2,
    ...overrides,
  };
}

describe('regression report', () => {
  it('finds a rate 5 points worse in the bad direction, not 4.99, and names the affected traces', () => {
    expect(regressionReport(input({ error_rate: 0.0699 })).regressions).toEqual([]);
    const report = regressionReport(input({ error_rate: 0.07 }));
    expect(report.regressions).toEqual([expect.objectContaining({ dimension: 'error_rate', baseline: 0.02, current: 0.07, delta_pp: 5, affected_trace_ids: ['t-1', 't-2'] })]);
    expect(isRegressionReport(report)).toBe(true);
  });

  it('treats falling faithfulness and feedback as worse, rising as better', () => {
    expect(regressionReport(input({ faithfulness: 0.84 })).regressions.map((r) => r.dimension)).toEqual(['faithfulness']);
    expect(regressionReport(input({ faithfulness: 0.99, positive_feedback_rate: 0.99 })).regressions).toEqual([]);
    expect(regressionReport(input({ positive_feedback_rate: 0.7 })).regressions[0]?.delta_pp).toBe(-15);
  });

  it('compares latency and cost in percent of the baseline', () => {
    expect(deltaPoints('latency_percentile', 400, 440)).toBe(10);
    expect(isRegression('latency_percentile', 10, 5)).toBe(true);
    expect(isRegression('cost_per_request', -10, 5)).toBe(false);
    expect(regressionReport(input({ latency_percentile: 418 })).regressions).toEqual([]);
    expect(regressionReport(input({ cost_per_request: 0.0011 })).regressions.map((r) => r.dimension)).toEqual(['cost_per_request']);
  });

  it('honours a configured threshold', () => {
    expect(regressionReport(input({ error_rate: 0.09 }, { thresholdPoints: 10 })).regressions).toEqual([]);
  });

  it('does not compare a dimension measured on too few requests, or missing in a window: no regression detected is a report too', () => {
    const report = regressionReport(input({ error_rate: 0.5, samples: { ...samples(100), error_rate: 19 } }));
    expect(report).toEqual({ target: 'chat-assistant', window: expect.any(Object), regressions: [] });
    expect(isRegressionReport(report)).toBe(true);
    expect(regressionReport(input({ faithfulness: null })).regressions).toEqual([]);
    expect(regressionReport(input({}, { baseline: undefined })).regressions).toEqual([]);
  });

  it('hypothesises a model version that took over the current window, else says nothing in serving changed', () => {
    const mix = [
      { window: 'baseline' as const, model: 'qwen3-4b', model_version: 'v1', requests: 100 },
      { window: 'current' as const, model: 'qwen3-4b', model_version: 'v1', requests: 10 },
      { window: 'current' as const, model: 'qwen3-4b', model_version: 'v2', requests: 30 },
    ];
    expect(hypothesizedCause('error_rate', mix)).toBe('hypothesis: qwen3-4b version v2 serves 75 % of the current window against 0 % of the baseline; its error rate is the first thing to check');
    expect(hypothesizedCause('error_rate', mix.slice(0, 2))).toMatch(/^hypothesis: no change in the serving model versions/);
  });

  it('refuses anything but the exact report shape', () => {
    const good = regressionReport(input({ error_rate: 0.5 }));
    expect(isRegressionReport(good)).toBe(true);
    expect(isRegressionReport({ ...good, extra: 1 })).toBe(false);
    expect(isRegressionReport({ ...good, regressions: [{ ...good.regressions[0], dimension: 'vibes' }] })).toBe(false);
    expect(isRegressionReport({ ...good, window: '7d' })).toBe(false);
  });
});
