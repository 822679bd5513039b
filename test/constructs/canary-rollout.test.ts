/**
 * The canary rollout construct: each function's variables and grants (SageMaker on exactly the
 * configured endpoints, configurations and models; the deployments table; the canary alarms), the two
 * state machines' configuration and IAM, the alarm -> rollback rule, the game-day schedules, the
 * hand-over from the training pipeline, and the deployments table in the data stack.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import { isRouterTarget, registryKeyOf, type StageConfig } from '../../config/schema';
import { PIPELINE_ENV } from '../../lambdas/pipeline/settings';
import { DEPLOYMENT_KEYS } from '../../lambdas/rollout/aws/dynamodb-deployment-store';
import { ROLLOUT_ENV } from '../../lambdas/rollout/env';
import { DRILL_SIGNAL, canarySignalAlarmName } from '../../lib/constructs/canary-alarms';
import { ROLLOUT_HANDLER_ENTRIES, SETTLE_TIMEOUT_SECONDS, type RolloutStep } from '../../lib/constructs/canary-rollout';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { TRAINING_STATES } from '../../stepfunctions/training-pipeline-states';
import { renderAsl } from '../../stepfunctions/render-asl';
import { STAGE_NAMES, actionsOf, buildTestApp, dataTemplate, loopTemplate, resourcesOf, resourcesOfType, statementsOfRole, type SynthesizedStatement } from '../helpers/app';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Fn = { Properties: { Environment: { Variables: Record<string, unknown> }; Role: { 'Fn::GetAtt': [string, string] }; Timeout: number; MemorySize: number } };

/** Function logical ids are `Rollout<Step>Function<hash>`. */
function rolloutFunction(template: Template, step: RolloutStep): [string, Fn] {
  const prefix = `Rollout${step.charAt(0).toUpperCase()}${step.slice(1)}Function`;
  const found = resourcesOfType(template, 'AWS::Lambda::Function').filter(([id]) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0] as unknown as [string, Fn];
}

function only(template: Template, type: string, prefix: string): [string, Resource] {
  const found = resourcesOfType(template, type).filter(([id]) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0] as unknown as [string, Resource];
}

/** A role's statements without the log-group and X-Ray statements every function has. */
function grantsOf(template: Template, step: RolloutStep): SynthesizedStatement[] {
  const roleId = rolloutFunction(template, step)[1].Properties.Role['Fn::GetAtt'][0];
  return statementsOfRole(template, roleId).filter((s) => !actionsOf(s).every((a) => a.startsWith('logs:') || a.startsWith('xray:')));
}

function actionSet(statements: readonly SynthesizedStatement[], service: string): string[] {
  return [...new Set(statements.flatMap(actionsOf).filter((a) => a.startsWith(`${service}:`)))].sort();
}

function resourcesFor(statements: readonly SynthesizedStatement[], action: string): string[] {
  return [...new Set(statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf).map((r) => JSON.stringify(r)))].sort();
}

/** `arn:aws:sagemaker:<region>:${AWS::AccountId}:<resource>` as synthesized. */
function sageMakerArn(region: string, resource: string): string {
  return JSON.stringify({ 'Fn::Join': ['', [`arn:aws:sagemaker:${region}:`, { Ref: 'AWS::AccountId' }, `:${resource}`]] });
}

function eksClusterArn(region: string, clusterName: string): string {
  return JSON.stringify({ 'Fn::Join': ['', [`arn:aws:eks:${region}:`, { Ref: 'AWS::AccountId' }, `:cluster/${clusterName}`]] });
}

const COMMON = [PIPELINE_ENV.settings, 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
const TABLE = [...COMMON, ROLLOUT_ENV.deploymentsTable];
const EXPECTED_ENV: Record<RolloutStep, string[]> = {
  validateRollout: TABLE,
  deployCandidate: [...COMMON, ROLLOUT_ENV.sageMakerExecutionRoleArn],
  endpointStatus: COMMON,
  verifySageMakerWeights: [...TABLE, ROLLOUT_ENV.settleTimeoutSeconds],
  verifyRouteWeights: TABLE,
  // Pure: the patch from the route as read; no settings, table or AWS permission.
  planRoutePatch: ['POWERTOOLS_SERVICE_NAME'],
  checkCanary: TABLE,
  advanceStep: COMMON,
  promote: TABLE,
  rollBack: [...TABLE, ROLLOUT_ENV.settleTimeoutSeconds],
  alarmRollback: [...TABLE, ROLLOUT_ENV.settleTimeoutSeconds, ROLLOUT_ENV.notificationsTopicArn],
  startDrill: TABLE,
  setSelfCanary: [...COMMON, ROLLOUT_ENV.settleTimeoutSeconds, ROLLOUT_ENV.sageMakerExecutionRoleArn],
  checkRollback: TABLE,
  recordDrill: TABLE,
};

const DEPLOYMENT_ACTIONS: Record<RolloutStep, string[]> = {
  validateRollout: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  deployCandidate: [],
  endpointStatus: [],
  verifySageMakerWeights: ['dynamodb:GetItem'],
  verifyRouteWeights: ['dynamodb:GetItem'],
  planRoutePatch: [],
  checkCanary: ['dynamodb:GetItem'],
  advanceStep: [],
  promote: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
  rollBack: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
  alarmRollback: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  startDrill: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  setSelfCanary: [],
  checkRollback: ['dynamodb:GetItem'],
  recordDrill: ['dynamodb:DeleteItem', 'dynamodb:GetItem'],
};

describe.each(STAGE_NAMES)('canary rollout of %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = loopTemplate(stage);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const [machineId, machine] = only(template, 'AWS::StepFunctions::StateMachine', 'RolloutStateMachine');
  const [gameDayId, gameDay] = only(template, 'AWS::StepFunctions::StateMachine', 'RolloutGameDayStateMachine');
  const roleOf = (m: Resource): string => (m.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const endpoints = [...new Set(config.targetModels.flatMap((m) => (m.rollout.kind === 'sagemaker' ? [m.rollout.endpointName] : [])))];
  const endpointArns = endpoints.map((e) => sageMakerArn(config.region, `endpoint/${e.toLowerCase()}`)).sort();
  const clusterArns = [...new Set(config.targetModels.flatMap((m) => (m.rollout.kind === 'eks' ? [m.rollout.clusterName] : [])))].map((c) => eksClusterArn(config.region, c)).sort();
  const steps = Object.keys(EXPECTED_ENV) as RolloutStep[];

  test.each(steps)('%s gets exactly the variables it reads', (step) => {
    const env = rolloutFunction(template, step)[1].Properties.Environment.Variables;
    expect(Object.keys(env).sort()).toEqual([...EXPECTED_ENV[step]].sort());
    if (EXPECTED_ENV[step].includes(ROLLOUT_ENV.settleTimeoutSeconds)) {
      // The function outlives its settle window, so a mismatch is reported, not cut off.
      expect(env[ROLLOUT_ENV.settleTimeoutSeconds]).toBe(String(SETTLE_TIMEOUT_SECONDS));
      expect(rolloutFunction(template, step)[1].Properties.Timeout).toBeGreaterThan(SETTLE_TIMEOUT_SECONDS);
    }
    if (EXPECTED_ENV[step].includes(PIPELINE_ENV.settings)) expect(JSON.parse(env[PIPELINE_ENV.settings] as string)).toMatchObject({ stage, canary: config.canary });
  });

  test('the handlers are the rollout modules of lambdas/rollout; both verify states run the one handler as two functions', () => {
    expect(ROLLOUT_HANDLER_ENTRIES.verifySageMakerWeights).toBe(ROLLOUT_HANDLER_ENTRIES.verifyRouteWeights);
    expect(rolloutFunction(template, 'verifySageMakerWeights')[0]).not.toBe(rolloutFunction(template, 'verifyRouteWeights')[0]);
    for (const entry of Object.values(ROLLOUT_HANDLER_ENTRIES)) expect(entry).toMatch(/^lambdas\/rollout\/[a-z-]+\/[a-z-]*handler\.ts$/);
  });

  test.each(steps)('%s: the deployments table only as it uses it, with the lake key', (step) => {
    const grants = grantsOf(template, step);
    expect(actionSet(grants, 'dynamodb')).toEqual(DEPLOYMENT_ACTIONS[step]);
    if (DEPLOYMENT_ACTIONS[step].length > 0) {
      expect(resourcesFor(grants, 'dynamodb:GetItem')).toEqual([expect.stringContaining(PINNED_LOGICAL_IDS.deploymentsTable)]);
      const writes = DEPLOYMENT_ACTIONS[step].some((a) => a !== 'dynamodb:GetItem');
      expect(actionSet(grants, 'kms').filter((a) => a !== 'kms:DescribeKey')).toEqual(writes ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt']);
    }
  });

  test('SageMaker actions name exactly the configured endpoints, configurations and models', () => {
    const all = steps.flatMap((step) => grantsOf(template, step));
    expect(JSON.stringify(all)).not.toContain(':endpoint/*');
    for (const step of ['endpointStatus', 'verifySageMakerWeights'] as const) expect({ step, actions: actionSet(grantsOf(template, step), 'sagemaker') }).toEqual({ step, actions: endpoints.length > 0 ? ['sagemaker:DescribeEndpoint'] : [] });
    for (const step of ['rollBack', 'alarmRollback'] as const) {
      const grants = grantsOf(template, step);
      expect(actionSet(grants, 'sagemaker')).toEqual(endpoints.length > 0 ? ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'] : []);
      expect(resourcesFor(grants, 'sagemaker:UpdateEndpointWeightsAndCapacities')).toEqual(endpointArns);
    }
    const deploy = grantsOf(template, 'deployCandidate');
    expect(actionSet(deploy, 'sagemaker')).toEqual(['sagemaker:AddTags', 'sagemaker:CreateEndpointConfig', 'sagemaker:CreateModel', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModelPackage', 'sagemaker:UpdateEndpoint']);
    const models = config.targetModels.filter((m) => m.rollout.kind === 'sagemaker');
    expect(resourcesFor(deploy, 'sagemaker:CreateModel')).toEqual(models.map((m) => sageMakerArn(config.region, `model/${m.id}-v*`)).sort());
    expect(resourcesFor(deploy, 'sagemaker:CreateEndpointConfig')).toEqual(endpoints.map((e) => sageMakerArn(config.region, `endpoint-config/${e.toLowerCase()}-c*`)).sort());
    expect(resourcesFor(deploy, 'sagemaker:UpdateEndpoint')).toEqual([...endpointArns, ...endpoints.map((e) => sageMakerArn(config.region, `endpoint-config/${e.toLowerCase()}-c*`))].sort());
    // The only configuration wildcard is a read: the serving team named the configuration in use.
    expect(resourcesFor(deploy, 'sagemaker:DescribeEndpointConfig')).toEqual([sageMakerArn(config.region, 'endpoint-config/*')]);
    // The drill's self canary deploys a variant and sets its small split.
    expect(actionSet(grantsOf(template, 'setSelfCanary'), 'sagemaker')).toEqual([...actionSet(deploy, 'sagemaker'), 'sagemaker:UpdateEndpointWeightsAndCapacities'].sort());
  });

  test('the deploy function passes only the SageMaker execution role, and only to SageMaker', () => {
    const pass = grantsOf(template, 'deployCandidate').filter((s) => actionsOf(s).includes('iam:PassRole'));
    const [roleId] = only(template, 'AWS::IAM::Role', 'RolloutSageMakerExecutionRole');
    expect(pass).toEqual([{ Effect: 'Allow', Action: 'iam:PassRole', Resource: { 'Fn::GetAtt': [roleId, 'Arn'] }, Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } } }]);
    expect(resources[roleId]!.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'sagemaker.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
    });
    const role = statementsOfRole(template, roleId);
    const [, account, region, repository] = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/.exec(config.training.servingImageUri)!;
    // A stage with a router also pulls the router image from the stack's asset repository.
    const routerRepository = JSON.stringify({ 'Fn::Join': ['', [`arn:aws:ecr:${region}:`, { Ref: 'AWS::AccountId' }, ':repository/', { 'Fn::Sub': `cdk-hnb659fds-container-assets-\${AWS::AccountId}-${region}` }]] });
    const expectedRepositories = [JSON.stringify(`arn:aws:ecr:${region}:${account}:repository/${repository}`), ...(config.targetModels.some(isRouterTarget) ? [routerRepository] : [])];
    expect(resourcesFor(role, 'ecr:BatchGetImage')).toEqual(expectedRepositories);
    expect(JSON.stringify(resourcesFor(role, 's3:GetObject'))).toContain('/runs/*');
    expect(actionSet(role, 's3')).toEqual(['s3:GetBucketLocation', 's3:GetObject', 's3:ListBucket']);
  });

  test('the registry: Validate reads candidates, Promote approves them, nothing else writes it', () => {
    expect(actionSet(grantsOf(template, 'validateRollout'), 'sagemaker')).toEqual(['sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup', 'sagemaker:ListModelPackages']);
    const promote = grantsOf(template, 'promote');
    expect(actionSet(promote, 'sagemaker')).toEqual(['sagemaker:UpdateModelPackage']);
    const families = [...new Set(config.targetModels.map(registryKeyOf))];
    expect(resourcesFor(promote, 'sagemaker:UpdateModelPackage')).toEqual(families.map((f) => sageMakerArn(config.region, `model-package/sial-${stage}-${f}/*`)).sort());
    for (const step of steps.filter((s) => s !== 'promote')) expect({ step, update: actionSet(grantsOf(template, step), 'sagemaker').includes('sagemaker:UpdateModelPackage') }).toEqual({ step, update: false });
  });

  test('CloudWatch: DescribeAlarms on the canary alarms only, for the bake check and the rollback; no function may set an alarm', () => {
    const canaryAlarmIds = resourcesOfType(template, 'AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('CanaryAlarms')).map(([id]) => id);
    const compositeIds = resourcesOfType(template, 'AWS::CloudWatch::CompositeAlarm').map(([id]) => id);
    for (const step of ['checkCanary', 'rollBack'] as const) {
      const described = resourcesFor(grantsOf(template, step), 'cloudwatch:DescribeAlarms');
      expect(described).toEqual([...canaryAlarmIds, ...compositeIds].map((id) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] })).sort());
    }
    for (const step of steps) expect({ step, set: actionSet(grantsOf(template, step), 'cloudwatch').includes('cloudwatch:SetAlarmState') }).toEqual({ step, set: false });
  });

  test('the alarm rollback publishes to the notifications topic only', () => {
    const published = grantsOf(template, 'alarmRollback').filter((s) => actionsOf(s).includes('sns:Publish')).flatMap(resourcesOf);
    expect(published.map((r) => (r as { Ref: string }).Ref.replace(/[0-9A-F]{8}$/, ''))).toEqual(['ApprovalsNotificationsTopic']);
  });

  test('both state machines: Standard, X-Ray, every event logged without execution data', () => {
    for (const m of [machine, gameDay]) {
      expect(m.Properties).toMatchObject({ StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true }, LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false } });
    }
  });

  test('the rollout role invokes the rollout functions and the shared approval pair, weighs only the configured endpoints, publishes only notifications', () => {
    const statements = statementsOfRole(template, roleOf(machine));
    const invoked = new Set(statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction')).flatMap(resourcesOf).map((r) => JSON.stringify(r).match(/"((?:Rollout|Pipeline)[A-Za-z]+Function[0-9A-F]{8})"/)?.[1]));
    const rolloutSteps: RolloutStep[] = ['validateRollout', 'deployCandidate', 'endpointStatus', 'verifySageMakerWeights', 'verifyRouteWeights', 'planRoutePatch', 'checkCanary', 'advanceStep', 'promote', 'rollBack'];
    const approvalPair = resourcesOfType(template, 'AWS::Lambda::Function').filter(([id]) => /^Pipeline(Prepare|Request)ApprovalFunction[0-9A-F]{8}$/.test(id)).map(([id]) => id);
    expect([...invoked].sort()).toEqual([...rolloutSteps.map((s) => rolloutFunction(template, s)[0]), ...approvalPair].sort());
    expect(resourcesFor(statements, 'sagemaker:UpdateEndpointWeightsAndCapacities')).toEqual(endpointArns);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('sagemaker:'))).toEqual(endpoints.length > 0 ? ['sagemaker:UpdateEndpointWeightsAndCapacities'] : []);
    const published = statements.filter((s) => actionsOf(s).includes('sns:Publish')).flatMap(resourcesOf);
    expect(published.map((r) => (r as { Ref: string }).Ref.replace(/[0-9A-F]{8}$/, ''))).toEqual(['ApprovalsNotificationsTopic']);
    // eks:call is authorized by the cluster's access entry, not by IAM: IAM only lets it describe the
    // configured clusters (where their API is, and its CA); nothing else is granted.
    expect(resourcesFor(statements, 'eks:DescribeCluster')).toEqual(clusterArns);
    expect(statements.flatMap(actionsOf).filter((a) => /^(eks|states|dynamodb|cloudwatch|iam):/.test(a))).toEqual(clusterArns.length > 0 ? ['eks:DescribeCluster'] : []);
  });

  test('the rollout role puts events (sial.model.updated) on the default bus only; the game-day role puts none', () => {
    const puts = statementsOfRole(template, roleOf(machine)).filter((s) => actionsOf(s).some((a) => a.startsWith('events:')));
    expect(puts.flatMap(actionsOf)).toEqual(['events:PutEvents']);
    expect(puts.flatMap(resourcesOf)).toEqual([{ 'Fn::Join': ['', [`arn:aws:events:${config.region}:`, { Ref: 'AWS::AccountId' }, ':event-bus/default']] }]);
    expect(statementsOfRole(template, roleOf(gameDay)).flatMap(actionsOf).filter((a) => a.startsWith('events:'))).toEqual([]);
  });

  test('EKS: only the functions that move traffic themselves may describe the configured clusters, and nothing else of EKS', () => {
    const movers = ['rollBack', 'alarmRollback', 'setSelfCanary'] as const;
    for (const step of steps) {
      const statements = grantsOf(template, step);
      const expected = clusterArns.length > 0 && (movers as readonly string[]).includes(step) ? clusterArns : [];
      expect({ step, described: resourcesFor(statements, 'eks:DescribeCluster') }).toEqual({ step, described: expected });
      expect({ step, eks: actionSet(statements, 'eks') }).toEqual({ step, eks: expected.length > 0 ? ['eks:DescribeCluster'] : [] });
    }
  });

  test(`the game-day role may set only the models' ${DRILL_SIGNAL} child alarms and invoke only the drill functions`, () => {
    const statements = statementsOfRole(template, roleOf(gameDay));
    const drillIds = config.targetModels.map((m) => resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(([, r]) => (r.Properties as { AlarmName?: string }).AlarmName === canarySignalAlarmName(stage, m.id, DRILL_SIGNAL))![0]);
    expect(resourcesFor(statements, 'cloudwatch:SetAlarmState')).toEqual(drillIds.map((id) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] })).sort());
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('cloudwatch:'))).toEqual(['cloudwatch:SetAlarmState']);
    const invoked = new Set(statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction')).flatMap(resourcesOf).map((r) => JSON.stringify(r).match(/"(Rollout[A-Za-z]+Function[0-9A-F]{8})"/)?.[1]));
    expect([...invoked].sort()).toEqual((['startDrill', 'setSelfCanary', 'checkRollback', 'recordDrill'] as const).map((s) => rolloutFunction(template, s)[0]).sort());
  });

  test('a canary alarm going to ALARM reaches the alarm rollback Lambda through EventBridge', () => {
    const [, rule] = only(template, 'AWS::Events::Rule', 'RolloutAlarmRollbackRule');
    const composites = resourcesOfType(template, 'AWS::CloudWatch::CompositeAlarm').map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
    expect(composites).toHaveLength(config.targetModels.length);
    expect(rule.Properties).toMatchObject({
      State: 'ENABLED',
      EventPattern: { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], resources: composites, detail: { state: { value: ['ALARM'] } } },
      Targets: [{ Arn: { 'Fn::GetAtt': [rolloutFunction(template, 'alarmRollback')[0], 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 900 } }],
    });
    // EventBridge may invoke it, from this rule only.
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [rolloutFunction(template, 'alarmRollback')[0], 'Arn'] }, SourceArn: { 'Fn::GetAtt': [only(template, 'AWS::Events::Rule', 'RolloutAlarmRollbackRule')[0], 'Arn'] } });
  });

  test(`game-day schedules: one per target model, ${config.canary.gameDay.enabled ? 'enabled' : 'created disabled'} (canary.gameDay.enabled), started by a role that can start drills only`, () => {
    const schedules = resourcesOfType(template, 'AWS::Scheduler::Schedule').filter(([id]) => id.startsWith('RolloutGameDay')).map(([, s]) => s.Properties!);
    expect(schedules).toHaveLength(config.targetModels.length);
    const [schedulerRole] = only(template, 'AWS::IAM::Role', 'RolloutSchedulerRole');
    for (const model of config.targetModels) {
      const match = schedules.find((s) => JSON.parse((s.Target as { Input: string }).Input).targetModelId === model.id);
      expect(match).toMatchObject({
        ScheduleExpression: config.canary.gameDay.schedule,
        ScheduleExpressionTimezone: config.schedules.timezone,
        State: config.canary.gameDay.enabled ? 'ENABLED' : 'DISABLED',
        Target: { Arn: { Ref: gameDayId }, RoleArn: { 'Fn::GetAtt': [schedulerRole, 'Arn'] } },
      });
      expect(JSON.parse((match!.Target as { Input: string }).Input)).toEqual({ targetModelId: model.id, requestedBy: 'scheduler:game-day' });
    }
    expect(statementsOfRole(template, schedulerRole)).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: gameDayId } }]);
    expect(resources[schedulerRole]!.Properties.AssumeRolePolicyDocument).toMatchObject({ Statement: [{ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }] });
  });

  test('the training pipeline hands over with StartExecution of this rollout only, its input the rollout contract, its name the run\'s', () => {
    const [, pipeline] = only(template, 'AWS::StepFunctions::StateMachine', 'PipelineStateMachine');
    const starts = statementsOfRole(template, roleOf(pipeline)).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    expect(starts).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: machineId } }]);
    const asl = renderAsl(template.toJSON(), only(template, 'AWS::StepFunctions::StateMachine', 'PipelineStateMachine')[0]);
    expect(asl.States[TRAINING_STATES.handOverToRollout]).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution',
      End: true,
      OutputPath: '$.registration',
      Parameters: {
        StateMachineArn: expect.stringContaining(`:stateMachine:${machineId}`),
        'Name.$': '$$.Execution.Name',
        Input: {
          'targetModelId.$': '$.request.targetModelId',
          'modelPackageArn.$': '$.registration.modelPackageArn',
          'modelPackageVersion.$': '$.registration.modelPackageVersion',
          'requestedBy.$': "States.Format('training-pipeline:{}', $$.Execution.Name)",
        },
      },
    });
  });

  test('the approval page completes tasks of the training pipeline and of the rollout (step approvals)', () => {
    const [, page] = resourcesOfType(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApprovalsFunction'))!;
    const roleId = (page.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const states = statementsOfRole(template, roleId).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    const [pipelineId] = only(template, 'AWS::StepFunctions::StateMachine', 'PipelineStateMachine');
    expect(states).toEqual([{ Effect: 'Allow', Action: ['states:SendTaskFailure', 'states:SendTaskSuccess'], Resource: [{ Ref: pipelineId }, { Ref: machineId }] }]);
  });

  const eks = config.targetModels.flatMap((m) => (m.rollout.kind === 'eks' ? [m.rollout] : []));
  test(eks.length > 0 ? 'outputs which roles each EKS cluster must admit, and for which HTTPRoutes' : 'has no EKS output: no EKS target', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
    if (eks.length === 0) {
      expect(outputs.EksAccessPrincipals).toBeUndefined();
      return;
    }
    const roleIds = [roleOf(machine), ...(['rollBack', 'alarmRollback', 'setSelfCanary'] as const).map((s) => rolloutFunction(template, s)[1].Properties.Role['Fn::GetAtt'][0])];
    expect(outputs.EksAccessPrincipals!.Value).toEqual({ 'Fn::Join': [' ', roleIds.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))] });
    for (const target of eks) {
      expect(outputs.EksAccessPrincipals!.Description).toContain(target.clusterName);
      expect(outputs.EksAccessPrincipals!.Description).toContain(`${target.namespace}/${target.httpRouteName}`);
    }
    expect(outputs.EksAccessPrincipals!.Description).toContain('get and patch on httproutes.gateway.networking.k8s.io');
  });

  test('the deployments table is in the data stack: pinned, on-demand, KMS with the lake key, PITR, keys pk/sk as the store writes them', () => {
    const table = dataTemplate(stage).toJSON().Resources[PINNED_LOGICAL_IDS.deploymentsTable] as Resource & { DeletionPolicy: string };
    expect(Object.keys(DEPLOYMENT_KEYS.deployment('m'))).toEqual(['pk', 'sk']);
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [PINNED_LOGICAL_IDS.lakeKey, 'Arn'] } },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: config.production,
    });
    expect(table.DeletionPolicy).toBe(config.production ? 'Retain' : 'Delete');
    // The loop stack imports it (strong reference), never a table of its own.
    expect(resourcesOfType(template, 'AWS::DynamoDB::Table')).toEqual([]);
  });
});

describe('canary rollout variations', () => {
  test('a stage without SageMaker targets grants no SageMaker endpoint action at all', () => {
    const base = loadStageConfig('dev');
    const eksOnly: StageConfig = { ...base, targetModels: base.targetModels.filter((m) => m.rollout.kind === 'eks') };
    const { loopStack } = buildTestApp('dev', { config: eksOnly });
    const template = Template.fromStack(loopStack);
    const all = resourcesOfType(template, 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: SynthesizedStatement[] }).Statement);
    expect(all.flatMap(actionsOf).filter((a) => /^sagemaker:(UpdateEndpoint|UpdateEndpointWeightsAndCapacities|DescribeEndpoint|DescribeEndpointConfig|CreateModel|CreateEndpointConfig)$/.test(a))).toEqual([]);
  });

  test('game days enabled in config: the schedules are created enabled', () => {
    const base = loadStageConfig('prod-kr');
    const enabled: StageConfig = { ...base, canary: { ...base.canary, gameDay: { ...base.canary.gameDay, enabled: true } } };
    const template = Template.fromStack(buildTestApp('prod-kr', { config: enabled }).loopStack);
    const states = resourcesOfType(template, 'AWS::Scheduler::Schedule').filter(([id]) => id.startsWith('RolloutGameDay')).map(([, s]) => (s.Properties as { State: string }).State);
    expect(states).toEqual(['ENABLED']);
  });
});
