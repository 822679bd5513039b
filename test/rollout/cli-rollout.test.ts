/**
 * `sial rollout status | seed | release`: in AWS against the DynamoDB adapter on an in-memory table
 * (conditions evaluated as DynamoDB would), Step Functions and SageMaker behind aws-sdk-client-mock;
 * in local mode against a temporary state directory.
 */
import { DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient, type ExecutionStatus } from '@aws-sdk/client-sfn';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { createRolloutCommand, ROLLOUT_ENV } from '../../bin/cli/rollout';
import { awsRolloutBackend, type AwsRolloutBackendOptions } from '../../bin/cli/rollout-backend';
import type { RollbackRecord, RolloutPlan } from '../../lambdas/rollout/contracts';
import { DEPLOYMENT_KEYS, DynamoDbDeploymentStore } from '../../lambdas/rollout/aws/dynamodb-deployment-store';
import { prepareLakeDir } from '../../local/lake-dir';
import { LocalModelRegistry } from '../../local/pipeline/local-model-registry';
import { localDeploymentsFile, LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { fakeDeploymentsTable } from './fake-deployments-table';
import { EKS_MODEL, EKS_TARGET, executionArnOf, GAME_DAY_MACHINE, GROUP, packageArn, ROLLOUT_MACHINE, sageMakerPlan, SAGEMAKER_MODEL, version } from './helpers';

const NOW = new Date('2026-05-04T12:00:00.000Z');
const SEEDED_AT = new Date('2026-05-01T09:00:00.000Z');
const TABLE = 'sial-dev-DeploymentsTable';
const ROLLOUT_SM = ROLLOUT_MACHINE;
const GAME_DAY_SM = GAME_DAY_MACHINE;
const executionOf = (machine: string, name: string) => executionArnOf(name, machine);
const MODEL = SAGEMAKER_MODEL.id;

function cli(commandEnv: NodeJS.ProcessEnv, aws?: (options: AwsRolloutBackendOptions) => ReturnType<typeof awsRolloutBackend>) {
  const out: string[] = [];
  const err: string[] = [];
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env: commandEnv, clock: () => NOW };
  const commands = aws === undefined ? undefined : [createRolloutCommand(aws)];
  return { out, err, run: (...argv: string[]) => (commands === undefined ? runCli(argv, context) : runCli(argv, context, commands)), text: () => [...out, ...err].join('\n') };
}

describe('sial rollout in AWS', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const sfn = mockClient(SFNClient);
  const sageMaker = mockClient(SageMakerClient);
  let items: Map<string, Record<string, unknown>>;
  let store: DynamoDbDeploymentStore;
  let seen: AwsRolloutBackendOptions[];
  // What an operator exports: the state machines are not needed while claims name their execution.
  const env = { [ROLLOUT_ENV.stage]: 'dev', [ROLLOUT_ENV.table]: TABLE };
  /** A claim as Validate rollout writes it now: with its execution's ARN. */
  const claimed = (overrides: Parameters<typeof sageMakerPlan>[0] = {}, machine = ROLLOUT_SM) => {
    const plan = sageMakerPlan(overrides);
    return sageMakerPlan({ ...overrides, executionArn: executionOf(machine, plan.rolloutId) });
  };

  /** Versions 1-5 of the qwen3 group: 2 Rejected, 4 registered outside the pipeline (no metadata), 5 for the other model. */
  function registry(): void {
    const status = (v: number) => (v === 2 ? 'Rejected' : v === 1 ? 'Approved' : 'PendingManualApproval');
    sageMaker.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [1, 2, 3, 4, 5].map((v) => ({ ModelPackageArn: packageArn(v), ModelPackageGroupName: GROUP, ModelPackageVersion: v, ModelApprovalStatus: status(v), ModelPackageStatus: 'Completed', CreationTime: SEEDED_AT })),
    });
    sageMaker.on(DescribeModelPackageCommand).callsFake((input: { ModelPackageName: string }) => {
      const v = Number(input.ModelPackageName.split('/').pop());
      return { ModelPackageArn: input.ModelPackageName, ModelApprovalStatus: status(v), CreationTime: SEEDED_AT, ...(v === 4 ? {} : { CustomerMetadataProperties: { targetModelId: v === 5 ? EKS_MODEL.id : MODEL } }) };
    });
  }

  function execution(name: string, status: ExecutionStatus, machine = ROLLOUT_SM, redriveStatus?: 'REDRIVABLE' | 'NOT_REDRIVABLE'): void {
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: executionOf(machine, name),
      name,
      status,
      startDate: SEEDED_AT,
      ...(status === 'RUNNING' ? {} : { stopDate: new Date('2026-05-04T11:00:00.000Z') }),
      ...(redriveStatus === undefined ? {} : { redriveStatus }),
    });
  }

  const claimKey = `${DEPLOYMENT_KEYS.activeRollout(MODEL).pk}|ACTIVE_ROLLOUT`;

  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    sageMaker.reset();
    items = fakeDeploymentsTable(ddb);
    registry();
    store = new DynamoDbDeploymentStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), TABLE);
    seen = [];
  });

  const command = (commandEnv: NodeJS.ProcessEnv = env) =>
    cli(commandEnv, (options) => {
      seen.push(options);
      return awsRolloutBackend({ ...options, dynamoDb: new DynamoDBClient({ region: options.region }), sfn: new SFNClient({ region: options.region }), sageMaker: new SageMakerClient({ region: options.region }) });
    });

  describe('seed', () => {
    it('records a registered version with attribute_not_exists(pk), in the stage table and region', async () => {
      const c = command();
      expect(await c.run('rollout', 'seed', '--model', MODEL, '--version', '3', '--serving-name', 'AllTraffic')).toBe(0);
      expect(seen).toEqual([{ tableName: TABLE, region: 'us-east-1', stateMachines: {} }]);
      const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
      expect(put).toMatchObject({ TableName: TABLE, ConditionExpression: 'attribute_not_exists(pk)' });
      expect(put.Item).toEqual({ pk: `MODEL#${MODEL}`, sk: 'DEPLOYMENT', type: 'deployment', targetModelId: MODEL, current: version(3, 'AllTraffic'), deployable: [version(3, 'AllTraffic')], revision: 0, updatedAt: NOW.toISOString(), promotedBy: 'seed' });
      expect(c.out[0]).toBe(`Recorded version 3 (${packageArn(3)}) serving as AllTraffic as the current version of ${MODEL} (revision 0, table ${TABLE} in us-east-1).`);
      expect(sageMaker.commandCalls(ListModelPackagesCommand)[0]!.args[0].input.ModelPackageGroupName).toBe(GROUP);
    });

    it('takes the package ARN instead of the version, and defaults an EKS model to its current backend', async () => {
      const c = command();
      expect(await c.run('rollout', 'seed', '--model', EKS_MODEL.id, '--package-arn', packageArn(4))).toBe(0);
      expect((await store.getCurrent(EKS_MODEL.id))?.current).toEqual(version(4, EKS_TARGET.currentBackend));
      const onCandidate = command();
      expect(await onCandidate.run('rollout', 'seed', '--model', EKS_MODEL.id, '--version', '4', '--serving-name', EKS_TARGET.candidateBackend, '--force')).toBe(0);
      expect((await store.getCurrent(EKS_MODEL.id))?.current.servingName).toBe(EKS_TARGET.candidateBackend);
    });

    it('refuses to overwrite a recorded version and says what is there', async () => {
      await store.promote({ targetModelId: MODEL, expectedCurrentArn: (await store.seedCurrent(MODEL, version(1, 'AllTraffic'), SEEDED_AT)).current.modelPackageArn, next: version(3, 'qwen3-4b-v3'), keep: 3, rolloutId: 'rollout-3', at: SEEDED_AT });
      ddb.resetHistory();
      const c = command();
      expect(await c.run('rollout', 'seed', '--model', MODEL, '--version', '4', '--serving-name', 'AllTraffic')).toBe(1);
      expect(c.err[0]).toBe(`${MODEL} already has a current version: version 3 (${packageArn(3)}) serving as qwen3-4b-v3; promoted by rollout rollout-3 at 2026-05-01 09:00 UTC, revision 1.`);
      expect(c.err[1]).toContain('replace it with --force');
      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    });

    it('--force replaces it at the next revision with revision = :read, but never under a rollout', async () => {
      await store.seedCurrent(MODEL, version(1, 'WrongVariant'), SEEDED_AT);
      await store.setActiveRollout(MODEL, sageMakerPlan());
      const refused = command();
      expect(await refused.run('rollout', 'seed', '--model', MODEL, '--version', '1', '--serving-name', 'AllTraffic', '--force')).toBe(1);
      expect(refused.err[0]).toContain('Rollout rollout-1 holds qwen3-4b (since 2026-05-04 10:00 UTC)');
      expect((await store.getCurrent(MODEL))?.current.servingName).toBe('WrongVariant');

      await store.clearActiveRollout(MODEL, 'rollout-1');
      ddb.resetHistory();
      const c = command();
      expect(await c.run('rollout', 'seed', '--model', MODEL, '--version', '1', '--serving-name', 'AllTraffic', '--force')).toBe(0);
      // One transaction: the revision read, and no claim on the model at the moment of the write.
      const [claimCheck, put] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(claimCheck!.ConditionCheck).toMatchObject({ Key: { pk: `MODEL#${MODEL}`, sk: 'ACTIVE_ROLLOUT' }, ConditionExpression: 'attribute_not_exists(pk)' });
      expect(put!.Put).toMatchObject({ ConditionExpression: 'revision = :read', ExpressionAttributeValues: { ':read': 0 } });
      expect(await store.getCurrent(MODEL)).toMatchObject({ current: version(1, 'AllTraffic'), revision: 1, promotedBy: 'seed' });
      expect(c.out[1]).toBe(`It replaces version 1 (${packageArn(1)}) serving as WrongVariant; seeded at 2026-05-01 09:00 UTC, revision 0.`);
    });

    it.each([
      [['--package-arn', packageArn(3, 'sial-dev-llama4')], 'is in group sial-dev-llama4; the rollout takes only versions of sial-dev-qwen3'],
      [['--package-arn', packageArn(3).replace('us-east-1', 'eu-central-1')], 'is in eu-central-1; the stage serves from us-east-1'],
      [['--package-arn', 'arn:aws:sagemaker:us-east-1:123456789012:model-package/sial-dev-qwen3'], 'is not a versioned SageMaker model package ARN'],
      [['--package-arn', packageArn(3), '--version', '4'], '--version 4 does not match the version in --package-arn (3)'],
      [['--version', '9'], 'version 9 is not registered in sial-dev-qwen3 (has versions 1, 2, 3, 4, 5); register the version that serves qwen3-4b in that group first'],
      [['--version', '2'], 'is Rejected in the registry'],
      [['--version', '5'], `was registered for ${EKS_MODEL.id}, not for ${MODEL}`],
    ])('refuses %j without writing', async (args, message) => {
      const c = command();
      expect(await c.run('rollout', 'seed', '--model', MODEL, '--serving-name', 'AllTraffic', ...args)).toBe(1);
      expect(c.err.join('\n')).toContain(message);
      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    });

    it.each([
      [MODEL, [], '--serving-name is required for qwen3-4b: the name of the production variant of endpoint sial-dev-qwen3-4b'],
      [MODEL, ['--serving-name', 'qwen3-4b-v4'], 'variant qwen3-4b-v4 is a name the rollout gives another version of qwen3-4b (version 3 would serve as qwen3-4b-v3)'],
      [MODEL, ['--serving-name', 'qwen3-4b-v3-drill'], 'variant qwen3-4b-v3-drill is a name the rollout gives another version'],
      [MODEL, ['--serving-name', 'bad_name'], 'is not a SageMaker variant name'],
      [EKS_MODEL.id, ['--serving-name', 'some-service'], `--serving-name must be one of the two backends of HTTPRoute llm-serving/${EKS_TARGET.httpRouteName}`],
    ])('checks where %s serves: %j', async (model, args, message) => {
      const c = command();
      expect(await c.run('rollout', 'seed', '--model', model, '--version', model === MODEL ? '3' : '4', ...args)).toBe(1);
      expect(c.err.join('\n')).toContain(message);
      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    });

    it('accepts the variant name the rollout gives this very version', async () => {
      expect(await command().run('rollout', 'seed', '--model', MODEL, '--version', '3', '--serving-name', 'qwen3-4b-v3')).toBe(0);
      expect((await store.getCurrent(MODEL))?.current.servingName).toBe('qwen3-4b-v3');
    });
  });

  describe('release', () => {
    beforeEach(async () => {
      await store.seedCurrent(MODEL, version(3, 'AllTraffic'), SEEDED_AT);
      await store.setActiveRollout(MODEL, claimed());
      ddb.resetHistory();
    });

    it.each(['RUNNING', 'PENDING_REDRIVE'] as const)('refuses while the execution named in the claim is %s, even with --force', async (status) => {
      execution('rollout-1', status);
      const c = command();
      expect(await c.run('rollout', 'release', '--model', MODEL, '--force')).toBe(1);
      expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: executionOf(ROLLOUT_SM, 'rollout-1') });
      expect(c.err[0]).toContain(`Not released: execution ${executionOf(ROLLOUT_SM, 'rollout-1')} is ${status}: it still holds qwen3-4b`);
      expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
      expect(items.has(claimKey)).toBe(true);
    });

    it.each(['ABORTED', 'FAILED'] as const)('removes the claim of a %s execution with a delete conditional on its rollout id', async (status) => {
      execution('rollout-1', status);
      const c = command();
      expect(await c.run('rollout', 'release', '--model', MODEL)).toBe(0);
      const del = ddb.commandCalls(DeleteCommand)[0]!.args[0].input;
      expect(del).toEqual({ TableName: TABLE, Key: DEPLOYMENT_KEYS.activeRollout(MODEL), ConditionExpression: 'rolloutId = :id', ExpressionAttributeValues: { ':id': 'rollout-1' } });
      expect(items.has(claimKey)).toBe(false);
      expect(c.out[0]).toBe(`Released ${MODEL} from rollout rollout-1 (execution ${executionOf(ROLLOUT_SM, 'rollout-1')}: ${status} since 2026-05-04 11:00 UTC).`);
      expect(c.out[1]).toBe('Traffic weights are unchanged: release only removes the claim, it moves no traffic on the SageMaker endpoint sial-dev-qwen3-4b.');
      expect(c.out[2]).toContain(`No rollback was recorded for it: the candidate, version 4 (${packageArn(4)}) serving as qwen3-4b-v4, may still get traffic. Check the weights; to move everything back to AllTraffic by hand, see`);
      expect(c.out[2]).toContain('README.md, "Operations", "Roll back by hand"');
    });

    it('warns not to redrive an execution Step Functions could still redrive, and only then', async () => {
      execution('rollout-1', 'ABORTED', ROLLOUT_SM, 'REDRIVABLE');
      const c = command();
      expect(await c.run('rollout', 'release', '--model', MODEL)).toBe(0);
      expect(c.out.at(-1)).toBe(`Do not redrive ${executionOf(ROLLOUT_SM, 'rollout-1')}: Step Functions still allows it, and a redriven rollout would move traffic without a claim, unseen by the alarm rollback. Start a new rollout instead.`);

      await store.setActiveRollout(MODEL, claimed());
      execution('rollout-1', 'ABORTED', ROLLOUT_SM, 'NOT_REDRIVABLE');
      const later = command();
      expect(await later.run('rollout', 'release', '--model', MODEL)).toBe(0);
      expect(later.out.some((line) => line.startsWith('Do not redrive'))).toBe(false);
    });

    it("says so when the rollout's rollback was recorded", async () => {
      const record: RollbackRecord = { rolloutId: 'rollout-1', targetModelId: MODEL, reason: 'canary errors', by: 'alarm-lambda', breachAt: null, verifiedAt: '2026-05-04T10:30:00.000Z', weights: { currentPercent: 100, candidatePercent: 0 } };
      await store.recordRollback(record);
      execution('rollout-1', 'ABORTED');
      const c = command();
      expect(await c.run('rollout', 'release', '--model', MODEL)).toBe(0);
      expect(c.out[2]).toBe('Its rollback was recorded: 100 % current verified at 2026-05-04 10:30 UTC by alarm-lambda (canary errors).');
    });

    it('reports a claim that changed between the check and the delete (ConditionalCheckFailed)', async () => {
      const newer = claimed({ rolloutId: 'rollout-2', startedAt: '2026-05-04T11:59:00.000Z' });
      sfn.on(DescribeExecutionCommand).callsFake(async () => {
        // Another execution released the model and claimed it while the CLI was asking Step Functions.
        await store.clearActiveRollout(MODEL, 'rollout-1');
        await store.setActiveRollout(MODEL, newer);
        return { executionArn: executionOf(ROLLOUT_SM, 'rollout-1'), name: 'rollout-1', status: 'ABORTED' };
      });
      const c = command();
      expect(await c.run('rollout', 'release', '--model', MODEL)).toBe(1);
      expect(ddb.commandCalls(DeleteCommand).at(-1)!.args[0].input.ConditionExpression).toBe('rolloutId = :id');
      expect(c.err[0]).toBe(`Not released: the claim changed while it was checked (rollout rollout-2 holds ${MODEL} now, since 2026-05-04 11:59 UTC). Run sial rollout status --model ${MODEL} and decide again.`);
      expect((await store.getActiveRollout(MODEL))?.rolloutId).toBe('rollout-2');
    });

    it('refuses an execution that does not exist unless --force', async () => {
      sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
      const c = command();
      expect(await c.run('rollout', 'release', '--model', MODEL)).toBe(1);
      expect(c.err[0]).toContain(`there is no execution ${executionOf(ROLLOUT_SM, 'rollout-1')}`);
      expect(c.err[0]).toContain('release with --force');
      // The claim recorded this ARN itself: no other state machine to suspect.
      expect(c.err[0]).not.toContain('another state machine');
      expect(items.has(claimKey)).toBe(true);
      expect(await c.run('rollout', 'release', '--model', MODEL, '--force')).toBe(0);
      expect(c.out[0]).toContain('not found; released with --force');
      expect(items.has(claimKey)).toBe(false);
    });

    it('checks that --execution is the execution of the claim', async () => {
      const other = executionOf(ROLLOUT_SM, 'rollout-9');
      sfn.on(DescribeExecutionCommand).resolves({ executionArn: other, name: 'rollout-9', status: 'SUCCEEDED' });
      const c = command();
      expect(await c.run('rollout', 'release', '--model', MODEL, '--execution', other)).toBe(1);
      expect(c.err[0]).toBe(`Not released: execution ${other} is rollout rollout-9, not rollout-1, which holds the claim; nothing was released.`);
      expect(items.has(claimKey)).toBe(true);
    });

    it("asks about a game-day drill's execution as its claim names it", async () => {
      await store.clearActiveRollout(MODEL, 'rollout-1');
      await store.setActiveRollout(MODEL, claimed({ rolloutId: 'drill-1', candidate: version(3, 'qwen3-4b-v3-drill') }, GAME_DAY_SM));
      execution('drill-1', 'TIMED_OUT', GAME_DAY_SM);
      const c = command();
      expect(await c.run('rollout', 'release', '--model', MODEL)).toBe(0);
      expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input.executionArn).toBe(executionOf(GAME_DAY_SM, 'drill-1'));
      expect(c.text()).not.toContain('derived');
    });

    it('uses the claimed execution even when a state machine is named (it would name another)', async () => {
      execution('rollout-1', 'ABORTED');
      const other = 'arn:aws:states:us-east-1:123456789012:stateMachine:sial-dev-other';
      expect(await command({ ...env, [ROLLOUT_ENV.rolloutStateMachine]: other }).run('rollout', 'release', '--model', MODEL)).toBe(0);
      expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input.executionArn).toBe(executionOf(ROLLOUT_SM, 'rollout-1'));
    });

    describe('a claim written before claims recorded their execution', () => {
      const legacyEnv = { ...env, [ROLLOUT_ENV.rolloutStateMachine]: ROLLOUT_SM, [ROLLOUT_ENV.gameDayStateMachine]: GAME_DAY_SM };
      beforeEach(async () => {
        await store.clearActiveRollout(MODEL, 'rollout-1');
        await store.setActiveRollout(MODEL, sageMakerPlan());
      });

      it('derives the execution from the rollout state machine, and says so', async () => {
        execution('rollout-1', 'ABORTED');
        const c = command(legacyEnv);
        expect(await c.run('rollout', 'release', '--model', MODEL)).toBe(0);
        expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input.executionArn).toBe(executionOf(ROLLOUT_SM, 'rollout-1'));
        expect(c.out[0]).toBe(`Released ${MODEL} from rollout rollout-1 (execution ${executionOf(ROLLOUT_SM, 'rollout-1')}: ABORTED since 2026-05-04 11:00 UTC).`);
        expect(c.out.at(-1)).toBe(`The execution's ARN was derived from --state-machine ${ROLLOUT_SM}: the claim was written before claims recorded their execution.`);
        expect(items.has(claimKey)).toBe(false);
      });

      it("derives a drill's from the game-day state machine", async () => {
        await store.clearActiveRollout(MODEL, 'rollout-1');
        await store.setActiveRollout(MODEL, sageMakerPlan({ rolloutId: 'drill-1', candidate: version(3, 'qwen3-4b-v3-drill') }));
        execution('drill-1', 'TIMED_OUT', GAME_DAY_SM);
        expect(await command(legacyEnv).run('rollout', 'release', '--model', MODEL)).toBe(0);
        expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input.executionArn).toBe(executionOf(GAME_DAY_SM, 'drill-1'));
      });

      it('suspects another state machine when the derived execution does not exist', async () => {
        sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
        const c = command(legacyEnv);
        expect(await c.run('rollout', 'release', '--model', MODEL)).toBe(1);
        expect(c.err[0]).toContain('or the claim came from another state machine: name it with --execution ARN');
        expect(c.err[1]).toBe(`The execution's ARN was derived from --state-machine ${ROLLOUT_SM}: the claim was written before claims recorded their execution.`);
        expect(items.has(claimKey)).toBe(true);
      });

      it('cannot check the execution without the state machine, and says which one to name', async () => {
        const c = command();
        expect(await c.run('rollout', 'release', '--model', MODEL)).toBe(1);
        expect(c.err[0]).toContain('the claim does not record its execution (it was written before claims did)');
        expect(c.err[0]).toContain('name that state machine with --state-machine ARN (stack output RolloutStateMachineArn)');
        expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
        expect(items.has(claimKey)).toBe(true);
      });

      it('takes the execution from --execution instead', async () => {
        execution('rollout-1', 'FAILED');
        const c = command();
        expect(await c.run('rollout', 'release', '--model', MODEL, '--execution', executionOf(ROLLOUT_SM, 'rollout-1'))).toBe(0);
        expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input.executionArn).toBe(executionOf(ROLLOUT_SM, 'rollout-1'));
        expect(c.text()).not.toContain('derived');
      });
    });
  });

  describe('status', () => {
    it('prints the current version, the claim with its execution, and the last outcome', async () => {
      await store.seedCurrent(MODEL, version(3, 'AllTraffic'), SEEDED_AT);
      await store.recordRollback({ rolloutId: 'rollout-0', targetModelId: MODEL, reason: 'canary faithfulness', by: 'alarm-lambda', breachAt: null, verifiedAt: '2026-05-02T08:00:00.000Z', weights: { currentPercent: 100, candidatePercent: 0 } });
      await store.setActiveRollout(MODEL, claimed());
      execution('rollout-1', 'RUNNING');
      const c = command();
      expect(await c.run('rollout', 'status', '--model', MODEL)).toBe(0);
      expect(c.out).toEqual([
        `${MODEL} (stage dev, SageMaker endpoint sial-dev-qwen3-4b), table ${TABLE} in us-east-1`,
        `  current:        version 3 (${packageArn(3)}) serving as AllTraffic; seeded at 2026-05-01 09:00 UTC, revision 0`,
        '  deployable:     version 3',
        `  active rollout: rollout-1 since 2026-05-04 10:00 UTC, requested by ml-approver@example.com; candidate version 4 (${packageArn(4)}) serving as qwen3-4b-v4`,
        `  execution:      ${executionOf(ROLLOUT_SM, 'rollout-1')}: RUNNING`,
        '  last outcome:   rolled back: rollout rollout-0 by alarm-lambda, 100 % current verified at 2026-05-02 08:00 UTC: canary faithfulness',
      ]);
      const json = command();
      expect(await json.run('rollout', 'status', '--model', MODEL, '--json')).toBe(0);
      const view = JSON.parse(json.out.join('\n')) as { activeRollout: { rolloutId: string; executionArn: string | null; execution: { arn: string; status: string } } };
      expect(view.activeRollout).toMatchObject({ rolloutId: 'rollout-1', executionArn: executionOf(ROLLOUT_SM, 'rollout-1'), execution: { arn: executionOf(ROLLOUT_SM, 'rollout-1'), status: 'RUNNING' } });
    });

    it('still prints the records when the execution cannot be read, and says why', async () => {
      await store.seedCurrent(MODEL, version(3, 'AllTraffic'), SEEDED_AT);
      await store.setActiveRollout(MODEL, claimed());
      sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('User is not authorized to perform: states:DescribeExecution'), { name: 'AccessDeniedException', $metadata: {} }));
      const c = command();
      expect(await c.run('rollout', 'status', '--model', MODEL)).toBe(0);
      expect(c.out[4]).toBe(`  execution:      ${executionOf(ROLLOUT_SM, 'rollout-1')}: cannot be read (User is not authorized to perform: states:DescribeExecution)`);
    });

    it('derives the execution of a claim that does not record it, says so, or says what to name', async () => {
      await store.seedCurrent(MODEL, version(3, 'AllTraffic'), SEEDED_AT);
      await store.setActiveRollout(MODEL, sageMakerPlan());
      execution('rollout-1', 'RUNNING');
      const legacy = command({ ...env, [ROLLOUT_ENV.rolloutStateMachine]: ROLLOUT_SM });
      expect(await legacy.run('rollout', 'status', '--model', MODEL)).toBe(0);
      expect(legacy.out[4]).toBe(`  execution:      ${executionOf(ROLLOUT_SM, 'rollout-1')}: RUNNING (derived from --state-machine ${ROLLOUT_SM}: the claim was written before claims recorded their execution)`);
      const noMachine = command();
      expect(await noMachine.run('rollout', 'status', '--model', MODEL)).toBe(0);
      expect(noMachine.out[4]).toContain('  execution:      the claim does not record its execution (it was written before claims did): execution rollout-1 of the rollout state machine; name that state machine with --state-machine ARN');
    });

    it('says what is missing for a model never seeded, and --json carries the same facts', async () => {
      const c = command();
      expect(await c.run('rollout', 'status', '--model', EKS_MODEL.id)).toBe(0);
      expect(c.out[1]).toBe(`  current:        none recorded; record the version that serves before the first rollout: sial rollout seed --model ${EKS_MODEL.id} ...`);
      expect(c.out.slice(2)).toEqual(['  active rollout: none', '  last outcome:   none recorded']);

      await store.seedCurrent(MODEL, version(1, 'AllTraffic'), SEEDED_AT);
      await store.promote({ targetModelId: MODEL, expectedCurrentArn: packageArn(1), next: version(3, 'qwen3-4b-v3'), keep: 3, rolloutId: 'rollout-3', at: new Date('2026-05-03T00:00:00.000Z') });
      const json = command();
      expect(await json.run('rollout', 'status', '--model', MODEL, '--json')).toBe(0);
      const view = JSON.parse(json.out.join('\n')) as { current: { current: unknown; deployable: unknown[] }; activeRollout: RolloutPlan | null; lastOutcome: string };
      expect(view.current.current).toEqual(version(3, 'qwen3-4b-v3'));
      expect(view.current.deployable).toHaveLength(2);
      expect(view.activeRollout).toBeNull();
      expect(view.lastOutcome).toBe('promoted: rollout rollout-3 made version 3 current at 2026-05-03 00:00 UTC');
    });
  });

  describe('errors', () => {
    it('names the AWS failure and where it happened', async () => {
      ddb.reset();
      ddb.rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));
      const c = command();
      expect(await c.run('rollout', 'status', '--model', MODEL)).toBe(1);
      expect(c.err[0]).toBe(`sial rollout: table ${TABLE} in us-east-1: Requested resource not found (check --table and --region)`);
    });

    it('lists the stage target models for an unknown or missing model', async () => {
      const c = command();
      expect(await c.run('rollout', 'status', '--model', 'gpt-4o')).toBe(1);
      expect(c.err[0]).toBe('sial rollout: unknown model "gpt-4o": stage dev\'s target models are qwen3-4b (sagemaker), qwen3-4b-internal (eks), support-router (sagemaker)');
      expect(await c.run('rollout', 'seed', '--version', '3')).toBe(2);
      expect(c.err.at(-2)).toBe('sial rollout: name the model with --model ID; stage dev has: qwen3-4b (sagemaker), qwen3-4b-internal (eks), support-router (sagemaker)');
      expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
    });

    it.each([
      [['seed', '--model', MODEL], {}, "seed needs the version that serves: --version N (of the model's package group) or --package-arn ARN"],
      [['seed', '--model', MODEL, '--version', 'three'], {}, '--version must be a model package version number'],
      [['status', '--model', MODEL, '--force'], {}, '--force is not for status'],
      [['release', '--model', MODEL, '--json', '--version', '1'], {}, '--json, --version are not for release'],
      [['status', '--model', MODEL], { [ROLLOUT_ENV.table]: undefined }, `--table NAME or $${ROLLOUT_ENV.table}`],
      [['status', '--model', MODEL], { [ROLLOUT_ENV.stage]: undefined }, `name the stage with --stage S or $${ROLLOUT_ENV.stage}`],
      [['status', '--model', MODEL, '--stage', 'nope'], {}, 'Unknown stage "nope"'],
      [['status', '--model', MODEL, '--state-machine', 'sial-dev-rollout'], {}, '--state-machine must be a state machine ARN'],
      [['status', '--model', MODEL, '--local', '/tmp', '--table', 'T'], {}, '--local cannot be combined with --table'],
      [['frobnicate'], {}, 'unknown action "frobnicate"'],
      [['status', MODEL], {}, 'unexpected argument "qwen3-4b" (the model is named with --model ID)'],
    ])('usage error for %j', async (args, overrides, message) => {
      const c = cli({ ...env, ...overrides });
      expect(await c.run('rollout', ...args)).toBe(2);
      expect(c.err[0]).toContain(message);
    });
  });
});

describe('sial rollout --local DIR', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    // A lake directory as sial local run leaves it: marked, with its state under state/.
    root = prepareLakeDir(join(mkdtempSync(join(tmpdir(), 'sial-rollout-cli-')), 'lake'), { keep: false }).lakeDir;
    dir = join(root, 'state');
    mkdirSync(dir);
  });
  afterEach(() => rmSync(dirname(root), { recursive: true, force: true }));

  /** The local registry as npm run local leaves it: an approved base version 1 of the qwen3 group. */
  async function registerBase(): Promise<string> {
    const registry = new LocalModelRegistry(join(dir, 'model-registry.json'));
    const { arn } = await registry.createPackage({ groupName: GROUP, description: 'base', servingImageUri: 'image', modelDataUrl: 's3://b/model.tar.gz', metricsUri: 's3://b/metrics.json', metadata: { targetModelId: MODEL }, idempotencyToken: 'base' });
    await registry.setApprovalStatus(arn, 'Approved', 'test');
    return arn;
  }

  it('seeds from the local registry into the local store, and status reads it back', async () => {
    const arn = await registerBase();
    const c = cli({});
    expect(await c.run('rollout', 'seed', '--model', MODEL, '--version', '1', '--serving-name', 'qwen3-4b-v1', '--local', root)).toBe(0);
    const file = JSON.parse(readFileSync(localDeploymentsFile(dir), 'utf8')) as { deployments: Record<string, { current: unknown; promotedBy: string }> };
    expect(file.deployments[MODEL]).toMatchObject({ current: { modelPackageArn: arn, modelPackageVersion: 1, servingName: 'qwen3-4b-v1' }, promotedBy: 'seed' });
    expect(await c.run('rollout', 'status', '--model', MODEL, '--local', root)).toBe(0);
    expect(c.out).toContain(`  current:        version 1 (${arn}) serving as qwen3-4b-v1; seeded at 2026-05-04 12:00 UTC, revision 0`);
    expect(c.out.find((l) => l.startsWith(MODEL))).toBe(`${MODEL} (stage dev, SageMaker endpoint sial-dev-qwen3-4b), local run ${root}`);
    // The same version again is refused like any overwrite; a version outside the registry is refused too.
    expect(await c.run('rollout', 'seed', '--model', MODEL, '--version', '1', '--serving-name', 'qwen3-4b-v1', '--local', root)).toBe(1);
    expect(await c.run('rollout', 'seed', '--model', EKS_MODEL.id, '--version', '2', '--local', root)).toBe(1);
    expect(c.err.at(-1)).toBe('Not recorded: version 2 is not registered in sial-dev-qwen3 (has versions 1); register the version that serves qwen3-4b-internal in that group first.');
  });

  it('release needs --force, because the local engine keeps no execution state', async () => {
    const store = new LocalDeploymentStore(localDeploymentsFile(dir));
    await store.seedCurrent(MODEL, version(3, 'AllTraffic'), SEEDED_AT);
    await store.setActiveRollout(MODEL, sageMakerPlan());
    const c = cli({});
    expect(await c.run('rollout', 'status', '--model', MODEL, '--local', root)).toBe(0);
    expect(c.out).toContain('  execution:      rollout-1 on the local engine, which keeps no execution state: it has ended unless npm run local is still running on this directory');
    expect(await c.run('rollout', 'release', '--model', MODEL, '--local', root)).toBe(1);
    expect(c.err[0]).toContain('Local mode cannot tell whether it still runs');
    expect(c.err[1]).toBe('If no npm run local is running on this directory, the execution has ended: release with --force.');
    expect(await new LocalDeploymentStore(localDeploymentsFile(dir)).getActiveRollout(MODEL)).toBeDefined();

    expect(await c.run('rollout', 'release', '--model', MODEL, '--local', root, '--force')).toBe(0);
    expect(c.out).toContain(`Released ${MODEL} from rollout rollout-1 (execution local engine; released with --force).`);
    expect(await new LocalDeploymentStore(localDeploymentsFile(dir)).getActiveRollout(MODEL)).toBeUndefined();
    expect(await c.run('rollout', 'release', '--model', MODEL, '--local', root)).toBe(0);
    expect(c.out.at(-1)).toBe(`${MODEL} has no active rollout claim; nothing to release (local run ${root}).`);
  });

  it('refuses a folder that is not a local run\'s lake directory, naming the lake directory when given one inside it', async () => {
    await new LocalDeploymentStore(localDeploymentsFile(dir)).seedCurrent(MODEL, version(3, 'AllTraffic'), SEEDED_AT);
    const c = cli({});
    expect(await c.run('rollout', 'status', '--model', MODEL, '--local', dir)).toBe(1);
    expect(c.err[0]).toBe(`sial rollout: --local ${dir} is not a local lake directory (no .sial-local-lake marker); it is inside the lake directory ${root}: pass --local ${root}`);
    expect(await c.run('rollout', 'status', '--model', MODEL, '--local', join(root, 'nope'))).toBe(1);
    expect(c.err.at(-1)).toContain('does not exist; --local takes the lake directory of sial local run');
  });

  it('refuses a lake directory where no run recorded a deployment, rather than reporting an empty store', async () => {
    rmSync(dir, { recursive: true });
    const c = cli({});
    expect(await c.run('rollout', 'status', '--model', MODEL, '--local', root)).toBe(1);
    expect(c.err[0]).toBe(`sial rollout: no run in ${root} has recorded a deployment yet (there is no ${localDeploymentsFile(dir)}); start one with: npm run local -- --lake-dir ${root}`);
  });
});
