/**
 * Environment of the rollout's Lambdas. Stage settings come in PIPELINE_SETTINGS (lambdas/pipeline/
 * settings.ts, now with `canary`; each target model carries its `rollout` target); resources come as
 * the variables below, set by the canary rollout construct next to the matching grant.
 *
 * | variable | functions | what |
 * |---|---|---|
 * | PIPELINE_SETTINGS | all | stage settings (JSON) |
 * | DEPLOYMENTS_TABLE | validate, check canary, roll back, promote, alarm rollback, game day | the DeploymentStore table |
 * | SAGEMAKER_EXECUTION_ROLE_ARN | deploy candidate variant | role SageMaker assumes for the candidate model |
 * | NOTIFICATIONS_TOPIC_ARN | alarm rollback | where the rollback notice goes |
 * | TRAFFIC_SETTLE_TIMEOUT_SECONDS | verify, roll back, alarm rollback (optional) | how long to wait for weights to take (default 240) |
 */
import { PIPELINE_ENV } from '../pipeline/settings';
import { DEFAULT_SETTLE, type SettleOptions } from './traffic/settle';

/** Resource variables of the rollout's Lambdas (see the table above). */
export const ROLLOUT_ENV = {
  settings: PIPELINE_ENV.settings,
  deploymentsTable: 'DEPLOYMENTS_TABLE',
  sageMakerExecutionRoleArn: 'SAGEMAKER_EXECUTION_ROLE_ARN',
  notificationsTopicArn: PIPELINE_ENV.notificationsTopicArn,
  settleTimeoutSeconds: 'TRAFFIC_SETTLE_TIMEOUT_SECONDS',
} as const;

/** Real time: the clock and sleep of a Lambda. */
export const realTime = {
  clock: (): Date => new Date(),
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
} as const;

/**
 * How a Lambda waits for weights to take: real time, the default window unless
 * TRAFFIC_SETTLE_TIMEOUT_SECONDS says otherwise. The function's timeout must exceed it.
 */
export function settleOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SettleOptions {
  const raw = env[ROLLOUT_ENV.settleTimeoutSeconds];
  let timeoutMs: number = DEFAULT_SETTLE.timeoutMs;
  if (raw !== undefined && raw !== '') {
    const seconds = Number(raw);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 840) {
      throw new Error(`${ROLLOUT_ENV.settleTimeoutSeconds} must be whole seconds from 1 to 840 (under the 15-minute Lambda limit); received "${raw}"`);
    }
    timeoutMs = seconds * 1000;
  }
  return { ...realTime, timeoutMs, pollMs: DEFAULT_SETTLE.pollMs };
}
