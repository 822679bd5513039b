/**
 * The few lines a local run ends with: what happened in plain words, and the figures behind it (the
 * gate funnel, the dataset, the budget, the eval gate's comparison, the canary), where everything was
 * written, and one command that queries the lake. Built from what the executions recorded, never from
 * the scenario's intentions.
 */
import { loadStageConfig } from '../../config';
import type { DatasetManifest, EligibilityResult, EvalGateResult, EvalMetrics, Registration } from '../../lambdas/pipeline/contracts';
import type { EvalGateFailureReport } from '../../lambdas/pipeline/eval-gate/check-eval-gate';
import { ROLLOUT_STATES as R } from '../../stepfunctions/canary-rollout-states';
import { PIPELINE_ERRORS, TRAINING_STATES as T } from '../../stepfunctions/training-pipeline-states';
import type { AslRunResult } from '../pipeline/asl-runner';
import type { LocalRunReport } from './local-run';
import { LOCAL_RUN_OUTCOMES } from './outcome';
import { isRouterRun, routerSummaryLines } from '../router/router-summary';

/** The query the summary suggests: reward and quality per model variant. */
export const EXAMPLE_LAKE_QUERY = 'SELECT model_variant, count(*) AS traces, round(avg(reward), 3) AS mean_reward FROM traces GROUP BY ALL ORDER BY ALL';

type StateData = Record<string, unknown> | undefined;

function stateData(run: AslRunResult | undefined, state: string): StateData {
  const value = run?.outputs.get(state);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

const fixed = (value: number, digits = 3) => value.toFixed(digits);
const hours = (value: number) => `${Math.round(value * 100) / 100}`;

function metricsLine(label: string, metrics: EvalMetrics | null | undefined): string {
  if (metrics === null || metrics === undefined) return `    ${label.padEnd(11)} (none)`;
  const others = Object.entries(metrics.metrics).map(([name, value]) => `${name} ${fixed(value)}`);
  const length = metrics.meanAnswerChars !== undefined ? [`mean answer ${Math.round(metrics.meanAnswerChars)} chars`] : [];
  return `    ${label.padEnd(11)} faithfulness ${fixed(metrics.faithfulness)}, ${[...others, ...length].join(', ')}`;
}

/** The eval gate's comparison, from its pass result or from the report in its failure. */
function evalLines(run: AslRunResult | undefined): string[] {
  const passed = stateData(run, T.checkEvalGate)?.evalGate as EvalGateResult | undefined;
  if (passed !== undefined) {
    return ['  Eval gate:  PASSED on golden set ' + passed.candidate.goldenSetVersion, metricsLine('candidate', passed.candidate), metricsLine('production', passed.production)];
  }
  if (run?.error !== PIPELINE_ERRORS.evalGateFailed || run.cause === undefined) return [];
  let report: EvalGateFailureReport;
  try {
    report = JSON.parse(run.cause) as EvalGateFailureReport;
  } catch {
    return [`  Eval gate:  REFUSED: ${run.cause}`];
  }
  return [
    `  Eval gate:  REFUSED: ${report.failures.map((f) => f.message).join('; ')}`,
    metricsLine('candidate', report.candidate),
    metricsLine('production', report.production),
    `    rules:     faithfulness >= ${report.rules.minFaithfulness}, no metric more than ${Math.round(report.rules.maxRegression * 100)} point(s) below production`,
  ];
}

function datasetLines(run: AslRunResult | undefined): string[] {
  const dataset = stateData(run, T.buildDataset)?.dataset as DatasetManifest | undefined;
  if (dataset === undefined) return [];
  const { counts } = dataset;
  const lines = [`  Dataset:    ${dataset.datasetId}: ${counts.tracesUsed} traces -> ${counts.grpoGroups} GRPO prompt groups (${counts.grpoCompletions} completions), ${counts.dpoPairs} DPO pairs (reward policy ${dataset.rewardPolicyVersion})`];
  const eligibility = stateData(run, T.checkEligibility)?.eligibility as EligibilityResult | undefined;
  if (eligibility !== undefined) {
    const f = eligibility.figures;
    const verdict = eligibility.eligible ? 'eligible' : `NOT eligible: ${eligibility.reasons.join('; ')}`;
    lines.push(`    ${verdict} (positive feedback ${f.positiveFeedback} of ${f.minPositiveFeedback} needed, high-quality traces ${f.highQualityTraces} of ${f.minHighQualityTraces}, cooldown ${f.cooldownDays} days)`);
  }
  return lines;
}

function judgeLines(report: LocalRunReport): string[] {
  const judging = report.judging;
  if (judging === undefined) return [];
  const p = judging.curation.state?.progress;
  const weight = judging.judgeWeight > 0 ? `weight ${judging.judgeWeight} in the reward` : 'no weight in the reward under this policy';
  const lines = [`  Judge:      [SIMULATED] ${p?.judged ?? 0} trace(s) judged (${weight}); figures per variant in judged-metrics.json`];
  const calibration = report.calibration?.result;
  if (calibration !== undefined) {
    lines.push(`  Review:     [SIMULATED] reviewer, ${calibration.reviewed} of ${calibration.sample.items.length} sampled item(s) reviewed; ${calibration.report.alarms.length === 0 ? 'agreement within thresholds' : `${calibration.report.alarms.length} calibration alarm(s)`}; report ${calibration.html}`);
  }
  return lines;
}

function budgetLines(report: LocalRunReport): string[] {
  const budget = report.training?.budget;
  if (budget === undefined || report.training?.run === undefined) return [];
  const check = stateData(report.training.run, T.checkGpuBudget)?.budget as { estimateGpuHours: number; withinBudget: boolean } | undefined;
  const booked = budget.booked.map((job) => `${job.jobKind} ${hours(job.gpuHours)} GPU-h (${job.attempts} attempt(s), ${job.spotReclaims} Spot reclaim(s))`);
  const estimate = check !== undefined ? `; estimate ${hours(check.estimateGpuHours)} GPU-h, ${check.withinBudget ? 'within' : 'OVER'} the ceiling` : '';
  return [
    `  Budget:     ${hours(budget.usedBeforeRun)} -> ${hours(budget.usedAfterRun)} of ${budget.ceiling} GPU-h used in ${budget.month}${estimate}`,
    ...(booked.length > 0 ? [`    booked: ${booked.join('; ')}`] : ['    booked: nothing (no GPU job ran)']),
  ];
}

function batchLines(report: LocalRunReport): string[] {
  const run = report.training?.run;
  if (run === undefined) return [];
  const label = report.options.trainer === 'real' ? '[REAL TRAINER, local CPU]' : '[SIMULATED]';
  return run.batch.jobs.map((job) => {
    const resumed = job.mode === 'train' && job.resumedFromSteps.length > 1 ? `, attempts started at steps ${job.resumedFromSteps.join(', ')} (each retry resumed from the newest checkpoint)` : '';
    return `  Batch:      ${label} ${job.mode} job ${job.status} after ${job.attemptEnvironments.length} attempt(s)${resumed}`;
  });
}

function canaryLines(report: LocalRunReport): string[] {
  const rollout = report.training?.rollout;
  if (rollout === undefined) return [];
  if (rollout.drill !== undefined) {
    const d = rollout.drill;
    return [`  Game day:   ${d.summary}`, `    breach ${d.breachAt ?? 'none'} -> verified ${d.verifiedAt} (virtual clock), by the ${d.by}`];
  }
  const { result } = rollout;
  const planned = loadStageConfig(report.options.stage).canary.stepsPercent;
  const steps = result.visited.filter((s) => s === R.setSageMakerWeights || s === R.patchRouteWeights).length;
  const reached = steps > 0 ? `, the candidate reached ${planned[steps - 1] ?? '?'} %` : '';
  const lines = [`  Canary:     ${steps} of ${planned.length} step(s) (${planned.join(' % -> ')} %) started${reached}; ended in "${result.visited.at(-1) ?? 'nothing'}"`];
  const rollback = rollout.rollback;
  if (rollback !== undefined) {
    const from = rollout.degradedAt?.getTime() ?? (rollback.breachAt !== null ? Date.parse(rollback.breachAt) : undefined);
    const seconds = from !== undefined ? `${Math.round((Date.parse(rollback.verifiedAt) - from) / 100) / 10} s from ${rollout.degradedAt !== undefined ? 'the regression' : 'the alarm'} to 100 % previous version verified (virtual clock)` : 'no breach time recorded';
    lines.push(`    rollback by the ${rollback.by}: ${rollback.reason}`);
    lines.push(`    alarm at ${rollback.breachAt ?? 'none'}; ${seconds}; weights now current ${rollback.weights.currentPercent} % / candidate ${rollback.weights.candidatePercent} %`);
  }
  if (result.status === 'FAILED' && rollback === undefined) lines.push(`    error: ${result.error ?? 'unknown'}: ${(result.cause ?? '').slice(0, 300)}`);
  return lines;
}

function failureLines(report: LocalRunReport): string[] {
  const run = report.training?.run;
  if (run === undefined || run.status !== 'FAILED' || run.error === PIPELINE_ERRORS.evalGateFailed) return [];
  return [`  Error:      ${run.error ?? 'unknown'}: ${(run.cause ?? '').slice(0, 300)}`];
}

/** The summary's lines, in reading order. */
export function summaryLines(report: LocalRunReport): string[] {
  const { options, ingest, outcome } = report;
  const kind = LOCAL_RUN_OUTCOMES[outcome];
  const { layout } = options;
  const drops = [...ingest.drops].map(([key, count]) => `${key} ${count}`).join(', ');
  const registration = stateData(report.training?.run, T.registerModel)?.registration as Registration | undefined;
  return [
    '',
    '==================================================================',
    `Outcome: ${kind.words} (exit code ${kind.code})`,
    '==================================================================',
    `  Scenario:   ${options.scenario.name}; stage ${options.stage}; model ${options.targetModelId}${options.autoApprove ? '; approvals by the [SIMULATED] scripted approver' : ''}`,
    `  Gates:      ${ingest.recordsIn} records in -> ${ingest.delivered} kept in the lake, ${ingest.discarded} discarded by a gate, ${ingest.failed} malformed, ${ingest.duplicates} duplicate(s)`,
    ...(drops !== '' ? [`    discarded (gate/reason): ${drops}`] : []),
    ...judgeLines(report),
    // A router run has its own dataset, job and gate (local/router/router-summary.ts); no GPU budget.
    ...(isRouterRun(report.training?.run)
      ? routerSummaryLines(report.training?.run)
      : [...datasetLines(report.training?.run), ...budgetLines(report), ...batchLines(report), ...evalLines(report.training?.run)]),
    ...(registration !== undefined ? [`  Registry:   ${registration.modelPackageArn} (PendingManualApproval until promoted)`] : []),
    ...canaryLines(report),
    ...failureLines(report),
    '',
    'Where everything is:',
    `  lake (Parquet, Hive partitions): ${layout.lakeDir}/{traces,gate_audit,feedback,judgments,reviews}`,
    ...(report.reportFile === undefined ? [] : [`  report (charts, opens offline):  ${report.reportFile}`]),
    `  model registry:                  ${layout.registryFile}`,
    `  artifacts (the local S3):        ${layout.objectsDir}`,
    `  e-mails sent:                    ${layout.notificationsFile}`,
    `  malformed records:               ${layout.errorsDir}`,
    'Query the lake:',
    `  npx tsx bin/sial.ts lake query "${EXAMPLE_LAKE_QUERY}" --local ${layout.lakeDir}`,
    ...(report.judging === undefined
      ? []
      : ['Backtest a reward-policy change on this lake (replays the judgments above):', `  npx tsx bin/sial.ts policy backtest --candidate config/reward-policies/v2.json --local ${layout.lakeDir}`]),
  ];
}
