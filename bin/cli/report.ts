/**
 * `sial report costs | regressions | confidence [--agent ID] [--window 7d] [--local DIR]`: the daily
 * operating reports over a local run's lake, with the same query files and pure report code the AWS report
 * workflow runs on Athena. Prints a table and writes the report files (JSON; the cost report as CSV and
 * Parquet, the layout the workflow writes) under `<lake dir>/reports/<end date>/`; the confidence scores
 * also go into the local lake's `confidence_scores` table by the workflow's MERGE.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadStageConfig } from '../../config';
import { agentModelConfidence, agentRegressionReports, confidenceWithDisplayNames, type OperatingReportSettings } from '../../lambdas/operations/operating-reports';
import { parseWindowDays } from '../../lambdas/operations/report-window';
import { reportRunId, writeCostReport } from '../../lambdas/operations/write-reports';
import { confidenceTableRows } from '../../lambdas/operations/confidence-table';
import { LocalConfidenceTable } from '../../local/local-confidence-table';
import { DEFAULT_LAKE_DIR, LakeDirRefused, openLakeDir } from '../../local/lake-dir';
import { LocalLake } from '../../local/local-lake';
import { localAgentIdentities } from '../../local/local-pseudonymisation-key';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';
import { EXIT, parseCommandLine, UsageError, type CliCommand, type CliContext } from './command';
import { formatTable } from './table';

const REPORTS = ['costs', 'regressions', 'confidence'] as const;
type ReportName = (typeof REPORTS)[number];

const USAGE = `usage:
  sial report costs|regressions|confidence [--agent ID] [--window 7d] [--local DIR] [--stage NAME]

The daily operating reports over the lake of a local run (DuckDB; the AWS report workflow runs the same
queries on Athena and writes the same files to the artifact bucket):
  costs        per agent: tokens_in, tokens_out, cost_usd in the current window: costs.csv, and
               costs.parquet/run=<time>/ (Parquet of the same rows, a folder per run)
  regressions  per agent: each dimension of the current window against the baseline window; JSON
               {target, window, regressions: [{dimension, baseline, current, delta_pp, affected_trace_ids, hypothesized_cause}]}
  confidence   per agent x model: the confidence score, its weight, decay and divergence from the global score;
               confidence.json, and merged into the lake's confidence_scores table (keyed by day, agent, model)

where:
  --agent ID    only this agent (its configured id; when the stage stores agent ids as pseudonyms,
                lake.hashAgentIds, the id is pseudonymised with the lake's key to find its rows)
  --window 7d   the current window in days (default: the stage's operations.regression.currentWindowDays);
                the baseline is operations.regression.baselineWindowDays before it
  --local DIR   the run's lake directory (sial local run --lake-dir; default ${DEFAULT_LAKE_DIR})
  --stage NAME  the stage whose operations settings apply (default dev)

The reports end now; files go to <DIR>/reports/<end date>/. A stage that stores agent ids as pseudonyms
shows each declared agent by its configured id (the confidence table and the cost Parquet keep the
stored pseudonym, like the lake's tables).`;

const OPTIONS = {
  agent: { type: 'string' },
  window: { type: 'string' },
  local: { type: 'string', default: DEFAULT_LAKE_DIR },
  stage: { type: 'string', default: 'dev' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The regression report compares latency at p95 for every agent (each agent's SLO alarm uses its own percentile). */
const REGRESSION_LATENCY_PERCENTILE = 0.95;

/** Days of feedback the confidence scores are computed from. */
const CONFIDENCE_LOOKBACK_DAYS = 90;

function isReportName(value: string | undefined): value is ReportName {
  return (REPORTS as readonly (string | undefined)[]).includes(value);
}

const fixed = (value: number | null, digits: number) => (value === null ? '' : value.toFixed(digits));

/**
 * The lake folder's `reports/` as the bucket `reports` of a local object store, so the cost report is
 * written by the workflow's own code: `s3://reports/<date>/costs.csv` is `<lake dir>/reports/<date>/costs.csv`.
 */
const LOCAL_REPORTS_URI = 's3://reports/';

async function runReport(name: ReportName, lake: LocalLake, settings: OperatingReportSettings, lakeDir: string, context: CliContext): Promise<void> {
  const date = settings.end.toISOString().slice(0, 10);
  const outDir = join(lakeDir, 'reports', date);
  const out = (line: string) => context.io.out(line);
  mkdirSync(outDir, { recursive: true });
  if (name === 'costs') {
    // The workflow's writer: CSV from the rows, Parquet by DuckDB's COPY of the same query, in a run folder.
    const store = new FsObjectStore(lakeDir);
    const report = await writeCostReport(new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri)), store, settings, `${LOCAL_REPORTS_URI}${date}/`, reportRunId(settings.end));
    formatTable(
      ['agent_id', 'tokens_in', 'tokens_out', 'cost_usd', 'requests', 'unpriced'],
      report.rows.map((r) => [r.agent_id, String(r.tokens_in), String(r.tokens_out), r.cost_usd.toFixed(6), String(r.requests), String(r.unpriced_requests)]),
    ).forEach(out);
    out(`written: ${[report.csv, ...report.parquetFiles].map((uri) => store.pathOf(uri)).join(', ')}`);
    return;
  }
  const sql = new DuckDbSqlEngine(lake);
  if (name === 'regressions') {
    const reports = await agentRegressionReports(sql, settings);
    const rows = reports.flatMap((r) => r.regressions.map((g) => [r.target, g.dimension, fixed(g.baseline, 4), fixed(g.current, 4), fixed(g.delta_pp, 2), String(g.affected_trace_ids.length)]));
    out(`baseline ${reports[0]?.window.baseline ?? '(no traffic)'}, current ${reports[0]?.window.current ?? ''}, threshold ${settings.thresholdPoints} points`);
    formatTable(['agent', 'dimension', 'baseline', 'current', 'delta_pp', 'affected'], rows).forEach(out);
    for (const report of reports) {
      const path = join(outDir, `regressions-${report.target}.json`);
      writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
      out(report.regressions.length === 0 ? `${report.target}: no regression detected (${path})` : `${report.target}: ${report.regressions.length} regression(s) (${path})`);
      out(JSON.stringify(report, null, 2));
    }
    return;
  }
  const stored = await agentModelConfidence(sql, settings);
  const scores = confidenceWithDisplayNames(stored, settings.identities);
  formatTable(
    ['agent_id', 'model', 'score', 'global', 'weight', 'feedback', 'idle_days', 'divergence_pp'],
    scores.map((s) => [s.agent_id, s.model, s.score.toFixed(4), s.global_score.toFixed(4), s.weight.toFixed(2), String(s.feedback_count), String(s.idle_days), s.divergence_pp.toFixed(2)]),
  ).forEach(out);
  // Divergence from the global score is logged for a person to review, never acted on automatically.
  for (const s of scores.filter((x) => x.needs_review)) out(`review: ${s.agent_id} x ${s.model} scores ${s.score.toFixed(4)}, ${s.divergence_pp.toFixed(2)} points from the global ${s.global_score.toFixed(4)}`);
  const path = join(outDir, 'confidence.json');
  writeFileSync(path, `${JSON.stringify(scores, null, 2)}\n`);
  out(`written: ${path}`);
  // The day's scores into the lake's confidence_scores table, by the workflow's MERGE: a second run of
  // the day with the same scores changes no row.
  const table = new LocalConfidenceTable(lake);
  await table.merge(confidenceTableRows(settings.end, stored));
  out(`merged into ${table.location}: ${table.lastChanged} row(s) inserted or updated`);
}

export const reportCommand: CliCommand = {
  name: 'report',
  summary: 'operating reports per agent over a local lake: sial report costs|regressions|confidence [--agent ID] [--window 7d]',
  usage: USAGE,
  async run(args, context) {
    const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
    if (parsed === undefined) return EXIT.ok;
    const [name, ...extra] = parsed.positionals;
    if (!isReportName(name)) throw new UsageError(name === undefined ? `say which report: ${REPORTS.join(', ')}` : `unknown report "${name}" (one of ${REPORTS.join(', ')})`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const stageConfig = loadStageConfig(parsed.values.stage);
    const operations = stageConfig.operations;
    let currentWindowDays = operations.regression.currentWindowDays;
    if (parsed.values.window !== undefined) {
      try {
        currentWindowDays = parseWindowDays(parsed.values.window);
      } catch (error) {
        throw new UsageError(`--window: ${(error as Error).message}`);
      }
    }
    let lakeDir: string;
    try {
      lakeDir = openLakeDir(parsed.values.local).lakeDir;
    } catch (error) {
      if (error instanceof LakeDirRefused) {
        context.io.err(`sial report: ${error.message}`);
        return EXIT.failed;
      }
      throw error;
    }
    const end = context.clock();
    const settings: OperatingReportSettings = {
      end,
      currentWindowDays,
      baselineWindowDays: operations.regression.baselineWindowDays,
      thresholdPoints: operations.regression.thresholdPoints,
      minRequests: operations.regression.minRequests,
      maxAffectedTraceIds: operations.regression.maxAffectedTraceIds,
      latencyPercentile: REGRESSION_LATENCY_PERCENTILE,
      confidence: operations.confidence,
      confidenceLookbackDays: CONFIDENCE_LOOKBACK_DAYS,
      ...(parsed.values.agent === undefined ? {} : { agentId: parsed.values.agent }),
      // lake.hashAgentIds: --agent is matched by its pseudonym under the local lake's key, and declared
      // agents are shown by their configured ids.
      identities: await localAgentIdentities({ agents: stageConfig.agents.map((a) => a.id), hashAgentIds: stageConfig.lake.hashAgentIds === true }, lakeDir),
    };
    const lake = await LocalLake.open(lakeDir);
    try {
      await runReport(name, lake, settings, lakeDir, context);
      return EXIT.ok;
    } finally {
      lake.close();
    }
  },
};
