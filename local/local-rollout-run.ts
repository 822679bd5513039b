/**
 * Local mode's last stage: what serves in production before the first training run (a SIMULATED base
 * version, registered and approved, with its eval metrics, recorded as current), and the canary
 * rollout of the candidate the training pipeline handed over, on a virtual clock against a simulated
 * SageMaker endpoint or HTTPRoute.
 */
import type { StageConfig, TargetModel } from '../config/schema';
import type { EvalMetrics } from '../lambdas/pipeline/contracts';
import type { Notifier } from '../lambdas/pipeline/ports';
import { canaryAlarmName, modelPackageGroupName, type PipelineSettings } from '../lambdas/pipeline/settings';
import { rolloutInputSchema, type ServingVersion } from '../lambdas/rollout/contracts';
import { variantNameFor } from '../lambdas/rollout/sagemaker/variants';
import type { AslRunResult } from './pipeline/asl-runner';
import type { FsObjectStore } from './pipeline/fs-object-store';
import type { LocalApprovals } from './pipeline/local-approval-runtime';
import type { LocalModelRegistry } from './pipeline/local-model-registry';
import { LOCAL_ARTIFACT_BUCKET, LOCAL_SERVING_IMAGE } from './pipeline/local-pipeline';
import type { SynthesizedPipeline } from './pipeline/synthesized-pipeline';
import { LocalAlarmReader } from './rollout/local-alarm-reader';
import { LocalDeploymentStore, localDeploymentsFile } from './rollout/local-deployment-store';
import { runLocalRollout, VirtualClock } from './rollout/local-rollout';
import { SimulatedHttpRoute } from './rollout/simulated-http-route';
import { SimulatedSageMakerEndpoint } from './rollout/simulated-sagemaker-endpoint';

/** The simulated production model's eval metrics: the eval gate's baseline for the first candidate. */
export const LOCAL_BASE_METRICS: EvalMetrics = { faithfulness: 0.87, metrics: { answer_relevance: 0.86, context_precision: 0.8 }, goldenSetVersion: 'local-golden-v1', examples: 200, meanAnswerChars: 180 };

/** The name the current version serves under: the endpoint variant or the route backend. */
function servingNameOf(model: TargetModel, version: number): string {
  return model.rollout.kind === 'sagemaker' ? variantNameFor(model.id, version) : model.rollout.currentBackend;
}

/**
 * Registers and approves a SIMULATED base version of the model and records it as current, unless the
 * local registry already has an approved version of it (a later `--keep` run).
 */
export async function seedLocalProduction(options: { stage: StageConfig; model: TargetModel; stateDir: string; registry: LocalModelRegistry; store: FsObjectStore; now: Date }): Promise<ServingVersion> {
  const { stage, model, registry } = options;
  const deployments = new LocalDeploymentStore(localDeploymentsFile(options.stateDir));
  const existing = await deployments.getCurrent(model.id);
  if (existing !== undefined) return existing.current;
  const metricsUri = `s3://${LOCAL_ARTIFACT_BUCKET}/base/${model.id}/metrics.json`;
  await options.store.putText(metricsUri, JSON.stringify(LOCAL_BASE_METRICS, null, 2));
  const pkg = await registry.createPackage({
    groupName: modelPackageGroupName(stage.stage, model.family),
    description: `SIMULATED base version of ${model.id} serving before the first local training run`,
    servingImageUri: LOCAL_SERVING_IMAGE,
    modelDataUrl: `s3://${LOCAL_ARTIFACT_BUCKET}/base/${model.id}/model.tar.gz`,
    metricsUri,
    metadata: { targetModelId: model.id, simulated: 'true' },
    idempotencyToken: `local-base-${model.id}`,
  });
  await registry.setApprovalStatus(pkg.arn, 'Approved', 'local mode seed (SIMULATED)');
  const current: ServingVersion = { modelPackageArn: pkg.arn, modelPackageVersion: pkg.version, servingName: servingNameOf(model, pkg.version) };
  await deployments.seedCurrent(model.id, current, options.now);
  return current;
}

export interface LocalRolloutRunOptions {
  readonly stage: StageConfig;
  readonly settings: PipelineSettings;
  readonly pipeline: SynthesizedPipeline;
  readonly model: TargetModel;
  readonly stateDir: string;
  readonly registry: LocalModelRegistry;
  readonly approvals: LocalApprovals;
  readonly notifier: Notifier;
  /** The rollout input the training pipeline's hand-over started. */
  readonly input: unknown;
  readonly executionName: string;
  readonly approvalTimeoutMs: number;
  readonly print: (line: string) => void;
}

/** Runs the handed-over rollout against a simulated target seeded with the current version. */
export async function runLocalRolloutStage(options: LocalRolloutRunOptions): Promise<AslRunResult> {
  const { stage, model } = options;
  const input = rolloutInputSchema.parse(options.input);
  const clock = new VirtualClock(new Date());
  const store = new LocalDeploymentStore(localDeploymentsFile(options.stateDir));
  const current = (await store.getCurrent(model.id))?.current;
  if (current === undefined) throw new Error(`local mode has no current version of ${model.id}: seedLocalProduction runs before the training pipeline`);

  const endpoints = new Map<string, SimulatedSageMakerEndpoint>();
  const routes = new Map<string, SimulatedHttpRoute>();
  if (model.rollout.kind === 'sagemaker') {
    endpoints.set(model.rollout.endpointName, new SimulatedSageMakerEndpoint({ endpointName: model.rollout.endpointName, variants: [{ name: current.servingName, weight: 1 }], clock: clock.now }));
  } else {
    routes.set(model.rollout.httpRouteName, new SimulatedHttpRoute({ target: model.rollout, clock: clock.now }));
  }
  const alarms = new LocalAlarmReader(clock.now);
  alarms.set(canaryAlarmName(stage.stage, model.id), 'OK', '[SIMULATED] candidate healthy', clock.now());
  const result = await runLocalRollout(
    {
      stage,
      settings: options.settings,
      pipeline: options.pipeline,
      clock,
      store,
      registry: options.registry,
      alarms,
      approvals: options.approvals,
      notifier: options.notifier,
      endpoints,
      routes,
      approvalTimeoutMs: options.approvalTimeoutMs,
    },
    input,
    options.executionName,
  );
  for (const target of [...endpoints.values(), ...routes.values()]) for (const event of target.events) options.print(`  ${event}`);
  return result;
}
