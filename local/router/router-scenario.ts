/**
 * The regression scenario for a router: after its canary starts, the candidate router sends a fifth more
 * requests to the wrong tier than the current one; the misroute alarm (the router's key signal, at the
 * router's own maxMisrouteRise) fires and traffic rolls back.
 */
import type { RouterTargetModel } from '../../config/schema';
import type { CanaryRegression } from '../scenarios';

/** The current router's live misroute rate in the demo traffic, and the degraded candidate's. */
const CURRENT_MISROUTE = 0.08;
const DEGRADED_MISROUTE = 0.3;

/** The scenario's LLM regression (when, how many checks in) as a router's misroute regression. */
export function routerRegression(regression: CanaryRegression, router: RouterTargetModel): CanaryRegression {
  return {
    stepIndex: regression.stepIndex,
    afterChecks: regression.afterChecks,
    currentFaithfulness: 1 - CURRENT_MISROUTE,
    candidateFaithfulness: 1 - DEGRADED_MISROUTE,
    misroute: { current: CURRENT_MISROUTE, candidate: DEGRADED_MISROUTE, threshold: router.maxMisrouteRise },
  };
}
