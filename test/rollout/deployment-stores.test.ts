/**
 * Both DeploymentStore adapters run the same contract: the DynamoDB one against an in-memory table
 * behind aws-sdk-client-mock (conditions evaluated as DynamoDB would), the local one as it is.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOYMENT_KEYS, DynamoDbDeploymentStore } from '../../lambdas/rollout/aws/dynamodb-deployment-store';
import { deployableAfter } from '../../lambdas/rollout/deployment-state';
import type { RollbackRecord } from '../../lambdas/rollout/contracts';
import { PromotionConflict } from '../../lambdas/rollout/errors';
import type { DeploymentStore } from '../../lambdas/rollout/ports';
import { LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { fakeDeploymentsTable } from './fake-deployments-table';
import { executionArnOf, ROLLOUT_MACHINE, sageMakerPlan, version } from './helpers';

const ddb = mockClient(DynamoDBDocumentClient);
const at = new Date('2026-05-04T10:00:00.000Z');
const MODEL = 'qwen3-4b';

function rollback(by: RollbackRecord['by'], reason = 'canary alarm'): RollbackRecord {
  return { rolloutId: 'rollout-1', targetModelId: MODEL, reason, by, breachAt: null, verifiedAt: '2026-05-04T10:01:00.000Z', weights: { currentPercent: 100, candidatePercent: 0 } };
}

const adapters: Array<[string, () => DeploymentStore]> = [
  [
    'DynamoDbDeploymentStore',
    () => {
      ddb.reset();
      fakeDeploymentsTable(ddb);
      return new DynamoDbDeploymentStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'deployments');
    },
  ],
  ['LocalDeploymentStore', () => new LocalDeploymentStore()],
];

describe.each(adapters)('%s', (_name, make) => {
  let store: DeploymentStore;
  beforeEach(() => {
    store = make();
  });

  it('seeds a model once and keeps the seed as its first deployable version', async () => {
    expect(await store.getCurrent(MODEL)).toBeUndefined();
    const seeded = await store.seedCurrent(MODEL, version(1, 'AllTraffic'), at);
    expect(seeded).toEqual({ targetModelId: MODEL, current: version(1, 'AllTraffic'), deployable: [version(1, 'AllTraffic')], revision: 0, updatedAt: at.toISOString(), promotedBy: 'seed' });
    expect(await store.getCurrent(MODEL)).toEqual(seeded);
    await expect(store.seedCurrent(MODEL, version(2, 'x'), at)).rejects.toThrow('already has a current version');
  });

  it('replaces a current version only at the revision it was read at, as a seed at the next revision', async () => {
    await expect(store.reseedCurrent(MODEL, version(2, 'AllTraffic'), at, 0)).rejects.toThrow(`${MODEL} changed before its current version could be replaced (revision 0 was read; now no state)`);
    await store.seedCurrent(MODEL, version(1, 'AllTraffic'), at);
    await store.promote({ targetModelId: MODEL, expectedCurrentArn: version(1, '').modelPackageArn, next: version(2, 'qwen3-4b-v2'), keep: 3, rolloutId: 'rollout-2', at });
    const later = new Date('2026-05-05T08:00:00.000Z');
    await expect(store.reseedCurrent(MODEL, version(7, 'AllTraffic'), later, 0)).rejects.toThrow(`(revision 0 was read; now revision 1, ${version(2, '').modelPackageArn} by rollout-2); nothing was written`);
    expect((await store.getCurrent(MODEL))?.current).toEqual(version(2, 'qwen3-4b-v2'));
    const replaced = await store.reseedCurrent(MODEL, version(7, 'AllTraffic'), later, 1);
    expect(replaced).toEqual({ targetModelId: MODEL, current: version(7, 'AllTraffic'), deployable: [version(7, 'AllTraffic')], revision: 2, updatedAt: later.toISOString(), promotedBy: 'seed' });
    expect(await store.getCurrent(MODEL)).toEqual(replaced);
  });

  it('never replaces the current version while a rollout holds the model (a claim taken after the read)', async () => {
    const seeded = await store.seedCurrent(MODEL, version(1, 'AllTraffic'), at);
    const plan = sageMakerPlan({ targetModelId: MODEL });
    expect((await store.setActiveRollout(MODEL, plan)).acquired).toBe(true);
    await expect(store.reseedCurrent(MODEL, version(7, 'AllTraffic'), at, seeded.revision)).rejects.toThrow(`rollout ${plan.rolloutId} holds ${MODEL}`);
    expect(await store.getCurrent(MODEL)).toEqual(seeded);
  });

  it("finds a model's latest rollback by the time it was verified, ignoring other models'", async () => {
    expect(await store.latestRollback(MODEL)).toBeUndefined();
    const older = { ...rollback('alarm-lambda', 'older'), rolloutId: 'rollout-a', verifiedAt: '2026-05-01T10:00:00.000Z' };
    const newer = { ...rollback('state-machine', 'newer'), rolloutId: 'rollout-b', verifiedAt: '2026-05-03T10:00:00.000Z' };
    const otherModel = { ...rollback('alarm-lambda', 'other'), rolloutId: 'rollout-c', targetModelId: 'other-model', verifiedAt: '2026-05-04T10:00:00.000Z' };
    for (const record of [newer, otherModel, older]) await store.recordRollback(record);
    await store.seedCurrent(MODEL, version(1, 'AllTraffic'), at);
    expect(await store.latestRollback(MODEL)).toEqual(newer);
    expect(await store.latestRollback('other-model')).toEqual(otherModel);
  });

  it('promotes, keeping the last 3 versions deployable, newest first', async () => {
    await store.seedCurrent(MODEL, version(1, 'AllTraffic'), at);
    for (const v of [2, 3, 4, 5]) {
      await store.promote({ targetModelId: MODEL, expectedCurrentArn: version(v - 1, '').modelPackageArn, next: version(v, `qwen3-4b-v${v}`), keep: 3, rolloutId: `rollout-${v}`, at });
    }
    const state = (await store.getCurrent(MODEL))!;
    expect(state.current).toEqual(version(5, 'qwen3-4b-v5'));
    expect(state.deployable.map((d) => d.modelPackageVersion)).toEqual([5, 4, 3]);
    expect(state.revision).toBe(4);
    expect(state.promotedBy).toBe('rollout-5');
  });

  it('treats a retried promotion as done and refuses one over a version it did not start from', async () => {
    await store.seedCurrent(MODEL, version(1, 'AllTraffic'), at);
    const request = { targetModelId: MODEL, expectedCurrentArn: version(1, '').modelPackageArn, next: version(2, 'qwen3-4b-v2'), keep: 3, rolloutId: 'rollout-2', at };
    const first = await store.promote(request);
    expect(await store.promote(request)).toEqual(first);
    await expect(store.promote({ ...request, rolloutId: 'rollout-other', next: version(3, 'qwen3-4b-v3') })).rejects.toBeInstanceOf(PromotionConflict);
    await expect(store.promote({ ...request, targetModelId: 'unknown' })).rejects.toThrow('has no deployment state');
  });

  it('records a rollback once: the first writer wins and later writers get its record', async () => {
    expect(await store.getRollback('rollout-1')).toBeUndefined();
    expect(await store.recordRollback(rollback('alarm-lambda'))).toEqual({ recorded: true, record: rollback('alarm-lambda') });
    expect(await store.recordRollback(rollback('state-machine', 'check failed'))).toEqual({ recorded: false, record: rollback('alarm-lambda') });
    expect(await store.getRollback('rollout-1')).toEqual(rollback('alarm-lambda'));
  });

  it('settles two rollbacks written at the same moment on one record', async () => {
    const [a, b] = await Promise.all([store.recordRollback(rollback('alarm-lambda')), store.recordRollback(rollback('state-machine'))]);
    expect([a.recorded, b.recorded].filter(Boolean)).toHaveLength(1);
    expect(a.record).toEqual(b.record);
  });

  it('holds one active rollout per model, lets the same rollout claim again and only it clear', async () => {
    const plan = sageMakerPlan();
    expect(await store.setActiveRollout(MODEL, plan)).toEqual({ acquired: true, active: plan });
    expect((await store.setActiveRollout(MODEL, plan)).acquired).toBe(true);
    const other = sageMakerPlan({ rolloutId: 'rollout-2' });
    expect(await store.setActiveRollout(MODEL, other)).toEqual({ acquired: false, active: plan });
    expect(await store.getActiveRollout(MODEL)).toEqual(plan);
    expect(await store.clearActiveRollout(MODEL, 'rollout-2')).toBe(false);
    expect(await store.clearActiveRollout(MODEL, 'rollout-1')).toBe(true);
    expect(await store.clearActiveRollout(MODEL, 'rollout-1')).toBe(false);
    expect(await store.getActiveRollout(MODEL)).toBeUndefined();
    expect((await store.setActiveRollout(MODEL, other)).acquired).toBe(true);
  });

  it("keeps the claiming execution's ARN with the claim, and refuses one that is not an execution ARN", async () => {
    const plan = sageMakerPlan({ executionArn: executionArnOf('rollout-1') });
    await store.setActiveRollout(MODEL, plan);
    expect((await store.getActiveRollout(MODEL))?.executionArn).toBe(executionArnOf('rollout-1'));
    const machine = { ...sageMakerPlan({ rolloutId: 'rollout-2' }), executionArn: ROLLOUT_MACHINE };
    await expect(store.setActiveRollout('other-model', machine)).rejects.toThrow('must be a Step Functions execution ARN');
    expect(await store.getActiveRollout('other-model')).toBeUndefined();
  });
});

describe('DynamoDbDeploymentStore items', () => {
  it('uses pk/sk keys per model and per rollout, with strongly consistent reads', async () => {
    ddb.reset();
    const items = fakeDeploymentsTable(ddb);
    const store = new DynamoDbDeploymentStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'deployments');
    await store.seedCurrent(MODEL, version(1, 'AllTraffic'), at);
    await store.setActiveRollout(MODEL, sageMakerPlan());
    await store.recordRollback(rollback('alarm-lambda'));
    expect([...items.keys()].sort()).toEqual(['MODEL#qwen3-4b|ACTIVE_ROLLOUT', 'MODEL#qwen3-4b|DEPLOYMENT', 'ROLLOUT#rollout-1|ROLLBACK']);
    expect(DEPLOYMENT_KEYS.rollback('r')).toEqual({ pk: 'ROLLOUT#r', sk: 'ROLLBACK' });
    const put = ddb.commandCalls(PutCommand).find((c) => c.args[0].input.Item?.sk === 'ROLLBACK')!;
    expect(put.args[0].input).toEqual(expect.objectContaining({ TableName: 'deployments', ConditionExpression: 'attribute_not_exists(pk)' }));
    expect(ddb.commandCalls(GetCommand).every((c) => c.args[0].input.ConsistentRead === true)).toBe(true);
  });

  it('reads a claim written before claims recorded their execution ARN', async () => {
    ddb.reset();
    const items = fakeDeploymentsTable(ddb);
    const { executionArn: _none, ...old } = sageMakerPlan();
    items.set(`MODEL#${MODEL}|ACTIVE_ROLLOUT`, { ...DEPLOYMENT_KEYS.activeRollout(MODEL), type: 'active-rollout', rolloutId: old.rolloutId, plan: old, since: old.startedAt });
    const store = new DynamoDbDeploymentStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'deployments');
    const claim = await store.getActiveRollout(MODEL);
    expect(claim).toEqual(old);
    expect(claim).not.toHaveProperty('executionArn');
  });
});

describe('LocalDeploymentStore file', () => {
  it('mirrors the store to a JSON file and reads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sial-deployments-'));
    try {
      const file = join(dir, 'deployments.json');
      await new LocalDeploymentStore(file).seedCurrent(MODEL, version(1, 'AllTraffic'), at);
      expect(JSON.parse(readFileSync(file, 'utf8')).local).toBe('local deployment store: not DynamoDB');
      expect((await new LocalDeploymentStore(file).getCurrent(MODEL))?.current).toEqual(version(1, 'AllTraffic'));
      // A file an older version wrote: its claim has no execution ARN, and still reads.
      const { executionArn: _none, ...old } = sageMakerPlan();
      writeFileSync(file, JSON.stringify({ local: 'local deployment store: not DynamoDB', deployments: {}, activeRollouts: { [MODEL]: old }, rollbacks: {} }));
      expect(await new LocalDeploymentStore(file).getActiveRollout(MODEL)).toEqual(old);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deployableAfter', () => {
  it('puts the new version first, never twice, and keeps at most `keep`', () => {
    const prev = [version(3, 'c'), version(2, 'b'), version(1, 'a')];
    expect(deployableAfter(version(4, 'd'), prev, 3).map((v) => v.modelPackageVersion)).toEqual([4, 3, 2]);
    expect(deployableAfter(version(2, 'b'), prev, 3).map((v) => v.modelPackageVersion)).toEqual([2, 3, 1]);
    expect(() => deployableAfter(version(4, 'd'), prev, 0)).toThrow('keep must be an integer >= 1');
  });
});
