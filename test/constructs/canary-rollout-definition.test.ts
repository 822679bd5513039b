/**
 * The canary rollout's and the game day's ASL as `cdk synth` renders it: exactly the contract's state
 * names, JSONPath only, every Task retried and caught into `Roll back` (or `Drill failed`), the
 * integration states' parameters, and executions on aws-local-stepfunctions that pin the wiring: both
 * targets promote, an alarm and a rejection roll back, a failure at every Task ends with the traffic
 * restored, and a failed rollback fails loudly with its own error.
 */
import { registryKeyOf } from '../../config/schema';
import { loadStageConfig } from '../../config';
import { approvalTimeoutSeconds } from '../../lambdas/pipeline/approvals/prepare-approval';
import { advanceStep, advanceStepEventSchema } from '../../lambdas/rollout/advance-step/advance-step';
import { rollbackRecordSchema, rolloutPlanSchema, type RolloutPlan } from '../../lambdas/rollout/contracts';
import { startDrillEventSchema } from '../../lambdas/rollout/game-day/start-drill';
import { planRoutePatch } from '../../lambdas/rollout/route-patch/plan-route-patch';
import { validateRolloutEventSchema } from '../../lambdas/rollout/validate-rollout/validate-rollout';
import { DRILL_SIGNAL } from '../../lib/constructs/canary-alarms';
import { EKS_API_TRANSIENT_ERRORS, EKS_TRANSIENT_ERRORS, HTTP_ROUTE_PATH_FORMAT, REJECTION_ERRORS, ROLLBACK_EVENT_PATH, SAGEMAKER_TRANSIENT_ERRORS } from '../../stepfunctions/canary-rollout';
import { GAME_DAY_STATES, ROLLOUT_ERRORS, ROLLOUT_STATES } from '../../stepfunctions/canary-rollout-states';
import { EVENTBRIDGE_TRANSIENT_ERRORS } from '../../stepfunctions/event-tasks';
import { DRILL_TOO_SLOW_ERROR } from '../../stepfunctions/game-day';
import { PIPELINE_EVENT_TYPES, ROLLBACK_EVENT_REASONS } from '../../stepfunctions/pipeline-events';
import { EVENT_ERROR_PATH } from '../../stepfunctions/training-pipeline';
import { PIPELINE_ERRORS } from '../../stepfunctions/training-pipeline-states';
import { allStateNames, renderAsl, stateMachineLogicalIds, type AslDefinition, type AslState } from '../../stepfunctions/render-asl';
import { STAGE_NAMES, loopTemplate, type StageName } from '../helpers/app';
import { validateEventDetail } from '../helpers/event-schemas';
import { execute, keysDeep, named, type ExecutionResult, type Json, type TaskStub } from './asl-execution';

type Catcher = { ErrorEquals: string[]; Next: string; ResultPath?: string | null };
type Retrier = { ErrorEquals: string[]; MaxAttempts?: number };

const S = ROLLOUT_STATES;
const G = GAME_DAY_STATES;

function render(stage: StageName, prefix: string): AslDefinition {
  const template = loopTemplate(stage).toJSON();
  const ids = stateMachineLogicalIds(template).filter((id) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
  expect(ids).toHaveLength(1);
  return renderAsl(template, ids[0]!);
}

function state(asl: AslDefinition, name: string): AslState & Record<string, unknown> {
  const found = asl.States[name];
  if (found === undefined) throw new Error(`no state "${name}"`);
  return found as AslState & Record<string, unknown>;
}

function tasksOf(asl: AslDefinition): Array<[string, AslState]> {
  return Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
}

describe.each(STAGE_NAMES)('canary rollout ASL of %s', (stage) => {
  const config = loadStageConfig(stage);
  const asl = render(stage, 'RolloutStateMachine');

  test('has exactly the contract state names, starting at Validate rollout', () => {
    expect(allStateNames(asl).sort()).toEqual(Object.values(ROLLOUT_STATES).sort());
    expect(asl.StartAt).toBe(S.validateRollout);
  });

  test('is JSONPath only: no JSONata, no Assign or variables, no Map', () => {
    const keys = new Set(keysDeep(asl));
    for (const forbidden of ['Assign', 'Arguments', 'Output', 'Variables', 'QueryLanguage', 'ItemProcessor', 'ItemReader', 'ResultWriter', 'Iterator']) {
      expect({ key: forbidden, present: keys.has(forbidden) }).toEqual({ key: forbidden, present: false });
    }
    expect(JSON.stringify(asl)).not.toContain('{%');
    expect(Object.values(asl.States).map((s) => s.Type)).not.toContain('Map');
    expect(Object.values(asl.States).map((s) => s.Type)).not.toContain('Parallel');
  });

  test('every Task retries transient errors and catches everything: into Roll back, or to the end it leads to', () => {
    const catchAllTarget: Record<string, string> = {
      [S.validateRollout]: S.notifyRolledBack,
      [S.rollBack]: S.nextStep,
      [S.notifyRolledBack]: S.rolledBack,
      [S.notifyRejected]: S.rejected,
      [S.notifyPromoted]: S.promoted,
      // An event is put after the change it reports is done: a lost one goes on to the same end.
      [S.emitModelPromoted]: S.notifyPromoted,
      [S.emitModelRolledBack]: S.nextStep,
    };
    for (const [name, s] of tasksOf(asl)) {
      const retries = (s.Retry as Retrier[] | undefined) ?? [];
      const catches = (s.Catch as Catcher[] | undefined) ?? [];
      expect({ name, retries: retries.length > 0 }).toEqual({ name, retries: true });
      // Only Roll back retries everything: it converges (it re-asks for 100 % current) and is idempotent.
      const retriesAll = retries.some((r) => r.ErrorEquals.includes('States.ALL'));
      expect({ name, retriesAll }).toEqual({ name, retriesAll: name === S.rollBack });
      const all = catches.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect({ name, next: all?.Next }).toEqual({ name, next: catchAllTarget[name] ?? S.rollBack });
      if (all?.Next === S.rollBack) expect({ name, resultPath: all.ResultPath }).toEqual({ name, resultPath: '$.error' });
      if (String(s.Resource).includes(':events:putEvents')) expect({ name, resultPath: all?.ResultPath }).toEqual({ name, resultPath: EVENT_ERROR_PATH });
    }
    // Roll back keeps its failure where its success goes, so `Rolled back` reads one path either way.
    expect((state(asl, S.rollBack).Catch as Catcher[])[0]).toEqual({ ErrorEquals: ['States.ALL'], ResultPath: '$.rollback', Next: S.nextStep });
    expect(state(asl, S.rolledBack)).toEqual(expect.objectContaining({ Type: 'Fail', ErrorPath: '$.rollback.Error', CausePath: '$.rollback.Cause' }));
    expect(state(asl, S.promoted).Type).toBe('Succeed');
    expect(state(asl, S.rejected).Type).toBe('Succeed');
  });

  test('Lambda inputs and ResultPaths are those of lambdas/rollout/contracts.ts; results are the payload itself', () => {
    const plan = { 'rollout.$': '$.rollout', 'progress.$': '$.progress' };
    const expected: Record<string, [Record<string, unknown>, string]> = {
      // No ResultPath: the plan (selected below) replaces the input.
      // The execution's ARN goes into the plan and so into the claim: `sial rollout release` reads it there.
      [S.validateRollout]: [{ 'input.$': '$', 'executionName.$': '$$.Execution.Name', 'executionArn.$': '$$.Execution.Id' }, undefined as unknown as string],
      [S.deployCandidateVariant]: [{ 'rollout.$': '$.rollout' }, '$.deployment'],
      [S.checkEndpointStatus]: [{ 'rollout.$': '$.rollout' }, '$.endpoint'],
      [S.advanceStep]: [plan, '$.progress'],
      [S.verifySageMakerWeights]: [plan, '$.verified'],
      [S.planRoutePatch]: [{ ...plan, 'route.$': '$.route' }, '$.routePatch'],
      [S.verifyRouteWeights]: [{ ...plan, 'route.$': '$.route' }, '$.verified'],
      [S.checkCanary]: [{ ...plan, 'verified.$': '$.verified' }, '$.check'],
      [S.promote]: [plan, '$.promotion'],
      [S.rollBack]: [{ 'rollout.$': '$.rollout', 'check.$': '$.check', 'error.$': '$.error' }, '$.rollback'],
    };
    for (const [name, [parameters, resultPath]] of Object.entries(expected)) {
      expect({ name, parameters: state(asl, name).Parameters, resultPath: state(asl, name).ResultPath }).toEqual({ name, parameters, resultPath });
      expect({ name, resource: String(state(asl, name).Resource) }).toEqual({ name, resource: expect.stringMatching(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:/) });
    }
    // Validate's plan replaces the input, and the paths later states read exist from then on (as null).
    expect(state(asl, S.validateRollout).ResultSelector).toEqual({
      'rollout.$': '$',
      'progress.$': "States.StringToJson('null')",
      'check.$': "States.StringToJson('null')",
      'error.$': "States.StringToJson('null')",
    });
    // The record keeps every field of the contract and gains the Fail state's Error and Cause.
    const selector = state(asl, S.rollBack).ResultSelector as Record<string, string>;
    for (const field of Object.keys(rollbackRecordSchema.shape)) expect(selector[`${field}.$`]).toBe(`$.${field}`);
    expect(selector).toMatchObject({ Error: ROLLOUT_ERRORS.rolledBack, 'Cause.$': '$.reason' });
  });

  test(`step approvals: the shared approval Lambdas, kind deploy-stage, ${config.approvals.expiryHours} h task token, rejection and expiry into Roll back`, () => {
    const prepare = state(asl, S.prepareStepApproval);
    expect(String(prepare.Resource)).toMatch(/:function:PipelinePrepareApprovalFunction[0-9A-F]{8}$/);
    expect(prepare).toMatchObject({
      ResultPath: '$.stepApproval',
      Parameters: {
        kind: 'deploy-stage',
        request: { 'runId.$': '$.rollout.rolloutId', 'stage.$': '$.rollout.stage', 'targetModelId.$': '$.rollout.targetModelId', 'requestedBy.$': '$.rollout.requestedBy' },
        'executionArn.$': '$$.Execution.Id',
        // The approver sees the candidate's eval comparison with production on every step's approval.
        summary: expect.objectContaining({ 'candidatePercent.$': '$.progress.candidatePercent', 'evalEvidence.$': '$.rollout.evalEvidence', 'candidate.$': '$.rollout.candidate', 'canaryAlarm.$': '$.rollout.alarmName' }),
      },
    });
    const request = state(asl, S.requestStepApproval);
    expect(request).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSeconds: approvalTimeoutSeconds(config.approvals.expiryHours),
      ResultPath: '$.stepDecision',
      Parameters: { FunctionName: expect.stringMatching(/:function:PipelineRequestApprovalFunction[0-9A-F]{8}$/), Payload: { 'taskToken.$': '$$.Task.Token', 'approvalId.$': '$.stepApproval.approvalId' } },
    });
    expect((request.Catch as Catcher[])[0]).toEqual({ ErrorEquals: [...REJECTION_ERRORS], ResultPath: '$.error', Next: S.rollBack });
    expect(REJECTION_ERRORS).toEqual([PIPELINE_ERRORS.approvalRejected, 'States.Timeout']);
    const withToken = Object.entries(asl.States).filter(([, s]) => JSON.stringify(s).includes('$$.Task.Token')).map(([n]) => n);
    expect(withToken).toEqual([S.requestStepApproval]);
  });

  test('Set SageMaker weights: aws-sdk UpdateEndpointWeightsAndCapacities on the plan\'s endpoint and variants, with the step\'s weights', () => {
    expect(state(asl, S.setSageMakerWeights)).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:sagemaker:updateEndpointWeightsAndCapacities',
      ResultPath: null,
      Parameters: {
        'EndpointName.$': '$.rollout.target.endpointName',
        DesiredWeightsAndCapacities: [
          { 'VariantName.$': '$.rollout.current.servingName', 'DesiredWeight.$': '$.progress.currentPercent' },
          { 'VariantName.$': '$.rollout.candidate.servingName', 'DesiredWeight.$': '$.progress.candidatePercent' },
        ],
      },
    });
    expect((state(asl, S.setSageMakerWeights).Retry as Retrier[])[0]!.ErrorEquals).toEqual([...SAGEMAKER_TRANSIENT_ERRORS]);
  });

  test('EKS: Read HTTPRoute and Patch HTTPRoute weights are eks:call on the plan\'s cluster and route; the merge patch is the one Plan HTTPRoute patch computed', () => {
    // Endpoint and CA come from `Describe EKS cluster` ($.cluster), never from configuration.
    const cluster = { 'ClusterName.$': '$.rollout.target.clusterName', 'CertificateAuthority.$': '$.cluster.certificateAuthority', 'Endpoint.$': '$.cluster.endpoint' };
    const path = `States.Format('${HTTP_ROUTE_PATH_FORMAT}', $.rollout.target.namespace, $.rollout.target.httpRouteName)`;
    expect(state(asl, S.readRoute)).toMatchObject({
      Resource: 'arn:aws:states:::eks:call',
      Parameters: { ...cluster, Method: 'GET', 'Path.$': path },
      ResultSelector: { 'ResponseBody.$': '$.ResponseBody' },
      ResultPath: '$.route',
      Next: S.planRoutePatch,
    });
    expect(state(asl, S.planRoutePatch).Next).toBe(S.patchRouteWeights);
    // Every rule as read (matches, filters, other rules) is in the planned body: nothing built in JSONPath.
    expect(state(asl, S.patchRouteWeights)).toEqual(
      expect.objectContaining({
        Resource: 'arn:aws:states:::eks:call',
        Parameters: { ...cluster, Method: 'PATCH', 'Path.$': '$.routePatch.Path', 'RequestBody.$': '$.routePatch.RequestBody' },
        ResultSelector: { 'ResponseBody.$': '$.ResponseBody' },
        ResultPath: '$.route',
        Next: S.verifyRouteWeights,
      }),
    );
    // A 409 is the resourceVersion precondition failing: never retried with the same precondition.
    for (const name of [S.readRoute, S.patchRouteWeights]) {
      const retried = (state(asl, name).Retry as Retrier[]).flatMap((r) => r.ErrorEquals);
      expect(retried).toEqual([...EKS_TRANSIENT_ERRORS]);
      expect(retried).not.toContain('EKS.409');
    }
  });

  test('EKS: Describe EKS cluster reads the plan\'s cluster once, before the first step, and a failure rolls back', () => {
    expect(state(asl, S.deployTarget).Choices).toContainEqual({ Variable: '$.rollout.target.kind', StringEquals: 'eks', Next: S.describeCluster });
    expect(state(asl, S.describeCluster)).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:eks:describeCluster',
      Parameters: { 'Name.$': '$.rollout.target.clusterName' },
      ResultSelector: { 'endpoint.$': '$.Cluster.Endpoint', 'certificateAuthority.$': '$.Cluster.CertificateAuthority.Data' },
      ResultPath: '$.cluster',
      Next: S.nextStep,
    });
    expect((state(asl, S.describeCluster).Retry as Retrier[]).flatMap((r) => r.ErrorEquals)).toEqual([...EKS_API_TRANSIENT_ERRORS]);
    expect(state(asl, S.describeCluster).Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: S.rollBack })]);
  });

  test('bake loop: Wait checkIntervalSeconds from the plan, Check canary, then roll back, advance or bake again', () => {
    expect(state(asl, S.waitBake)).toEqual({ Type: 'Wait', SecondsPath: '$.rollout.checkIntervalSeconds', Next: S.checkCanary });
    expect(state(asl, S.canaryHealthy)).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.check.rollBack', BooleanEquals: true, Next: S.rollBack },
        { Variable: '$.check.baked', BooleanEquals: true, Next: S.advanceStep },
      ],
      Default: S.waitBake,
    });
    expect(state(asl, S.endpointInService)).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.endpoint.failed', BooleanEquals: true, Next: S.rollBack },
        { Variable: '$.endpoint.inService', BooleanEquals: true, Next: S.nextStep },
      ],
      Default: S.waitForEndpoint,
    });
  });
});

describe.each(STAGE_NAMES)('canary rollout events of %s', (stage) => {
  const asl = render(stage, 'RolloutStateMachine');

  test('Emit model promoted and Emit model rolled back: native putEvents on the default bus, source sial.<stage>, ids only', () => {
    const putStates = tasksOf(asl).filter(([, s]) => String(s.Resource).includes(':events:putEvents')).map(([name]) => name);
    expect(putStates.sort()).toEqual([S.emitModelPromoted, S.emitModelRolledBack].sort());
    for (const name of putStates) {
      const entries = (state(asl, name).Parameters as { Entries: Array<Record<string, unknown>> }).Entries;
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ Source: `sial.${stage}`, DetailType: PIPELINE_EVENT_TYPES.modelUpdated });
      expect(String(JSON.stringify(entries[0]!.EventBusName))).toMatch(/event-bus\/default/);
      expect(state(asl, name).ResultPath).toBeNull();
      expect((state(asl, name).Retry as Retrier[])[0]!.ErrorEquals).toEqual([...EVENTBRIDGE_TRANSIENT_ERRORS]);
      // Never the rollback record's words or an error's cause: those may quote anything.
      const detail = JSON.stringify(entries[0]!.Detail);
      for (const text of ['$.rollback.reason', '$.rollback.Cause', '$.error', '$.check.reason', 'Execution.Input']) expect({ name, text, used: detail.includes(text) }).toEqual({ name, text, used: false });
    }
    expect(state(asl, S.promote).Next).toBe(S.emitModelPromoted);
    expect(state(asl, S.emitModelPromoted).Next).toBe(S.notifyPromoted);
    expect(state(asl, S.rollBack).Next).toBe(S.rollbackReason);
    expect(state(asl, S.emitModelRolledBack).Next).toBe(S.nextStep);
  });

  test('Rollback reason? names the alarm when it acted or was in ALARM, else an id of what ended the rollout', () => {
    const choice = state(asl, S.rollbackReason) as unknown as { Choices: Array<{ Next: string }>; Default: string };
    expect(choice.Choices.map((c) => c.Next)).toEqual([S.reasonAlarm, S.reasonOperator, S.reasonApprovalExpired, S.reasonInsufficientData]);
    expect(choice.Default).toBe(S.reasonFailure);
    const passes: Record<string, Record<string, string>> = {
      [S.reasonAlarm]: { 'reason.$': '$.rollout.alarmName' },
      [S.reasonOperator]: { reason: 'operator' },
      [S.reasonApprovalExpired]: { reason: 'approval-expired' },
      [S.reasonInsufficientData]: { reason: 'insufficient-data' },
      [S.reasonFailure]: { reason: 'failure' },
    };
    for (const [name, parameters] of Object.entries(passes)) {
      expect({ name, s: state(asl, name) }).toEqual({ name, s: { Type: 'Pass', Parameters: parameters, ResultPath: ROLLBACK_EVENT_PATH, Next: S.emitModelRolledBack } });
    }
    expect(Object.values(passes).flatMap((p) => (p.reason === undefined ? [] : [p.reason])).sort()).toEqual([...ROLLBACK_EVENT_REASONS].sort());
  });
});

describe.each(STAGE_NAMES)('game-day ASL of %s', (stage) => {
  const config = loadStageConfig(stage);
  const asl = render(stage, 'RolloutGameDayStateMachine');

  test('has exactly the contract state names, JSONPath only, bounded by an execution timeout', () => {
    expect(allStateNames(asl).sort()).toEqual(Object.values(GAME_DAY_STATES).sort());
    expect(asl.StartAt).toBe(G.startDrill);
    const keys = new Set(keysDeep(asl));
    for (const forbidden of ['Assign', 'Arguments', 'Output', 'QueryLanguage', 'ItemProcessor']) expect({ forbidden, present: keys.has(forbidden) }).toEqual({ forbidden, present: false });
    expect(JSON.stringify(asl)).not.toContain('{%');
    // The rollback wait loop ends when the alarm path records the rollback; without that, the timeout does.
    expect(asl.TimeoutSeconds).toBe(3600 + 2 * config.canary.gameDay.maxRollbackSeconds);
  });

  test('every Task catches everything into Drill failed, which ends with $.drill.Error and Cause', () => {
    for (const [name, s] of tasksOf(asl)) {
      expect({ name, catch: (s.Catch as Catcher[] | undefined)?.find((c) => c.ErrorEquals.includes('States.ALL')) }).toEqual({ name, catch: { ErrorEquals: ['States.ALL'], ResultPath: '$.drill', Next: G.drillFailed } });
      expect({ name, retried: ((s.Retry as Retrier[] | undefined) ?? []).length > 0 }).toEqual({ name, retried: true });
    }
    expect(state(asl, G.drillFailed)).toEqual(expect.objectContaining({ Type: 'Fail', ErrorPath: '$.drill.Error', CausePath: '$.drill.Cause' }));
  });

  test(`Breach canary alarm sets the model's ${DRILL_SIGNAL} child alarm to ALARM (a composite set by hand would stay in ALARM)`, () => {
    expect(state(asl, G.breachAlarm)).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:cloudwatch:setAlarmState',
      Parameters: { 'AlarmName.$': `States.Format('{}-${DRILL_SIGNAL}', $.rollout.alarmName)`, StateValue: 'ALARM', 'StateReason.$': expect.stringContaining('$$.Execution.Name') },
      ResultPath: null,
      Next: G.waitForRollback,
    });
    expect(state(asl, G.rollbackVerified)).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.drillRollback.rolledBack', BooleanEquals: true, Next: G.recordDrill }], Default: G.waitForRollback });
    expect(state(asl, G.checkRollback).Parameters).toEqual({ 'rolloutId.$': '$.rollout.rolloutId' });
    // Like Validate rollout, Start drill claims the model with its execution's ARN.
    expect(state(asl, G.startDrill)).toMatchObject({ Parameters: { 'input.$': '$', 'executionName.$': '$$.Execution.Name', 'executionArn.$': '$$.Execution.Id' }, ResultPath: '$.rollout' });
    expect(state(asl, G.recordDrill)).toMatchObject({ Parameters: { 'rolloutId.$': '$.rollout.rolloutId' }, ResultPath: '$.drill', ResultSelector: { Error: DRILL_TOO_SLOW_ERROR, 'Cause.$': '$.summary', 'withinBound.$': '$.withinBound' } });
  });
});

// Executions (dev: one SageMaker and one EKS target).
const rolloutAsl = render('dev', 'RolloutStateMachine');
const gameDayAsl = render('dev', 'RolloutGameDayStateMachine');
const devConfig = loadStageConfig('dev');
const sageMakerModel = devConfig.targetModels.find((m) => m.rollout.kind === 'sagemaker')!;
const eksModel = devConfig.targetModels.find((m) => m.rollout.kind === 'eks')!;

const INPUT: Json = { targetModelId: sageMakerModel.id, modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/4', modelPackageVersion: 4, requestedBy: 'training-pipeline:run-1' };

function planFor(kind: 'sagemaker' | 'eks'): RolloutPlan {
  const model = kind === 'sagemaker' ? sageMakerModel : eksModel;
  return rolloutPlanSchema.parse({
    rolloutId: 'run-1',
    stage: 'dev',
    targetModelId: model.id,
    modelFamily: registryKeyOf(model),
    target: model.rollout,
    current: { modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/3', modelPackageVersion: 3, servingName: kind === 'sagemaker' ? `${model.id}-v3` : 'qwen3-4b-internal-current' },
    candidate: { modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/4', modelPackageVersion: 4, servingName: kind === 'sagemaker' ? `${model.id}-v4` : 'qwen3-4b-internal-candidate' },
    stepsPercent: devConfig.canary.stepsPercent,
    bakeSeconds: devConfig.canary.bakeSeconds,
    checkIntervalSeconds: devConfig.canary.checkIntervalSeconds,
    alarmName: `sial-dev-${model.id}-canary`,
    requestedBy: 'training-pipeline:run-1',
    startedAt: '2026-05-04T10:00:00.000Z',
    evalEvidence: { verdict: 'passed the eval gate against production version 3', faithfulness: '0.9 vs production 0.87' },
  });
}

const ROUTE = (weights: [number, number]): Json => ({
  ResponseBody: {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'qwen3-4b-internal', namespace: 'llm-serving', resourceVersion: '42', generation: 3 },
    spec: {
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { name: 'qwen3-4b-internal-current', port: 8000, weight: weights[0] },
            { name: 'qwen3-4b-internal-candidate', port: 8000, weight: weights[1] },
          ],
        },
      ],
    },
  },
});

const RECORD = { rolloutId: 'run-1', targetModelId: sageMakerModel.id, reason: 'canary alarm sial-dev-qwen3-4b-canary is in ALARM', by: 'state-machine', breachAt: null, verifiedAt: '2026-05-04T11:00:00.000Z', weights: { currentPercent: 100, candidatePercent: 0 } };

/** Stubs for a rollout that passes every step. */
function passing(kind: 'sagemaker' | 'eks'): Record<string, TaskStub> {
  const plan = planFor(kind) as unknown as Json;
  const progressOf = (input: Json): { currentPercent: number; candidatePercent: number } => (input as { progress: { currentPercent: number; candidatePercent: number } }).progress;
  return {
    [S.validateRollout]: () => plan,
    [S.deployCandidateVariant]: () => ({ endpointName: sageMakerModel.id, variantName: 'v4', modelName: 'm', endpointConfigName: 'c', status: 'updating' }),
    // Updating once, then in service.
    [S.checkEndpointStatus]: (_input, call) => ({ endpointName: 'e', status: call === 1 ? 'Updating' : 'InService', inService: call > 1, failed: false, candidateDeployed: call > 1 }),
    [S.advanceStep]: (input) => advanceStep(advanceStepEventSchema.parse(input)) as unknown as Json,
    [S.prepareStepApproval]: () => ({ approvalId: 'deploy-stage-1', kind: 'deploy-stage', approvalUrl: 'https://x/approvals/deploy-stage-1?exp=1&sig=s', expiresAt: '2026-05-07T10:00:00Z' }),
    [S.requestStepApproval]: () => ({ approvalId: 'deploy-stage-1', decision: 'approved', approver: 'ana', decidedAt: '2026-05-04T10:05:00Z', via: 'page' }),
    [S.setSageMakerWeights]: () => ({ EndpointArn: 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/sial-dev-qwen3-4b' }),
    [S.verifySageMakerWeights]: (input) => ({ expected: progressOf(input), observed: progressOf(input), verifiedAt: '2026-05-04T10:06:00.000Z' }),
    [S.describeCluster]: (input) => ({ Cluster: { Name: (input as { Name: string }).Name, Endpoint: 'https://example.eks.amazonaws.com', CertificateAuthority: { Data: 'Q0E=' } } }),
    [S.readRoute]: () => ROUTE([100, 0]),
    [S.planRoutePatch]: (input) => planRoutePatch(input) as unknown as Json,
    [S.patchRouteWeights]: (input) => {
      const refs = (input as { RequestBody: { spec: { rules: Array<{ backendRefs: Array<{ weight: number }> }> } } }).RequestBody.spec.rules[0]!.backendRefs;
      return ROUTE([refs[0]!.weight, refs[1]!.weight]);
    },
    [S.verifyRouteWeights]: (input) => ({ expected: progressOf(input), observed: progressOf(input), verifiedAt: '2026-05-04T10:06:00.000Z' }),
    // Healthy, not baked once, then baked.
    [S.checkCanary]: (_input, call) => ({ alarmState: 'OK', rollBack: false, baked: call % 2 === 0, checkedAt: '2026-05-04T10:40:00.000Z' }),
    [S.promote]: () => ({ targetModelId: sageMakerModel.id, current: (plan as { candidate: Json }).candidate, previous: (plan as { current: Json }).current, approvedModelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/4', promotedAt: '2026-05-04T12:00:00.000Z' }),
    [S.rollBack]: () => RECORD,
    [S.notifyPromoted]: () => ({}),
    [S.notifyRolledBack]: () => ({}),
    [S.notifyRejected]: () => ({}),
    [S.emitModelPromoted]: () => ({ Entries: [{ EventId: 'promoted' }], FailedEntryCount: 0 }),
    [S.emitModelRolledBack]: () => ({ Entries: [{ EventId: 'rolled-back' }], FailedEntryCount: 0 }),
  };
}

/** The sial.model.updated details the run put, in order, each checked against the published schema. */
function modelEvents(run: ExecutionResult): Array<Record<string, unknown>> {
  return run.visited
    .filter((name) => name === S.emitModelPromoted || name === S.emitModelRolledBack)
    .map((name) => {
      const entry = (run.inputs[name] as { Entries: Array<{ Source: string; DetailType: string; Detail: unknown }> }).Entries[0]!;
      const detail = (typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail) as Record<string, unknown>;
      expect({ name, type: entry.DetailType, errors: validateEventDetail(entry.DetailType, detail) }).toEqual({ name, type: PIPELINE_EVENT_TYPES.modelUpdated, errors: [] });
      return detail;
    });
}

function traffic(kind: 'sagemaker' | 'eks'): string[] {
  return kind === 'sagemaker' ? [S.setSageMakerWeights, S.verifySageMakerWeights] : [S.readRoute, S.planRoutePatch, S.patchRouteWeights, S.verifyRouteWeights];
}

describe('canary rollout executed locally (dev)', () => {
  test.each(['sagemaker', 'eks'] as const)('%s: every step approved and baked -> promoted; weights follow the steps', async (kind) => {
    const run = await execute(rolloutAsl, INPUT, passing(kind));
    expect(run.status).toBe('SUCCEEDED');
    const deploy = kind === 'sagemaker' ? [S.deployCandidateVariant, S.waitForEndpoint, S.checkEndpointStatus, S.endpointInService, S.waitForEndpoint, S.checkEndpointStatus, S.endpointInService] : [S.describeCluster];
    const step = [S.prepareStepApproval, S.requestStepApproval, S.trafficTarget, ...traffic(kind), S.waitBake, S.checkCanary, S.canaryHealthy, S.waitBake, S.checkCanary, S.canaryHealthy, S.advanceStep, S.nextStep];
    expect(run.visited).toEqual([
      S.validateRollout,
      S.deployTarget,
      ...deploy,
      S.nextStep,
      S.advanceStep,
      S.nextStep,
      ...devConfig.canary.stepsPercent.flatMap(() => step),
      S.promote,
      S.emitModelPromoted,
      S.notifyPromoted,
      S.promoted,
    ]);
    expect(run.visited).not.toContain(S.rollBack);
    expect(modelEvents(run)).toEqual([
      {
        action: 'promoted',
        targetModelId: sageMakerModel.id,
        modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/4',
        modelPackageVersion: 4,
        executionName: 'run-1',
        rolloutId: 'run-1',
        servingModelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/4',
        servingModelPackageVersion: 4,
        previousModelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/3',
        previousModelPackageVersion: 3,
      },
    ]);
    expect(run.output).toMatchObject({ approvedModelPackageArn: expect.stringContaining('/4') });
    // What the state passes is what the Lambda accepts: this execution's name and ARN.
    expect(validateRolloutEventSchema.parse(run.inputs[S.validateRollout])).toMatchObject({ input: INPUT, executionName: 'run-1', executionArn: expect.stringMatching(/:execution:[^:]+:run-1$/) });
    if (kind === 'sagemaker') {
      expect(run.inputs[S.setSageMakerWeights]).toEqual({
        EndpointName: sageMakerModel.rollout.kind === 'sagemaker' ? sageMakerModel.rollout.endpointName : '',
        DesiredWeightsAndCapacities: [
          { VariantName: `${sageMakerModel.id}-v3`, DesiredWeight: 0 },
          { VariantName: `${sageMakerModel.id}-v4`, DesiredWeight: 100 },
        ],
      });
    } else {
      const patch = run.inputs[S.patchRouteWeights] as { Method: string; Path: string; RequestBody: Json };
      expect(patch).toMatchObject({ Method: 'PATCH', Path: '/apis/gateway.networking.k8s.io/v1/namespaces/llm-serving/httproutes/qwen3-4b-internal' });
      // The rule as read (matches, port), the two backends weighted, the resourceVersion as a precondition.
      expect(patch.RequestBody).toEqual({
        metadata: { resourceVersion: '42' },
        spec: {
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/' } }],
              backendRefs: [
                { name: 'qwen3-4b-internal-current', port: 8000, weight: 0 },
                { name: 'qwen3-4b-internal-candidate', port: 8000, weight: 100 },
              ],
            },
          ],
        },
      });
      // Verify reads the route as the PATCH stored it.
      expect((run.inputs[S.verifyRouteWeights] as { route: Json }).route).toEqual(ROUTE([0, 100]));
    }
  });

  test('the canary alarm at the first step rolls back and ends RolledBack with the reason', async () => {
    const run = await execute(rolloutAsl, INPUT, {
      ...passing('sagemaker'),
      [S.checkCanary]: () => ({ alarmState: 'ALARM', rollBack: true, reason: 'canary alarm sial-dev-qwen3-4b-canary is in ALARM', baked: false, checkedAt: '2026-05-04T10:07:00.000Z' }),
    });
    expect(run).toMatchObject({ status: 'FAILED', error: ROLLOUT_ERRORS.rolledBack, cause: RECORD.reason });
    expect(run.visited.slice(-9)).toEqual([S.checkCanary, S.canaryHealthy, S.rollBack, S.rollbackReason, S.reasonAlarm, S.emitModelRolledBack, S.nextStep, S.notifyRolledBack, S.rolledBack]);
    expect(run.inputs[S.rollBack]).toMatchObject({ rollout: { rolloutId: 'run-1' }, check: { rollBack: true }, error: null });
    expect((run.inputs[S.notifyRolledBack] as { Subject: string }).Subject).toBe(`[sial dev] rollout not promoted (${ROLLOUT_ERRORS.rolledBack})`);
    expect(modelEvents(run)).toEqual([
      {
        action: 'rolled-back',
        targetModelId: sageMakerModel.id,
        modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/4',
        modelPackageVersion: 4,
        executionName: 'run-1',
        rolloutId: 'run-1',
        servingModelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/sial-dev-qwen3/3',
        servingModelPackageVersion: 3,
        rolledBackBy: 'state-machine',
        reason: `sial-dev-${sageMakerModel.id}-canary`,
      },
    ]);
  });

  test('the alarm Lambda\'s rollback, seen by a verify state, is reported with the alarm as reason', async () => {
    const run = await execute(rolloutAsl, INPUT, {
      ...passing('sagemaker'),
      [S.verifySageMakerWeights]: () => named(ROLLOUT_ERRORS.rolledBack, 'rolled back by the alarm-lambda'),
      [S.rollBack]: () => ({ ...RECORD, by: 'alarm-lambda' }),
    });
    expect(run).toMatchObject({ status: 'FAILED', error: ROLLOUT_ERRORS.rolledBack });
    expect(modelEvents(run)).toEqual([expect.objectContaining({ action: 'rolled-back', rolledBackBy: 'alarm-lambda', reason: `sial-dev-${sageMakerModel.id}-canary` })]);
  });

  test('insufficient data at twice the bake time is its own reason', async () => {
    const run = await execute(rolloutAsl, INPUT, {
      ...passing('eks'),
      [S.checkCanary]: () => ({ alarmState: 'INSUFFICIENT_DATA', rollBack: true, reason: 'too few candidate traces', baked: false, checkedAt: '2026-05-04T10:07:00.000Z' }),
    });
    expect(run).toMatchObject({ status: 'FAILED', error: ROLLOUT_ERRORS.rolledBack });
    expect(modelEvents(run)).toEqual([expect.objectContaining({ action: 'rolled-back', reason: 'insufficient-data' })]);
  });

  test('an event that cannot be put after Promote candidate is kept at $.eventError; the promotion stands', async () => {
    const run = await execute(rolloutAsl, INPUT, { ...passing('sagemaker'), [S.emitModelPromoted]: () => named('EventBridge.AccessDeniedException', 'not authorized') });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.visited.slice(-4)).toEqual([S.promote, S.emitModelPromoted, S.notifyPromoted, S.promoted]);
    expect(run.visited).not.toContain(S.rollBack);
    expect(run.output).toMatchObject({ approvedModelPackageArn: expect.stringContaining('/4') });
    // A throttled put is retried first (4 retries after the first attempt); an access error is not.
    const throttled = await execute(rolloutAsl, INPUT, { ...passing('sagemaker'), [S.emitModelPromoted]: () => named('EventBridge.ThrottlingException', 'slow down') });
    expect([throttled.status, throttled.calls[S.emitModelPromoted]]).toEqual(['SUCCEEDED', 5]);
    expect(run.calls[S.emitModelPromoted]).toBe(1);
  });

  test('an event that cannot be put after Roll back is kept at $.eventError; the rollout still ends RolledBack with its reason', async () => {
    const run = await execute(rolloutAsl, INPUT, {
      ...passing('sagemaker'),
      [S.checkCanary]: () => ({ alarmState: 'ALARM', rollBack: true, reason: 'canary alarm sial-dev-qwen3-4b-canary is in ALARM', baked: false, checkedAt: '2026-05-04T10:07:00.000Z' }),
      [S.emitModelRolledBack]: () => named('EventBridge.AccessDeniedException', 'not authorized'),
    });
    expect(run).toMatchObject({ status: 'FAILED', error: ROLLOUT_ERRORS.rolledBack, cause: RECORD.reason });
    expect(run.visited.slice(-4)).toEqual([S.emitModelRolledBack, S.nextStep, S.notifyRolledBack, S.rolledBack]);
  });

  test.each([
    ['rejected', named(PIPELINE_ERRORS.approvalRejected, '{"decision":"rejected","approver":"ana","comment":"not now"}')],
    ['expired', named('States.Timeout', 'the task timed out')],
  ])('a step approval %s at the second step rolls back first, then ends as Rollout rejected', async (_what, error) => {
    const run = await execute(rolloutAsl, INPUT, { ...passing('eks'), [S.requestStepApproval]: (_input, call) => (call === 2 ? error : { approvalId: 'a', decision: 'approved', approver: 'ana', decidedAt: '2026-05-04T10:05:00Z', via: 'page' }) });
    expect(run.status).toBe('SUCCEEDED');
    const reason = error.name === 'States.Timeout' ? [S.reasonApprovalExpired, 'approval-expired'] : [S.reasonOperator, 'operator'];
    expect(run.visited.slice(-8)).toEqual([S.requestStepApproval, S.rollBack, S.rollbackReason, reason[0], S.emitModelRolledBack, S.nextStep, S.notifyRejected, S.rejected]);
    expect(run.inputs[S.rollBack]).toMatchObject({ error: { Error: error.name } });
    expect(modelEvents(run)).toEqual([expect.objectContaining({ action: 'rolled-back', reason: reason[1] })]);
    expect((run.inputs[S.notifyRejected] as { Message: string }).Message).toContain('50 % step');
  });

  // A failure at any Task ends in Roll back (Validate: nothing deployed yet, straight to the notice).
  const FAILING: Array<[string, 'sagemaker' | 'eks']> = [
    ...[S.deployCandidateVariant, S.checkEndpointStatus, S.advanceStep, S.prepareStepApproval, S.requestStepApproval, S.setSageMakerWeights, S.verifySageMakerWeights, S.checkCanary, S.promote].map((s) => [s, 'sagemaker'] as [string, 'sagemaker']),
    ...[S.describeCluster, S.readRoute, S.planRoutePatch, S.patchRouteWeights, S.verifyRouteWeights].map((s) => [s, 'eks'] as [string, 'eks']),
  ];
  test.each(FAILING)('a failure at %s (%s) rolls back, notifies and ends RolledBack', async (failing, kind) => {
    const run = await execute(rolloutAsl, INPUT, { ...passing(kind), [failing]: () => named('Injected.Failure', `injected at ${failing}`) });
    expect(run).toMatchObject({ status: 'FAILED', error: ROLLOUT_ERRORS.rolledBack });
    expect(run.visited.slice(-7)).toEqual([S.rollBack, S.rollbackReason, S.reasonFailure, S.emitModelRolledBack, S.nextStep, S.notifyRolledBack, S.rolledBack]);
    expect(run.visited.at(-8)).toBe(failing);
    expect(run.inputs[S.rollBack]).toMatchObject({ error: { Error: 'Injected.Failure', Cause: expect.stringContaining(`injected at ${failing}`) } });
    // The event says `failure`, never the error's cause.
    expect(modelEvents(run)).toEqual([expect.objectContaining({ action: 'rolled-back', reason: 'failure' })]);
    expect(JSON.stringify(modelEvents(run))).not.toContain('injected');
  });

  test('a refused rollout ends at once with its refusal, nothing deployed or rolled back', async () => {
    const run = await execute(rolloutAsl, INPUT, { ...passing('sagemaker'), [S.validateRollout]: () => named('RolloutRefused', 'targetModelId: unknown target model "gpt"') });
    expect(run).toMatchObject({ status: 'FAILED', error: 'RolloutRefused', cause: expect.stringContaining('unknown target model') });
    expect(run.visited).toEqual([S.validateRollout, S.notifyRolledBack, S.rolledBack]);
    expect(modelEvents(run)).toEqual([]);
  });

  test('a rollback that keeps failing is retried hard, then fails loudly with its own error (not RolledBack)', async () => {
    const run = await execute(rolloutAsl, INPUT, {
      ...passing('sagemaker'),
      [S.checkCanary]: () => ({ alarmState: 'ALARM', rollBack: true, reason: 'alarm', baked: false, checkedAt: '2026-05-04T10:07:00.000Z' }),
      [S.rollBack]: () => named('WeightsNotApplied', 'expected current 100 % / candidate 0 %, observed current 90 % / candidate 10 %'),
    });
    expect(run).toMatchObject({ status: 'FAILED', error: 'WeightsNotApplied', cause: expect.stringContaining('observed current 90 %') });
    expect(run.calls[S.rollBack]).toBe(7);
    expect(run.visited.slice(-3)).toEqual([S.nextStep, S.notifyRolledBack, S.rolledBack]);
    expect((run.inputs[S.notifyRolledBack] as { Subject: string }).Subject).toBe('[sial dev] rollout not promoted (WeightsNotApplied)');
    // Nothing was restored: no rolled-back event.
    expect(modelEvents(run)).toEqual([]);
  });

  test('a rejection whose rollback fails is not reported as a clean rejection', async () => {
    const run = await execute(rolloutAsl, INPUT, {
      ...passing('sagemaker'),
      [S.requestStepApproval]: () => named(PIPELINE_ERRORS.approvalRejected, '{"decision":"rejected"}'),
      [S.rollBack]: () => named('Lambda.Unknown', 'timed out'),
    });
    expect(run).toMatchObject({ status: 'FAILED', error: 'Lambda.Unknown' });
    expect(run.visited).not.toContain(S.notifyRejected);
  });

  test('a failed endpoint update rolls back without moving traffic', async () => {
    const run = await execute(rolloutAsl, INPUT, { ...passing('sagemaker'), [S.checkEndpointStatus]: () => ({ endpointName: 'e', status: 'Failed', inService: false, failed: true, candidateDeployed: false, failureReason: 'capacity' }) });
    expect(run).toMatchObject({ status: 'FAILED', error: ROLLOUT_ERRORS.rolledBack });
    expect(run.visited).not.toContain(S.setSageMakerWeights);
    expect(run.visited).not.toContain(S.prepareStepApproval);
    expect(modelEvents(run)).toEqual([expect.objectContaining({ action: 'rolled-back', reason: 'failure' })]);
  });
});

describe('game day executed locally (dev)', () => {
  const DRILL_INPUT: Json = { targetModelId: sageMakerModel.id, requestedBy: 'scheduler:game-day' };
  const measurement = (withinBound: boolean): Json => ({
    rolloutId: 'drill-1',
    targetModelId: sageMakerModel.id,
    by: 'alarm-lambda',
    breachAt: '2026-05-04T10:00:00.000Z',
    verifiedAt: '2026-05-04T10:01:12.000Z',
    rollbackSeconds: withinBound ? 72 : 420,
    maxRollbackSeconds: 300,
    targetRollbackSeconds: 90,
    withinBound,
    withinTarget: withinBound,
    summary: withinBound ? 'qwen3-4b: 72 s: passed' : 'qwen3-4b: 420 s: FAILED: over the bound',
  });
  const stubs = (withinBound: boolean): Record<string, TaskStub> => ({
    [G.startDrill]: () => ({ ...(planFor('sagemaker') as unknown as Record<string, Json>), rolloutId: 'drill-1' }),
    [G.setSelfCanary]: () => ({ expected: { currentPercent: 90, candidatePercent: 10 }, observed: { currentPercent: 90, candidatePercent: 10 }, verifiedAt: '2026-05-04T09:59:00.000Z' }),
    [G.breachAlarm]: () => ({}),
    [G.checkRollback]: (_input, call) => ({ rolloutId: 'drill-1', rolledBack: call > 2, ...(call > 2 ? { by: 'alarm-lambda' } : {}) }),
    [G.recordDrill]: () => measurement(withinBound),
  });

  test('breach -> rollback recorded -> within the bound: passed, with the measurement as output', async () => {
    const run = await execute(gameDayAsl, DRILL_INPUT, stubs(true), 'drill-1');
    expect(run.status).toBe('SUCCEEDED');
    expect(run.visited).toEqual([G.startDrill, G.setSelfCanary, G.breachAlarm, ...[1, 2, 3].flatMap(() => [G.waitForRollback, G.checkRollback, G.rollbackVerified]), G.recordDrill, G.withinBound, G.drillPassed]);
    expect(startDrillEventSchema.parse(run.inputs[G.startDrill])).toMatchObject({ input: DRILL_INPUT, executionName: 'drill-1', executionArn: expect.stringMatching(/:execution:[^:]+:drill-1$/) });
    expect(run.inputs[G.breachAlarm]).toEqual({ AlarmName: `sial-dev-${sageMakerModel.id}-canary-${DRILL_SIGNAL}`, StateValue: 'ALARM', StateReason: expect.stringContaining('drill-1') });
    expect(run.output).toMatchObject({ rollbackSeconds: 72, withinBound: true });
  });

  test('over the bound: Drill failed with RollbackTooSlow and the summary', async () => {
    const run = await execute(gameDayAsl, DRILL_INPUT, stubs(false), 'drill-1');
    expect(run).toMatchObject({ status: 'FAILED', error: DRILL_TOO_SLOW_ERROR, cause: 'qwen3-4b: 420 s: FAILED: over the bound' });
  });

  test('a failure anywhere fails the drill with that error', async () => {
    const run = await execute(gameDayAsl, DRILL_INPUT, { ...stubs(true), [G.breachAlarm]: () => named('CloudWatch.ResourceNotFoundException', 'no such alarm') }, 'drill-1');
    expect(run).toMatchObject({ status: 'FAILED', error: 'CloudWatch.ResourceNotFoundException', cause: 'no such alarm' });
    expect(run.visited.slice(-2)).toEqual([G.breachAlarm, G.drillFailed]);
  });
});
