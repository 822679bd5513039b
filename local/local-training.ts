/**
 * Local mode's training half: the synthesized training pipeline run on the local lake
 * (local/pipeline/local-pipeline.ts), with approvals on a page served on 127.0.0.1 and in the CLI,
 * and a SIMULATED Batch whose default scenario includes a Spot reclaim so the resume path shows.
 */
import { join } from 'node:path';
import { loadStageConfig } from '../config';
import { InMemoryLedger } from '../lambdas/pipeline/budget/in-memory-ledger';
import type { PipelineInput } from '../lambdas/pipeline/contracts';
import { pipelineSettingsFromStage, rewardScoringOf } from '../lambdas/pipeline/settings';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, TRACES_TABLE } from '../lambdas/shared/lake-tables';
import { LocalLake } from './local-lake';
import { ConsoleNotifier } from './pipeline/console-notifier';
import { ensureStarterGoldenSet } from './pipeline/local-golden-set';
import { FsObjectStore } from './pipeline/fs-object-store';
import { startLocalApprovals } from './pipeline/local-approval-runtime';
import { LocalModelRegistry, localModelRegistryFile } from './pipeline/local-model-registry';
import { LOCAL_GOLDEN_SETS_URI, runLocalPipeline, type LocalPipelineRun } from './pipeline/local-pipeline';
import { startScriptedApprover } from './pipeline/scripted-approver';
import type { SimulatedBatchScenario } from './pipeline/simulated-batch';
import { synthesizePipeline } from './pipeline/synthesized-pipeline';
import { RealBatch, ensurePythonEnvironment } from './pipeline/real-batch';
import { readRewardPolicy } from '../config/reward-policies/read';
import type { AslRunResult } from './pipeline/asl-runner';
import { runLocalRolloutStage, seedLocalProduction } from './local-rollout-run';

/** The default simulated run: one Spot reclaim, then success; an eval that passes the gate. */
export const DEFAULT_LOCAL_SCENARIO: SimulatedBatchScenario = {
  trainAttempts: ['spot-reclaim', 'success'],
  attemptHours: 1.5,
  totalSteps: 500,
  checkpointEvery: 50,
  evalMetrics: { faithfulness: 0.9, metrics: { answer_relevance: 0.87, context_precision: 0.82 }, goldenSetVersion: 'local-golden-v1', examples: 200, meanAnswerChars: 190 },
};

export interface LocalTrainingOptions {
  readonly stage: string;
  readonly lakeDir: string;
  /** Where approvals, the registry, notifications and run artifacts live. */
  readonly stateDir: string;
  readonly targetModelId: string;
  /** A scripted, clearly labelled approver decides instead of a person. */
  readonly autoApprove: boolean;
  /** How long to wait for a person's decision before the approval times out locally. */
  readonly approvalWaitSeconds: number;
  readonly scenario?: SimulatedBatchScenario;
  /**
   * `simulated` (default): SimulatedBatch plays the scenario. `real`: the training image's entrypoint runs the
   * real trainer and evaluator on CPU with a tiny model (.venv, created on first use).
   */
  readonly trainer?: 'simulated' | 'real';
  readonly print?: (line: string) => void;
}

export interface LocalTrainingResult {
  readonly run: LocalPipelineRun;
  /** The canary rollout the pipeline handed over, when it got that far. */
  readonly rollout?: AslRunResult;
  readonly approvalsDir: string;
}

export async function runLocalTraining(options: LocalTrainingOptions): Promise<LocalTrainingResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const stage = loadStageConfig(options.stage);
  const settings = pipelineSettingsFromStage(stage, {
    databaseName: stage.lake.databaseName,
    tracesTable: TRACES_TABLE.name,
    auditTable: GATE_AUDIT_TABLE.name,
    feedbackTable: FEEDBACK_TABLE.name,
  }, rewardScoringOf(readRewardPolicy(stage.rewardPolicyVersion)));
  const approvalsDir = join(options.stateDir, 'approvals');
  const notifier = new ConsoleNotifier({ file: join(options.stateDir, 'notifications.jsonl'), print: (text) => print(`[local e-mail] ${text}`) });
  const approvals = await startLocalApprovals({ dir: approvalsDir, expiryHours: stage.approvals.expiryHours, notifier });
  const lake = await LocalLake.open(options.lakeDir);
  const approver = options.autoApprove ? startScriptedApprover(approvals, { train: 'approve', finops: 'approve', 'deploy-stage': 'approve' }) : undefined;
  const model = stage.targetModels.find((m) => m.id === options.targetModelId);
  if (model === undefined) throw new Error(`--model ${options.targetModelId} is not a target model of stage ${stage.stage}: ${stage.targetModels.map((m) => m.id).join(', ')}`);
  const storeRoot = join(options.stateDir, 'objects');
  const store = new FsObjectStore(storeRoot);
  // Datasets are decontaminated against the target's golden set; a fresh local store gets the starter set.
  const seeded = ensureStarterGoldenSet(store, LOCAL_GOLDEN_SETS_URI, options.targetModelId);
  if (seeded !== undefined) print(`Golden set: the starter set ${seeded} copied to ${LOCAL_GOLDEN_SETS_URI}${options.targetModelId}/ (datasets are decontaminated against it)`);
  const realBatch =
    options.trainer === 'real'
      ? new RealBatch({ store, storeRoot, definitions: (ref) => pipeline.jobDefinition(ref), rewardPolicy: readRewardPolicy(stage.rewardPolicyVersion), workDir: join(options.stateDir, 'trainer'), print, python: ensurePythonEnvironment(print) })
      : undefined;
  const registry = new LocalModelRegistry(localModelRegistryFile(options.stateDir));
  const pipeline = synthesizePipeline(stage);
  if (!options.autoApprove) {
    print(`Approvals wait for you: open the link in the [local e-mail] below, or run`);
    print(`  npx tsx bin/sial.ts approvals list --local ${approvalsDir}`);
    print(`  npx tsx bin/sial.ts approvals approve <ID> --local ${approvalsDir}`);
    print(`(waiting up to ${options.approvalWaitSeconds} s per approval; rerun with --auto-approve to let a scripted approver decide)\n`);
  }
  try {
    // What serves before the first run: the eval gate's baseline and the rollout's current version.
    await seedLocalProduction({ stage, model, stateDir: options.stateDir, registry, store, now: new Date() });
    const input: PipelineInput = { mode: 'train', targetModelId: options.targetModelId, requestedBy: 'local:npm-run-local' };
    // A fresh ledger each run: local mode does not carry GPU-hours or cooldowns between runs.
    const ledger = new InMemoryLedger();
    const run = await runLocalPipeline(
      {
        stage,
        settings,
        pipeline,
        lake,
        store,
        ledger,
        registry,
        notifier,
        approvals,
        clock: () => new Date(),
        approvalTimeoutMs: options.approvalWaitSeconds * 1000,
      },
      input,
      `local-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}`,
      options.scenario ?? DEFAULT_LOCAL_SCENARIO,
      realBatch,
    );
    await printGpuBookings(ledger, stage.stage, stage.gpuBudget.monthlyCeilingGpuHours, print);
    if (run.status !== 'SUCCEEDED' || run.handedOver === undefined) return { run, approvalsDir };
    print(`\nCanary rollout ${run.handedOver.name}: steps ${stage.canary.stepsPercent.join(' % -> ')} %, each behind its own approval, on a [SIMULATED] ${model.rollout.kind} target (virtual clock)`);
    const rollout = await runLocalRolloutStage({
      stage,
      settings,
      pipeline,
      model,
      stateDir: options.stateDir,
      registry,
      approvals,
      notifier,
      input: run.handedOver.input,
      executionName: run.handedOver.name,
      approvalTimeoutMs: options.approvalWaitSeconds * 1000,
      print,
    });
    return { run, rollout, approvalsDir };
  } finally {
    if (approver !== undefined) {
      await approver.stop();
      for (const failure of approver.failures) print(`[scripted approver] could not decide: ${failure.message}`);
    }
    await approvals.close();
    lake.close();
  }
}

/** What the run booked in the (in-memory) GPU ledger: one line per GPU job, training and eval, then the month. */
async function printGpuBookings(ledger: InMemoryLedger, stage: string, ceilingGpuHours: number, print: (line: string) => void): Promise<void> {
  const booked = ledger.bookedRuns();
  if (booked.length === 0) return;
  print('');
  for (const job of booked) {
    print(`[local GPU ledger] ${job.jobKind} job of ${job.runId}: ${job.gpuHours} GPU-h booked (${job.jobStatus}, ${job.attempts} attempt(s), ${job.spotReclaims} Spot reclaim(s))`);
  }
  const month = booked[booked.length - 1]!.month;
  print(`[local GPU ledger] ${stage} ${month}: ${await ledger.monthUsage(stage, month)} of ${ceilingGpuHours} GPU-h used`);
}
