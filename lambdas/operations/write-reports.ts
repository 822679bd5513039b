/**
 * The daily report workflow's work, apart from AWS clients (a SqlEngine and an object store are passed
 * in, so a test runs it on the local lake): the three reports for the day that ends at `end`, written as
 * files under `<reportsPrefix><date>/`, and a summary the workflow notifies on when an agent regressed.
 */
import type { SqlEngine } from '../pipeline/dataset/sql-engine';
import { costReportCsv } from './cost';
import { agentCosts, agentModelConfidence, agentRegressionReports, type OperatingReportSettings } from './operating-reports';
import type { ReportFigures } from './report-metrics';
import type { OperatingReportsConfig } from './report-settings';

/** Where the reports go: anything that stores text at a URI (S3 in AWS, files locally). */
export interface ReportStore {
  putText(uri: string, body: string, contentType?: string): Promise<void>;
}

export interface OperatingReportsResult {
  readonly reportPrefix: string;
  readonly regressedAgents: string[];
  readonly regressions: number;
  /** The notification's text when an agent regressed; empty otherwise. */
  readonly message: string;
}

/** The regression report's latency percentile (see the decision log: p95 for every agent). */
const LATENCY_PERCENTILE = 0.95;
const CONFIDENCE_LOOKBACK_DAYS = 90;

/**
 * `publish` receives the figures once every file is written, so a metric never announces a report that
 * is not in the bucket (the handler publishes them for the dashboard).
 */
export async function writeOperatingReports(
  sql: SqlEngine,
  store: ReportStore,
  config: OperatingReportsConfig,
  end: Date,
  reportsPrefix: string,
  publish?: (figures: ReportFigures) => void,
): Promise<OperatingReportsResult> {
  const settings: OperatingReportSettings = { ...config, end, latencyPercentile: LATENCY_PERCENTILE, confidenceLookbackDays: CONFIDENCE_LOOKBACK_DAYS };
  const prefix = `${reportsPrefix}${end.toISOString().slice(0, 10)}/`;
  const [costs, regressions, confidence] = [await agentCosts(sql, settings), await agentRegressionReports(sql, settings), await agentModelConfidence(sql, settings)];
  await store.putText(`${prefix}costs.csv`, costReportCsv(costs), 'text/csv');
  await store.putText(`${prefix}confidence.json`, `${JSON.stringify(confidence, null, 2)}\n`);
  for (const report of regressions) await store.putText(`${prefix}regressions-${report.target}.json`, `${JSON.stringify(report, null, 2)}\n`);
  publish?.({ regressions, confidence });
  const regressed = regressions.filter((r) => r.regressions.length > 0);
  const lines = regressed.map((r) => `- ${r.target}: ${r.regressions.map((g) => `${g.dimension} ${g.baseline} -> ${g.current} (${g.delta_pp > 0 ? '+' : ''}${g.delta_pp})`).join('; ')} (${prefix}regressions-${r.target}.json)`);
  return {
    reportPrefix: prefix,
    regressedAgents: regressed.map((r) => r.target),
    regressions: regressed.reduce((n, r) => n + r.regressions.length, 0),
    message: regressed.length === 0 ? '' : [`sial ${config.stage}: ${regressed.length} agent(s) regressed in the window ${regressed[0]?.window.current ?? ''}`, ...lines].join('\n'),
  };
}
