/**
 * The identity of a reward-policy file's content: what a backtest report, the published history and the
 * acceptance test compare, so a policy edited after its backtest no longer matches its report.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../lambdas/judge/judge-policy';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';

/**
 * `sha256:<hex>` of the policy's canonical JSON (keys sorted at every level, no white space): the same
 * for any layout of the same content, different for any change of a value, including the description
 * and the owner (a change of owner is a change of who answers for it).
 */
export function rewardPolicyHash(policy: RewardPolicy): string {
  return `sha256:${createHash('sha256').update(canonicalJson(policy)).digest('hex')}`;
}
