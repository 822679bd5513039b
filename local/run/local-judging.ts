/**
 * The judge's step of a local run: the curation state machine over the freshly ingested traces, with
 * the SIMULATED judge under the local judge setup (local/local-judge.ts), then a short account of it.
 * Returns the policy and the synthesized app too, so the training pipeline reuses them (the dataset
 * build reads the judged reward under that policy's judge prompt hash).
 */
import { loadStageConfig } from '../../config';
import { readRewardPolicy } from '../../config/reward-policies/read';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { curationSettingsFromStage } from '../../lambdas/judge/curation/settings';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, JUDGMENTS_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import type { LakeLayout } from '../lake-dir';
import { runLocalCuration, type LocalCurationResult } from '../local-curation';
import { localJudgeSetup } from '../local-judge';
import { LocalLake } from '../local-lake';
import { synthesizePipeline, type SynthesizedPipeline } from '../pipeline/synthesized-pipeline';
import { calibrationSettingsOf } from '../../lambdas/judge/calibration/calibration-settings';
import { runLocalCalibration, type LocalCalibrationResult } from '../calibration/run-local-calibration';

/** The Monday 06:00 UTC of the week after `at`: when the weekly sample that covers `at` is drawn. */
export function calibrationTimeAfter(at: Date): Date {
  const day = Math.floor(at.getTime() / 86_400_000);
  // 1970-01-01 was a Thursday: (day + 3) % 7 is the ISO weekday index, Monday 0.
  const monday = day - ((day + 3) % 7) + 7;
  return new Date(monday * 86_400_000 + 6 * 3_600_000);
}

export interface LocalCalibrationSummary {
  readonly result: LocalCalibrationResult;
  readonly at: Date;
}

/**
 * The weekly calibration of the judged traces, on the virtual clock: as of the Monday after the demo
 * traffic (the week whose sample covers it), with the SIMULATED reviewer disagreeing with the judge on a
 * tenth of the verdicts so the agreement figures have something to find.
 */
export async function runLocalWeeklyCalibration(stageName: string, layout: LakeLayout, trafficStart: Date, print: (line: string) => void): Promise<LocalCalibrationSummary> {
  const stage = loadStageConfig(stageName);
  const at = calibrationTimeAfter(trafficStart);
  print(`Judge calibration: the weekly review sample as of ${at.toISOString()} (virtual clock), reviewed by the [SIMULATED] reviewer (scripted, 10 % disagreement)`);
  const result = await runLocalCalibration(layout.lakeDir, calibrationSettingsOf(stage.judgeCalibration), () => at, { disagreement: 0.1 });
  print(`  ${result.sample.items.length} item(s) sampled from ${result.sample.candidates} judged trace(s), ${result.reviewed} reviewed; report: ${result.html}`);
  for (const [dimension, figures] of Object.entries(result.report.dimensions)) {
    const kappa = figures.kappa === null ? 'n/a' : `${fixed2(figures.kappa.kappa)} [${fixed2(figures.kappa.lower95)}, ${fixed2(figures.kappa.upper95)}]`;
    print(`  ${dimension}: ${figures.reviewed} reviewed, Cohen's kappa ${kappa}`);
  }
  for (const alarm of result.report.alarms) print(`  alarm: ${alarm}`);
  print('');
  return { result, at };
}

export interface LocalJudgingSummary {
  readonly curation: LocalCurationResult;
  readonly policy: RewardPolicy;
  readonly pipeline: SynthesizedPipeline;
  /** The judge's weight in the reward under the stage's policy. */
  readonly judgeWeight: number;
}

/** Two decimals, without the "-0.00" a value just below zero prints as. */
function fixed2(value: number): string {
  return Math.abs(value) < 0.005 ? '0.00' : value.toFixed(2);
}

function percent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`;
}

export async function runLocalJudging(stageName: string, layout: LakeLayout, print: (line: string) => void, clock: () => Date = () => new Date()): Promise<LocalJudgingSummary> {
  const stage = loadStageConfig(stageName);
  const setup = localJudgeSetup(stage, readRewardPolicy(stage.rewardPolicyVersion));
  const settings = curationSettingsFromStage(setup.stage, setup.policy, {
    databaseName: stage.lake.databaseName,
    tracesTable: TRACES_TABLE.name,
    auditTable: GATE_AUDIT_TABLE.name,
    feedbackTable: FEEDBACK_TABLE.name,
    judgmentsTable: JUDGMENTS_TABLE.name,
  });
  if (settings === undefined) throw new Error('the local judge setup has no judge');
  const pipeline = synthesizePipeline(setup.stage, setup.policy);
  if (pipeline.curation === undefined) throw new Error(`the ${stage.stage} app synthesized for local judging has no curation state machine`);
  print('Judge curation: [SIMULATED] judge (deterministic rules, not a language model) in place of the stage\'s judge endpoint');
  print(
    setup.source === 'policy'
      ? `  Prompts: the judge section of reward policy ${setup.policy.version} (judge weight ${setup.policy.weights.judge})`
      : `  Prompts: the starter judge section (config/judge-prompts/ragas-style-v1.json); policy ${setup.policy.version} gives the judge no weight, so judged scores are recorded and calibrated but do not change the reward`,
  );
  const lake = await LocalLake.open(layout.lakeDir);
  try {
    const now = clock();
    const curation = await runLocalCuration({
      definition: pipeline.curation,
      settings,
      lake,
      lakeDir: layout.lakeDir,
      objectsDir: layout.objectsDir,
      startedAt: now,
      until: now,
      clock,
      executionName: `curation-${now.toISOString().replace(/[^0-9]/g, '').slice(0, 14)}`,
    });
    if (curation.run.status !== 'SUCCEEDED') throw new Error(`the judge curation failed: ${curation.run.error ?? ''} ${curation.run.cause ?? ''}`.trim());
    const p = curation.state?.progress;
    print(`  ${p?.judged ?? 0} trace(s) judged in ${curation.run.visited.filter((s) => s === 'Judge next lines').length} slice(s)${p !== undefined && p.withNoJudgment > 0 ? `, ${p.withNoJudgment} with a dimension left unjudged` : ''}; judgments table: ${layout.lakeDir}/judgments`);
    for (const v of curation.variants) print(`  ${v.model} ${v.variant}: judged faithfulness ${percent(v.faithfulnessMean)} (${v.faithfulnessJudged}), misrouted ${percent(v.misrouteRate)} (${v.misrouteJudged})`);
    print('');
    return { curation, policy: setup.policy, pipeline, judgeWeight: setup.policy.weights.judge };
  } finally {
    lake.close();
  }
}
