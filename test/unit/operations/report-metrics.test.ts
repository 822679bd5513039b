/**
 * The daily reports' metrics (lambdas/operations/report-metrics.ts): the EMF documents Powertools prints,
 * read back as CloudWatch would: which series, with which dimensions and values, and which figures get
 * no series (unlisted agents' scores, unlisted models, agents without a report).
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { UNLISTED_AGENT } from '../../../lambdas/gate-score/publish-metrics';
import type { ConfidenceScore } from '../../../lambdas/operations/confidence';
import type { RegressionReport } from '../../../lambdas/operations/regression';
import { publishReportMetrics, regressionsPerSeries, REPORT_METRIC } from '../../../lambdas/operations/report-metrics';

const NAMESPACE = 'Ns';

function report(target: string, regressed: number): RegressionReport {
  const regression = { dimension: 'error_rate', baseline: 0.01, current: 0.1, delta_pp: 9, affected_trace_ids: [], hypothesized_cause: 'no change in serving' } as const;
  return { target, window: { baseline: '2026-11-06/2026-11-27', current: '2026-11-27/2026-12-04' }, regressions: Array.from({ length: regressed }, () => regression) };
}

function score(agent: string, model: string, value: number): ConfidenceScore {
  return { agent_id: agent, model, score: value, global_score: 0.7, observed_rate: value, feedback_count: 60, weight: 1, idle_days: 0, divergence_pp: 0, needs_review: false, last_feedback_at: '2026-12-03T00:00:00.000Z' };
}

/** One printed metric: its name, value and the dimensions of its document. */
interface Printed {
  readonly name: string;
  readonly value: unknown;
  readonly dimensions: Record<string, unknown>;
}

type EmfDocument = Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };

function printed(publish: (metrics: Metrics) => void): Printed[] {
  const lines: string[] = [];
  const saved = { dev: process.env.POWERTOOLS_DEV, disabled: process.env.POWERTOOLS_METRICS_DISABLED };
  const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  try {
    // Dev mode prints EMF through the global console; it disables metrics unless told not to.
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    publish(new Metrics({ namespace: NAMESPACE, serviceName: 'operating-reports' }));
  } finally {
    spy.mockRestore();
    for (const [name, value] of [['POWERTOOLS_DEV', saved.dev], ['POWERTOOLS_METRICS_DISABLED', saved.disabled]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return lines.flatMap((line) => {
    const doc = JSON.parse(line) as EmfDocument;
    return doc._aws.CloudWatchMetrics.flatMap((directive) => {
      expect(directive.Namespace).toBe(NAMESPACE);
      expect(directive.Dimensions).toHaveLength(1);
      const dimensions = Object.fromEntries(directive.Dimensions[0]!.map((d) => [d, doc[d]]));
      return directive.Metrics.map((m) => ({ name: m.Name, value: doc[m.Name], dimensions }));
    });
  });
}

describe('regressionsPerSeries', () => {
  test('keeps listed agents, sums every other agent into unlisted, and has no entry for an agent without a report', () => {
    const counts = regressionsPerSeries([report('chat', 4), report('ide', 0), report('stranger-1', 1), report('stranger-2', 2)], new Set(['chat', 'ide', 'quiet']));
    expect([...counts]).toEqual([
      ['chat', 4],
      ['ide', 0],
      [UNLISTED_AGENT, 3],
    ]);
  });
});

describe('publishReportMetrics', () => {
  const listed = { agents: new Set(['chat', 'ide']), models: new Set(['qwen3-4b']) };
  const figures = {
    regressions: [report('chat', 4), report('ide', 0), report('stranger', 2)],
    confidence: [score('chat', 'qwen3-4b', 0.62), score('ide', 'qwen3-4b', 0.91), score('ide', 'someone-elses-model', 0.5), score('stranger', 'qwen3-4b', 0.4)],
  };

  test('prints Regressions per agent series and ConfidenceScore per listed agent x listed model, with exactly Stage, Agent (and Model)', () => {
    expect(printed((metrics) => publishReportMetrics(metrics, 'dev', figures, listed))).toEqual([
      { name: REPORT_METRIC.regressions, value: 4, dimensions: { Stage: 'dev', Agent: 'chat' } },
      // "No regression detected" is a value, not a gap.
      { name: REPORT_METRIC.regressions, value: 0, dimensions: { Stage: 'dev', Agent: 'ide' } },
      { name: REPORT_METRIC.regressions, value: 2, dimensions: { Stage: 'dev', Agent: UNLISTED_AGENT } },
      { name: REPORT_METRIC.confidence, value: 0.62, dimensions: { Stage: 'dev', Agent: 'chat', Model: 'qwen3-4b' } },
      { name: REPORT_METRIC.confidence, value: 0.91, dimensions: { Stage: 'dev', Agent: 'ide', Model: 'qwen3-4b' } },
    ]);
  });

  test('prints nothing for a day without reports', () => {
    expect(printed((metrics) => publishReportMetrics(metrics, 'dev', { regressions: [], confidence: [] }, listed))).toEqual([]);
  });
});
