/**
 * The game-day drill on this machine: the synthesized game-day state machine executed by
 * aws-local-stepfunctions on a virtual clock. `Breach canary alarm` (cloudwatch:setAlarmState) sets the
 * local alarm and delivers the state change to the alarm-rollback code, as EventBridge would; the
 * drill then measures breach -> verified rollback from the rollback record, like in AWS.
 */
import { targetModelOfCanaryAlarm } from '../../lambdas/pipeline/settings';
import { checkDrillRollback, drillEventSchema, measureDrill } from '../../lambdas/rollout/game-day/measure-drill';
import { setSelfCanary } from '../../lambdas/rollout/game-day/self-canary';
import { startDrill } from '../../lambdas/rollout/game-day/start-drill';
import type { SettleOptions } from '../../lambdas/rollout/traffic/settle';
import { GAME_DAY_STATES as G } from '../../stepfunctions/canary-rollout-states';
import { runAsl, type AslRunResult, type LocalTaskHandler } from '../pipeline/asl-runner';
import { asStateMachineDefinition } from '../pipeline/synthesized-pipeline';
import { deliverAlarm, localTrafficRouter, type LocalRolloutEnvironment } from './local-rollout';

type Json = Parameters<LocalTaskHandler>[0];
const asJson = (value: unknown): Json => JSON.parse(JSON.stringify(value ?? null)) as Json;

/** Runs one drill for `targetModelId`; the model must have a current version and no rollout in progress. */
export async function runLocalGameDay(env: LocalRolloutEnvironment, targetModelId: string, executionName: string): Promise<AslRunResult> {
  const { settings, store, clock } = env;
  const settle: SettleOptions = { clock: clock.now, sleep: clock.sleep, timeoutMs: 240_000, pollMs: 2_000 };
  const router = localTrafficRouter(env);
  const lambda = (run: (payload: unknown) => Promise<unknown> | unknown): LocalTaskHandler => async (input) => asJson(await run(input));
  const startedAt = clock.now().getTime();
  const waitSeconds = Number(env.pipeline.gameDay.States[G.waitForRollback]?.Seconds ?? 5);
  const handlers: Record<string, LocalTaskHandler> = {
    [G.startDrill]: lambda((payload) => startDrill(payload, { settings, store, clock: clock.now })),
    [G.setSelfCanary]: lambda(async (payload) => {
      const plan = (payload as { rollout: { target: { kind: string; endpointName?: string } } }).rollout;
      const deployer = plan.target.kind === 'sagemaker' ? env.endpoints.get(String(plan.target.endpointName)) : undefined;
      if (plan.target.kind === 'sagemaker' && deployer === undefined) throw new Error(`no simulated endpoint ${String(plan.target.endpointName)}`);
      try {
        return await setSelfCanary(payload, { router, deployer: deployer ?? { deployCandidateVariant: unusedDeployer, endpointStatus: unusedDeployer }, settle });
      } catch (error) {
        // The state retries TrafficTargetBusy after its Retry interval, skipped locally: move the clock instead.
        if ((error as Error).name === 'TrafficTargetBusy') clock.advance(retryIntervalSeconds(env, G.setSelfCanary, 'TrafficTargetBusy'));
        throw error;
      }
    }),
    // cloudwatch:setAlarmState on the model's drill child alarm: ALARM reaches the rollback code at once.
    [G.breachAlarm]: async (input) => {
      const { AlarmName, StateReason } = input as { AlarmName: string; StateReason?: string };
      const composite = AlarmName.replace(/-[a-z]+$/, '');
      const model = targetModelOfCanaryAlarm(composite, settings);
      if (model === undefined) throw new Error(`alarm ${AlarmName} belongs to no canary of stage ${settings.stage}`);
      await deliverAlarm(env, model, StateReason ?? 'game day drill', settle);
      return {};
    },
    [G.checkRollback]: lambda((payload) => {
      // `Wait for rollback` passed at once locally: move the virtual clock by its wait instead. The real
      // machine's TimeoutSeconds ends a drill nobody rolls back; locally the same bound, in virtual time.
      clock.advance(waitSeconds);
      if (clock.now().getTime() - startedAt > (env.pipeline.gameDay.TimeoutSeconds ?? 3600) * 1000) {
        throw Object.assign(new Error('the drill was not rolled back before the state machine timed out'), { name: 'States.Timeout' });
      }
      return checkDrillRollback(drillEventSchema.parse(payload), store);
    }),
    [G.recordDrill]: lambda((payload) => measureDrill(drillEventSchema.parse(payload), { store, gameDay: env.stage.canary.gameDay })),
  };
  return runAsl(asStateMachineDefinition(env.pipeline.gameDay), { targetModelId, requestedBy: 'local game day' }, {
    executionName,
    handlers,
    ...(env.onStateEntered !== undefined ? { onStateEntered: env.onStateEntered } : {}),
  });
}

/** The IntervalSeconds of a state's Retry rule for `error` in the game-day definition. */
function retryIntervalSeconds(env: LocalRolloutEnvironment, state: string, error: string): number {
  const retries = (env.pipeline.gameDay.States[state]?.Retry ?? []) as Array<{ ErrorEquals: string[]; IntervalSeconds?: number }>;
  const rule = retries.find((r) => r.ErrorEquals.includes(error));
  if (rule === undefined) throw new Error(`the game day's "${state}" state does not retry ${error}`);
  return rule.IntervalSeconds ?? 1;
}

async function unusedDeployer(): Promise<never> {
  throw new Error('an EKS drill deploys nothing: the idle backend already serves the current version');
}
