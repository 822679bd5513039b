/**
 * `sial local run`: the loop on this machine, no AWS account. Demo traffic through the gate/score code
 * into a local Parquet lake, the training pipeline (the synthesized state machine on
 * aws-local-stepfunctions) up to a registered candidate, then its canary rollout on a simulated target;
 * or, for the game-day scenario, the drill. Returns what happened; the caller prints the summary and
 * turns the outcome into the exit code. Options arrive validated (bin/cli/local-run-options.ts).
 */
import { join } from 'node:path';
import type { LakeLayout } from '../lake-dir';
import { runLocalIngest, type LocalIngestSummary } from '../local-ingest';
import { LocalLake } from '../local-lake';
import { generateOperatingRecords, OPERATING_AGENTS, OPERATING_HISTORY_DAYS, REGRESSION_DAYS } from '../operating-traffic';
import { runLocalTraining, type LocalTrainingResult } from '../local-training';
import { runLocalOperatingReports, type LocalOperatingReportsRun } from '../local-operating-reports';
import type { Scenario } from '../scenarios';
import { outcomeOf, type LocalRunOutcome } from './outcome';
import { writeRunReport } from './report/write-report';
import type { CanaryBakeProgress } from '../rollout/local-rollout';
import { runLocalJudging, runLocalWeeklyCalibration, type LocalCalibrationSummary, type LocalJudgingSummary } from './local-judging';

export interface LocalRunOptions {
  readonly stage: string;
  readonly targetModelId: string;
  readonly traceCount: number;
  readonly layout: LakeLayout;
  readonly scenario: Scenario;
  readonly autoApprove: boolean;
  readonly approvalWaitSeconds: number;
  readonly skipTraining: boolean;
  readonly trainer: 'simulated' | 'real';
  /** `router`: the stage's router classifier (Phase 1), always on the real router trainer. */
  readonly target?: 'llm' | 'router';
}

export interface LocalRunReport {
  readonly options: LocalRunOptions;
  readonly ingest: LocalIngestSummary;
  /** The judge's curation of the ingested traces; absent for the game day. */
  readonly judging?: LocalJudgingSummary;
  /** The weekly review sample of those judgments, reviewed by the simulated reviewer, and its report. */
  readonly calibration?: LocalCalibrationSummary;
  readonly training?: LocalTrainingResult;
  /** The operating demo's ingest (operating-traffic.ts), after the loop. */
  readonly operating?: LocalIngestSummary;
  /** The daily operating-reports workflow over that traffic (files, confidence table, sial.reports.ready). */
  readonly operatingReports?: LocalOperatingReportsRun;
  readonly outcome: LocalRunOutcome;
  /** The run's HTML report (charts), in the run's directory. */
  readonly reportFile?: string;
}

/** The report with its HTML written beside the lake. */
async function withReportFile(report: LocalRunReport): Promise<LocalRunReport> {
  return { ...report, reportFile: await writeRunReport(report) };
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '  (none)';
  const headers = Object.keys(rows[0] as object);
  const cells = rows.map((r) => headers.map((h) => String(r[h] ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]) => '  ' + values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** A few lines that show the lake as it is: what each variant scored, and one masked message. */
async function printLakeGlimpse(lakeDir: string, print: (line: string) => void): Promise<void> {
  const lake = await LocalLake.open(lakeDir);
  try {
    print('Reward and quality per model variant (what the canary alarms compare):');
    print(
      table(
        await lake.query(
          `SELECT model, model_variant AS variant, count(*) AS traces, round(avg(reward), 3) AS mean_reward,
                  round(avg(reward_components.groundedness), 3) AS groundedness,
                  round(avg(CASE WHEN misrouted THEN 1.0 ELSE 0.0 END), 3) AS misroute_rate
             FROM traces GROUP BY ALL ORDER BY ALL`,
        ),
      ),
    );
    print('A masked user message from the lake:');
    print(table(await lake.query(`SELECT trace_id, pii_scanner, pii_entities_masked, input_messages[2].content AS user_message FROM traces WHERE pii_entities_masked > 0 ORDER BY trace_id LIMIT 2`)));
  } finally {
    lake.close();
  }
}

/** What a terminal shows beyond the lines (local/run/progress.ts); absent without one. */
export interface LocalRunProgress {
  ingest(done: number, total: number): void;
  baking(step: number, candidatePercent: number, bakedSeconds: number, bakeSeconds: number): void;
}

/**
 * The loop, then the operating demo's five weeks of two agents' traffic (after the loop, so its dataset,
 * judging and canary see exactly the demo batch), then the daily operating-reports workflow over it (the
 * synthesized state machine: report files, the confidence table, sial.reports.ready); `sial report costs
 * | regressions | confidence` reads the same lake.
 */
export async function runLocal(options: LocalRunOptions, print: (line: string) => void, progress?: LocalRunProgress): Promise<LocalRunReport> {
  const report = await runLoop(options, print, progress);
  print('');
  print(`Operating demo: ${OPERATING_HISTORY_DAYS} days of [SIMULATED] traffic of ${OPERATING_AGENTS.steady} and ${OPERATING_AGENTS.regressing} (which regresses in the last ${REGRESSION_DAYS} days) through the gate and score code...`);
  const operating = await runLocalIngest({ stage: options.stage, lakeDir: options.layout.lakeDir, traceCount: 0, comprehendLatencyMs: 0, comprehendTps: 1000, records: (now, boundary) => generateOperatingRecords({ end: now, boundary }) });
  print(`  ${operating.delivered} trace(s) kept, ${operating.discarded} discarded`);
  print('Operating reports: the daily report workflow (the synthesized state machine) on the local lake...');
  const operatingReports = await runLocalOperatingReports({
    stage: options.stage,
    lakeDir: options.layout.lakeDir,
    startTime: new Date(),
    print,
    onEvent: (event) => print(`  [local event -> events.jsonl] ${event['detail-type']} from ${event.source}`),
  });
  const written = operatingReports.report;
  if (operatingReports.status === 'SUCCEEDED' && written !== undefined) {
    print(`  ${written.agents} agent(s), ${written.regressions} regression(s); files under ${join(options.layout.lakeDir, 'reports', written.reportDate)}, confidence scores in ${written.confidenceTable} (${operatingReports.confidenceRowsChanged} row(s) written)`);
  } else {
    print(`  the report workflow ended ${operatingReports.status}: ${operatingReports.error ?? ''} ${operatingReports.cause ?? ''}`.trimEnd());
  }
  print(`  the reports again, as tables: sial report regressions --local ${options.layout.lakeDir} (also costs, confidence)`);
  return { ...report, operating, operatingReports };
}

async function runLoop(options: LocalRunOptions, print: (line: string) => void, progress?: LocalRunProgress): Promise<LocalRunReport> {
  const { layout, scenario } = options;
  print(`Self-Improving Agent Loop - local run (stage ${options.stage}, model ${options.targetModelId}, scenario ${scenario.name}; no AWS account used)`);
  print(`  Scenario ${scenario.name}: ${scenario.description}`);
  print('  PII scanner: [SIMULATED] Amazon Comprehend (pattern rules + a name heuristic, 20 TPS quota)');
  print('  Lake:        local Parquet written by DuckDB, same tables and partitions as the Iceberg lake (not Iceberg itself)');
  print(`  Lake dir:    ${layout.lakeDir}\n`);

  print(`Ingest: ${options.traceCount} demo traces through the gate and score code...`);
  const ingest = await runLocalIngest({ stage: options.stage, lakeDir: layout.lakeDir, traceCount: options.traceCount, comprehendLatencyMs: 20, comprehendTps: 20, ...(progress === undefined ? {} : { onBatch: (done: number, total: number) => progress.ingest(done, total) }) });
  print(`  ${ingest.recordsIn} records in ${ingest.batches} Firehose-sized batch(es), ${ingest.comprehendCalls} [SIMULATED] Comprehend call(s)`);
  for (const [language, calls] of ingest.entityDetectorCalls) print(`  [SIMULATED] ${language} named-entity endpoint: ${calls} call(s)`);
  await printLakeGlimpse(layout.lakeDir, print);
  print('');

  const judging = scenario.gameDay === true ? undefined : await runLocalJudging(options.stage, layout, print);
  const calibration = judging === undefined ? undefined : await runLocalWeeklyCalibration(options.stage, layout, ingest.trafficStart, print);
  const judged = { ...(judging === undefined ? {} : { judging }), ...(calibration === undefined ? {} : { calibration }) };
  if (options.skipTraining) return withReportFile({ options, ingest, ...judged, outcome: outcomeOf({ skippedTraining: true }) });

  if (options.target === 'router') {
    print("AWS Batch on Fargate: [REAL ROUTER TRAINER, local CPU] the router image's `train` (python -m sial_training.router, .venv) on the lake's routing outcomes");
  } else if (scenario.gameDay !== true) {
    print(
      options.trainer === 'real'
        ? "AWS Batch p5en Spot: [REAL TRAINER, local CPU] the training image's entrypoint runs the reference GRPO/DPO trainer and evaluator on a tiny model built here (no GPU, a few steps)"
        : `AWS Batch p5en Spot: [SIMULATED] SimulatedBatch (no container, no GPU; scenario ${scenario.name})`,
    );
  }
  print(`Approvals: ${options.autoApprove ? '[SIMULATED] scripted approver (--auto-approve), deciding as the scenario says' : 'yours, on the local page or the CLI'}\n`);
  const training = await runLocalTraining({
    stage: options.stage,
    layout,
    targetModelId: options.targetModelId,
    scenario,
    autoApprove: options.autoApprove,
    approvalWaitSeconds: options.approvalWaitSeconds,
    trainer: options.trainer,
    print,
    ...(judging === undefined ? {} : { judged: { policy: judging.policy, pipeline: judging.pipeline } }),
    ...(progress === undefined ? {} : { onCanaryCheck: (b: CanaryBakeProgress) => progress.baking(b.stepIndex, b.candidatePercent, b.bakedSeconds, b.bakeSeconds) }),
  });
  const outcome = outcomeOf(
    scenario.gameDay === true && training.rollout !== undefined
      ? { drill: training.rollout.result }
      : { ...(training.run !== undefined ? { training: training.run } : {}), ...(training.rollout !== undefined ? { rollout: training.rollout.result } : {}) },
  );
  return withReportFile({ options, ingest, ...judged, training, outcome });
}
