/**
 * What serves as the router before the first local router run: a router trained for real on last
 * month's routing log, which recorded only which tier served each request and how it went, without a
 * judge's misroute labels, on a tier chosen at random. The trainer learns little from it, which is the
 * point: the current version a first candidate is compared with (the trainer's `--current`) and the
 * version the canary moves traffic away from. Registered, approved and recorded as current once; a
 * `--keep` run reuses it.
 */
import { registryKeyOf, type RouterTargetModel, type StageConfig } from '../../config/schema';
import { routerTrainerConfig } from '../../lambdas/pipeline/router/router-job';
import { modelPackageGroupName } from '../../lambdas/pipeline/settings';
import type { ServingVersion } from '../../lambdas/rollout/contracts';
import { variantNameFor } from '../../lambdas/rollout/sagemaker/variants';
import { seededRandom } from '../demo-traces';
import type { FsObjectStore } from '../pipeline/fs-object-store';
import { LOCAL_ARTIFACT_BUCKET } from '../pipeline/local-pipeline';
import type { LocalModelRegistry } from '../pipeline/local-model-registry';
import { LocalDeploymentStore, localDeploymentsFile } from '../rollout/local-deployment-store';
import type { LocalRouterBatch } from './local-router-batch';
import { LOCAL_ROUTER_IMAGE } from './router-handlers';

/** Lines of the earlier routing log (the router line contract), deterministic. */
export function routingHistoryLines(router: RouterTargetModel, count = 600): string[] {
  const random = seededRandom(101);
  const agents = ['rag-qa-agent', 'rag-qa-agent', 'code-reviewer', 'support-bot'];
  const questions = ['What is the refund window for annual plans?', 'How do I rotate my API key?', 'Review this diff please', 'Which regions store my data?'];
  return Array.from({ length: count }, (_, i) => {
    const tier = router.tiers[Math.floor(random() * router.tiers.length)]?.name ?? null;
    return JSON.stringify({
      trace_id: `history-${i}`,
      ts: new Date(Date.UTC(2026, 9, 1) + i * 60_000).toISOString().replace('.000Z', 'Z'),
      agent_id: agents[Math.floor(random() * agents.length)],
      language: 'en',
      user_message: questions[Math.floor(random() * questions.length)],
      context_chars: Math.floor(random() * 400),
      tool_calls: random() < 0.3 ? 1 : 0,
      prior_turns: 0,
      route_tier: tier,
      misrouted: null,
      reward: Math.round(random() * 1000) / 1000,
      feedback_outcome: null,
      error: false,
    });
  });
}

export interface SeedLocalRouterOptions {
  readonly stage: StageConfig;
  readonly router: RouterTargetModel;
  readonly stateDir: string;
  readonly registry: LocalModelRegistry;
  readonly store: FsObjectStore;
  readonly batch: LocalRouterBatch;
  readonly now: Date;
  readonly print: (line: string) => void;
}

/** Trains, registers, approves and records the current router unless one is recorded already. */
export async function seedLocalRouterProduction(options: SeedLocalRouterOptions): Promise<ServingVersion> {
  const { stage, router, registry, store } = options;
  const deployments = new LocalDeploymentStore(localDeploymentsFile(options.stateDir));
  const existing = await deployments.getCurrent(router.id);
  if (existing !== undefined) return existing.current;
  const prefix = `s3://${LOCAL_ARTIFACT_BUCKET}/base/${router.id}/`;
  await store.putText(`${prefix}routing-history.jsonl`, `${routingHistoryLines(router).join('\n')}\n`, 'application/x-ndjson');
  options.print(`Current router: training ${router.id} v1 for real on last month's routing log (no misroute labels) as the version serving today`);
  await options.batch.submitJob({
    JobName: `seed-${router.id}`,
    JobQueue: 'local-router-queue',
    JobDefinition: 'local-router-train',
    ContainerOverrides: {
      Command: ['train', '--dataset', `${prefix}routing-history.jsonl`, '--out', prefix],
      ResourceRequirements: [
        { Type: 'VCPU', Value: String(router.resources.vcpus) },
        { Type: 'MEMORY', Value: String(router.resources.memoryMiB) },
      ],
      Environment: [{ Name: 'SIAL_ROUTER_CONFIG', Value: JSON.stringify(routerTrainerConfig(router)) }],
    },
  });
  const pkg = await registry.createPackage({
    groupName: modelPackageGroupName(stage.stage, registryKeyOf(router)),
    description: `${router.id} v1: the router serving before the first local router run, trained on a routing log without misroute labels`,
    servingImageUri: LOCAL_ROUTER_IMAGE,
    modelDataUrl: `${prefix}model.tar.gz`,
    metricsUri: `${prefix}metrics.json`,
    metadata: { targetModelId: router.id, algorithm: 'router', seed: 'local routing history' },
    idempotencyToken: `local-base-${router.id}`,
  });
  await registry.setApprovalStatus(pkg.arn, 'Approved', 'local mode seed');
  const current: ServingVersion = { modelPackageArn: pkg.arn, modelPackageVersion: pkg.version, servingName: variantNameFor(router.id, pkg.version) };
  await deployments.seedCurrent(router.id, current, options.now);
  return current;
}
