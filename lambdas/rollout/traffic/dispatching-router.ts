/**
 * One TrafficRouter over both target kinds: each call goes to the router of `target.kind`. The rollback
 * paths use it because a stage can serve one model on SageMaker and another on EKS.
 */
import type { RolloutTarget } from '../../../config/schema';
import type { RolloutPlan, TrafficWeights } from '../contracts';
import type { TrafficRouter } from '../ports';

/** A router per target kind; a kind the stage does not use may be left out. */
export type RoutersByKind = Partial<Record<RolloutTarget['kind'], TrafficRouter>>;

export class DispatchingTrafficRouter implements TrafficRouter {
  constructor(private readonly routers: RoutersByKind) {}

  async setWeights(target: RolloutTarget, plan: RolloutPlan, weights: TrafficWeights): Promise<void> {
    return this.routerFor(target).setWeights(target, plan, weights);
  }

  async readWeights(target: RolloutTarget, plan: RolloutPlan): Promise<TrafficWeights> {
    return this.routerFor(target).readWeights(target, plan);
  }

  private routerFor(target: RolloutTarget): TrafficRouter {
    const router = this.routers[target.kind];
    if (router === undefined) throw new Error(`no traffic router is configured for ${target.kind} targets`);
    return router;
  }
}
