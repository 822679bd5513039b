/**
 * The daily report workflow's work, apart from AWS clients (a SqlEngine and an object store are passed
 * in, so a test runs it on the local lake): the three reports for the day that ends at `end`, written as
 * files under `<reportsPrefix><date>/`, the day's confidence scores merged into the `confidence_scores`
 * table, and a summary the workflow puts in its `sial.reports.ready` event and notifies on when an agent
 * regressed.
 */
import type { SqlEngine } from '../pipeline/dataset/sql-engine';
import { confidenceTableRows, type ConfidenceTableWriter } from './confidence-table';
import { costReportCsv, type AgentCostRow } from './cost';
import type { AgentIdentities } from '../shared/agent-pseudonyms';
import { agentCosts, agentCostsQuery, agentModelConfidence, agentRegressionReports, confidenceWithDisplayNames, type OperatingReportSettings } from './operating-reports';
import type { ReportFigures } from './report-metrics';
import type { OperatingReportsConfig } from './report-settings';

/** Where the reports go: anything that stores text at a URI (S3 in AWS, files locally). */
export interface ReportStore {
  putText(uri: string, body: string, contentType?: string): Promise<void>;
}

export interface OperatingReportsResult {
  /** `YYYY-MM-DD`: the day the report's end falls on (UTC). */
  readonly reportDate: string;
  readonly reportPrefix: string;
  /** `<reportPrefix>costs.csv`. */
  readonly costsCsv: string;
  /** This run's Parquet copy of the cost report: `<reportPrefix>costs.parquet/run=<runId>/`. */
  readonly costsParquetPrefix: string;
  /** `<reportPrefix>confidence.json`, the export the gateway reads. */
  readonly confidenceJson: string;
  /** The confidence table the day's scores were merged into (`<database>.confidence_scores`, or its local folder). */
  readonly confidenceTable: string;
  /** One file per agent: `<reportPrefix>regressions-<agent>.json`. */
  readonly regressionReports: string[];
  /** Agents in any of the reports (costs, regressions, confidence). */
  readonly agents: number;
  readonly regressedAgents: string[];
  readonly regressions: number;
  /** The notification's text when an agent regressed; empty otherwise. */
  readonly message: string;
}

/** The regression report's latency percentile (see the decision log: p95 for every agent). */
const LATENCY_PERCENTILE = 0.95;
const CONFIDENCE_LOOKBACK_DAYS = 90;

/**
 * A run's folder name under `costs.parquet/`: the time the run started, in ISO 8601 basic format
 * (`20261204T050000.123Z`), so folders sort by time and the name is one an UNLOAD path may hold. An
 * UNLOAD needs an empty prefix, so every run (a rerun of the day, a retried invocation) gets its own.
 */
export function reportRunId(startedAt: Date): string {
  return startedAt.toISOString().replaceAll('-', '').replaceAll(':', '');
}

/** Where a run's Parquet cost report goes: `<dayPrefix>costs.parquet/run=<runId>/`. */
export function costsParquetPrefix(dayPrefix: string, runId: string): string {
  if (!/^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z$/.test(runId)) throw new Error(`run id "${runId}" is not an ISO 8601 basic time such as 20261204T050000.123Z (reportRunId)`);
  return `${dayPrefix}costs.parquet/run=${runId}/`;
}

/** What `writeCostReport` wrote. */
export interface CostReportFiles {
  readonly rows: AgentCostRow[];
  readonly csv: string;
  readonly parquetPrefix: string;
  readonly parquetFiles: readonly string[];
}

/**
 * The cost report as Parquet under `costs.parquet/run=<runId>/`, which the engine writes from the cost
 * query (Athena UNLOAD, DuckDB COPY): no row of it passes through this process, so its `agent_id` is
 * the lake's stored form (with `lake.hashAgentIds`, the pseudonym: the Parquet joins the lake tables
 * and the confidence_scores table as they are); and as
 * `<dayPrefix>costs.csv` from the same query's rows (one per agent, under the name a report shows). Each run's Parquet set stays in its
 * own folder; the CSV is overwritten, and only once the Parquet is written, so the CSV is always the
 * last run that completed both.
 */
export async function writeCostReport(sql: SqlEngine, store: ReportStore, settings: OperatingReportSettings, dayPrefix: string, runId: string): Promise<CostReportFiles> {
  const parquetPrefix = costsParquetPrefix(dayPrefix, runId);
  const rows = await agentCosts(sql, settings);
  const { query, params } = agentCostsQuery(settings);
  const { files } = await sql.unload(query, params, parquetPrefix, 'parquet');
  const csv = `${dayPrefix}costs.csv`;
  await store.putText(csv, costReportCsv(rows), 'text/csv');
  return { rows, csv, parquetPrefix, parquetFiles: files };
}

export interface WriteOperatingReportsOptions {
  /** This run's id (`reportRunId` of the time it started), naming its Parquet folder. */
  readonly runId: string;
  /** Where the day's confidence scores are merged (the Iceberg table through Athena, or the local lake). */
  readonly confidenceTable: ConfidenceTableWriter;
  /**
   * Receives the figures once every file is written, so a metric never announces a report that is not
   * in the bucket (the handler publishes them for the dashboard).
   */
  readonly publish?: (figures: ReportFigures) => void;
  /**
   * How the lake stores agent ids (`lake.hashAgentIds`: pseudonyms under the stage's key); default plain.
   * The files, the message and the published figures show declared agents by their configured names;
   * the confidence table and the cost Parquet keep the stored form.
   */
  readonly identities?: AgentIdentities;
}

export async function writeOperatingReports(
  sql: SqlEngine,
  store: ReportStore,
  config: OperatingReportsConfig,
  end: Date,
  reportsPrefix: string,
  options: WriteOperatingReportsOptions,
): Promise<OperatingReportsResult> {
  const settings: OperatingReportSettings = {
    ...config,
    end,
    latencyPercentile: LATENCY_PERCENTILE,
    confidenceLookbackDays: CONFIDENCE_LOOKBACK_DAYS,
    ...(options.identities === undefined ? {} : { identities: options.identities }),
  };
  const prefix = `${reportsPrefix}${end.toISOString().slice(0, 10)}/`;
  const costs = await writeCostReport(sql, store, settings, prefix, options.runId);
  const [regressions, storedConfidence] = [await agentRegressionReports(sql, settings), await agentModelConfidence(sql, settings)];
  const confidence = confidenceWithDisplayNames(storedConfidence, options.identities);
  const confidenceJson = `${prefix}confidence.json`;
  await store.putText(confidenceJson, `${JSON.stringify(confidence, null, 2)}\n`);
  // The table after the JSON: a failed MERGE fails the run with the export already written, and the
  // rerun that follows writes both again (a MERGE of equal scores changes nothing).
  // The table keeps agent_id as the lake stores it (the pseudonym with lake.hashAgentIds).
  await options.confidenceTable.merge(confidenceTableRows(end, storedConfidence));
  const regressionReports = regressions.map((report) => `${prefix}regressions-${report.target}.json`);
  for (const [i, report] of regressions.entries()) await store.putText(regressionReports[i]!, `${JSON.stringify(report, null, 2)}\n`);
  options.publish?.({ regressions, confidence });
  const regressed = regressions.filter((r) => r.regressions.length > 0);
  const lines = regressed.map((r) => `- ${r.target}: ${r.regressions.map((g) => `${g.dimension} ${g.baseline} -> ${g.current} (${g.delta_pp > 0 ? '+' : ''}${g.delta_pp})`).join('; ')} (${prefix}regressions-${r.target}.json)`);
  const agents = new Set([...costs.rows.map((r) => r.agent_id), ...regressions.map((r) => r.target), ...confidence.map((c) => c.agent_id)]);
  return {
    reportDate: end.toISOString().slice(0, 10),
    reportPrefix: prefix,
    costsCsv: costs.csv,
    costsParquetPrefix: costs.parquetPrefix,
    confidenceJson,
    confidenceTable: options.confidenceTable.location,
    regressionReports,
    agents: agents.size,
    regressedAgents: regressed.map((r) => r.target),
    regressions: regressed.reduce((n, r) => n + r.regressions.length, 0),
    message: regressed.length === 0 ? '' : [`sial ${config.stage}: ${regressed.length} agent(s) regressed in the window ${regressed[0]?.window.current ?? ''}`, ...lines].join('\n'),
  };
}
