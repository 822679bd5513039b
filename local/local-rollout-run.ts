/**
 * Local mode's last stage: what serves in production before the first training run (a SIMULATED base
 * version, registered and approved, with its eval metrics, recorded as current), and the canary
 * rollout of the candidate the training pipeline handed over, on a virtual clock against a simulated
 * SageMaker endpoint or HTTPRoute.
 */
import { registryKeyOf, type StageConfig, type TargetModel } from '../config/schema';
import type { EvalMetrics } from '../lambdas/pipeline/contracts';
import type { Notifier } from '../lambdas/pipeline/ports';
import { canaryAlarmName, modelPackageGroupName, type PipelineSettings } from '../lambdas/pipeline/settings';
import { rolloutInputSchema, type ServingVersion } from '../lambdas/rollout/contracts';
import { variantNameFor } from '../lambdas/rollout/sagemaker/variants';
import type { AslRunResult } from './pipeline/asl-runner';
import type { RollbackRecord } from '../lambdas/rollout/contracts';
import { EKS_ASSUMPTIONS, SAGEMAKER_ASSUMPTIONS, simulateRollback } from './rollout/rollback-simulation';
import { runLocalGameDay } from './rollout/local-game-day';
import type { CanaryRegression } from './scenarios';
import { GAME_DAY_STATES } from '../stepfunctions/canary-rollout-states';
import type { DrillMeasurement } from '../lambdas/rollout/game-day/measure-drill';
import type { FsObjectStore } from './pipeline/fs-object-store';
import type { LocalApprovals } from './pipeline/local-approval-runtime';
import type { LocalEvent } from './pipeline/local-event-log';
import type { LocalModelRegistry } from './pipeline/local-model-registry';
import { LOCAL_ARTIFACT_BUCKET, LOCAL_SERVING_IMAGE } from './pipeline/local-pipeline';
import type { SynthesizedPipeline } from './pipeline/synthesized-pipeline';
import { LocalAlarmReader } from './rollout/local-alarm-reader';
import { LocalDeploymentStore, localDeploymentsFile } from './rollout/local-deployment-store';
import { runLocalRollout, VirtualClock, type CanaryBakeProgress, type LocalRolloutEnvironment, type LocalRolloutHooks } from './rollout/local-rollout';
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
    groupName: modelPackageGroupName(stage.stage, registryKeyOf(model)),
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
  /** The lake directory (its `state/events.jsonl` gets the rollout's events). */
  readonly lakeDir: string;
  readonly stateDir: string;
  readonly registry: LocalModelRegistry;
  readonly approvals: LocalApprovals;
  readonly notifier: Notifier;
  readonly approvalTimeoutMs: number;
  /** Progress and the simulated target's events, in order. */
  readonly print: (line: string) => void;
  readonly onStateEntered?: (name: string) => void;
  readonly onCanaryCheck?: (bake: CanaryBakeProgress) => void;
  /** Called with each event the rollout puts. */
  readonly onEvent?: (event: LocalEvent) => void;
}

/** What a rollout or a drill did, for the run's summary. */
export interface LocalRolloutOutcome {
  readonly result: AslRunResult;
  /** The rollback, when there was one (by the alarm's Lambda or the state machine). */
  readonly rollback?: RollbackRecord;
  /** The regression the scenario played: when the candidate degraded (virtual clock). */
  readonly degradedAt?: Date;
  /** The simulated target's changes, in order, on the virtual clock. */
  readonly targetEvents: readonly string[];
  /** A game-day drill's measurement. */
  readonly drill?: DrillMeasurement;
}

/** A simulated target seeded with the current version, on a virtual clock, with the alarm OK. */
async function localTarget(options: LocalRolloutRunOptions, clock: VirtualClock): Promise<LocalRolloutEnvironment> {
  const { stage, model } = options;
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
  return {
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
    lakeDir: options.lakeDir,
    approvalTimeoutMs: options.approvalTimeoutMs,
    ...(options.onStateEntered !== undefined ? { onStateEntered: options.onStateEntered } : {}),
    ...(options.onCanaryCheck !== undefined ? { onCanaryCheck: options.onCanaryCheck } : {}),
    ...(options.onEvent !== undefined ? { onEvent: options.onEvent } : {}),
  };
}

function eventsOf(env: LocalRolloutEnvironment): string[] {
  return [...env.endpoints.values(), ...env.routes.values()].flatMap((target) => target.events);
}

/**
 * The hook that plays a canary regression: after `afterChecks` checks into the step's bake the
 * candidate degrades; the alarm fires when the stage's own alarm settings (period, M of N, evidence
 * minimum, the Firehose buffer) would see it, as the rollback simulation computes on the virtual clock.
 */
function regressionHook(options: LocalRolloutRunOptions, regression: CanaryRegression, clock: VirtualClock, degraded: { at?: Date }): LocalRolloutHooks {
  const { stage, model } = options;
  let checks = 0;
  let alarmAt: number | undefined;
  return {
    async beforeCheckCanary(step, controls) {
      if (step.index !== regression.stepIndex || alarmAt === -1) return;
      checks += 1;
      if (degraded.at === undefined && checks >= regression.afterChecks) {
        degraded.at = clock.now();
        const misroute = regression.misroute;
        const timeline = simulateRollback({
          // A misroute rise is judged like a faithfulness drop of the same size, against the router's threshold.
          canary: misroute === undefined ? stage.canary : { ...stage.canary, alarms: { ...stage.canary.alarms, faithfulnessDrop: misroute.threshold } },
          processorBufferSeconds: stage.lake.processor.bufferIntervalSeconds,
          assumptions: model.rollout.kind === 'sagemaker' ? SAGEMAKER_ASSUMPTIONS : EKS_ASSUMPTIONS,
          baselineFaithfulness: regression.currentFaithfulness,
          degradedFaithfulness: regression.candidateFaithfulness,
          breachAt: 0,
        });
        alarmAt = degraded.at.getTime() + Math.round(timeline.alarmAt * 1000);
        options.print(
          misroute === undefined
            ? `  [SIMULATED] ${clock.now().toISOString()} candidate faithfulness drops from ${regression.currentFaithfulness} to ${regression.candidateFaithfulness} on live traffic (current stays at ${regression.currentFaithfulness})`
            : `  [SIMULATED] ${clock.now().toISOString()} the candidate router misroutes ${misroute.candidate} of live requests (the judge's misrouted labels), the current router ${misroute.current}`,
        );
      }
      if (alarmAt !== undefined && alarmAt > 0 && clock.now().getTime() >= alarmAt) {
        alarmAt = -1;
        const drop = Math.round((regression.currentFaithfulness - regression.candidateFaithfulness) * 100);
        const { faithfulnessDrop, datapointsToAlarm, evaluationPeriods, periodSeconds } = stage.canary.alarms;
        const misroute = regression.misroute;
        await controls.breach(
          model.id,
          misroute === undefined
            ? `[SIMULATED] candidate faithfulness ${drop} points below current (threshold ${Math.round(faithfulnessDrop * 100)}) in ${datapointsToAlarm} of ${evaluationPeriods} periods of ${periodSeconds} s`
            : `[SIMULATED] candidate misroute rate ${Math.round((misroute.candidate - misroute.current) * 100)} points above current (threshold ${Math.round(misroute.threshold * 100)}) in ${datapointsToAlarm} of ${evaluationPeriods} periods of ${periodSeconds} s`,
        );
      }
    },
  };
}

/** Runs the handed-over rollout against a simulated target seeded with the current version. */
export async function runLocalRolloutStage(options: LocalRolloutRunOptions & { input: unknown; executionName: string; regression?: CanaryRegression }): Promise<LocalRolloutOutcome> {
  const input = rolloutInputSchema.parse(options.input);
  const clock = new VirtualClock(new Date());
  const env = await localTarget(options, clock);
  const degraded: { at?: Date } = {};
  const hooks = options.regression !== undefined ? regressionHook(options, options.regression, clock, degraded) : {};
  const result = await runLocalRollout(env, input, options.executionName, hooks);
  const rollback = await env.store.getRollback(options.executionName);
  return { result, ...(rollback !== undefined ? { rollback } : {}), ...(degraded.at !== undefined ? { degradedAt: degraded.at } : {}), targetEvents: eventsOf(env) };
}

/** Runs the game-day drill against the serving version on a simulated target. */
export async function runLocalGameDayStage(options: LocalRolloutRunOptions & { executionName: string }): Promise<LocalRolloutOutcome> {
  const clock = new VirtualClock(new Date());
  const env = await localTarget(options, clock);
  const result = await runLocalGameDay(env, options.model.id, options.executionName);
  // `Record drill` writes $.drill whether or not the drill passed (`Drill failed` is a Fail state: no output).
  const drill = (result.outputs.get(GAME_DAY_STATES.recordDrill) as { drill?: DrillMeasurement } | undefined)?.drill;
  const rollback = drill !== undefined ? await env.store.getRollback(drill.rolloutId) : undefined;
  return { result, ...(rollback !== undefined ? { rollback } : {}), ...(drill !== undefined ? { drill } : {}), targetEvents: eventsOf(env) };
}
