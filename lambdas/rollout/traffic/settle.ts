/**
 * Waiting for traffic to be what was asked. SageMaker applies weights asynchronously (the endpoint goes
 * Updating, then CurrentWeight changes), two rollback paths may write at the same moment, and an update
 * can silently not take: so verification polls the target until it serves the expected split or a
 * deadline passes, and a rollback re-asks until it sees 100 % current.
 */
import type * as z from '../../shared/zod-mini';
import type { RolloutPlan, TrafficWeights, weightsVerifiedSchema } from '../contracts';
import { TrafficTargetBusy, WeightsNotApplied } from '../errors';
import type { Clock } from '../../pipeline/ports';
import type { Sleep } from '../../shared/ports';
import type { TrafficRouter } from '../ports';
import { sameWeights } from './weights';

/** `$.verified`: the weights asked for, the weights seen, and when they were seen. */
export type WeightsVerified = z.infer<typeof weightsVerifiedSchema>;

/** How long to wait, and how the waiting is done (injected so tests and the simulation run on a virtual clock). */
export interface SettleOptions {
  readonly clock: Clock;
  readonly sleep: Sleep;
  /** Give up after this long (a WeightsNotApplied with the last observation). */
  readonly timeoutMs: number;
  /** Pause between reads. */
  readonly pollMs: number;
}

/**
 * Defaults sized for SageMaker, whose weight updates take tens of seconds: give up after 4 minutes, read
 * every 2 seconds. Lambdas that settle need a timeout above this (5 minutes).
 */
export const DEFAULT_SETTLE = { timeoutMs: 240_000, pollMs: 2_000 } as const;

/** A rollback re-asks for its weights this often while they have not taken (an update lost or overwritten). */
export const DEFAULT_REAPPLY_MS = 30_000;

type Observation = { readonly weights: TrafficWeights } | { readonly problem: WeightsNotApplied };

async function observe(router: TrafficRouter, plan: RolloutPlan): Promise<Observation> {
  try {
    return { weights: await router.readWeights(plan.target, plan) };
  } catch (error) {
    // A split that cannot be read (a third variant still draining) may still settle; anything else is real.
    if (error instanceof WeightsNotApplied) return { problem: error };
    throw error;
  }
}

function timedOut(expected: TrafficWeights, last: Observation | undefined, where: string, seconds: number): WeightsNotApplied {
  if (last !== undefined && 'problem' in last) return new WeightsNotApplied(expected, undefined, `${last.problem.detail} (still after ${seconds} s on ${where})`);
  return new WeightsNotApplied(expected, last?.weights, `${where} did not serve the expected split within ${seconds} s`);
}

/** Names the target in messages. */
export function targetLabel(plan: RolloutPlan): string {
  return plan.target.kind === 'sagemaker'
    ? `SageMaker endpoint ${plan.target.endpointName}`
    : `HTTPRoute ${plan.target.namespace}/${plan.target.httpRouteName} on EKS cluster ${plan.target.clusterName}`;
}

/**
 * Reads the target until it serves `expected`; never writes.
 *
 * @throws WeightsNotApplied with the expected and the last observed split when the deadline passes.
 */
export async function awaitWeights(router: TrafficRouter, plan: RolloutPlan, expected: TrafficWeights, options: SettleOptions): Promise<WeightsVerified> {
  const deadline = options.clock().getTime() + options.timeoutMs;
  for (;;) {
    const seen = await observe(router, plan);
    if ('weights' in seen && sameWeights(seen.weights, expected)) return { expected, observed: seen.weights, verifiedAt: options.clock().toISOString() };
    if (options.clock().getTime() >= deadline) throw timedOut(expected, seen, targetLabel(plan), Math.round(options.timeoutMs / 1000));
    await options.sleep(options.pollMs);
  }
}

/** What `applyAndAwait` did, for logs and the rollback record. */
export interface AppliedWeights extends WeightsVerified {
  /** How many times the weights were asked for (0 when the target already served them). */
  readonly requests: number;
}

/**
 * Asks for `expected` unless the target already serves it, then waits until it does, asking again every
 * `reapplyMs` while it does not (another writer's update may have replaced ours) and after every
 * TrafficTargetBusy refusal. Safe to run twice at once: both converge on the same split, and neither
 * fails because the other's update was in progress.
 *
 * @throws WeightsNotApplied when the target does not serve `expected` by the deadline.
 */
export async function applyAndAwait(
  router: TrafficRouter,
  plan: RolloutPlan,
  expected: TrafficWeights,
  options: SettleOptions & { readonly reapplyMs?: number },
): Promise<AppliedWeights> {
  const reapplyMs = options.reapplyMs ?? DEFAULT_REAPPLY_MS;
  const deadline = options.clock().getTime() + options.timeoutMs;
  let requests = 0;
  let lastRequestAt: number | undefined;
  for (;;) {
    const seen = await observe(router, plan);
    if ('weights' in seen && sameWeights(seen.weights, expected)) {
      return { expected, observed: seen.weights, verifiedAt: options.clock().toISOString(), requests };
    }
    const now = options.clock().getTime();
    if (lastRequestAt === undefined || now - lastRequestAt >= reapplyMs) {
      try {
        await router.setWeights(plan.target, plan, expected);
        requests += 1;
        lastRequestAt = now;
      } catch (error) {
        // Busy: someone else's update is in progress (perhaps the same rollback); look again shortly.
        if (!(error instanceof TrafficTargetBusy)) throw error;
      }
    }
    if (options.clock().getTime() >= deadline) throw timedOut(expected, seen, targetLabel(plan), Math.round(options.timeoutMs / 1000));
    await options.sleep(options.pollMs);
  }
}
