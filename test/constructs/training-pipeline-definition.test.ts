/**
 * The training pipeline's ASL as `cdk synth` renders it (stepfunctions/render-asl.ts over the loop
 * stack template): the state names of the contract, JSONPath only, every Task retried and caught,
 * inputs and ResultPaths as lambdas/pipeline/contracts.ts names them, the job contract of
 * training/README.md, and a few executions on aws-local-stepfunctions that pin the wiring of the
 * error and dataset paths. The full path matrix runs in the state-machine tests.
 */
import { loadStageConfig } from '../../config';
import { isRouterTarget } from '../../config/schema';
import { approvalTimeoutSeconds } from '../../lambdas/pipeline/approvals/prepare-approval';
import { validatedRequestSchema } from '../../lambdas/pipeline/contracts';
import { PIPELINE_ERRORS, TRAINING_STATES } from '../../stepfunctions/training-pipeline-states';
import { allStateNames, renderAsl, stateMachineLogicalIds, type AslDefinition, type AslState } from '../../stepfunctions/render-asl';
import { STAGE_NAMES, loopTemplate } from '../helpers/app';
import { validateEventDetail } from '../helpers/event-schemas';
import { execute, keysDeep, named, type ExecutionResult, type Json, type TaskStub } from './asl-execution';
import { applyUpdateItem, keyOf, plainItem, type Item, type UpdateItemInput } from '../../local/pipeline/local-dynamodb-update';
import { parseJobRecord, type JobRecord } from '../../lambdas/pipeline/jobs/job-record';

type Catcher = { ErrorEquals: string[]; Next: string; ResultPath?: string };
type Retrier = { ErrorEquals: string[]; MaxAttempts?: number };

function render(stage: (typeof STAGE_NAMES)[number]): AslDefinition {
  const template = loopTemplate(stage).toJSON();
  // The loop stack also holds the canary rollout and game-day state machines.
  const ids = stateMachineLogicalIds(template).filter((id) => /^PipelineStateMachine[0-9A-F]{8}$/.test(id));
  expect(ids).toHaveLength(1);
  return renderAsl(template, ids[0]!);
}

function state(asl: AslDefinition, name: string): AslState & Record<string, unknown> {
  const found = asl.States[name];
  if (found === undefined) throw new Error(`no state "${name}"`);
  return found as AslState & Record<string, unknown>;
}

function environment(asl: AslDefinition, name: string): Record<string, string> {
  const env = (state(asl, name).Parameters as { ContainerOverrides: { Environment: Array<{ Name: string; Value?: string; 'Value.$'?: string }> } }).ContainerOverrides.Environment;
  return Object.fromEntries(env.map((e) => [e.Name, e.Value ?? `(path) ${e['Value.$']}`]));
}

/** The entries the run's putEvents states were given, in the order the states ran. */
function putEventsOf(asl: AslDefinition, run: ExecutionResult): Array<{ state: string; source: string; detailType: string; detail: unknown }> {
  const putStates = new Set(Object.entries(asl.States).filter(([, s]) => s.Type === 'Task' && String(s.Resource).includes(':events:putEvents')).map(([name]) => name));
  return run.visited
    .filter((name) => putStates.has(name))
    .map((state) => {
      const entry = (run.inputs[state] as { Entries: Array<{ Source: string; DetailType: string; Detail: unknown }> }).Entries[0]!;
      return { state, source: entry.Source, detailType: entry.DetailType, detail: typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail };
    });
}

/** The names of the states that write job records (native dynamodb:updateItem). */
function recordStateNames(asl: AslDefinition): string[] {
  return Object.entries(asl.States).filter(([, s]) => s.Type === 'Task' && String(s.Resource).includes(':dynamodb:updateItem')).map(([name]) => name);
}

/**
 * A jobs table for stubs: each record state's UpdateItem is executed (the local engine's interpreter,
 * which refuses what DynamoDB would refuse) on items kept here, so the test reads the records a run wrote.
 */
function jobsTable(asl: AslDefinition): { stubs: Record<string, TaskStub>; records(): Record<string, JobRecord> } {
  const items: Record<string, Item> = {};
  const stubs = Object.fromEntries(
    recordStateNames(asl).map((name): [string, TaskStub] => [
      name,
      (input) => {
        const update = input as unknown as UpdateItemInput;
        const id = keyOf(update).jobId!.S!;
        try {
          items[id] = applyUpdateItem(items[id], update);
        } catch (error) {
          return error as Error;
        }
        return {};
      },
    ]),
  );
  return { stubs, records: () => Object.fromEntries(Object.entries(items).map(([id, item]) => [id, parseJobRecord(plainItem(item))])) };
}

const TASK_RESULT_PATHS: Record<string, string> = {
  [TRAINING_STATES.validateRequest]: '$.request',
  [TRAINING_STATES.buildDataset]: '$.dataset',
  [TRAINING_STATES.checkEligibility]: '$.eligibility',
  [TRAINING_STATES.checkGpuBudget]: '$.budget',
  [TRAINING_STATES.prepareFinopsApproval]: '$.finopsApproval',
  [TRAINING_STATES.requestFinopsApproval]: '$.finopsDecision',
  [TRAINING_STATES.prepareFinopsApprovalOfReservation]: '$.finopsApproval',
  [TRAINING_STATES.requestFinopsApprovalOfReservation]: '$.finopsDecision',
  [TRAINING_STATES.prepareTrainingApproval]: '$.approval',
  [TRAINING_STATES.requestTrainingApproval]: '$.trainingApproval',
  [TRAINING_STATES.reserveGpuBudget]: '$.reservation',
  [TRAINING_STATES.reserveGpuBudgetApprovedByFinops]: '$.reservation',
  [TRAINING_STATES.releaseGpuReservation]: '$.reservationRelease',
  [TRAINING_STATES.releaseGpuReservationAfterFailure]: '$.reservationRelease',
  [TRAINING_STATES.train]: '$.trainJob',
  [TRAINING_STATES.recordGpuHours]: '$.gpuUsage',
  [TRAINING_STATES.recordGpuHoursAfterFailure]: '$.gpuUsage',
  [TRAINING_STATES.evaluate]: '$.evalJob',
  [TRAINING_STATES.recordEvalGpuHours]: '$.evalGpuUsage',
  [TRAINING_STATES.recordEvalGpuHoursAfterFailure]: '$.evalGpuUsage',
  [TRAINING_STATES.checkEvalGate]: '$.evalGate',
  [TRAINING_STATES.registerModel]: '$.registration',
};

describe.each(STAGE_NAMES)('training pipeline ASL of %s', (stage) => {
  const config = loadStageConfig(stage);
  const asl = render(stage);

  test('has exactly the contract state names, starting at Validate request', () => {
    // A stage without a router target has no router states at all.
    const routerStates = new Set<string>([TRAINING_STATES.routerTarget, TRAINING_STATES.routerNeedsNoGpuBudget, TRAINING_STATES.whichTrainer, TRAINING_STATES.prepareRouterJob, TRAINING_STATES.trainRouter, TRAINING_STATES.recordRouterCpuHours, TRAINING_STATES.recordRouterCpuHoursAfterFailure, TRAINING_STATES.emitRouterJobSubmitted, TRAINING_STATES.emitRouterJobSucceeded, TRAINING_STATES.emitRouterJobFailed, TRAINING_STATES.recordRouterJobSubmitted, TRAINING_STATES.recordRouterJobSucceeded, TRAINING_STATES.recordRouterJobFailed]);
    const hasRouter = config.targetModels.some(isRouterTarget);
    expect(allStateNames(asl).sort()).toEqual(Object.values(TRAINING_STATES).filter((n) => hasRouter || !routerStates.has(n)).sort());
    expect(asl.StartAt).toBe(TRAINING_STATES.validateRequest);
  });

  test('is JSONPath only: no JSONata, no Assign or variables, no Distributed Map', () => {
    const keys = new Set(keysDeep(asl));
    for (const forbidden of ['Assign', 'Arguments', 'Output', 'Variables', 'QueryLanguage', 'ItemProcessor', 'ItemReader', 'ResultWriter']) {
      expect({ key: forbidden, present: keys.has(forbidden) }).toEqual({ key: forbidden, present: false });
    }
    expect(JSON.stringify(asl)).not.toContain('{%');
    expect(Object.values(asl.States).map((s) => s.Type)).not.toContain('Map');
  });

  test('every Task retries transient errors and catches everything else on a path to a notification', () => {
    for (const [name, s] of Object.entries(asl.States).filter(([, st]) => st.Type === 'Task')) {
      const retries = (s.Retry as Retrier[] | undefined) ?? [];
      const catches = (s.Catch as Catcher[] | undefined) ?? [];
      expect({ name, retries: retries.length > 0 }).toEqual({ name, retries: true });
      expect({ name, retriesEverything: retries.some((r) => r.ErrorEquals.includes('States.ALL') || r.ErrorEquals.includes('States.TaskFailed')) }).toEqual({ name, retriesEverything: false });
      const all = catches.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect({ name, catchesAll: all !== undefined }).toEqual({ name, catchesAll: true });
      // A failed Batch job books its GPU-hours first; every failure then releases the run's GPU
      // reservation, and the release notifies. An event after the job's work (or the registration) is
      // done does not fail the run: its Catch goes on to the next state.
      const allowedTargets: Record<string, string> = {
        // A job's end record goes on to its event whatever happened to the write.
        [TRAINING_STATES.recordTrainJobSucceeded]: TRAINING_STATES.emitTrainJobSucceeded,
        [TRAINING_STATES.recordTrainJobFailed]: TRAINING_STATES.emitTrainJobFailed,
        [TRAINING_STATES.recordEvalJobSucceeded]: TRAINING_STATES.emitEvalJobSucceeded,
        [TRAINING_STATES.recordEvalJobFailed]: TRAINING_STATES.emitEvalJobFailed,
        [TRAINING_STATES.recordRouterJobSucceeded]: TRAINING_STATES.emitRouterJobSucceeded,
        [TRAINING_STATES.recordRouterJobFailed]: TRAINING_STATES.emitRouterJobFailed,
        [TRAINING_STATES.emitTrainJobSucceeded]: TRAINING_STATES.recordEvalJobSubmitted,
        [TRAINING_STATES.emitEvalJobSucceeded]: TRAINING_STATES.releaseGpuReservation,
        [TRAINING_STATES.emitRouterJobSucceeded]: TRAINING_STATES.checkEvalGate,
        [TRAINING_STATES.emitModelRegistered]: TRAINING_STATES.notifyRegistered,
        [TRAINING_STATES.train]: TRAINING_STATES.recordGpuHoursAfterFailure,
        [TRAINING_STATES.evaluate]: TRAINING_STATES.recordEvalGpuHoursAfterFailure,
        [TRAINING_STATES.trainRouter]: TRAINING_STATES.recordRouterCpuHoursAfterFailure,
        [TRAINING_STATES.releaseGpuReservationAfterFailure]: TRAINING_STATES.notifyFailure,
        [TRAINING_STATES.notifyFailure]: TRAINING_STATES.failed,
      };
      expect({ name, next: all!.Next }).toEqual({ name, next: allowedTargets[name] ?? TRAINING_STATES.releaseGpuReservationAfterFailure });
    }
    // The release keeps the run's error where it is and always goes on to the notice.
    expect(state(asl, TRAINING_STATES.releaseGpuReservationAfterFailure)).toMatchObject({ Next: TRAINING_STATES.notifyFailure, ResultPath: '$.reservationRelease' });
    expect((state(asl, TRAINING_STATES.releaseGpuReservationAfterFailure).Catch as Catcher[])[0]).toMatchObject({ ResultPath: '$.releaseError' });
    // The failure notice ends in the Fail state that carries the original error.
    expect(state(asl, TRAINING_STATES.notifyFailure)).toMatchObject({ Next: TRAINING_STATES.failed, ResultPath: null });
    expect(state(asl, TRAINING_STATES.failed)).toEqual(expect.objectContaining({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' }));
  });

  test('Lambda inputs and ResultPaths are the ones contracts.ts names; results are the payload itself', () => {
    for (const [name, resultPath] of Object.entries(TASK_RESULT_PATHS)) expect({ name, resultPath: state(asl, name).ResultPath }).toEqual({ name, resultPath });
    expect(state(asl, TRAINING_STATES.validateRequest).Parameters).toEqual({ 'input.$': '$', 'executionName.$': '$$.Execution.Name' });
    expect(state(asl, TRAINING_STATES.buildDataset).Parameters).toEqual({ 'request.$': '$.request' });
    expect(state(asl, TRAINING_STATES.checkEligibility).Parameters).toEqual({ 'request.$': '$.request', 'dataset.$': '$.dataset' });
    expect(state(asl, TRAINING_STATES.checkGpuBudget).Parameters).toEqual({ 'request.$': '$.request' });
    expect(state(asl, TRAINING_STATES.recordGpuHours).Parameters).toEqual({ jobKind: 'train', 'request.$': '$.request', 'budget.$': '$.budget', 'job.$': '$.trainJob' });
    expect(state(asl, TRAINING_STATES.recordGpuHoursAfterFailure).Parameters).toEqual({ jobKind: 'train', 'request.$': '$.request', 'budget.$': '$.budget', 'error.$': '$.error' });
    expect(state(asl, TRAINING_STATES.recordEvalGpuHours).Parameters).toEqual({ jobKind: 'eval', 'request.$': '$.request', 'budget.$': '$.budget', 'job.$': '$.evalJob' });
    expect(state(asl, TRAINING_STATES.recordEvalGpuHoursAfterFailure).Parameters).toEqual({ jobKind: 'eval', 'request.$': '$.request', 'budget.$': '$.budget', 'error.$': '$.error' });
    expect(state(asl, TRAINING_STATES.checkEvalGate).Parameters).toEqual({ 'request.$': '$.request' });
    expect(state(asl, TRAINING_STATES.registerModel).Parameters).toEqual({ 'request.$': '$.request', 'dataset.$': '$.dataset', 'evalGate.$': '$.evalGate', 'trainingApproval.$': '$.trainingApproval' });
    for (const [kind, name] of [
      ['train', TRAINING_STATES.prepareTrainingApproval],
      ['finops', TRAINING_STATES.prepareFinopsApproval],
    ] as const) {
      expect(state(asl, name).Parameters).toMatchObject({ kind, 'request.$': '$.request', 'executionArn.$': '$$.Execution.Id', summary: expect.objectContaining({ 'gpuBudget.$': '$.budget', 'datasetCounts.$': '$.dataset.counts' }) });
    }
    // payloadResponseOnly: the Resource is the function itself, so no Payload wrapper.
    for (const name of [TRAINING_STATES.validateRequest, TRAINING_STATES.buildDataset, TRAINING_STATES.registerModel]) {
      expect(String(state(asl, name).Resource)).toMatch(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:/);
    }
  });

  test(`approval states wait for the task token ${config.approvals.expiryHours} h, carry no token but in the payload, and end cleanly on rejection or expiry`, () => {
    for (const [name, refPath, rejected] of [
      [TRAINING_STATES.requestTrainingApproval, '$.approval', TRAINING_STATES.notifyTrainingRejected],
      [TRAINING_STATES.requestFinopsApproval, '$.finopsApproval', TRAINING_STATES.notifyFinopsRejected],
      [TRAINING_STATES.requestFinopsApprovalOfReservation, '$.finopsApproval', TRAINING_STATES.notifyFinopsRejected],
    ] as const) {
      const s = state(asl, name);
      expect(s).toMatchObject({
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        TimeoutSeconds: approvalTimeoutSeconds(config.approvals.expiryHours),
        Parameters: { Payload: { 'taskToken.$': '$$.Task.Token', 'approvalId.$': `${refPath}.approvalId` } },
      });
      const catches = s.Catch as Catcher[];
      expect(catches.slice(0, 2)).toEqual([
        { ErrorEquals: [PIPELINE_ERRORS.approvalRejected], ResultPath: '$.rejection', Next: rejected },
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.approvalExpiry', Next: TRAINING_STATES.notifyApprovalExpired },
      ]);
    }
    expect(state(asl, TRAINING_STATES.notifyApprovalExpired).Next).toBe(TRAINING_STATES.approvalExpired);
    expect(state(asl, TRAINING_STATES.approvalExpired).Type).toBe('Succeed');
    expect(state(asl, TRAINING_STATES.trainingRejected).Type).toBe('Succeed');
    expect(state(asl, TRAINING_STATES.finopsRejected).Type).toBe('Succeed');
    // No state other than the three request states ever sees the token.
    const withToken = Object.entries(asl.States).filter(([, s]) => JSON.stringify(s).includes('$$.Task.Token')).map(([n]) => n);
    expect(withToken.sort()).toEqual([TRAINING_STATES.requestFinopsApproval, TRAINING_STATES.requestFinopsApprovalOfReservation, TRAINING_STATES.requestTrainingApproval].sort());
  });

  test('Train: Batch .sync with the job contract of training/README.md and the attempt timeout from the budget', () => {
    const train = state(asl, TRAINING_STATES.train);
    expect(train).toMatchObject({
      Resource: 'arn:aws:states:::batch:submitJob.sync',
      Parameters: { 'JobName.$': "States.Format('train-{}', $.request.runId)", Timeout: { 'AttemptDurationSeconds.$': '$.budget.jobTimeoutSeconds' } },
    });
    // The state itself has no timeout of its own: each attempt is bounded by Batch.
    expect(train.TimeoutSeconds).toBeUndefined();
    const env = environment(asl, TRAINING_STATES.train);
    expect(Object.keys(env).sort()).toEqual(
      ['SIAL_MODE', 'SIAL_RUN_ID', 'SIAL_TARGET_MODEL_ID', 'SIAL_ALGORITHM', 'SIAL_DATASET_URI', 'SIAL_MANIFEST_URI', 'SIAL_BASE_MODEL_URI', 'SIAL_OUTPUT_URI', 'SIAL_CHECKPOINT_URI', 'SIAL_HYPERPARAMETERS'].sort(),
    );
    expect(env).toMatchObject({ SIAL_MODE: 'train', SIAL_OUTPUT_URI: '(path) $.request.uris.output', SIAL_CHECKPOINT_URI: '(path) $.request.uris.checkpoints' });
    expect(JSON.parse(env.SIAL_HYPERPARAMETERS!)).toEqual(config.training.hyperparameters);
    const retries = train.Retry as Retrier[];
    expect(retries.flatMap((r) => r.ErrorEquals)).not.toContain('States.TaskFailed');
  });

  test('Evaluate: the eval job with the model, the golden set of the target and the metrics.json location', () => {
    const env = environment(asl, TRAINING_STATES.evaluate);
    expect(Object.keys(env).sort()).toEqual(
      ['SIAL_MODE', 'SIAL_RUN_ID', 'SIAL_TARGET_MODEL_ID', 'SIAL_MODEL_URI', 'SIAL_GOLDEN_SET_URI', 'SIAL_OUTPUT_URI', 'SIAL_METRICS_URI', 'SIAL_HYPERPARAMETERS'].sort(),
    );
    expect(env).toMatchObject({
      SIAL_MODE: 'eval',
      SIAL_MODEL_URI: "(path) States.Format('{}model.tar.gz', $.request.uris.output)",
      SIAL_OUTPUT_URI: '(path) $.request.uris.evalOutput',
      SIAL_METRICS_URI: '(path) $.request.uris.metrics',
    });
    expect(env.SIAL_GOLDEN_SET_URI).toMatch(/^\(path\) States\.Format\('s3:\/\/[a-z0-9-]+\/golden-sets\/\{\}\/', \$\.request\.targetModelId\)$/);
    expect(state(asl, TRAINING_STATES.checkEvalGate).Catch).toContainEqual({ ErrorEquals: [PIPELINE_ERRORS.evalGateFailed], ResultPath: '$.error', Next: TRAINING_STATES.releaseGpuReservationAfterFailure });
  });

  test('each job record is a native dynamodb:updateItem on the jobs table, right before the job event of the same moment, idempotent by its condition', () => {
    const hasRouter = config.targetModels.some(isRouterTarget);
    const pairs: Array<[string, string]> = [
      [TRAINING_STATES.recordTrainJobSubmitted, TRAINING_STATES.emitTrainJobSubmitted],
      [TRAINING_STATES.recordTrainJobSucceeded, TRAINING_STATES.emitTrainJobSucceeded],
      [TRAINING_STATES.recordTrainJobFailed, TRAINING_STATES.emitTrainJobFailed],
      [TRAINING_STATES.recordEvalJobSubmitted, TRAINING_STATES.emitEvalJobSubmitted],
      [TRAINING_STATES.recordEvalJobSucceeded, TRAINING_STATES.emitEvalJobSucceeded],
      [TRAINING_STATES.recordEvalJobFailed, TRAINING_STATES.emitEvalJobFailed],
      ...(hasRouter
        ? ([
            [TRAINING_STATES.recordRouterJobSubmitted, TRAINING_STATES.emitRouterJobSubmitted],
            [TRAINING_STATES.recordRouterJobSucceeded, TRAINING_STATES.emitRouterJobSucceeded],
            [TRAINING_STATES.recordRouterJobFailed, TRAINING_STATES.emitRouterJobFailed],
          ] as Array<[string, string]>)
        : []),
    ];
    expect(recordStateNames(asl).sort()).toEqual(pairs.map(([record]) => record).sort());
    const tables = new Set<string>();
    for (const [record, event] of pairs) {
      const s = state(asl, record);
      expect({ record, Resource: s.Resource, ResultPath: s.ResultPath, Next: s.Next }).toEqual({ record, Resource: 'arn:aws:states:::dynamodb:updateItem', ResultPath: null, Next: event });
      const parameters = s.Parameters as { TableName: string; ConditionExpression: string };
      tables.add(parameters.TableName);
      expect(parameters.ConditionExpression).toBe('attribute_not_exists(#status) OR #status <> :status');
      // A write that had landed before its retry finds its status recorded: done, the state's data unchanged.
      expect((s.Catch as Catcher[])[0]).toEqual({ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: event });
      // The job itself is entered only from its submitted event, which only its submitted record reaches.
      const into = Object.entries(asl.States).filter(([, other]) => other.Next === event || ((other.Catch as Catcher[] | undefined) ?? []).some((c) => c.Next === event));
      expect({ event, from: into.map(([n]) => n) }).toEqual({ event, from: [record] });
    }
    // One table: the data stack's jobs table.
    expect([...tables]).toEqual([expect.stringMatching(/jobstable/i)]);
  });
});

describe('training pipeline ASL executed locally (dev)', () => {
  const asl = render('dev');
  const request = (algorithm: 'grpo' | 'dpo'): Json => ({
    runId: 'run-1',
    mode: 'train',
    stage: 'dev',
    boundary: 'US',
    targetModelId: 'qwen3-4b',
    modelFamily: 'qwen3',
    internalOnly: false,
    algorithm,
    baseModelUri: 's3://models/base/qwen3-4b/',
    requestedBy: 'tester',
    requestedAt: '2025-01-06T03:00:00Z',
    uris: { datasetPrefix: 's3://art/runs/run-1/dataset/', output: 's3://art/runs/run-1/output/', checkpoints: 's3://art/runs/run-1/checkpoints/', evalOutput: 's3://art/runs/run-1/eval/', metrics: 's3://art/runs/run-1/eval/metrics.json' },
  });
  // Every putEvents state answers like EventBridge; their details are checked against the schemas below.
  const putEvents = (): Record<string, TaskStub> =>
    Object.fromEntries(Object.entries(asl.States).filter(([, s]) => s.Type === 'Task' && String(s.Resource).includes(':events:putEvents')).map(([name]) => [name, () => ({ Entries: [{ EventId: `event-${name}` }], FailedEntryCount: 0 })]));
  const ok = (algorithm: 'grpo' | 'dpo'): Record<string, TaskStub> => ({
    ...putEvents(),
    ...jobsTable(asl).stubs,
    [TRAINING_STATES.validateRequest]: () => request(algorithm),
    [TRAINING_STATES.buildDataset]: () => ({ datasetId: 'ds-1', grpoUri: 's3://art/runs/run-1/dataset/grpo.jsonl', dpoUri: 's3://art/runs/run-1/dataset/dpo.jsonl', manifestUri: 's3://art/runs/run-1/dataset/manifest.json', rewardPolicyVersion: 'v1', counts: { tracesUsed: 120, grpoGroups: 30, grpoCompletions: 120, dpoPairs: 40 } }),
    [TRAINING_STATES.checkEligibility]: () => ({ eligible: true, reasons: [], figures: { positiveFeedback: 140 } }),
    [TRAINING_STATES.checkGpuBudget]: () => ({ withinBudget: true, jobTimeoutSeconds: 7200 }),
    [TRAINING_STATES.prepareTrainingApproval]: () => ({ approvalId: 'train-1', kind: 'train', approvalUrl: 'https://x/approvals/train-1?exp=1&sig=s', expiresAt: '2025-01-09T03:00:00Z' }),
    [TRAINING_STATES.requestTrainingApproval]: () => ({ approvalId: 'train-1', decision: 'approved', approver: 'ana', decidedAt: '2025-01-06T04:00:00Z', via: 'page' }),
    [TRAINING_STATES.reserveGpuBudget]: () => ({ reserved: true, runId: 'run-1', gpuHours: 48 }),
    [TRAINING_STATES.releaseGpuReservation]: () => ({ runId: 'run-1', releasedGpuHours: 28 }),
    [TRAINING_STATES.releaseGpuReservationAfterFailure]: () => ({ runId: 'run-1', releasedGpuHours: 0 }),
    [TRAINING_STATES.train]: () => ({ JobId: 'job-1', Status: 'SUCCEEDED', Attempts: [] }),
    [TRAINING_STATES.recordGpuHours]: () => ({ runId: 'run-1', attempts: 2, gpuHours: 16 }),
    [TRAINING_STATES.evaluate]: () => ({ JobId: 'job-2', Status: 'SUCCEEDED' }),
    [TRAINING_STATES.recordEvalGpuHours]: () => ({ runId: 'run-1', jobKind: 'eval', attempts: 1, gpuHours: 4 }),
    [TRAINING_STATES.recordEvalGpuHoursAfterFailure]: () => ({ runId: 'run-1', jobKind: 'eval', attempts: 1, gpuHours: 2 }),
    [TRAINING_STATES.checkEvalGate]: () => ({ passed: true }),
    [TRAINING_STATES.registerModel]: () => ({ modelPackageGroupName: 'sial-dev-qwen3', modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/4', modelPackageVersion: 4 }),
    [TRAINING_STATES.notifyRegistered]: () => ({}),
    [TRAINING_STATES.notifyFailure]: () => ({}),
    [TRAINING_STATES.recordGpuHoursAfterFailure]: () => ({ runId: 'run-1', attempts: 3, gpuHours: 3 }),
    [TRAINING_STATES.notifyTrainingRejected]: () => ({}),
    [TRAINING_STATES.handOverToRollout]: () => ({ ExecutionArn: 'arn:aws:states:local:000000000000:execution:rollout:run-1', StartDate: '2025-01-06T10:00:00Z' }),
  });

  // Every LLM algorithm of the contract: a new one must also get its own dataset file through
  // SIAL_DATASET_URI (the router trains on its own path, from $.dataset.routerUri).
  const llmAlgorithms = validatedRequestSchema.shape.algorithm.options.filter((a): a is 'grpo' | 'dpo' => a !== 'router');
  test.each(llmAlgorithms)("%s: an approved run registers a model; the trainer gets that algorithm's dataset; the registration is the output", async (algorithm) => {
    const run = await execute(asl, { mode: 'train', targetModelId: 'qwen3-4b', requestedBy: 'tester' }, ok(algorithm));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.visited.at(-1)).toBe(TRAINING_STATES.handOverToRollout);
    expect(run.output).toEqual({ modelPackageGroupName: 'sial-dev-qwen3', modelPackageArn: expect.stringContaining('model-package/sial-dev-qwen3/4'), modelPackageVersion: 4 });
    const env = (run.inputs[TRAINING_STATES.train] as { ContainerOverrides: { Environment: Array<{ Name: string; Value: string }> } }).ContainerOverrides.Environment;
    const byName = Object.fromEntries(env.map((e) => [e.Name, e.Value]));
    expect(byName.SIAL_DATASET_URI).toBe(`s3://art/runs/run-1/dataset/${algorithm}.jsonl`);
    expect(byName.SIAL_ALGORITHM).toBe(algorithm);
    expect((run.inputs[TRAINING_STATES.train] as { Timeout: unknown }).Timeout).toEqual({ AttemptDurationSeconds: 7200 });
    const message = (run.inputs[TRAINING_STATES.notifyRegistered] as { Message: string }).Message;
    expect(message).toContain('version 4');
    // The hand-over starts the rollout with exactly its input contract, named after this run.
    expect(run.inputs[TRAINING_STATES.handOverToRollout]).toEqual({
      StateMachineArn: expect.stringMatching(/:stateMachine:RolloutStateMachine[0-9A-F]{8}$/),
      Name: 'run-1',
      Input: { targetModelId: 'qwen3-4b', modelPackageArn: expect.stringContaining('model-package/sial-dev-qwen3/4'), modelPackageVersion: 4, requestedBy: 'training-pipeline:run-1' },
    });
  });

  describe('a router run', () => {
    const routerRequest: Json = {
      ...(request('grpo') as Record<string, Json>),
      targetModelId: 'support-router',
      targetKind: 'router',
      modelFamily: 'support-router',
      algorithm: 'router',
      baseModelUri: null,
    };
    const routerJob: Json = { command: ['train', '--dataset', 's3://art/runs/run-1/dataset/router/part-00000.txt', '--out', 's3://art/runs/run-1/output/'], config: '{"tiers":[]}', vcpus: '2', memoryMiB: '4096', vcpusNumber: 2, timeoutSeconds: 3600, currentModelUri: null, goldenSetUri: null };
    const routerOk = (): Record<string, TaskStub> => ({
      ...ok('grpo'),
      [TRAINING_STATES.validateRequest]: () => routerRequest,
      [TRAINING_STATES.checkGpuBudget]: () => named('Unexpected', 'a router run must not check the GPU budget'),
      [TRAINING_STATES.train]: () => named('Unexpected', 'a router run must not start the GPU job'),
      [TRAINING_STATES.prepareRouterJob]: () => routerJob,
      [TRAINING_STATES.trainRouter]: () => ({ JobId: 'job-r', Status: 'SUCCEEDED', Attempts: [{ StartedAt: 0, StoppedAt: 60_000 }] }),
      [TRAINING_STATES.recordRouterCpuHours]: () => ({ runId: 'run-1', jobStatus: 'SUCCEEDED', attempts: 1, vcpus: 2, vcpuHours: 0.033 }),
      [TRAINING_STATES.recordRouterCpuHoursAfterFailure]: () => ({ runId: 'run-1', jobStatus: 'FAILED', attempts: 1, vcpus: 2, vcpuHours: 0.01 }),
      [TRAINING_STATES.registerModel]: () => ({ modelPackageGroupName: 'sial-dev-support-router', modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-support-router/2', modelPackageVersion: 2 }),
    });

    test('skips the GPU budget, asks the same training approval, trains on the router queue with its command and size, gates and registers', async () => {
      const run = await execute(asl, { mode: 'train', targetModelId: 'support-router', requestedBy: 'tester' }, routerOk());
      expect(run.status).toBe('SUCCEEDED');
      expect(run.visited).not.toContain(TRAINING_STATES.checkGpuBudget);
      expect(run.visited).not.toContain(TRAINING_STATES.train);
      expect(run.visited).toEqual(
        expect.arrayContaining([TRAINING_STATES.routerNeedsNoGpuBudget, TRAINING_STATES.prepareTrainingApproval, TRAINING_STATES.requestTrainingApproval, TRAINING_STATES.prepareRouterJob, TRAINING_STATES.trainRouter, TRAINING_STATES.recordRouterCpuHours, TRAINING_STATES.checkEvalGate, TRAINING_STATES.registerModel, TRAINING_STATES.handOverToRollout]),
      );
      expect(run.visited.indexOf(TRAINING_STATES.requestTrainingApproval)).toBeLessThan(run.visited.indexOf(TRAINING_STATES.trainRouter));
      const submitted = run.inputs[TRAINING_STATES.trainRouter] as { JobQueue: string; JobDefinition: string; ContainerOverrides: { Command: string[]; ResourceRequirements: unknown; Environment: Array<{ Name: string; Value: string }> }; Timeout: unknown };
      expect(submitted.JobQueue).toMatch(/RouterTrainingComputeJobQueue/);
      expect(submitted.JobDefinition).toMatch(/RouterTrainingComputeTrainJobDefinition/);
      expect(submitted.ContainerOverrides.Command).toEqual((routerJob as { command: string[] }).command);
      expect(submitted.ContainerOverrides.ResourceRequirements).toEqual([{ Type: 'VCPU', Value: '2' }, { Type: 'MEMORY', Value: '4096' }]);
      expect(submitted.ContainerOverrides.Environment).toContainEqual({ Name: 'SIAL_ROUTER_CONFIG', Value: '{"tiers":[]}' });
      expect(submitted.Timeout).toEqual({ AttemptDurationSeconds: 3600 });
      expect(run.inputs[TRAINING_STATES.recordRouterCpuHours]).toMatchObject({ operation: 'record', routerJob: { vcpus: '2' }, job: { JobId: 'job-r' } });
      expect(run.inputs[TRAINING_STATES.prepareTrainingApproval]).toMatchObject({ kind: 'train', summary: { targetModelId: 'support-router', algorithm: 'router', gpuBudget: { gpuHours: 0 } } });
    });

    test('a rejected training approval trains nothing', async () => {
      const run = await execute(asl, { mode: 'train', targetModelId: 'support-router', requestedBy: 'tester' }, {
        ...routerOk(),
        [TRAINING_STATES.requestTrainingApproval]: () => named(PIPELINE_ERRORS.approvalRejected, '{"decision":"rejected"}'),
      });
      expect(run.status).toBe('SUCCEEDED');
      expect(run.visited.at(-1)).toBe(TRAINING_STATES.trainingRejected);
      expect(run.visited).not.toContain(TRAINING_STATES.trainRouter);
    });

    test('a refused router gate ends the run as EvalGateFailed before registration', async () => {
      const run = await execute(asl, { mode: 'train', targetModelId: 'support-router', requestedBy: 'tester' }, {
        ...routerOk(),
        [TRAINING_STATES.checkEvalGate]: () => named(PIPELINE_ERRORS.evalGateFailed, '{"failures":["holdout: misroute rate rose"]}'),
      });
      expect(run).toMatchObject({ status: 'FAILED', error: PIPELINE_ERRORS.evalGateFailed });
      expect(run.visited).not.toContain(TRAINING_STATES.registerModel);
    });

    test('its job events name the router job and match the schema', async () => {
      const run = await execute(asl, { mode: 'train', targetModelId: 'support-router', requestedBy: 'tester' }, routerOk());
      const jobs = putEventsOf(asl, run).filter((e) => e.detailType === 'sial.job.updated');
      expect(jobs.map((e) => [e.state, (e.detail as { jobName: string }).jobName])).toEqual([
        [TRAINING_STATES.emitRouterJobSubmitted, 'train-router-run-1'],
        [TRAINING_STATES.emitRouterJobSucceeded, 'train-router-run-1'],
      ]);
      for (const e of jobs) expect(validateEventDetail(e.detailType, e.detail)).toEqual([]);
      expect(jobs[1]!.detail).toMatchObject({ jobKind: 'train-router', jobId: 'job-r', attempts: 1 });
    });

    test('a failed router job books its CPU hours and fails with the job error', async () => {
      const run = await execute(asl, { mode: 'train', targetModelId: 'support-router', requestedBy: 'tester' }, {
        ...routerOk(),
        [TRAINING_STATES.trainRouter]: () => named('States.TaskFailed', '{"Status":"FAILED","StatusReason":"Essential container in task exited"}'),
      });
      expect(run).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
      expect(run.visited.slice(-6)).toEqual([TRAINING_STATES.recordRouterCpuHoursAfterFailure, TRAINING_STATES.recordRouterJobFailed, TRAINING_STATES.emitRouterJobFailed, TRAINING_STATES.releaseGpuReservationAfterFailure, TRAINING_STATES.notifyFailure, TRAINING_STATES.failed]);
    });
  });

  describe('the events a run puts', () => {
    const train = { mode: 'train', targetModelId: 'qwen3-4b', requestedBy: 'tester' };

    test('an approved run: dataset ready, each job submitted then succeeded (its id and booked attempts), the model registered; every detail matches its schema', async () => {
      const run = await execute(asl, train, ok('grpo'));
      const events = putEventsOf(asl, run);
      expect(events.map((e) => e.state)).toEqual([
        TRAINING_STATES.emitDatasetReady,
        TRAINING_STATES.emitTrainJobSubmitted,
        TRAINING_STATES.emitTrainJobSucceeded,
        TRAINING_STATES.emitEvalJobSubmitted,
        TRAINING_STATES.emitEvalJobSucceeded,
        TRAINING_STATES.emitModelRegistered,
      ]);
      for (const e of events) expect({ state: e.state, source: e.source, errors: validateEventDetail(e.detailType, e.detail) }).toEqual({ state: e.state, source: 'sial.dev', errors: [] });
      const detailOf = (name: string): Record<string, unknown> => events.find((e) => e.state === name)!.detail as Record<string, unknown>;
      expect(detailOf(TRAINING_STATES.emitTrainJobSubmitted)).toEqual({
        runId: 'run-1',
        executionName: 'run-1',
        targetModelId: 'qwen3-4b',
        datasetId: 'ds-1',
        jobKind: 'train',
        jobName: 'train-run-1',
        status: 'submitted',
        modelOutputUri: 's3://art/runs/run-1/output/',
      });
      expect(detailOf(TRAINING_STATES.emitTrainJobSucceeded)).toMatchObject({ status: 'succeeded', jobId: 'job-1', attempts: 2 });
      expect(detailOf(TRAINING_STATES.emitEvalJobSucceeded)).toMatchObject({ jobKind: 'eval', jobName: 'eval-run-1', status: 'succeeded', jobId: 'job-2', attempts: 1 });
      expect(detailOf(TRAINING_STATES.emitModelRegistered)).toEqual({
        action: 'registered',
        targetModelId: 'qwen3-4b',
        modelPackageGroupName: 'sial-dev-qwen3',
        modelPackageArn: expect.stringContaining('model-package/sial-dev-qwen3/4'),
        modelPackageVersion: 4,
        runId: 'run-1',
        executionName: 'run-1',
        datasetId: 'ds-1',
        modelOutputUri: 's3://art/runs/run-1/output/',
      });
    });

    test('a failed training job: submitted, then failed with the error name and the attempts its booking read; never the cause', async () => {
      const run = await execute(asl, train, { ...ok('grpo'), [TRAINING_STATES.train]: () => named('States.TaskFailed', '{"Status":"FAILED","StatusReason":"Essential container in task exited"}') });
      const events = putEventsOf(asl, run).filter((e) => e.detailType === 'sial.job.updated');
      expect(events.map((e) => (e.detail as { status: string }).status)).toEqual(['submitted', 'failed']);
      expect(events[1]!.detail).toMatchObject({ jobKind: 'train', status: 'failed', attempts: 3, error: 'States.TaskFailed' });
      expect(validateEventDetail('sial.job.updated', events[1]!.detail)).toEqual([]);
      expect(JSON.stringify(events[1]!.detail)).not.toContain('Essential container');
    });

    test('an event that cannot be put after a job succeeded does not fail the run; one before a job does, and gives the reservation back', async () => {
      const lost = await execute(asl, train, { ...ok('grpo'), [TRAINING_STATES.emitTrainJobSucceeded]: () => named('EventBridge.AccessDeniedException', 'no') });
      expect(lost.status).toBe('SUCCEEDED');
      expect(lost.visited).toContain(TRAINING_STATES.evaluate);
      const before = await execute(asl, train, { ...ok('grpo'), [TRAINING_STATES.emitTrainJobSubmitted]: () => named('EventBridge.AccessDeniedException', 'no') });
      expect(before).toMatchObject({ status: 'FAILED', error: 'EventBridge.AccessDeniedException' });
      expect(before.visited).not.toContain(TRAINING_STATES.train);
      expect(before.visited).toContain(TRAINING_STATES.releaseGpuReservationAfterFailure);
    });
  });

  describe('the job records a run writes', () => {
    const train = { mode: 'train', targetModelId: 'qwen3-4b', requestedBy: 'tester' };
    const withTable = (stubs: Record<string, TaskStub>): { stubs: Record<string, TaskStub>; records(): Record<string, JobRecord> } => {
      const table = jobsTable(asl);
      return { stubs: { ...stubs, ...table.stubs }, records: table.records };
    };
    // The local engine has no $$.State.EnteredTime of its own: runAsl answers it from the wall clock.
    const instant = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    test('an approved run: one record per job, its identity whole, submitted then succeeded with the booked attempts and the Batch job id', async () => {
      const table = withTable(ok('grpo'));
      const run = await execute(asl, train, table.stubs);
      expect(run.status).toBe('SUCCEEDED');
      const records = table.records();
      expect(Object.keys(records).sort()).toEqual(['eval-run-1', 'train-run-1']);
      expect(records['train-run-1']).toEqual({
        jobId: 'train-run-1',
        jobKind: 'train',
        runId: 'run-1',
        executionName: 'run-1',
        targetModelId: 'qwen3-4b',
        datasetId: 'ds-1',
        modelOutputUri: 's3://art/runs/run-1/output/',
        status: 'succeeded',
        updatedAt: instant,
        submittedAt: instant,
        endedAt: instant,
        attempts: 2,
        batchJobId: 'job-1',
        history: [
          { status: 'submitted', at: instant },
          { status: 'succeeded', at: instant, attempts: 2, batchJobId: 'job-1' },
        ],
      });
      expect(records['eval-run-1']).toMatchObject({ jobKind: 'eval', status: 'succeeded', attempts: 1, batchJobId: 'job-2', history: [{ status: 'submitted' }, { status: 'succeeded' }] });
      // Each record is written before the event of the same moment.
      const at = (name: string) => run.visited.indexOf(name);
      expect(at(TRAINING_STATES.recordTrainJobSubmitted) + 1).toBe(at(TRAINING_STATES.emitTrainJobSubmitted));
      expect(at(TRAINING_STATES.recordGpuHours) + 1).toBe(at(TRAINING_STATES.recordTrainJobSucceeded));
    });

    test('a failed training job: failed with the attempts its booking read and the error name, never the cause', async () => {
      const table = withTable({ ...ok('grpo'), [TRAINING_STATES.train]: () => named('States.TaskFailed', '{"Status":"FAILED","StatusReason":"Essential container in task exited"}') });
      const run = await execute(asl, train, table.stubs);
      expect(run).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
      const records = table.records();
      expect(Object.keys(records)).toEqual(['train-run-1']);
      expect(records['train-run-1']).toMatchObject({ status: 'failed', attempts: 3, error: 'States.TaskFailed', history: [{ status: 'submitted' }, { status: 'failed', attempts: 3, error: 'States.TaskFailed' }] });
      expect(JSON.stringify(records)).not.toContain('Essential container');
    });

    test('a record that cannot be written after a job ended does not fail the run (kept at $.jobRecordError); one before a job does, and gives the reservation back', async () => {
      const lost = await execute(asl, train, { ...ok('grpo'), [TRAINING_STATES.recordTrainJobSucceeded]: () => named('DynamoDB.AccessDeniedException', 'no') });
      expect(lost.status).toBe('SUCCEEDED');
      expect(lost.visited).toEqual(expect.arrayContaining([TRAINING_STATES.emitTrainJobSucceeded, TRAINING_STATES.evaluate, TRAINING_STATES.registerModel]));
      expect(lost.outputs.get(TRAINING_STATES.emitTrainJobSucceeded)).toMatchObject({ jobRecordError: { Error: 'DynamoDB.AccessDeniedException' } });
      // A failed job's record lost: the run still fails with the job's own error, after its event.
      const failedLost = await execute(asl, train, {
        ...ok('grpo'),
        [TRAINING_STATES.train]: () => named('States.TaskFailed', '{}'),
        [TRAINING_STATES.recordTrainJobFailed]: () => named('DynamoDB.AccessDeniedException', 'no'),
      });
      expect(failedLost).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
      expect(failedLost.visited).toContain(TRAINING_STATES.emitTrainJobFailed);
      const before = await execute(asl, train, { ...ok('grpo'), [TRAINING_STATES.recordTrainJobSubmitted]: () => named('DynamoDB.AccessDeniedException', 'no') });
      expect(before).toMatchObject({ status: 'FAILED', error: 'DynamoDB.AccessDeniedException' });
      expect(before.visited).not.toContain(TRAINING_STATES.emitTrainJobSubmitted);
      expect(before.visited).not.toContain(TRAINING_STATES.train);
      expect(before.visited).toContain(TRAINING_STATES.releaseGpuReservationAfterFailure);
    });

    test('a write retried after it had landed finds its status recorded and goes on as done, appending nothing twice', async () => {
      const table = withTable(ok('grpo'));
      const write = table.stubs[TRAINING_STATES.recordTrainJobSucceeded]!;
      // The first attempt lands but its answer is lost (a service error), so Step Functions retries it.
      const stubs = { ...table.stubs, [TRAINING_STATES.recordTrainJobSucceeded]: (input: Json, call: number) => (call === 1 ? (write(input, call), named('DynamoDB.InternalServerErrorException', 'lost answer')) : write(input, call)) };
      const run = await execute(asl, train, stubs);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls[TRAINING_STATES.recordTrainJobSucceeded]).toBe(2);
      expect(run.outputs.get(TRAINING_STATES.recordTrainJobSucceeded)).not.toHaveProperty('jobRecordError');
      expect(table.records()['train-run-1']!.history.map((e) => e.status)).toEqual(['submitted', 'succeeded']);
    });
  });

  test('a refused request ends the run at once with RequestRefused and its reason, after the failure notice', async () => {
    const run = await execute(asl, { mode: 'train', targetModelId: 'gpt-4.1', requestedBy: 'tester' }, {
      ...ok('grpo'),
      [TRAINING_STATES.validateRequest]: () => named(PIPELINE_ERRORS.requestRefused, '"gpt-4.1" is a managed closed model'),
    });
    expect(run).toMatchObject({ status: 'FAILED', error: PIPELINE_ERRORS.requestRefused, cause: '"gpt-4.1" is a managed closed model' });
    expect(run.visited).toEqual([TRAINING_STATES.validateRequest, TRAINING_STATES.releaseGpuReservationAfterFailure, TRAINING_STATES.notifyFailure, TRAINING_STATES.failed]);
  });

  test('a failed training job books its GPU hours, notifies and fails with the job error (not the booking)', async () => {
    const run = await execute(asl, { mode: 'train', targetModelId: 'qwen3-4b', requestedBy: 'tester' }, {
      ...ok('grpo'),
      [TRAINING_STATES.train]: () => named('States.TaskFailed', '{"Status":"FAILED","StatusReason":"Essential container in task exited"}'),
      [TRAINING_STATES.recordGpuHoursAfterFailure]: () => named('Lambda.Unknown', 'the ledger is unreachable'),
    });
    expect(run).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    expect(run.visited.slice(-4)).toEqual([TRAINING_STATES.recordGpuHoursAfterFailure, TRAINING_STATES.releaseGpuReservationAfterFailure, TRAINING_STATES.notifyFailure, TRAINING_STATES.failed]);
    expect(run.inputs[TRAINING_STATES.recordGpuHoursAfterFailure]).toMatchObject({ error: { Error: 'States.TaskFailed' }, budget: { jobTimeoutSeconds: 7200 } });
  });

  test('a failed eval job books its GPU hours, notifies and fails with the eval error (not the booking)', async () => {
    const run = await execute(asl, { mode: 'train', targetModelId: 'qwen3-4b', requestedBy: 'tester' }, {
      ...ok('grpo'),
      [TRAINING_STATES.evaluate]: () => named('States.TaskFailed', '{"Status":"FAILED","StatusReason":"Essential container in task exited"}'),
      [TRAINING_STATES.recordEvalGpuHoursAfterFailure]: () => named('Lambda.Unknown', 'the ledger is unreachable'),
    });
    expect(run).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed', cause: expect.stringContaining('Essential container') });
    expect(run.visited.slice(-10)).toEqual([
      TRAINING_STATES.recordGpuHours,
      TRAINING_STATES.recordTrainJobSucceeded,
      TRAINING_STATES.emitTrainJobSucceeded,
      TRAINING_STATES.recordEvalJobSubmitted,
      TRAINING_STATES.emitEvalJobSubmitted,
      TRAINING_STATES.evaluate,
      TRAINING_STATES.recordEvalGpuHoursAfterFailure,
      TRAINING_STATES.releaseGpuReservationAfterFailure,
      TRAINING_STATES.notifyFailure,
      TRAINING_STATES.failed,
    ]);
    expect(run.inputs[TRAINING_STATES.recordEvalGpuHoursAfterFailure]).toMatchObject({ jobKind: 'eval', error: { Error: 'States.TaskFailed' }, budget: { jobTimeoutSeconds: 7200 } });
    expect(run.visited).not.toContain(TRAINING_STATES.checkEvalGate);
  });

  test('a succeeded eval job is booked before the gate reads its metrics', async () => {
    const run = await execute(asl, { mode: 'train', targetModelId: 'qwen3-4b', requestedBy: 'tester' }, ok('grpo'));
    const at = (name: string) => run.visited.indexOf(name);
    expect(at(TRAINING_STATES.evaluate) + 1).toBe(at(TRAINING_STATES.recordEvalGpuHours));
    // ... and the reservation's rest is given back in between (after the job's event): both GPU jobs are done.
    expect(at(TRAINING_STATES.recordEvalGpuHours) + 1).toBe(at(TRAINING_STATES.recordEvalJobSucceeded));
    expect(at(TRAINING_STATES.recordEvalJobSucceeded) + 1).toBe(at(TRAINING_STATES.emitEvalJobSucceeded));
    expect(at(TRAINING_STATES.emitEvalJobSucceeded) + 1).toBe(at(TRAINING_STATES.releaseGpuReservation));
    expect(at(TRAINING_STATES.releaseGpuReservation) + 1).toBe(at(TRAINING_STATES.checkEvalGate));
    expect(run.inputs[TRAINING_STATES.reserveGpuBudget]).toMatchObject({ operation: 'reserve', overCeilingApproved: false, budget: { jobTimeoutSeconds: 7200 } });
    expect(run.inputs[TRAINING_STATES.releaseGpuReservation]).toEqual({ operation: 'release', executionName: expect.any(String) });
    expect(run.inputs[TRAINING_STATES.recordEvalGpuHours]).toMatchObject({ jobKind: 'eval', job: { JobId: 'job-2', Status: 'SUCCEEDED' } });
  });

  test('a rejected training approval ends successfully at Training rejected without training', async () => {
    const run = await execute(asl, { mode: 'train', targetModelId: 'qwen3-4b', requestedBy: 'tester' }, {
      ...ok('grpo'),
      [TRAINING_STATES.requestTrainingApproval]: () => named(PIPELINE_ERRORS.approvalRejected, '{"decision":"rejected","approver":"ana","comment":"not this week"}'),
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.visited.slice(-2)).toEqual([TRAINING_STATES.notifyTrainingRejected, TRAINING_STATES.trainingRejected]);
    expect(run.visited).not.toContain(TRAINING_STATES.train);
    expect((run.inputs[TRAINING_STATES.notifyTrainingRejected] as { Message: string }).Message).toContain('not this week');
  });
});
