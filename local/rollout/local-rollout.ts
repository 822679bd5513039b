/**
 * The canary rollout on this machine: the synthesized rollout state machine executed by
 * aws-local-stepfunctions, every Task overridden by name with the domain code its Lambda runs, on a
 * virtual clock, against a SIMULATED SageMaker endpoint or HTTPRoute, a local deployment store,
 * local approvals and local alarms. Setting a canary alarm to ALARM delivers the state change to the
 * alarm-rollback code at once, as EventBridge does in AWS.
 */
import type { StageConfig } from '../../config/schema';
import type { PipelineSettings } from '../../lambdas/pipeline/settings';
import { canaryAlarmName } from '../../lambdas/pipeline/settings';
import type { Notifier } from '../../lambdas/pipeline/ports';
import { advanceStep, advanceStepEventSchema } from '../../lambdas/rollout/advance-step/advance-step';
import { rollbackOnAlarm } from '../../lambdas/rollout/alarm-rollback/alarm-rollback';
import { checkCanary, checkCanaryEventSchema, stepStart } from '../../lambdas/rollout/check-canary/check-canary';
import type { RolloutInput } from '../../lambdas/rollout/contracts';
import { checkEndpoint, deployCandidate } from '../../lambdas/rollout/deploy-variant/candidate-variant';
import type { TrafficRouter } from '../../lambdas/rollout/ports';
import { promote, promoteEventSchema } from '../../lambdas/rollout/promote/promote';
import { planRoutePatch } from '../../lambdas/rollout/route-patch/plan-route-patch';
import { rollBack, rollBackEventSchema } from '../../lambdas/rollout/roll-back/roll-back';
import type { SettleOptions } from '../../lambdas/rollout/traffic/settle';
import { validateRollout } from '../../lambdas/rollout/validate-rollout/validate-rollout';
import { verifyWeights, verifyWeightsEventSchema } from '../../lambdas/rollout/verify-weights/verify-weights';
import { ROLLOUT_STATES as R } from '../../stepfunctions/canary-rollout-states';
import { runAsl, type AslRunResult, type LocalTaskHandler } from '../pipeline/asl-runner';
import type { LocalApprovals } from '../pipeline/local-approval-runtime';
import { localPutEventsHandler, type LocalEvent } from '../pipeline/local-event-log';
import type { LocalModelRegistry } from '../pipeline/local-model-registry';
import { settleLocalTask } from '../pipeline/local-task-callbacks';
import { asStateMachineDefinition, type SynthesizedPipeline } from '../pipeline/synthesized-pipeline';
import type { LocalAlarmReader } from './local-alarm-reader';
import type { LocalDeploymentStore } from './local-deployment-store';
import { checkSimulatedClusterConnection, describeSimulatedCluster } from './simulated-eks-cluster';
import type { SimulatedHttpRoute } from './simulated-http-route';
import type { SimulatedSageMakerEndpoint } from './simulated-sagemaker-endpoint';

type Json = Parameters<LocalTaskHandler>[0];

/** Time that moves only when something waits: local rollouts bake for hours in milliseconds. */
export class VirtualClock {
  private ms: number;
  constructor(start: Date) {
    this.ms = start.getTime();
  }
  readonly now = (): Date => new Date(this.ms);
  readonly sleep = async (ms: number): Promise<void> => {
    this.ms += ms;
  };
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export interface LocalRolloutEnvironment {
  readonly stage: StageConfig;
  readonly settings: PipelineSettings;
  readonly pipeline: SynthesizedPipeline;
  readonly clock: VirtualClock;
  readonly store: LocalDeploymentStore;
  readonly registry: LocalModelRegistry;
  readonly alarms: LocalAlarmReader;
  readonly approvals: LocalApprovals;
  readonly notifier: Notifier;
  /** One simulated endpoint per SageMaker target, by endpoint name. */
  readonly endpoints: ReadonlyMap<string, SimulatedSageMakerEndpoint>;
  /** One simulated route per EKS target, by route name. */
  readonly routes: ReadonlyMap<string, SimulatedHttpRoute>;
  /** The lake directory: the rollout's events are appended to `<lakeDir>/state/events.jsonl`. */
  readonly lakeDir: string;
  /** Called with each event the rollout puts (also appended to the event log). */
  readonly onEvent?: (event: LocalEvent) => void;
  /** How long a local approval wait lasts before it times out like the task does at expiry. */
  readonly approvalTimeoutMs?: number;
  /** Called as each state is entered (the local run's progress lines). */
  readonly onStateEntered?: (name: string) => void;
  /** Called after each `Check canary` with the bake's position on the virtual clock (a terminal's countdown). */
  readonly onCanaryCheck?: (bake: CanaryBakeProgress) => void;
}

/** Where a step's bake stands after a check, on the virtual clock. */
export interface CanaryBakeProgress {
  readonly stepIndex: number;
  readonly candidatePercent: number;
  readonly bakedSeconds: number;
  readonly bakeSeconds: number;
}

/** Test and demo hooks: called at points of the run, e.g. to breach the alarm during a bake. */
export interface LocalRolloutHooks {
  /** Before each `Check canary`, with the step being baked. */
  beforeCheckCanary?(step: { index: number; candidatePercent: number }, controls: LocalRolloutControls): Promise<void> | void;
  /** Replaces the handler of one Task state (failure injection). */
  readonly overrides?: Readonly<Record<string, LocalTaskHandler>>;
}

export interface LocalRolloutControls {
  /** Puts the model's canary alarm in ALARM and delivers the state change to the alarm-rollback code. */
  breach(targetModelId: string, reason: string): Promise<unknown>;
}

const asJson = (value: unknown): Json => JSON.parse(JSON.stringify(value ?? null)) as Json;

function payloadOf(input: Json): unknown {
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && 'Payload' in input && 'FunctionName' in input) return input.Payload;
  return input;
}

/** Routes every traffic call to the simulated endpoint or route of the plan's target. */
export function localTrafficRouter(env: Pick<LocalRolloutEnvironment, 'endpoints' | 'routes'>): TrafficRouter {
  const routerOf = (target: Parameters<TrafficRouter['readWeights']>[0]): TrafficRouter => {
    const router = target.kind === 'sagemaker' ? env.endpoints.get(target.endpointName) : env.routes.get(target.httpRouteName);
    if (router === undefined) throw new Error(`no simulated ${target.kind} target for ${JSON.stringify(target)}`);
    return router;
  };
  return {
    setWeights: (target, plan, weights) => routerOf(target).setWeights(target, plan, weights),
    readWeights: (target, plan) => routerOf(target).readWeights(target, plan),
  };
}

/** Delivers a canary alarm's state change to the alarm-rollback code, like the EventBridge rule. */
export async function deliverAlarm(env: LocalRolloutEnvironment, targetModelId: string, reason: string, settle: SettleOptions): Promise<Awaited<ReturnType<typeof rollbackOnAlarm>>> {
  const alarmName = canaryAlarmName(env.settings.stage, targetModelId);
  const at = env.clock.now();
  env.alarms.set(alarmName, 'ALARM', reason, at);
  const cloudWatchTime = at.toISOString().replace('Z', '+0000');
  return rollbackOnAlarm(
    {
      version: '0',
      id: `local-${at.getTime()}`,
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: '000000000000',
      time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: env.stage.region,
      resources: [`arn:aws:cloudwatch:${env.stage.region}:000000000000:alarm:${alarmName}`],
      detail: { alarmName, state: { value: 'ALARM', reason, timestamp: cloudWatchTime }, previousState: { value: 'OK', reason: '', timestamp: cloudWatchTime } },
    },
    { settings: env.settings, store: env.store, router: localTrafficRouter(env), notifier: env.notifier, settle },
  );
}

/** Overrides for every Task state of the rollout, by state name. */
function handlersFor(env: LocalRolloutEnvironment, hooks: LocalRolloutHooks): Record<string, LocalTaskHandler> {
  const { settings, store, registry, alarms, approvals, clock } = env;
  const router = localTrafficRouter(env);
  const settle: SettleOptions = { clock: clock.now, sleep: clock.sleep, timeoutMs: 240_000, pollMs: 2_000 };
  const wait = env.approvalTimeoutMs === undefined ? {} : { timeoutMs: env.approvalTimeoutMs };
  const controls: LocalRolloutControls = { breach: (model, reason) => deliverAlarm(env, model, reason, settle) };
  const lambda = (run: (payload: unknown) => Promise<unknown> | unknown): LocalTaskHandler => async (input) => asJson(await run(payloadOf(input)));
  const endpointOf = (name: unknown) => {
    const endpoint = env.endpoints.get(String(name));
    if (endpoint === undefined) throw new Error(`no simulated endpoint ${String(name)}`);
    return endpoint;
  };
  const notify: LocalTaskHandler = async (input) => {
    const { Subject, Message } = input as { Subject?: string; Message?: string };
    await env.notifier.publish('notifications', Subject ?? '(no subject)', Message ?? '');
    return { MessageId: `local-${clock.now().getTime()}` };
  };
  const deployer = (payload: unknown) => endpointOf((payload as { rollout: { target: { endpointName?: string } } }).rollout.target.endpointName);
  const handlers: Record<string, LocalTaskHandler> = {
    [R.validateRollout]: lambda((payload) => validateRollout(payload, { settings, registry, store, clock: clock.now })),
    [R.deployCandidateVariant]: lambda((payload) => deployCandidate(payload, deployer(payload))),
    [R.checkEndpointStatus]: lambda((payload) => {
      // `Wait for endpoint` passed at once locally: move the virtual clock by its wait instead.
      clock.advance(waitSeconds(env, R.waitForEndpoint));
      return checkEndpoint(payload, deployer(payload));
    }),
    [R.advanceStep]: lambda((payload) => advanceStep(advanceStepEventSchema.parse(payload))),
    [R.prepareStepApproval]: lambda((payload) => approvals.prepare(payload)),
    [R.requestStepApproval]: lambda(async (payload) => settleLocalTask(await approvals.requestAndWait(payload, wait))),
    // aws-sdk:sagemaker:updateEndpointWeightsAndCapacities, answered by the simulated endpoint.
    [R.setSageMakerWeights]: async (input) => {
      const { EndpointName, DesiredWeightsAndCapacities } = input as { EndpointName: string; DesiredWeightsAndCapacities: Array<{ VariantName: string; DesiredWeight: number }> };
      const endpoint = endpointOf(EndpointName);
      endpoint.updateEndpointWeightsAndCapacities({ EndpointName, DesiredWeightsAndCapacities });
      return { EndpointArn: `arn:aws:sagemaker:local:000000000000:endpoint/${EndpointName}` };
    },
    [R.verifySageMakerWeights]: lambda((payload) => verifyWeights(verifyWeightsEventSchema.parse(payload), { router, store, settle, clock: clock.now })),
    // aws-sdk:eks:describeCluster, then eks:call GET / PATCH on the simulated route of that cluster.
    [R.describeCluster]: async (input) => asJson(describeSimulatedCluster(input)),
    [R.readRoute]: async (input) => asJson(routeFor(env, input).call(input as never)),
    [R.planRoutePatch]: lambda((payload) => planRoutePatch(payload)),
    [R.patchRouteWeights]: async (input) => asJson(routeFor(env, input).call(input as never)),
    [R.verifyRouteWeights]: lambda((payload) => verifyWeights(verifyWeightsEventSchema.parse(payload), { router, store, settle, clock: clock.now })),
    [R.checkCanary]: lambda(async (payload) => {
      const event = checkCanaryEventSchema.parse(payload);
      // The Bake state waited checkIntervalSeconds (skipped locally): move the virtual clock instead.
      clock.advance(event.rollout.checkIntervalSeconds);
      await hooks.beforeCheckCanary?.({ index: event.progress.index, candidatePercent: event.progress.candidatePercent }, controls);
      const check = await checkCanary(event, { alarms, store, clock: clock.now });
      if (env.onCanaryCheck !== undefined) {
        const bakedSeconds = Math.max(0, Math.round((clock.now().getTime() - stepStart(event.rollout, event.progress, event.verified).getTime()) / 1000));
        env.onCanaryCheck({ stepIndex: event.progress.index, candidatePercent: event.progress.candidatePercent, bakedSeconds, bakeSeconds: event.rollout.bakeSeconds });
      }
      return check;
    }),
    [R.promote]: lambda((payload) => promote(promoteEventSchema.parse(payload), { approver: registry, store, settings, clock: clock.now })),
    [R.rollBack]: lambda((payload) => rollBack(rollBackEventSchema.parse(payload), { router, store, alarms, settle })),
  };
  const putEvents = localPutEventsHandler(env.lakeDir, clock.now, env.onEvent);
  for (const [name, state] of Object.entries(env.pipeline.rollout.States)) {
    if (state.Type === 'Task' && handlers[name] === undefined && String(state.Resource).includes(':sns:publish')) handlers[name] = notify;
    if (state.Type === 'Task' && handlers[name] === undefined && String(state.Resource).includes(':events:putEvents')) handlers[name] = putEvents;
  }
  return { ...handlers, ...(hooks.overrides ?? {}) };
}

/** The fixed wait of a Wait state of the rollout definition (seconds). */
function waitSeconds(env: LocalRolloutEnvironment, state: string): number {
  const seconds = env.pipeline.rollout.States[state]?.Seconds;
  if (typeof seconds !== 'number') throw new Error(`the rollout's "${state}" state has no fixed Seconds`);
  return seconds;
}

function routeFor(env: LocalRolloutEnvironment, input: Json): SimulatedHttpRoute {
  checkSimulatedClusterConnection(input);
  const path = String((input as { Path?: unknown }).Path ?? '');
  const name = path.split('/').pop() ?? '';
  const route = env.routes.get(name);
  if (route === undefined) throw new Error(`no simulated HTTPRoute for ${path}`);
  return route;
}

/** Runs one execution of the canary rollout locally. */
export async function runLocalRollout(env: LocalRolloutEnvironment, input: RolloutInput, executionName: string, hooks: LocalRolloutHooks = {}): Promise<AslRunResult> {
  return runAsl(asStateMachineDefinition(env.pipeline.rollout), asJson(input), {
    executionName,
    handlers: handlersFor(env, hooks),
    ...(env.onStateEntered !== undefined ? { onStateEntered: env.onStateEntered } : {}),
  });
}
