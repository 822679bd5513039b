/**
 * Local mode's training half: the synthesized training pipeline run on the local lake
 * (local/pipeline/local-pipeline.ts), with approvals on a page served on 127.0.0.1 and in the CLI,
 * a SIMULATED Batch that plays the chosen scenario (or the real trainer on CPU), then the canary
 * rollout of the candidate it hands over; or, for the game-day scenario, the drill alone.
 */
import { runEstimate } from '../lambdas/pipeline/budget/check-budget';
import { loadStageConfig } from '../config';
import { isRouterTarget, type StageConfig, type TargetModel } from '../config/schema';
import { InMemoryLedger } from '../lambdas/pipeline/budget/in-memory-ledger';
import type { GpuRunRecord } from '../lambdas/pipeline/budget/ledger';
import type { PipelineInput } from '../lambdas/pipeline/contracts';
import { pipelineSettingsFromStage, rewardScoringOf, type PipelineSettings } from '../lambdas/pipeline/settings';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, JUDGMENTS_TABLE, TRACES_TABLE } from '../lambdas/shared/lake-tables';
import { readRewardPolicy } from '../config/reward-policies/read';
import type { LakeLayout } from './lake-dir';
import { LocalLake } from './local-lake';
import { runLocalGameDayStage, runLocalRolloutStage, seedLocalProduction, type LocalRolloutOutcome } from './local-rollout-run';
import { ConsoleNotifier } from './pipeline/console-notifier';
import { FsObjectStore } from './pipeline/fs-object-store';
import { ensureStarterGoldenSet } from './pipeline/local-golden-set';
import { startLocalApprovals } from './pipeline/local-approval-runtime';
import type { LocalEvent } from './pipeline/local-event-log';
import { LocalModelRegistry } from './pipeline/local-model-registry';
import { LOCAL_GOLDEN_SETS_URI, runLocalPipeline, type LocalPipelineRun } from './pipeline/local-pipeline';
import { RealBatch, ensurePythonEnvironment } from './pipeline/real-batch';
import { startScriptedApprover } from './pipeline/scripted-approver';
import { synthesizePipeline, type SynthesizedPipeline } from './pipeline/synthesized-pipeline';
import type { RewardPolicy } from '../lambdas/gate-score/reward/policy';
import type { CanaryBakeProgress } from './rollout/local-rollout';
import type { Scenario } from './scenarios';
import { LocalRouterBatch } from './router/local-router-batch';
import { routerRegression } from './router/router-scenario';
import { seedLocalRouterProduction } from './router/seed-router';

export interface LocalTrainingOptions {
  readonly stage: string;
  readonly layout: LakeLayout;
  readonly targetModelId: string;
  readonly scenario: Scenario;
  /** A scripted, clearly labelled approver decides (as the scenario says) instead of a person. */
  readonly autoApprove: boolean;
  /** How long to wait for a person's decision before the approval times out locally. */
  readonly approvalWaitSeconds: number;
  /**
   * `simulated` (default): SimulatedBatch plays the scenario. `real`: the training image's entrypoint runs the
   * real trainer and evaluator on CPU with a tiny model (.venv, created on first use).
   */
  readonly trainer?: 'simulated' | 'real';
  /** Progress lines, in order. */
  readonly print: (line: string) => void;
  readonly clock?: () => Date;
  /**
   * The reward policy the dataset build scores with (the local judge's, local/local-judge.ts) and the app
   * synthesized for it, when the caller already has them.
   * @default the stage's policy file, synthesized here
   */
  readonly judged?: { readonly policy: RewardPolicy; readonly pipeline: SynthesizedPipeline };
  /** After each canary check, where the step's bake stands (a terminal's countdown). */
  readonly onCanaryCheck?: (bake: CanaryBakeProgress) => void;
}

/** The month's GPU-hours as the run's ledger saw them. */
export interface LocalBudgetUse {
  readonly month: string;
  readonly usedBeforeRun: number;
  readonly usedAfterRun: number;
  readonly ceiling: number;
  readonly booked: readonly GpuRunRecord[];
}

export interface LocalTrainingResult {
  /** The training pipeline's execution; absent for the game day, which trains nothing. */
  readonly run?: LocalPipelineRun;
  /** The canary rollout the pipeline handed over, or the game-day drill. */
  readonly rollout?: LocalRolloutOutcome;
  readonly budget: LocalBudgetUse;
  /** The production version's eval metrics before the run (the eval gate's baseline). */
  readonly productionModelPackageArn: string;
}

/** The month's usage that leaves less room than one run's estimate: the FinOps path. */
function usageLeavingTooLittle(stage: StageConfig): number {
  const estimate = runEstimate(stage.training).totalGpuHours;
  return Math.max(0, stage.gpuBudget.monthlyCeilingGpuHours - estimate / 2);
}

function settingsOf(stage: StageConfig, policy: RewardPolicy): PipelineSettings {
  return pipelineSettingsFromStage(stage, {
    databaseName: stage.lake.databaseName,
    tracesTable: TRACES_TABLE.name,
    auditTable: GATE_AUDIT_TABLE.name,
    feedbackTable: FEEDBACK_TABLE.name,
    judgmentsTable: JUDGMENTS_TABLE.name,
  }, rewardScoringOf(policy));
}

/** Prints a notification: in full when a person must act on it (the link), else its subject. */
function notificationPrinter(print: (line: string) => void, autoApprove: boolean): (text: string) => void {
  return (text) => {
    if (!autoApprove) {
      print(`[local e-mail] ${text}`);
      return;
    }
    print(`  [local e-mail] ${text.split('\n')[0]?.replace(/^\[local notification -> [a-z]+\] /, '') ?? ''}`);
  };
}

/** Loop states of the rollout and the drill: printed once per visit, not once per turn. */
const LOOP_STATES = new Set(['Wait for endpoint', 'Check endpoint status', 'Bake', 'Check canary', 'Wait for rollback', 'Check rollback']);

/** Progress lines for state transitions: Choice states (`...?`) are skipped, a loop is printed once per visit. */
export function stateProgress(machine: string, print: (line: string) => void): (name: string) => void {
  let lastPrinted: string | undefined;
  return (name) => {
    if (name.endsWith('?')) return;
    if (LOOP_STATES.has(name) && lastPrinted !== undefined && LOOP_STATES.has(lastPrinted)) return;
    lastPrinted = name;
    print(`  [${machine}] ${name}${LOOP_STATES.has(name) ? ' ...' : ''}`);
  };
}

/** The simulated target's changes, after the execution that made them, in virtual-clock order. */
function printTimeline(events: readonly string[], print: (line: string) => void): void {
  if (events.length === 0) return;
  print('Traffic on the simulated target (virtual clock):');
  for (const event of events) print(`  ${event}`);
}

export async function runLocalTraining(options: LocalTrainingOptions): Promise<LocalTrainingResult> {
  const { print, layout, scenario } = options;
  const clock = options.clock ?? (() => new Date());
  const stage = loadStageConfig(options.stage);
  const settings = settingsOf(stage, options.judged?.policy ?? readRewardPolicy(stage.rewardPolicyVersion));
  const model: TargetModel | undefined = stage.targetModels.find((m) => m.id === options.targetModelId);
  if (model === undefined) throw new Error(`--model ${options.targetModelId} is not a target model of stage ${stage.stage}: ${stage.targetModels.map((m) => m.id).join(', ')}`);
  const notifier = new ConsoleNotifier({ file: layout.notificationsFile, print: notificationPrinter(print, options.autoApprove) });
  const approvals = await startLocalApprovals({ dir: layout.approvalsDir, expiryHours: stage.approvals.expiryHours, notifier, addresses: stage.approvals });
  const approver = options.autoApprove ? startScriptedApprover(approvals, scenario.autoApprove) : undefined;
  const store = new FsObjectStore(layout.objectsDir);
  // Datasets are decontaminated against the target's golden set; a fresh local store gets the starter set.
  // A router has no starter set (an LLM's would be the wrong format): its held-out split gates it.
  const router = isRouterTarget(model) ? model : undefined;
  const routerBatch = router === undefined ? undefined : new LocalRouterBatch({ storeRoot: layout.objectsDir, workDir: `${layout.stateDir}/router-trainer`, print, python: ensurePythonEnvironment(print) });
  const seeded = router === undefined ? ensureStarterGoldenSet(store, LOCAL_GOLDEN_SETS_URI, model.id) : undefined;
  if (seeded !== undefined) print(`Golden set: the starter set ${seeded} copied to ${LOCAL_GOLDEN_SETS_URI}${model.id}/ (datasets are decontaminated against it)`);
  const registry = new LocalModelRegistry(layout.registryFile);
  const pipeline = options.judged?.pipeline ?? synthesizePipeline(stage);
  const ledger = new InMemoryLedger();
  const month = clock().toISOString().slice(0, 7);
  const usedBeforeRun = scenario.monthUsedBeforeRun === 'leaves-too-little' ? usageLeavingTooLittle(stage) : 0;
  // A fresh ledger each run: local mode does not carry GPU-hours or cooldowns between runs.
  if (usedBeforeRun > 0) ledger.seedMonth(stage.stage, month, usedBeforeRun);
  const approvalTimeoutMs = options.approvalWaitSeconds * 1000;
  const lake = await LocalLake.open(layout.lakeDir);
  if (!options.autoApprove) {
    print('Approvals wait for you: open the link in the [local e-mail] below, or run');
    print(`  npx tsx bin/sial.ts approvals list --local ${layout.lakeDir}`);
    print(`  npx tsx bin/sial.ts approvals approve <ID> --local ${layout.lakeDir}`);
    print(`(waiting up to ${options.approvalWaitSeconds} s per approval; rerun with --auto-approve to let a scripted approver decide)\n`);
  }
  try {
    // What serves before the first run: the eval gate's baseline and the rollout's current version.
    const current =
      router === undefined || routerBatch === undefined
        ? await seedLocalProduction({ stage, model, stateDir: layout.stateDir, registry, store, now: clock() })
        : await seedLocalRouterProduction({ stage, router, stateDir: layout.stateDir, registry, store, batch: routerBatch, now: clock(), print });
    const budget = async (): Promise<LocalBudgetUse> => ({
      month,
      usedBeforeRun,
      usedAfterRun: await ledger.monthUsage(stage.stage, month),
      ceiling: stage.gpuBudget.monthlyCeilingGpuHours,
      booked: ledger.bookedRuns(),
    });
    const onEvent = (event: LocalEvent): void => print(`  [local event -> events.jsonl] ${event['detail-type']} from ${event.source}`);
    const rolloutOptions = { stage, settings, pipeline, model, lakeDir: layout.lakeDir, stateDir: layout.stateDir, registry, approvals, notifier, approvalTimeoutMs, print, onEvent };
    const executionName = `local-${clock().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}`;

    if (scenario.gameDay === true) {
      print(`Game-day drill on ${model.id} (a [SIMULATED] ${model.rollout.kind} target, virtual clock):`);
      const drill = await runLocalGameDayStage({ ...rolloutOptions, executionName: `drill-${executionName}`, onStateEntered: stateProgress('game day', print) });
      printTimeline(drill.targetEvents, print);
      return { rollout: drill, budget: await budget(), productionModelPackageArn: current.modelPackageArn };
    }

    const realBatch =
      options.trainer === 'real' && router === undefined
        ? new RealBatch({ store, storeRoot: layout.objectsDir, definitions: (ref) => pipeline.jobDefinition(ref), rewardPolicy: readRewardPolicy(stage.rewardPolicyVersion), workDir: `${layout.stateDir}/trainer`, print, python: ensurePythonEnvironment(print) })
        : undefined;
    const input: PipelineInput = { mode: 'train', targetModelId: model.id, requestedBy: 'local:sial-local-run' };
    print('Training pipeline:');
    const run = await runLocalPipeline(
      { stage, settings, pipeline, lake, store, ledger, registry, notifier, approvals, clock, approvalTimeoutMs, onStateEntered: stateProgress('training', print), onEvent, ...(routerBatch === undefined ? {} : { routerBatch }) },
      input,
      executionName,
      scenario.batch(stage.training.attempts),
      realBatch,
    );
    if (run.status !== 'SUCCEEDED' || run.handedOver === undefined) return { run, budget: await budget(), productionModelPackageArn: current.modelPackageArn };
    print(`\nCanary rollout ${run.handedOver.name}: steps ${stage.canary.stepsPercent.join(' % -> ')} %, each behind its own approval, on a [SIMULATED] ${model.rollout.kind} target (virtual clock)`);
    const rollout = await runLocalRolloutStage({
      ...rolloutOptions,
      input: run.handedOver.input,
      executionName: run.handedOver.name,
      onStateEntered: stateProgress('rollout', print),
      ...(options.onCanaryCheck !== undefined ? { onCanaryCheck: options.onCanaryCheck } : {}),
      ...(scenario.regression !== undefined ? { regression: router === undefined ? scenario.regression : routerRegression(scenario.regression, router) } : {}),
    });
    printTimeline(rollout.targetEvents, print);
    return { run, rollout, budget: await budget(), productionModelPackageArn: current.modelPackageArn };
  } finally {
    if (approver !== undefined) {
      await approver.stop();
      for (const failure of approver.failures) print(`[scripted approver] could not decide: ${failure.message}`);
    }
    await approvals.close();
    lake.close();
  }
}
