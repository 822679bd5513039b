/**
 * LOCAL deployment store for `npm run local`, the simulation and the tests: the DeploymentStore port in
 * memory, optionally mirrored to a JSON file so a local run can be inspected and resumed. The rules
 * (what a promotion changes, which versions stay deployable, first rollback writer wins) are the same
 * functions the DynamoDB adapter uses (lambdas/rollout/deployment-state.ts).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { rollbackRecordSchema, rolloutPlanSchema, type RollbackRecord, type RolloutPlan, type ServingVersion } from '../../lambdas/rollout/contracts';
import { deploymentStateSchema, promotedState, seededState } from '../../lambdas/rollout/deployment-state';
import type { ActiveRolloutClaim, DeploymentState, DeploymentStore, PromoteRequest, RecordRollbackOutcome } from '../../lambdas/rollout/ports';

const storeFileSchema = z.strictObject({
  local: z.literal('local deployment store: not DynamoDB'),
  deployments: z.record(z.string(), deploymentStateSchema),
  activeRollouts: z.record(z.string(), rolloutPlanSchema),
  rollbacks: z.record(z.string(), rollbackRecordSchema),
});
type StoreFile = z.infer<typeof storeFileSchema>;

/**
 * The store's file in a local state directory: `npm run local` keeps it in `<lake-dir>/state/`, where
 * `sial rollout --local <lake-dir>` reads it.
 */
export function localDeploymentsFile(stateDir: string): string {
  return join(stateDir, 'deployments.json');
}

function empty(): StoreFile {
  return { local: 'local deployment store: not DynamoDB', deployments: {}, activeRollouts: {}, rollbacks: {} };
}

/** Copies, so a caller can never change what is stored by changing what it was given or got back. */
function copy<T>(value: T): T {
  return structuredClone(value);
}

export class LocalDeploymentStore implements DeploymentStore {
  private state: StoreFile;

  /** @param file a JSON file to mirror the store to (read at construction when it exists); memory only when omitted. */
  constructor(private readonly file?: string) {
    this.state = file === undefined ? empty() : LocalDeploymentStore.read(file);
  }

  async getCurrent(targetModelId: string): Promise<DeploymentState | undefined> {
    return copy(this.state.deployments[targetModelId]);
  }

  async seedCurrent(targetModelId: string, version: ServingVersion, at: Date): Promise<DeploymentState> {
    if (this.state.deployments[targetModelId] !== undefined) {
      throw new Error(`${targetModelId} already has a current version; a seed only records the first one (later versions come by promotion)`);
    }
    const seeded = seededState(targetModelId, copy(version), at);
    this.state.deployments[targetModelId] = deploymentStateSchema.parse(seeded);
    this.save();
    return copy(seeded);
  }

  async reseedCurrent(targetModelId: string, version: ServingVersion, at: Date, expectedRevision: number): Promise<DeploymentState> {
    const claim = this.state.activeRollouts[targetModelId];
    if (claim !== undefined) throw new Error(`rollout ${claim.rolloutId} holds ${targetModelId} (since ${claim.startedAt}); its current version cannot be replaced now; nothing was written`);
    const before = this.state.deployments[targetModelId];
    if (before?.revision !== expectedRevision) {
      throw new Error(
        `${targetModelId} changed before its current version could be replaced (revision ${expectedRevision} was read; now ${before === undefined ? 'no state' : `revision ${before.revision}, ${before.current.modelPackageArn} by ${before.promotedBy}`}); nothing was written`,
      );
    }
    const reseeded = { ...seededState(targetModelId, copy(version), at), revision: expectedRevision + 1 };
    this.state.deployments[targetModelId] = deploymentStateSchema.parse(reseeded);
    this.save();
    return copy(reseeded);
  }

  async promote(request: PromoteRequest): Promise<DeploymentState> {
    const before = this.state.deployments[request.targetModelId];
    const after = promotedState(before === undefined ? undefined : copy(before), copy(request));
    this.state.deployments[request.targetModelId] = deploymentStateSchema.parse(after);
    this.save();
    return copy(after);
  }

  async recordRollback(record: RollbackRecord): Promise<RecordRollbackOutcome> {
    const parsed = rollbackRecordSchema.parse(record);
    const existing = this.state.rollbacks[parsed.rolloutId];
    if (existing !== undefined) return { recorded: false, record: copy(existing) };
    this.state.rollbacks[parsed.rolloutId] = copy(parsed);
    this.save();
    return { recorded: true, record: copy(parsed) };
  }

  async getRollback(rolloutId: string): Promise<RollbackRecord | undefined> {
    return copy(this.state.rollbacks[rolloutId]);
  }

  async latestRollback(targetModelId: string): Promise<RollbackRecord | undefined> {
    const records = Object.values(this.state.rollbacks).filter((r) => r.targetModelId === targetModelId);
    return copy(records.reduce<RollbackRecord | undefined>((latest, r) => (latest === undefined || Date.parse(r.verifiedAt) > Date.parse(latest.verifiedAt) ? r : latest), undefined));
  }

  async setActiveRollout(targetModelId: string, plan: RolloutPlan): Promise<ActiveRolloutClaim> {
    const parsed = rolloutPlanSchema.parse(plan);
    const active = this.state.activeRollouts[targetModelId];
    if (active !== undefined && active.rolloutId !== parsed.rolloutId) return { acquired: false, active: copy(active) };
    this.state.activeRollouts[targetModelId] = copy(parsed);
    this.save();
    return { acquired: true, active: copy(parsed) };
  }

  async getActiveRollout(targetModelId: string): Promise<RolloutPlan | undefined> {
    return copy(this.state.activeRollouts[targetModelId]);
  }

  async clearActiveRollout(targetModelId: string, rolloutId: string): Promise<boolean> {
    if (this.state.activeRollouts[targetModelId]?.rolloutId !== rolloutId) return false;
    delete this.state.activeRollouts[targetModelId];
    this.save();
    return true;
  }

  private static read(file: string): StoreFile {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty();
      throw error;
    }
    return storeFileSchema.parse(JSON.parse(text));
  }

  /** Writes a temporary file and renames it, so an interrupted run never leaves half a store. */
  private save(): void {
    if (this.file === undefined) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.state, null, 2)}\n`);
    renameSync(temporary, this.file);
  }
}
