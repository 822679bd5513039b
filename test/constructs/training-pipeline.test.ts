/**
 * The pipeline's functions (environment and grants per function), the state machine's configuration
 * and IAM scoped per integration, the Athena workgroup, and the schedules.
 */
import { isRouterTarget, registryKeyOf } from '../../config/schema';
import type { Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import { REGISTER_MODEL_ENV } from '../../lambdas/pipeline/register-model/register-model';
import { PIPELINE_ENV, pipelineSettingsFromEnv, type PipelineSettings } from '../../lambdas/pipeline/settings';
import { SQL_DIR_ENV } from '../../lambdas/pipeline/dataset/sql-files';
import { bundleCopyCommands } from '../../lib/constructs/private/esm-function';
import { PIPELINE_HANDLER_ENTRIES, type PipelineStep } from '../../lib/constructs/training-pipeline';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { renderAsl } from '../../stepfunctions/render-asl';
import { TRAINING_STATES } from '../../stepfunctions/training-pipeline-states';
import { RELEASE_ON_STATUSES } from '../../lambdas/pipeline/budget/execution-ended';
import { InMemoryLedger } from '../../lambdas/pipeline/budget/in-memory-ledger';
import { parseReleaseEvent, releaseGpuReservation } from '../../lambdas/pipeline/budget/reserve-budget';
import { applyInputTransformer, matchesEventPattern } from '../helpers/event-rule';
import { STAGE_NAMES, actionsOf, loopTemplate, resourcesOf, resourcesOfType, statementsOfRole, synthesizedStage, type SynthesizedStatement } from '../helpers/app';

type Fn = { Properties: { Environment: { Variables: Record<string, unknown> }; Role: { 'Fn::GetAtt': [string, string] }; Timeout: number; MemorySize: number } };

/** Function logical ids are `Pipeline<Step>Function<hash>`. */
function pipelineFunction(template: Template, step: PipelineStep): [string, Fn] {
  const prefix = `Pipeline${step.charAt(0).toUpperCase()}${step.slice(1)}Function`;
  const found = resourcesOfType(template, 'AWS::Lambda::Function').filter(([id]) => id.startsWith(prefix) && /^[A-Za-z]+Function[0-9A-F]{8}$/.test(id));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0] as unknown as [string, Fn];
}

/** Statements of a step's role, without the log-group and X-Ray statements every function has. */
function grantsOf(template: Template, step: PipelineStep): SynthesizedStatement[] {
  const roleId = pipelineFunction(template, step)[1].Properties.Role['Fn::GetAtt'][0];
  return statementsOfRole(template, roleId).filter((s) => !actionsOf(s).every((a) => a.startsWith('logs:') || a.startsWith('xray:')));
}

function actionSet(statements: readonly SynthesizedStatement[], service: string): string[] {
  return [...new Set(statements.flatMap(actionsOf).filter((a) => a.startsWith(`${service}:`)))].sort();
}

const COMMON_ENV = [PIPELINE_ENV.settings, 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
const LLM_ENV: Record<Exclude<PipelineStep, 'routerJob'>, string[]> = {
  validateRequest: [...COMMON_ENV, PIPELINE_ENV.artifactBucket],
  buildDataset: [...COMMON_ENV, PIPELINE_ENV.athenaWorkGroup, PIPELINE_ENV.goldenSetsUri, SQL_DIR_ENV],
  checkEligibility: [...COMMON_ENV, PIPELINE_ENV.ledgerTable],
  checkGpuBudget: [...COMMON_ENV, PIPELINE_ENV.ledgerTable],
  recordGpuHours: [...COMMON_ENV, PIPELINE_ENV.ledgerTable],
  prepareApproval: [...COMMON_ENV, PIPELINE_ENV.approvalsTable, PIPELINE_ENV.signingSecretArn, PIPELINE_ENV.approvalPageBaseUrl],
  requestApproval: [...COMMON_ENV, PIPELINE_ENV.approvalsTable, PIPELINE_ENV.signingSecretArn, PIPELINE_ENV.approvalPageBaseUrl, PIPELINE_ENV.approvalsTopicArn, PIPELINE_ENV.finopsTopicArn, PIPELINE_ENV.approvalRecipients],
  checkEvalGate: [...COMMON_ENV],
  registerModel: [...COMMON_ENV, REGISTER_MODEL_ENV.servingImageUri],
};
/** A stage with a router target adds the router steps' function and the router image to registration. */
function expectedEnv(hasRouter: boolean): Partial<Record<PipelineStep, string[]>> {
  if (!hasRouter) return LLM_ENV;
  return { ...LLM_ENV, registerModel: [...LLM_ENV.registerModel, REGISTER_MODEL_ENV.routerImageUri], routerJob: [...COMMON_ENV, PIPELINE_ENV.goldenSetsUri, PIPELINE_ENV.ledgerTable] };
}

describe.each(STAGE_NAMES)('training pipeline of %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = loopTemplate(stage);
  const { loopStack } = synthesizedStage(stage);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  // The loop stack also holds the canary rollout and game-day state machines.
  const [machineId, machine] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').find(([mid]) => /^PipelineStateMachine[0-9A-F]{8}$/.test(mid))!;
  const [rolloutMachineId] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').find(([mid]) => /^RolloutStateMachine[0-9A-F]{8}$/.test(mid))!;
  const machineRoleId = (machine.Properties!.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const id = (type: string, prefix: string): string => resourcesOfType(template, type).find(([rid]) => rid.startsWith(prefix))![0];
  const EXPECTED_ENV = expectedEnv(config.targetModels.some(isRouterTarget));

  test.each(Object.keys(EXPECTED_ENV) as PipelineStep[])('%s gets exactly the variables it reads', (step) => {
    const env = pipelineFunction(template, step)[1].Properties.Environment.Variables;
    expect(Object.keys(env).sort()).toEqual([...(EXPECTED_ENV[step] ?? [])].sort());
  });

  test('PIPELINE_SETTINGS is the stage, parsed back by the Lambdas\' own reader', () => {
    const env = pipelineFunction(template, 'checkGpuBudget')[1].Properties.Environment.Variables;
    const settings: PipelineSettings = pipelineSettingsFromEnv({ [PIPELINE_ENV.settings]: env[PIPELINE_ENV.settings] as string });
    expect(settings).toEqual(loopStack.pipelineSettings);
    expect(settings).toMatchObject({ stage, boundary: config.dataBoundary, gpuBudget: config.gpuBudget, approvalExpiryHours: config.approvals.expiryHours });
    expect(settings.lake).toEqual({ databaseName: config.lake.databaseName, tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' });
  });

  test('the dataset build reads its SQL from the copy in its bundle and is given 15 minutes (and little memory: no row passes through it)', () => {
    const [, fn] = pipelineFunction(template, 'buildDataset');
    expect(fn.Properties.Environment.Variables[SQL_DIR_ENV]).toBe('/var/task/sql');
    expect(fn.Properties).toMatchObject({ Timeout: 900, MemorySize: 512 });
    expect(PIPELINE_HANDLER_ENTRIES.buildDataset).toBe('lambdas/pipeline/dataset/handler.ts');
  });

  test('validate request calls no AWS API: no grant beyond logs and X-Ray', () => {
    expect(grantsOf(template, 'validateRequest')).toEqual([]);
  });

  test('build dataset: Athena in its workgroup, Glue and S3 reads of the three lake tables, writes only under runs/*/dataset/ and athena-results/', () => {
    const grants = grantsOf(template, 'buildDataset');
    const workGroup = id('AWS::Athena::WorkGroup', 'PipelineWorkGroup');
    const athena = grants.filter((s) => actionsOf(s).some((a) => a.startsWith('athena:')));
    expect(athena).toHaveLength(1);
    expect(JSON.stringify(athena[0]!.Resource)).toContain(`:workgroup/sial-${stage}-dataset-build`);
    expect((resources[workGroup]!.Properties as { Name: string }).Name).toBe(`sial-${stage}-dataset-build`);
    const glue = grants.filter((s) => actionsOf(s).some((a) => a.startsWith('glue:')));
    expect(actionSet(glue, 'glue')).toEqual(['glue:CreateTable', 'glue:DeleteTable', 'glue:GetDatabase', 'glue:GetTable']);
    // Creating and dropping tables only for its own working tables, never a lake table.
    const tableWrites = glue.filter((s) => actionsOf(s).includes('glue:DeleteTable'));
    expect(JSON.stringify(tableWrites.flatMap(resourcesOf))).toContain(`:table/${config.lake.databaseName}/sial_build_*`);
    expect(JSON.stringify(tableWrites.flatMap(resourcesOf))).not.toMatch(/:table\/[a-z_]+\/(traces|gate_audit|feedback)"/);
    const glueResources = JSON.stringify(glue.flatMap(resourcesOf));
    for (const table of ['traces', 'gate_audit', 'feedback']) expect(glueResources).toContain(`:table/${config.lake.databaseName}/${table}`);
    expect(actionSet(grants, 'glue')).not.toContain('glue:UpdateTable');
    const lakeReads = JSON.stringify(grants.filter((s) => JSON.stringify(s.Resource).includes('LakeBucket')));
    for (const table of ['traces', 'gate_audit', 'feedback']) expect(lakeReads).toContain(`/tables/${table}/*`);
    expect(lakeReads).not.toMatch(/s3:PutObject|s3:DeleteObject/);
    // Athena writes UNLOAD output and query results with this role's permissions, so these two are every
    // place the build (function or workgroup) can write: a run's dataset folder and the result location.
    const writes = grants.filter((s) => actionsOf(s).some((a) => a === 's3:PutObject' || a === 's3:*' || a === 's3:PutObject*'));
    const writeTargets = writes.flatMap(resourcesOf).map((r) => JSON.stringify(r));
    expect(writeTargets).toHaveLength(2);
    expect(writeTargets.filter((r) => r.includes('/runs/*/dataset/*'))).toHaveLength(1);
    expect(writeTargets.filter((r) => r.includes('/athena-results/*'))).toHaveLength(1);
    expect(writeTargets.some((r) => /\/runs\/\*"|\/runs\/\*\]/.test(r))).toBe(false);
    expect(JSON.stringify(grants)).toContain('/golden-sets/*');
    expect(actionSet(grants, 'dynamodb')).toEqual([]);
  });

  test('the workgroup enforces an SSE-KMS result location in the artifact bucket on engine v3', () => {
    expect(resources[id('AWS::Athena::WorkGroup', 'PipelineWorkGroup')]!.Properties.WorkGroupConfiguration).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      ResultConfiguration: {
        EncryptionConfiguration: { EncryptionOption: 'SSE_KMS' },
        OutputLocation: { 'Fn::Join': ['', ['s3://', { 'Fn::ImportValue': expect.stringContaining('ArtifactBucket') }, '/athena-results/']] },
      },
    });
  });

  test('the ledger: read for eligibility and the budget check, book-keeping writes for the record step only', () => {
    for (const step of ['checkEligibility', 'checkGpuBudget'] as const) {
      const grants = grantsOf(template, step);
      expect({ step, actions: actionSet(grants, 'dynamodb') }).toEqual({ step, actions: ['dynamodb:GetItem'] });
      expect(JSON.stringify(grants.filter((s) => actionsOf(s).includes('dynamodb:GetItem')))).toContain('GpuLedgerTable');
    }
    expect(actionSet(grantsOf(template, 'recordGpuHours'), 'dynamodb')).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
  });

  test("all four booking states (training and eval job, success and failure) invoke the record function, whose only grants are the ledger booking and the ledger's key", () => {
    const asl = renderAsl(template.toJSON(), machineId);
    const [recordId] = pipelineFunction(template, 'recordGpuHours');
    const bookings = [TRAINING_STATES.recordGpuHours, TRAINING_STATES.recordGpuHoursAfterFailure, TRAINING_STATES.recordEvalGpuHours, TRAINING_STATES.recordEvalGpuHoursAfterFailure];
    for (const name of bookings) expect({ name, resource: asl.States[name]?.Resource }).toEqual({ name, resource: expect.stringMatching(new RegExp(`:${recordId}$`)) });
    const grants = grantsOf(template, 'recordGpuHours');
    expect([...new Set(grants.flatMap(actionsOf).map((a) => a.split(':')[0]))].sort()).toEqual(['dynamodb', 'kms', 'sqs']);
    // sqs: only its async on-failure destination, the reservation release's dead-letter queue.
    const queueStatements = grants.filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
    expect(actionSet(queueStatements, 'sqs')).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    expect(queueStatements.flatMap(resourcesOf)).toEqual([{ 'Fn::GetAtt': [id('AWS::SQS::Queue', 'PipelineReservationReleaseDeadLetters'), 'Arn'] }]);
    const ledgerStatements = grants.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(ledgerStatements.flatMap(resourcesOf).map((r) => JSON.stringify(r))).toEqual([expect.stringContaining('GpuLedgerTable')]);
    expect(actionSet(grants, 'kms')).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
  });

  describe('an execution that ends without a release state (stopped, timed out, failed past the failure path) releases its reservation', () => {
    type Rule = { Properties: { State: string; EventPattern: Record<string, unknown>; Targets: Array<{ Arn: unknown; InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string }; RetryPolicy: unknown; DeadLetterConfig: unknown }> } };
    const [ruleId, rule] = resourcesOfType(template, 'AWS::Events::Rule').find(([rid]) => rid.startsWith('PipelineReservationReleaseRule'))! as unknown as [string, Rule];
    const queueId = id('AWS::SQS::Queue', 'PipelineReservationReleaseDeadLetters');
    const machineArn = 'arn:aws:states:eu-west-1:111122223333:stateMachine:PipelineStateMachine-abc';
    // The pattern with this state machine's ARN resolved, as CloudFormation does.
    const pattern = JSON.parse(JSON.stringify(rule.Properties.EventPattern).replace(JSON.stringify({ Ref: machineId }), JSON.stringify(machineArn))) as Record<string, unknown>;
    const statusChange = (status: string, stateMachineArn = machineArn, name = 'run-41'): Record<string, unknown> => ({
      version: '0',
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      resources: [`${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`],
      detail: { executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`, stateMachineArn, name, status, startDate: 1, stopDate: 2 },
    });

    test('the rule names this state machine only, and the ABORTED, TIMED_OUT and FAILED statuses', () => {
      expect(rule.Properties.State).toBe('ENABLED');
      expect(rule.Properties.EventPattern).toEqual({
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [{ Ref: machineId }], status: [...RELEASE_ON_STATUSES] },
      });
      expect([...RELEASE_ON_STATUSES].sort()).toEqual(['ABORTED', 'FAILED', 'TIMED_OUT']);
      for (const status of RELEASE_ON_STATUSES) expect({ status, matches: matchesEventPattern(pattern, statusChange(status)) }).toEqual({ status, matches: true });
      // A run that succeeded passed its release states; the rollout's executions hold no GPU budget.
      for (const status of ['SUCCEEDED', 'RUNNING']) expect({ status, matches: matchesEventPattern(pattern, statusChange(status)) }).toEqual({ status, matches: false });
      expect(matchesEventPattern(pattern, statusChange('ABORTED', 'arn:aws:states:eu-west-1:111122223333:stateMachine:RolloutStateMachine-abc'))).toBe(false);
      expect(JSON.stringify(rule.Properties.EventPattern)).not.toContain(rolloutMachineId);
    });

    test('its one target is the booking function, with retries and the dead-letter queue; EventBridge may invoke it from this rule only', () => {
      expect(rule.Properties.Targets).toHaveLength(1);
      expect(rule.Properties.Targets[0]).toMatchObject({
        Arn: { 'Fn::GetAtt': [pipelineFunction(template, 'recordGpuHours')[0], 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [pipelineFunction(template, 'recordGpuHours')[0], 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      });
      // A release that fails after Lambda's own retries lands in the same queue, which alarms FinOps.
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: pipelineFunction(template, 'recordGpuHours')[0] },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
      });
      expect(resources[queueId]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
      const [, alarm] = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(([aid]) => aid.startsWith('PipelineReservationReleaseDeadLetterAlarm'))!;
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(JSON.stringify(alarm.Properties!.AlarmActions)).toMatch(/FinopsTopic/);
    });

    test("the input it builds from a stopped execution's event releases that run's reservation, once, and leaves booked hours as they are", async () => {
      const ledger = new InMemoryLedger();
      const now = new Date('2026-05-03T12:00:00.000Z');
      ledger.seedMonth(stage, '2026-05', 10);
      await ledger.reserve({ stage, runId: 'run-41', month: '2026-05', gpuHours: 48, ceilingGpuHours: 1000, overCeilingApproved: false, at: now.toISOString() });
      await ledger.convertReservation(stage, 'run-41', 'train', 20);
      const release = async (event: Record<string, unknown>): Promise<number> => {
        const input = applyInputTransformer(rule.Properties.Targets[0]!.InputTransformer, event);
        expect(input).toEqual({ operation: 'release', executionName: 'run-41', endedAs: (event.detail as { status: string }).status });
        return (await releaseGpuReservation(parseReleaseEvent(input).runId, { ledger, stage, now })).releasedGpuHours;
      };
      expect(await release(statusChange('ABORTED'))).toBe(28);
      expect(await ledger.monthCommitment(stage, '2026-05')).toEqual({ usedGpuHours: 10, reservedGpuHours: 0 });
      expect(ledger.allReservations()).toEqual([expect.objectContaining({ runId: 'run-41', status: 'released', remainingGpuHours: 0, convertedJobs: ['train'] })]);
      // A redelivered event, or a FAILED one after the failure path released: nothing more.
      expect(await release(statusChange('FAILED'))).toBe(0);
      expect(await ledger.monthCommitment(stage, '2026-05')).toEqual({ usedGpuHours: 10, reservedGpuHours: 0 });
    });
  });

  test('approvals: prepare only creates records; request updates them and publishes to the approver and FinOps topics', () => {
    const prepare = grantsOf(template, 'prepareApproval');
    expect(actionSet(prepare, 'dynamodb')).toEqual(['dynamodb:PutItem']);
    expect(actionSet(prepare, 'secretsmanager')).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(actionSet(prepare, 'sns')).toEqual([]);
    const request = grantsOf(template, 'requestApproval');
    expect(actionSet(request, 'dynamodb')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    const publish = request.filter((s) => actionsOf(s).includes('sns:Publish'));
    expect(publish.flatMap(resourcesOf).map((r) => (r as { Ref: string }).Ref.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['ApprovalsApprovalsTopic', 'ApprovalsFinopsTopic']);
    expect(actionSet(request, 'kms')).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
  });

  test('eval gate reads runs/ and the registry; register model creates packages in the stage\'s groups only', () => {
    const gate = grantsOf(template, 'checkEvalGate');
    expect(actionSet(gate, 's3')).toEqual(['s3:GetBucketLocation', 's3:GetObject', 's3:ListBucket']);
    expect(actionSet(gate, 'sagemaker')).toEqual(['sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup', 'sagemaker:ListModelPackages']);
    const register = grantsOf(template, 'registerModel');
    const create = register.filter((s) => actionsOf(s).includes('sagemaker:CreateModelPackage'));
    expect(create).toHaveLength(1);
    const families = [...new Set(config.targetModels.map(registryKeyOf))];
    const created = JSON.stringify(create[0]!.Resource);
    for (const family of families) expect(created).toContain(`:model-package/sial-${stage}-${family}/*`);
    expect(actionSet(register, 's3')).toEqual([]);
  });

  test('the state machine: Standard, X-Ray, every event logged without execution data', () => {
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  test('the state machine role puts events on the default bus only', () => {
    // (Its other events: actions are the .sync tasks' managed rules, scoped by the integrations.)
    const puts = statementsOfRole(template, machineRoleId).filter((s) => actionsOf(s).includes('events:PutEvents'));
    expect(puts.flatMap(actionsOf)).toEqual(['events:PutEvents']);
    expect(puts.flatMap(resourcesOf)).toEqual([{ 'Fn::Join': ['', [`arn:aws:events:${config.region}:`, { Ref: 'AWS::AccountId' }, ':event-bus/default']] }]);
  });

  test('the state machine role invokes only the pipeline functions, submits only to this queue and job definitions, publishes only notifications', () => {
    const statements = statementsOfRole(template, machineRoleId);
    const invoked = statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction')).flatMap(resourcesOf);
    const functionIds = new Set(invoked.map((r) => JSON.stringify(r).match(/"(Pipeline[A-Za-z]+Function[0-9A-F]{8})"/)?.[1]));
    expect([...functionIds].sort()).toEqual((Object.keys(EXPECTED_ENV) as PipelineStep[]).map((step) => pipelineFunction(template, step)[0]).sort());

    const submit = statements.filter((s) => actionsOf(s).includes('batch:SubmitJob'));
    const queue = id('AWS::Batch::JobQueue', 'TrainingComputeJobQueue');
    const trainDef = id('AWS::Batch::JobDefinition', 'TrainingComputeTrainJobDefinition');
    const evalDef = id('AWS::Batch::JobDefinition', 'TrainingComputeEvalJobDefinition');
    const submitted = submit.flatMap(resourcesOf).map((r) => JSON.stringify(r));
    // A stage with a router also submits to the router's Fargate queue and its one job definition.
    const routerSubmits = config.targetModels.some(isRouterTarget)
      ? [JSON.stringify({ 'Fn::GetAtt': [id('AWS::Batch::JobQueue', 'RouterTrainingComputeJobQueue'), 'JobQueueArn'] }), JSON.stringify({ Ref: id('AWS::Batch::JobDefinition', 'RouterTrainingComputeTrainJobDefinition') })]
      : [];
    expect([...new Set(submitted)].sort()).toEqual(
      [
        JSON.stringify({ 'Fn::GetAtt': [queue, 'JobQueueArn'] }),
        JSON.stringify({ Ref: trainDef }),
        JSON.stringify({ Ref: evalDef }),
        ...routerSubmits,
      ].sort(),
    );
    expect(JSON.stringify(statements)).not.toContain('job-definition/*');
    expect(statements.filter((s) => actionsOf(s).includes('batch:TerminateJob')).flatMap(resourcesOf)).toEqual([
      { 'Fn::Join': ['', [`arn:aws:batch:${config.region}:`, { Ref: 'AWS::AccountId' }, ':job/*']] },
    ]);
    const published = statements.filter((s) => actionsOf(s).includes('sns:Publish')).flatMap(resourcesOf);
    expect(published.map((r) => (r as { Ref: string }).Ref.replace(/[0-9A-F]{8}$/, ''))).toEqual(['ApprovalsNotificationsTopic']);
    // The hand-over starts the canary rollout, and nothing else.
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')))).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: rolloutMachineId } }]);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  test('the state machine role may only update job records: dynamodb:UpdateItem on the jobs table, and the lake key for its items', () => {
    const statements = statementsOfRole(template, machineRoleId);
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(actionsOf)).toEqual(['dynamodb:UpdateItem']);
    const tables = dynamo.flatMap(resourcesOf).map((r) => JSON.stringify(r));
    expect(tables).toHaveLength(1);
    // The table's ARN, no index and no wildcard: `table/<the jobs table's name>`.
    expect(tables[0]).toMatch(new RegExp(`:table/",\\{"Fn::ImportValue":"sial-${stage}-data:ExportsOutputRef${PINNED_LOGICAL_IDS.jobsTable}[0-9A-F]{8}"\\}\\]\\]\\}$`));
    // (The other kms statement is the notifications topic's key, for the SNS tasks.)
    const lakeKey = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')) && JSON.stringify(resourcesOf(s)).includes(`ExportsOutputFnGetAtt${PINNED_LOGICAL_IDS.lakeKey}Arn`));
    expect(lakeKey.flatMap(actionsOf).sort()).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
    expect(lakeKey.flatMap(resourcesOf)).toHaveLength(1);
  });

  test('schedules: a daily dataset build and a weekly training request per target model, in the stage time zone', () => {
    const schedules = resourcesOfType(template, 'AWS::Scheduler::Schedule').filter(([sid]) => sid.startsWith('Pipeline')).map(([, s]) => s.Properties!);
    expect(schedules).toHaveLength(config.targetModels.length * 2);
    const schedulerRole = id('AWS::IAM::Role', 'PipelineSchedulerRole');
    for (const model of config.targetModels) {
      for (const [expression, input] of [
        [config.schedules.datasetBuild, { mode: 'dataset-only', targetModelId: model.id, requestedBy: 'scheduler:daily-dataset-build' }],
        [config.schedules.trainingRequest, { mode: 'train', targetModelId: model.id, requestedBy: 'scheduler:weekly-training-request', reason: expect.any(String) }],
      ] as const) {
        const match = schedules.find((s) => s.ScheduleExpression === expression && JSON.parse((s.Target as { Input: string }).Input).targetModelId === model.id && JSON.parse((s.Target as { Input: string }).Input).mode === input.mode);
        expect(match).toMatchObject({
          ScheduleExpressionTimezone: config.schedules.timezone,
          State: config.schedules.enabled ? 'ENABLED' : 'DISABLED',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: { Arn: { Ref: machineId }, RoleArn: { 'Fn::GetAtt': [schedulerRole, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 3 } },
        });
        expect(JSON.parse((match!.Target as { Input: string }).Input)).toEqual(input);
      }
    }
  });

  test('the scheduler role is trusted by this account\'s schedules only and may start this state machine only', () => {
    const roleId = id('AWS::IAM::Role', 'PipelineSchedulerRole');
    expect(resources[roleId]!.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': expect.anything() } },
        },
      ],
    });
    expect(statementsOfRole(template, roleId)).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: machineId } }]);
  });

  test('nothing in the loop stack is stateful: no bucket, table or model package group of its own', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable', 'AWS::SageMaker::ModelPackageGroup']) {
      expect({ type, count: resourcesOfType(template, type).length }).toEqual({ type, count: 0 });
    }
    // The tables and buckets it uses are the data stack's pinned ones, imported.
    expect(JSON.stringify(template.toJSON())).toContain(PINNED_LOGICAL_IDS.approvalsTable);
  });
});

test('bundle copies are plain relative folders, copied with their contents', () => {
  expect(bundleCopyCommands([{ from: 'lambdas/pipeline/dataset/sql', to: 'sql' }], '/repo', '/out')).toEqual([
    'mkdir -p "/out/sql"',
    'cp -R "/repo/lambdas/pipeline/dataset/sql/." "/out/sql/"',
  ]);
  expect(() => bundleCopyCommands([{ from: '../secrets', to: 'sql' }], '/repo', '/out')).toThrow('copyIntoBundle: "../secrets" is not a plain relative folder');
  expect(() => bundleCopyCommands([{ from: 'sql', to: '/etc' }], '/repo', '/out')).toThrow('copyIntoBundle: "/etc" is not a plain relative folder');
});
