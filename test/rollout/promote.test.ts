import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROLLOUT_ERRORS } from '../../stepfunctions/canary-rollout-states';
import { promote, type PromoteDeps } from '../../lambdas/rollout/promote/promote';
import { LocalModelRegistry } from '../../local/pipeline/local-model-registry';
import { LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { GROUP, sageMakerPlan } from './helpers';

const done = { index: 2, candidatePercent: 100, currentPercent: 0, stepStartedAt: '2026-05-04T11:00:00.000Z', done: true };
const now = new Date('2026-05-04T12:00:00.000Z');
let dir: string;
let registry: LocalModelRegistry;
let store: LocalDeploymentStore;
let arns: string[];

function deps(): PromoteDeps {
  return { approver: registry, store, settings: { retainApprovedModelVersions: 3 }, clock: () => now };
}

/** A plan from version v-1 to version v of the registered packages. */
function planTo(v: number) {
  return sageMakerPlan({
    rolloutId: `rollout-v${v}`,
    current: { modelPackageArn: arns[v - 2]!, modelPackageVersion: v - 1, servingName: v === 2 ? 'AllTraffic' : `qwen3-4b-v${v - 1}` },
    candidate: { modelPackageArn: arns[v - 1]!, modelPackageVersion: v, servingName: `qwen3-4b-v${v}` },
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sial-promote-'));
  registry = new LocalModelRegistry(join(dir, 'registry.json'), () => now);
  store = new LocalDeploymentStore();
  arns = [];
  for (let i = 1; i <= 5; i += 1) {
    arns.push((await registry.createPackage({ groupName: GROUP, description: 't', servingImageUri: 'i', modelDataUrl: 's3://b/m', metricsUri: 's3://b/x', metadata: {}, idempotencyToken: `t${i}` })).arn);
  }
  await store.seedCurrent('qwen3-4b', { modelPackageArn: arns[0]!, modelPackageVersion: 1, servingName: 'AllTraffic' }, now);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('promote', () => {
  it('approves the candidate in the registry, makes it current and releases the model', async () => {
    const plan = planTo(2);
    await store.setActiveRollout(plan.targetModelId, plan);
    const promotion = await promote({ rollout: plan, progress: done }, deps());
    expect(promotion).toEqual({ targetModelId: 'qwen3-4b', current: plan.candidate, previous: plan.current, approvedModelPackageArn: arns[1], promotedAt: now.toISOString() });
    const approved = await registry.listPackages(GROUP, { approvalStatus: 'Approved' });
    expect(approved.map((p) => p.arn)).toEqual([arns[1]]);
    expect((await store.getCurrent('qwen3-4b'))?.current).toEqual(plan.candidate);
    expect(await store.getActiveRollout('qwen3-4b')).toBeUndefined();
  });

  it('keeps the last 3 versions deployable across promotions (retention)', async () => {
    for (const v of [2, 3, 4, 5]) await promote({ rollout: planTo(v), progress: done }, deps());
    const state = (await store.getCurrent('qwen3-4b'))!;
    expect(state.current.modelPackageVersion).toBe(5);
    expect(state.deployable.map((d) => d.modelPackageVersion)).toEqual([5, 4, 3]);
  });

  it('keeps the last 10 versions of a router deployable (an LLM: 3)', async () => {
    const router = { kind: 'router' as const, id: 'qwen3-4b' } as unknown as NonNullable<PromoteDeps['settings']['targetModels']>[number];
    const routerDeps: PromoteDeps = { ...deps(), settings: { retainApprovedModelVersions: 3, retainApprovedRouterVersions: 10, targetModels: [router] } };
    for (let i = 6; i <= 12; i += 1) {
      arns.push((await registry.createPackage({ groupName: GROUP, description: 't', servingImageUri: 'i', modelDataUrl: 's3://b/m', metricsUri: 's3://b/x', metadata: {}, idempotencyToken: `t${i}` })).arn);
    }
    for (let v = 2; v <= 12; v += 1) await promote({ rollout: planTo(v), progress: done }, routerDeps);
    const state = (await store.getCurrent('qwen3-4b'))!;
    expect(state.deployable.map((d) => d.modelPackageVersion)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
  });

  it('is idempotent when the state is retried', async () => {
    const first = await promote({ rollout: planTo(2), progress: done }, deps());
    expect(await promote({ rollout: planTo(2), progress: done }, deps())).toEqual(first);
    expect((await store.getCurrent('qwen3-4b'))?.revision).toBe(1);
  });

  it('refuses a rollout that is not done at 100 %, and one rolled back at the last moment', async () => {
    await expect(promote({ rollout: planTo(2), progress: { ...done, done: false } }, deps())).rejects.toThrow('is not done at 100 %');
    await store.recordRollback({ rolloutId: 'rollout-v2', targetModelId: 'qwen3-4b', reason: 'alarm', by: 'alarm-lambda', breachAt: null, verifiedAt: now.toISOString(), weights: { currentPercent: 100, candidatePercent: 0 } });
    await expect(promote({ rollout: planTo(2), progress: done }, deps())).rejects.toHaveProperty('name', ROLLOUT_ERRORS.rolledBack);
    expect(await registry.listPackages(GROUP, { approvalStatus: 'Approved' })).toEqual([]);
  });

  it('refuses to promote over a version another rollout made current', async () => {
    await promote({ rollout: planTo(2), progress: done }, deps());
    // A stale rollout that still thinks version 1 is current.
    const stale = sageMakerPlan({ rolloutId: 'stale', current: { modelPackageArn: arns[0]!, modelPackageVersion: 1, servingName: 'AllTraffic' }, candidate: { modelPackageArn: arns[2]!, modelPackageVersion: 3, servingName: 'qwen3-4b-v3' } });
    await expect(promote({ rollout: stale, progress: done }, deps())).rejects.toHaveProperty('name', 'PromotionConflict');
    // Nothing was approved for the refused promotion.
    expect((await registry.listPackages(GROUP, { approvalStatus: 'Approved' })).map((p) => p.arn)).toEqual([arns[1]]);
  });
});
