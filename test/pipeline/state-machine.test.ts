/**
 * The training pipeline EXECUTED: the ASL rendered from the synthesized template runs in
 * aws-local-stepfunctions, every Task overridden by name with the domain code its Lambda runs, over a
 * local lake filled by the real ingest path, with a simulated Batch and a scripted approver.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStageConfig } from '../../config';
import { InMemoryLedger } from '../../lambdas/pipeline/budget/in-memory-ledger';
import type { EvalMetrics, PipelineInput } from '../../lambdas/pipeline/contracts';
import { pipelineSettingsFromStage, rewardScoringOf } from '../../lambdas/pipeline/settings';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, JUDGMENTS_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import { runLocalIngest } from '../../local/local-ingest';
import { LocalLake } from '../../local/local-lake';
import { ConsoleNotifier } from '../../local/pipeline/console-notifier';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';
import { startLocalApprovals, type LocalApprovals } from '../../local/pipeline/local-approval-runtime';
import { LocalModelRegistry } from '../../local/pipeline/local-model-registry';
import { runLocalPipeline, type LocalPipelineEnvironment, type LocalPipelineRun } from '../../local/pipeline/local-pipeline';
import { startScriptedApprover, type ScriptedDecision } from '../../local/pipeline/scripted-approver';
import { SimulatedBatch, type LocalBatch, type SimulatedBatchScenario } from '../../local/pipeline/simulated-batch';
import { runEstimate } from '../../lambdas/pipeline/budget/check-budget';
import { decideApproval } from '../../lambdas/pipeline/approvals/decide';
import type { ApprovalRecord } from '../../lambdas/pipeline/approvals/approval-record';
import { synthesizePipeline } from '../../local/pipeline/synthesized-pipeline';
import { TRAINING_STATES as S } from '../../stepfunctions/training-pipeline-states';
import type { ApprovalKind } from '../../lambdas/pipeline/contracts';
import { readLocalEvents, validateEventDetail } from '../helpers/event-schemas';
import { readLocalJobRecords } from '../../local/pipeline/local-job-records';
import type { JobRecord } from '../../lambdas/pipeline/jobs/job-record';

const NOW = new Date('2026-11-21T09:00:00.000Z');
const clock = () => NOW;
const stage = loadStageConfig('dev');
const settings = pipelineSettingsFromStage(stage, {
  databaseName: stage.lake.databaseName,
  tracesTable: TRACES_TABLE.name,
  auditTable: GATE_AUDIT_TABLE.name,
  feedbackTable: FEEDBACK_TABLE.name,
  judgmentsTable: JUDGMENTS_TABLE.name,
}, rewardScoringOf(readRewardPolicy(stage.rewardPolicyVersion)));
const pipeline = synthesizePipeline(stage);

const GOOD_EVAL: EvalMetrics = { faithfulness: 0.91, metrics: { answer_relevance: 0.88, context_precision: 0.8 }, goldenSetVersion: 'golden-v1', examples: 200 };
const SUCCESS: SimulatedBatchScenario = { trainAttempts: ['success'], attemptHours: 1.5, totalSteps: 500, checkpointEvery: 50, evalMetrics: GOOD_EVAL };
const TRAIN: PipelineInput = { mode: 'train', targetModelId: 'qwen3-4b', requestedBy: 'test@example.com' };

let root: string;
let lakeDir: string;
let lake: LocalLake;
let runCounter = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sial-sfn-'));
  lakeDir = join(root, 'lake');
  await runLocalIngest({ stage: 'dev', lakeDir, traceCount: 1500, comprehendLatencyMs: 0, comprehendTps: 10_000, clock });
  lake = await LocalLake.open(lakeDir);
}, 120_000);

afterAll(() => {
  lake.close();
  rmSync(root, { recursive: true, force: true });
});

interface Harness {
  readonly env: LocalPipelineEnvironment;
  readonly approvals: LocalApprovals;
  readonly notifier: ConsoleNotifier;
  readonly ledger: InMemoryLedger;
  close(): Promise<void>;
}

async function harness(options: { ledger?: InMemoryLedger; approvalTimeoutMs?: number; lakeOverride?: LocalLake } = {}): Promise<Harness> {
  const dir = join(root, `run-${++runCounter}`);
  const notifier = new ConsoleNotifier({ print: () => undefined, clock });
  const approvals = await startLocalApprovals({ dir: join(dir, 'approvals'), expiryHours: stage.approvals.expiryHours, notifier, clock });
  const ledger = options.ledger ?? new InMemoryLedger();
  const env: LocalPipelineEnvironment = {
    stage,
    settings,
    pipeline,
    lake: options.lakeOverride ?? lake,
    store: new FsObjectStore(join(dir, 'objects')),
    ledger,
    registry: new LocalModelRegistry(join(dir, 'registry.json'), clock),
    notifier,
    approvals,
    clock,
    ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
  };
  return { env, approvals, notifier, ledger, close: () => approvals.close() };
}

async function run(
  h: Harness,
  script: Partial<Record<ApprovalKind, ScriptedDecision>>,
  scenario: SimulatedBatchScenario = SUCCESS,
  input: PipelineInput = TRAIN,
): Promise<LocalPipelineRun> {
  const approver = startScriptedApprover(h.approvals, script, { clock, pollMs: 10 });
  try {
    return await runLocalPipeline(h.env, input, `exec-${runCounter}`, scenario);
  } finally {
    await approver.stop();
  }
}

/** Polls `probe` until it returns a value (the executions run on the same event loop). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A Batch whose jobs start only once `gate` resolves: the run keeps its reservation while it waits. */
function gatedBatch(inner: LocalBatch, gate: Promise<void>): LocalBatch {
  return { jobs: inner.jobs, submitJob: async (input) => (await gate, inner.submitJob(input)) };
}

async function pendingApprovals(h: Harness, kind: ApprovalKind): Promise<ApprovalRecord[]> {
  return (await h.approvals.store.listPending({ now: NOW })).filter((r) => r.kind === kind && r.taskToken !== undefined);
}

async function decide(h: Harness, approvalId: string, decision: 'approved' | 'rejected', approver: string): Promise<void> {
  await decideApproval({ approvalId, decision, approver, comment: 'race test', via: 'cli' }, { store: h.approvals.store, callbacks: h.approvals.callbacks, clock });
}

/** No run holds GPU hours any more: every reservation was converted or released. */
function expectNothingHeld(ledger: InMemoryLedger): void {
  expect(ledger.allReservations().every((r) => r.status === 'released' && r.remainingGpuHours === 0)).toBe(true);
}

/** The job records the run's states wrote to the local jobs table, by job id. */
function jobRecordsOf(executionName: string): Record<string, JobRecord> {
  return Object.fromEntries(readLocalJobRecords(lakeDir).filter((r) => r.executionName === executionName).map((r) => [r.jobId, r]));
}

function subjects(h: Harness): string[] {
  return h.notifier.sent.map((n) => n.subject);
}

describe('training pipeline, executed locally on the synthesized definition', () => {
  it('approved -> trained -> evaluated -> registered, handed over to the rollout', async () => {
    const h = await harness();
    try {
      const result = await run(h, { train: 'approve' });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.visited).toEqual([
        S.validateRequest,
        S.buildDataset,
        S.emitDatasetReady,
        S.datasetOnly,
        S.checkEligibility,
        S.eligible,
        S.routerTarget,
        S.checkGpuBudget,
        S.withinBudget,
        S.prepareTrainingApproval,
        S.requestTrainingApproval,
        S.whichTrainer,
        S.approvedByFinops,
        S.reserveGpuBudget,
        S.budgetReserved,
        S.recordTrainJobSubmitted,
        S.emitTrainJobSubmitted,
        S.train,
        S.recordGpuHours,
        S.recordTrainJobSucceeded,
        S.emitTrainJobSucceeded,
        S.recordEvalJobSubmitted,
        S.emitEvalJobSubmitted,
        S.evaluate,
        S.recordEvalGpuHours,
        S.recordEvalJobSucceeded,
        S.emitEvalJobSucceeded,
        S.releaseGpuReservation,
        S.checkEvalGate,
        S.registerModel,
        S.emitModelRegistered,
        S.notifyRegistered,
        S.handOverToRollout,
      ]);
      // The run's events, as the local event log recorded them, each valid against its published schema.
      const events = readLocalEvents(lakeDir).filter((e) => (e.detail as { executionName?: string }).executionName === `exec-${runCounter}`);
      expect(events.map((e) => [e['detail-type'], (e.detail as { status?: string; action?: string }).status ?? (e.detail as { action?: string }).action ?? ''])).toEqual([
        ['sial.dataset.ready', ''],
        ['sial.job.updated', 'submitted'],
        ['sial.job.updated', 'succeeded'],
        ['sial.job.updated', 'submitted'],
        ['sial.job.updated', 'succeeded'],
        ['sial.model.updated', 'registered'],
      ]);
      for (const e of events) expect({ type: e['detail-type'], errors: validateEventDetail(e['detail-type'], e.detail) }).toEqual({ type: e['detail-type'], errors: [] });
      const trainDone = events[2]!.detail as { jobId: string; attempts: number; jobName: string; datasetId: string };
      expect(trainDone).toMatchObject({ jobId: expect.stringMatching(/^simulated-/), attempts: 1, jobName: `train-${(events[0]!.detail as { runId: string }).runId}` });
      expect(trainDone.datasetId).toBe((events[0]!.detail as { datasetId: string }).datasetId);
      // One job record per Batch job, written by the executed state machine: what `sial jobs` lists.
      const runId = (events[0]!.detail as { runId: string }).runId;
      const records = jobRecordsOf(`exec-${runCounter}`);
      expect(Object.keys(records).sort()).toEqual([`eval-${runId}`, `train-${runId}`]);
      const at = NOW.toISOString();
      expect(records[`train-${runId}`]).toEqual({
        jobId: `train-${runId}`,
        jobKind: 'train',
        runId,
        executionName: `exec-${runCounter}`,
        targetModelId: 'qwen3-4b',
        datasetId: trainDone.datasetId,
        modelOutputUri: (events[1]!.detail as { modelOutputUri: string }).modelOutputUri,
        status: 'succeeded',
        updatedAt: at,
        submittedAt: at,
        endedAt: at,
        attempts: 1,
        batchJobId: trainDone.jobId,
        history: [
          { status: 'submitted', at },
          { status: 'succeeded', at, attempts: 1, batchJobId: trainDone.jobId },
        ],
      });
      expect(records[`eval-${runId}`]).toMatchObject({ jobKind: 'eval', status: 'succeeded', attempts: 1, history: [{ status: 'submitted' }, { status: 'succeeded' }] });
      // The hand-over's output is the registration the canary rollout starts from.
      const registration = result.output as { approvalStatus: string; modelPackageArn: string };
      expect(registration.approvalStatus).toBe('PendingManualApproval');
      expect(registration.modelPackageArn).toMatch(/model-package\/sial-dev-qwen3\/1$/);
      const [approval] = await h.approvals.store.listPending({ now: NOW });
      expect(approval).toBeUndefined(); // decided, so no longer pending
      // The rollout starts as its own execution, behind its own deploy approval.
      expect(result.handedOver?.input).toEqual({ targetModelId: 'qwen3-4b', modelPackageArn: registration.modelPackageArn, modelPackageVersion: 1, requestedBy: expect.stringMatching(/^training-pipeline:/) });
      expect(result.batch.jobs.map((j) => [j.mode, j.status])).toEqual([
        ['train', 'SUCCEEDED'],
        ['eval', 'SUCCEEDED'],
      ]);
      // Two ledger items for the run: its training job and its eval job (0.25 h simulated by default).
      expect(h.ledger.bookedRuns().map((r) => ({ runId: r.runId, jobKind: r.jobKind, jobStatus: r.jobStatus }))).toEqual([
        { runId: expect.any(String), jobKind: 'train', jobStatus: 'SUCCEEDED' },
        { runId: expect.any(String), jobKind: 'eval', jobStatus: 'SUCCEEDED' },
      ]);
      const [train, evaluation] = h.ledger.bookedRuns();
      expect(evaluation?.runId).toBe(train?.runId);
      expect(train?.gpuHours).toBeCloseTo(1.5 * stage.training.gpusPerJob);
      expect(evaluation?.gpuHours).toBeCloseTo(0.25 * stage.training.gpusPerJob);
      expect(await h.ledger.monthUsage(stage.stage, train!.month)).toBeCloseTo(1.75 * stage.training.gpusPerJob);
    } finally {
      await h.close();
    }
  });

  it('dataset-only mode builds the dataset and stops before any approval', async () => {
    const h = await harness();
    try {
      const result = await run(h, {}, SUCCESS, { ...TRAIN, mode: 'dataset-only' });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.visited).toEqual([S.validateRequest, S.buildDataset, S.emitDatasetReady, S.datasetOnly, S.datasetBuilt]);
      // The putEvents task's entry, as the local event log recorded it, matches the published schema.
      const events = readLocalEvents(lakeDir).filter((e) => (e.detail as { executionName?: string }).executionName === `exec-${runCounter}`);
      expect(events.map((e) => [e.source, e['detail-type']])).toEqual([['sial.dev', 'sial.dataset.ready']]);
      const detail = events[0]!.detail as { datasetId: string; mode: string; counts: { tracesUsed: number } };
      expect(validateEventDetail('sial.dataset.ready', detail)).toEqual([]);
      expect(detail.datasetId).toBe((result.output as { datasetId: string }).datasetId); // the manifest is a dataset-only run's output
      expect(detail.mode).toBe('dataset-only');
      expect(detail.counts.tracesUsed).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });

  it('a rejected training approval ends the run without training, and says so', async () => {
    const h = await harness();
    try {
      const result = await run(h, { train: 'reject' });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.visited.slice(-3)).toEqual([S.requestTrainingApproval, S.notifyTrainingRejected, S.trainingRejected]);
      expect(result.visited).not.toContain(S.train);
      expect(result.batch.jobs).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it('an approval nobody decides times out cleanly', async () => {
    const h = await harness({ approvalTimeoutMs: 200 });
    try {
      const result = await run(h, { train: 'ignore' });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.visited.slice(-3)).toEqual([S.requestTrainingApproval, S.notifyApprovalExpired, S.approvalExpired]);
      expect(result.visited).not.toContain(S.train);
    } finally {
      await h.close();
    }
  });

  it('an ineligible dataset (model trained within the cooldown) ends successfully with the reason and a notification', async () => {
    const ledger = new InMemoryLedger();
    await ledger.markTrained(TRAIN.targetModelId, new Date(NOW.getTime() - 2 * 86_400_000), 'earlier-run');
    const h = await harness({ ledger });
    try {
      const result = await run(h, { train: 'approve' });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.visited.slice(-3)).toEqual([S.eligible, S.notifyNotEligible, S.notEligible]);
      // The execution's output is the eligibility verdict, reasons included.
      const eligibility = result.output as { eligible: boolean; reasons: string[] };
      expect(eligibility.eligible).toBe(false);
      expect(eligibility.reasons.join(' ')).toMatch(/7 days|cooldown/i);
      expect(subjects(h).length).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('over budget: FinOps approves, then training is approved and runs', async () => {
    const ledger = new InMemoryLedger();
    ledger.seedMonth(stage.stage, '2026-11', stage.gpuBudget.monthlyCeilingGpuHours - 5);
    const h = await harness({ ledger });
    try {
      const result = await run(h, { finops: 'approve', train: 'approve' });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.visited).toEqual(expect.arrayContaining([S.withinBudget, S.prepareFinopsApproval, S.requestFinopsApproval, S.prepareTrainingApproval, S.requestTrainingApproval, S.train, S.registerModel]));
      expect(result.visited.indexOf(S.requestFinopsApproval)).toBeLessThan(result.visited.indexOf(S.requestTrainingApproval));
    } finally {
      await h.close();
    }
  });

  it('over budget: FinOps rejects and nothing trains', async () => {
    const ledger = new InMemoryLedger();
    ledger.seedMonth(stage.stage, '2026-11', stage.gpuBudget.monthlyCeilingGpuHours - 5);
    const h = await harness({ ledger });
    try {
      const result = await run(h, { finops: 'reject', train: 'approve' });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.visited.slice(-3)).toEqual([S.requestFinopsApproval, S.notifyFinopsRejected, S.finopsRejected]);
      expect(result.visited).not.toContain(S.requestTrainingApproval);
      expect(result.batch.jobs).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it('two concurrent runs that would together cross the ceiling: both pass the check, the first reserves, the second goes to FinOps', async () => {
    const ledger = new InMemoryLedger();
    const ceiling = stage.gpuBudget.monthlyCeilingGpuHours;
    const estimate = runEstimate(settings.training).totalGpuHours;
    // Room for one run's estimate and not for two.
    const used = ceiling - estimate - 1;
    expect(used + 2 * estimate).toBeGreaterThan(ceiling);
    ledger.seedMonth(stage.stage, '2026-11', used);
    const h = await harness({ ledger });
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    try {
      // A's training job waits at the gate, so A still holds its reservation when B asks for one.
      const runA = runLocalPipeline(h.env, TRAIN, 'race-a', SUCCESS, gatedBatch(new SimulatedBatch(h.env.store, pipeline.jobDefinition, SUCCESS, clock), gate));
      const runB = runLocalPipeline(h.env, TRAIN, 'race-b', SUCCESS);
      // Both passed the (advisory) check and now wait for their training approvals.
      const both = await waitFor('two training approvals', async () => {
        const pending = await pendingApprovals(h, 'train');
        return pending.length === 2 ? pending : undefined;
      });
      const approvalOf = (runId: string): ApprovalRecord => both.find((r) => r.runId === runId)!;
      await decide(h, approvalOf('race-a').approvalId, 'approved', 'approver-1@example.com');
      await waitFor('A to reserve', () => ledger.allReservations().find((r) => r.runId === 'race-a' && r.status === 'held'));
      await decide(h, approvalOf('race-b').approvalId, 'approved', 'approver-1@example.com');
      // B's reservation finds no room: it is not held, and B asks FinOps.
      const [finops] = await waitFor('a FinOps approval for B', async () => {
        const pending = await pendingApprovals(h, 'finops');
        return pending.length === 1 ? pending : undefined;
      });
      expect(finops!.runId).toBe('race-b');
      expect(ledger.allReservations().map((r) => r.runId)).toEqual(['race-a']);
      expect((await ledger.monthCommitment(stage.stage, '2026-11')).reservedGpuHours).toBe(estimate);
      await decide(h, finops!.approvalId, 'approved', 'finops-1@example.com');
      openGate();
      const [a, b] = await Promise.all([runA, runB]);

      expect(a.status).toBe('SUCCEEDED');
      expect(a.visited).toEqual(expect.arrayContaining([S.reserveGpuBudget, S.budgetReserved, S.train, S.releaseGpuReservation]));
      expect(a.visited).not.toContain(S.requestFinopsApproval);
      expect(b.status).toBe('SUCCEEDED');
      const bAfterApproval = b.visited.slice(b.visited.indexOf(S.requestTrainingApproval));
      expect(bAfterApproval.slice(0, 10)).toEqual([
        S.requestTrainingApproval,
        S.whichTrainer,
        S.approvedByFinops,
        S.reserveGpuBudget,
        S.budgetReserved,
        S.prepareFinopsApprovalOfReservation,
        S.requestFinopsApprovalOfReservation,
        S.reserveGpuBudgetApprovedByFinops,
        S.recordTrainJobSubmitted,
        S.emitTrainJobSubmitted,
      ]);
      expect(b.visited.filter((state) => state === S.checkGpuBudget)).toHaveLength(1);
      // FinOps approved going past the ceiling for B: its reservation says so, and nothing is held at the end.
      expect(ledger.allReservations().find((r) => r.runId === 'race-b')?.overCeilingApproved).toBe(true);
      expectNothingHeld(ledger);
      expect((await ledger.monthCommitment(stage.stage, '2026-11')).reservedGpuHours).toBe(0);
    } finally {
      openGate();
      await h.close();
    }
  });

  it('a rejected FinOps approval after a failed reservation ends the run without training and holds nothing', async () => {
    const ledger = new InMemoryLedger();
    const h = await harness({ ledger });
    try {
      const runB = runLocalPipeline(h.env, TRAIN, 'late-b', SUCCESS);
      const [train] = await waitFor('a training approval', async () => {
        const pending = await pendingApprovals(h, 'train');
        return pending.length === 1 ? pending : undefined;
      });
      // Another run reserved the whole month while this approval waited.
      await ledger.reserve({ stage: stage.stage, runId: 'other', month: '2026-11', gpuHours: stage.gpuBudget.monthlyCeilingGpuHours, ceilingGpuHours: stage.gpuBudget.monthlyCeilingGpuHours, overCeilingApproved: false, at: NOW.toISOString() });
      await decide(h, train!.approvalId, 'approved', 'approver-1@example.com');
      const [finops] = await waitFor('a FinOps approval', async () => {
        const pending = await pendingApprovals(h, 'finops');
        return pending.length === 1 ? pending : undefined;
      });
      await decide(h, finops!.approvalId, 'rejected', 'finops-1@example.com');
      const result = await runB;
      expect(result.visited.slice(-3)).toEqual([S.requestFinopsApprovalOfReservation, S.notifyFinopsRejected, S.finopsRejected]);
      expect(result.batch.jobs).toHaveLength(0);
      expect(ledger.allReservations().map((r) => r.runId)).toEqual(['other']);
    } finally {
      await h.close();
    }
  });

  it('a Spot reclaim is retried by the job definition and attempt 2 resumes from the checkpoint', async () => {
    const h = await harness();
    try {
      const result = await run(h, { train: 'approve' }, { ...SUCCESS, trainAttempts: ['spot-reclaim', 'success'] });
      expect(result.status).toBe('SUCCEEDED');
      const train = result.batch.jobs.find((j) => j.mode === 'train');
      expect(train?.attemptEnvironments.map((e) => e.AWS_BATCH_JOB_ATTEMPT)).toEqual(['1', '2']);
      expect(train?.resumedFromSteps).toEqual([0, 250]);
      const [booked] = h.ledger.bookedRuns();
      // Both attempts burned GPU time: the reclaimed half attempt and the full second one.
      expect(booked?.gpuHours).toBeCloseTo((0.75 + 1.5) * stage.training.gpusPerJob);
      // The job's succeeded event counts both attempts: a subscriber sees the Spot retry.
      const succeeded = readLocalEvents(lakeDir).filter((e) => (e.detail as { executionName?: string }).executionName === `exec-${runCounter}` && (e.detail as { status?: string }).status === 'succeeded');
      expect(succeeded.map((e) => [(e.detail as { jobKind: string }).jobKind, (e.detail as { attempts: number }).attempts])).toEqual([
        ['train', 2],
        ['eval', 1],
      ]);
      // So does its record: one job, submitted once, succeeded after two attempts.
      const records = Object.values(jobRecordsOf(`exec-${runCounter}`));
      expect(records.map((r) => [r.jobKind, r.status, r.attempts, r.history.map((e) => e.status)])).toEqual(
        expect.arrayContaining([
          ['train', 'succeeded', 2, ['submitted', 'succeeded']],
          ['eval', 'succeeded', 1, ['submitted', 'succeeded']],
        ]),
      );
    } finally {
      await h.close();
    }
  });

  it('an application error is not retried: the run fails, its GPU hours are still booked, and a notification goes out', async () => {
    const h = await harness();
    try {
      const result = await run(h, { train: 'approve' }, { ...SUCCESS, trainAttempts: ['app-error', 'success'] });
      expect(result.status).toBe('FAILED');
      expect(result.visited.slice(-7)).toEqual([S.train, S.recordGpuHoursAfterFailure, S.recordTrainJobFailed, S.emitTrainJobFailed, S.releaseGpuReservationAfterFailure, S.notifyFailure, S.failed]);
      // Subscribers learn that the job failed, after one attempt (the app error is not retried).
      const failed = readLocalEvents(lakeDir).filter((e) => (e.detail as { executionName?: string; status?: string }).executionName === `exec-${runCounter}` && (e.detail as { status?: string }).status === 'failed');
      expect(failed.map((e) => e.detail)).toEqual([expect.objectContaining({ jobKind: 'train', attempts: 1, error: 'States.TaskFailed' })]);
      expect(validateEventDetail('sial.job.updated', failed[0]!.detail)).toEqual([]);
      // The record says the same, with the error's name only, and no eval job was ever recorded.
      const records = Object.values(jobRecordsOf(`exec-${runCounter}`));
      expect(records).toEqual([
        expect.objectContaining({ jobKind: 'train', status: 'failed', attempts: 1, error: 'States.TaskFailed', history: [expect.objectContaining({ status: 'submitted' }), expect.objectContaining({ status: 'failed', attempts: 1, error: 'States.TaskFailed' })] }),
      ]);
      expect(records[0]!.batchJobId).toBeUndefined();
      expectNothingHeld(h.ledger);
      expect(result.batch.jobs[0]?.attemptEnvironments).toHaveLength(1);
      expect(h.ledger.bookedRuns()).toHaveLength(1);
      expect(result.error).toBe('States.TaskFailed');
    } finally {
      await h.close();
    }
  });

  it('a failed eval job books its GPU hours (every attempt), keeps the training cooldown, and ends in Pipeline failed with the eval error', async () => {
    const h = await harness();
    try {
      const result = await run(h, { train: 'approve' }, { ...SUCCESS, evalAttempts: ['spot-reclaim', 'app-error'], evalAttemptHours: 0.5 });
      expect(result.status).toBe('FAILED');
      expect(result.visited.slice(-13)).toEqual([
        S.train,
        S.recordGpuHours,
        S.recordTrainJobSucceeded,
        S.emitTrainJobSucceeded,
        S.recordEvalJobSubmitted,
        S.emitEvalJobSubmitted,
        S.evaluate,
        S.recordEvalGpuHoursAfterFailure,
        S.recordEvalJobFailed,
        S.emitEvalJobFailed,
        S.releaseGpuReservationAfterFailure,
        S.notifyFailure,
        S.failed,
      ]);
      expectNothingHeld(h.ledger);
      // The error is the eval job's own (its job description), not anything from the booking.
      expect(result.error).toBe('States.TaskFailed');
      expect(JSON.parse(result.cause ?? '{}')).toMatchObject({ JobName: expect.stringMatching(/^eval-/), Status: 'FAILED' });
      const evaluation = h.ledger.bookedRuns().find((r) => r.jobKind === 'eval');
      // A reclaimed half attempt (0.25 h), retried, then an application error (0.1 h).
      expect(evaluation).toMatchObject({ jobStatus: 'FAILED', attempts: 2, spotReclaims: 1, source: 'batch-attempts' });
      expect(evaluation?.gpuHours).toBeCloseTo((0.25 + 0.1) * stage.training.gpusPerJob);
      const failed = readLocalEvents(lakeDir).filter((e) => (e.detail as { executionName?: string }).executionName === `exec-${runCounter}` && (e.detail as { status?: string }).status === 'failed');
      expect(failed.map((e) => e.detail)).toEqual([expect.objectContaining({ jobKind: 'eval', attempts: 2, error: 'States.TaskFailed' })]);
      expect(Object.values(jobRecordsOf(`exec-${runCounter}`)).map((r) => [r.jobKind, r.status, r.attempts, r.error])).toEqual(
        expect.arrayContaining([
          ['train', 'succeeded', 1, undefined],
          ['eval', 'failed', 2, 'States.TaskFailed'],
        ]),
      );
      expect(h.ledger.bookedRuns().map((r) => r.jobKind)).toEqual(['train', 'eval']);
      // The training job succeeded, so the model did train: the cooldown comes from it, not from the eval.
      expect(await h.ledger.lastTrainedAt(TRAIN.targetModelId)).toEqual(new Date(NOW.getTime() + 1.5 * 3_600_000));
      expect(subjects(h).some((subject) => /failed/.test(subject))).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('a failed eval gate ends the execution with the metrics in the error', async () => {
    const h = await harness();
    try {
      const result = await run(h, { train: 'approve' }, { ...SUCCESS, evalMetrics: { ...GOOD_EVAL, faithfulness: 0.7 } });
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('EvalGateFailed');
      expect(result.cause).toContain('0.7');
      expect(result.visited).not.toContain(S.registerModel);
      expect(result.visited.slice(-4)).toEqual([S.checkEvalGate, S.releaseGpuReservationAfterFailure, S.notifyFailure, S.failed]);
      expectNothingHeld(h.ledger);
    } finally {
      await h.close();
    }
  });

  it('a managed closed model is refused at the first state', async () => {
    const h = await harness();
    try {
      const result = await run(h, { train: 'approve' }, SUCCESS, { ...TRAIN, targetModelId: 'qwen3-4b', modelFamily: 'openai-gpt-4.1' });
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('RequestRefused');
      expect(result.cause).toMatch(/managed closed model/);
      expect(result.visited[0]).toBe(S.validateRequest);
      expect(result.visited).not.toContain(S.buildDataset);
    } finally {
      await h.close();
    }
  });
});
