/**
 * DynamoDB adapter of the DeploymentStore port. One table per stage (partition key `pk`, sort key
 * `sk`, both strings; no TTL, no index), items:
 *
 * | item | pk | sk | attributes |
 * |---|---|---|---|
 * | deployment | `MODEL#<targetModelId>` | `DEPLOYMENT` | targetModelId, current, deployable (newest first), revision, updatedAt, promotedBy |
 * | active rollout | `MODEL#<targetModelId>` | `ACTIVE_ROLLOUT` | rolloutId, plan (the RolloutPlan, with its execution's ARN in `plan.executionArn` unless written before that was recorded), since |
 * | rollback | `ROLLOUT#<rolloutId>` | `ROLLBACK` | the RollbackRecord |
 *
 * Races are settled by conditions, never by reading first: a rollback is written with
 * `attribute_not_exists(pk)` (the state machine and the alarm Lambda may both roll back at once; the
 * first wins and the other reads what it wrote), the active rollout with `attribute_not_exists(pk) OR
 * rolloutId = :id`, a promotion with `revision = :read` (optimistic: a concurrent promotion fails the
 * condition and is then told apart from a retry of itself), a seed with `attribute_not_exists(pk)`, an
 * operator's correction of a seed with `revision = :read`. All reads are strongly consistent: the alarm
 * Lambda must see a rollout that started a second ago.
 */
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { errorName } from '../../pipeline/approvals/aws/error-name';
import { rollbackRecordSchema, rolloutPlanSchema, type RollbackRecord, type RolloutPlan, type ServingVersion } from '../contracts';
import { deploymentStateSchema, isSamePromotion, promotedState, seededState } from '../deployment-state';
import { PromotionConflict } from '../errors';
import type { ActiveRolloutClaim, DeploymentState, DeploymentStore, PromoteRequest, RecordRollbackOutcome } from '../ports';

/** Key of an item in the deployments table. */
export interface DeploymentKey {
  readonly pk: string;
  readonly sk: string;
}

/** The table's key layout (exported for the construct's documentation and for tests). */
export const DEPLOYMENT_KEYS = {
  deployment: (targetModelId: string): DeploymentKey => ({ pk: `MODEL#${targetModelId}`, sk: 'DEPLOYMENT' }),
  activeRollout: (targetModelId: string): DeploymentKey => ({ pk: `MODEL#${targetModelId}`, sk: 'ACTIVE_ROLLOUT' }),
  rollback: (rolloutId: string): DeploymentKey => ({ pk: `ROLLOUT#${rolloutId}`, sk: 'ROLLBACK' }),
};

function isConditionFailure(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** The item without its keys and type marker. */
function fieldsOf(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, type: _type, ...fields } = item;
  return fields;
}

/** DynamoDB cannot store `undefined`; optional fields that are absent are left out. */
function withoutUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class DynamoDbDeploymentStore implements DeploymentStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getCurrent(targetModelId: string): Promise<DeploymentState | undefined> {
    const item = await this.get(DEPLOYMENT_KEYS.deployment(targetModelId));
    return item === undefined ? undefined : deploymentStateSchema.parse(fieldsOf(item));
  }

  async seedCurrent(targetModelId: string, version: ServingVersion, at: Date): Promise<DeploymentState> {
    const state = seededState(targetModelId, version, at);
    if (!(await this.putDeployment(state, 'attribute_not_exists(pk)'))) {
      throw new Error(`${targetModelId} already has a current version; a seed only records the first one (later versions come by promotion)`);
    }
    return state;
  }

  async reseedCurrent(targetModelId: string, version: ServingVersion, at: Date, expectedRevision: number): Promise<DeploymentState> {
    const state = { ...seededState(targetModelId, version, at), revision: expectedRevision + 1 };
    try {
      // One transaction: the record is replaced only while no rollout holds the model. A claim taken
      // between the caller's read and this write would otherwise plan its rollback to a record that
      // is about to change.
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { ConditionCheck: { TableName: this.tableName, Key: DEPLOYMENT_KEYS.activeRollout(targetModelId), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...DEPLOYMENT_KEYS.deployment(targetModelId), type: 'deployment', ...withoutUndefined(state) },
                ConditionExpression: 'revision = :read',
                ExpressionAttributeValues: { ':read': expectedRevision },
              },
            },
          ],
        }),
      );
      return state;
    } catch (error) {
      if (errorName(error) !== 'TransactionCanceledException') throw error;
    }
    const claim = await this.getActiveRollout(targetModelId);
    if (claim !== undefined) throw new Error(`rollout ${claim.rolloutId} holds ${targetModelId} (since ${claim.startedAt}); its current version cannot be replaced now; nothing was written`);
    const now = await this.getCurrent(targetModelId);
    throw new Error(
      `${targetModelId} changed before its current version could be replaced (revision ${expectedRevision} was read; now ${now === undefined ? 'no state' : `revision ${now.revision}, ${now.current.modelPackageArn} by ${now.promotedBy}`}); nothing was written`,
    );
  }

  async promote(request: PromoteRequest): Promise<DeploymentState> {
    const before = await this.getCurrent(request.targetModelId);
    const after = promotedState(before, request);
    if (after === before) return after;
    if (await this.putDeployment(after, 'revision = :read', { ':read': before?.revision ?? -1 })) return after;
    // Someone wrote between our read and our write: a retry of this very promotion is success,
    // anything else is a conflict the rollout must not paper over.
    const now = await this.getCurrent(request.targetModelId);
    if (now !== undefined && isSamePromotion(now, request)) return now;
    throw new PromotionConflict(
      `${request.targetModelId} changed while rollout ${request.rolloutId} was promoting (now ${now?.current.modelPackageArn ?? 'nothing'}, by ${now?.promotedBy ?? '?'})`,
    );
  }

  /** Writes the model's deployment item if `condition` holds; false when it did not. */
  private async putDeployment(state: DeploymentState, condition: string, values?: Record<string, unknown>): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...DEPLOYMENT_KEYS.deployment(state.targetModelId), type: 'deployment', ...withoutUndefined(state) },
          ConditionExpression: condition,
          ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async recordRollback(record: RollbackRecord): Promise<RecordRollbackOutcome> {
    const parsed = rollbackRecordSchema.parse(record);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...DEPLOYMENT_KEYS.rollback(parsed.rolloutId), type: 'rollback', ...withoutUndefined(parsed) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { recorded: true, record: parsed };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const stored = await this.getRollback(parsed.rolloutId);
      if (stored === undefined) throw new Error(`the rollback of ${parsed.rolloutId} was reported as already recorded but cannot be read`);
      return { recorded: false, record: stored };
    }
  }

  async getRollback(rolloutId: string): Promise<RollbackRecord | undefined> {
    const item = await this.get(DEPLOYMENT_KEYS.rollback(rolloutId));
    return item === undefined ? undefined : rollbackRecordSchema.parse(fieldsOf(item));
  }

  async latestRollback(targetModelId: string): Promise<RollbackRecord | undefined> {
    let latest: RollbackRecord | undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression: 'sk = :sk AND targetModelId = :model',
          ExpressionAttributeValues: { ':sk': DEPLOYMENT_KEYS.rollback('').sk, ':model': targetModelId },
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) {
        const record = rollbackRecordSchema.parse(fieldsOf(item));
        if (latest === undefined || Date.parse(record.verifiedAt) > Date.parse(latest.verifiedAt)) latest = record;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return latest;
  }

  async setActiveRollout(targetModelId: string, plan: RolloutPlan): Promise<ActiveRolloutClaim> {
    return this.claim(targetModelId, rolloutPlanSchema.parse(plan), 2);
  }

  private async claim(targetModelId: string, parsed: RolloutPlan, attempts: number): Promise<ActiveRolloutClaim> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...DEPLOYMENT_KEYS.activeRollout(targetModelId), type: 'active-rollout', rolloutId: parsed.rolloutId, plan: withoutUndefined(parsed), since: parsed.startedAt },
          ConditionExpression: 'attribute_not_exists(pk) OR rolloutId = :id',
          ExpressionAttributeValues: { ':id': parsed.rolloutId },
        }),
      );
      return { acquired: true, active: parsed };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const active = await this.getActiveRollout(targetModelId);
      // Cleared between our write and our read: the model is free, so try once more.
      if (active === undefined && attempts > 1) return this.claim(targetModelId, parsed, attempts - 1);
      if (active === undefined) throw new Error(`the active rollout of ${targetModelId} changed twice while ${parsed.rolloutId} tried to claim it`);
      return { acquired: false, active };
    }
  }

  async getActiveRollout(targetModelId: string): Promise<RolloutPlan | undefined> {
    const item = await this.get(DEPLOYMENT_KEYS.activeRollout(targetModelId));
    return item === undefined ? undefined : rolloutPlanSchema.parse(item.plan);
  }

  async clearActiveRollout(targetModelId: string, rolloutId: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: DEPLOYMENT_KEYS.activeRollout(targetModelId),
          ConditionExpression: 'rolloutId = :id',
          ExpressionAttributeValues: { ':id': rolloutId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async get(key: DeploymentKey): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return Item;
  }
}
