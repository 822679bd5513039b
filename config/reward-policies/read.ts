/**
 * Reads a reward policy file by version (config/reward-policies/<version>.json) and validates it.
 * Used by bin/ at synth time and by local mode; Lambdas receive the parsed policy in their config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rewardPolicySchema, type RewardPolicy } from '../../lambdas/gate-score/reward/policy';

export const REWARD_POLICY_DIR = __dirname;

export function readRewardPolicy(version: string, dir: string = REWARD_POLICY_DIR): RewardPolicy {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(version)) throw new Error(`Invalid reward policy version "${version}"`);
  const file = join(dir, `${version}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read reward policy ${file}: ${(error as Error).message}`);
  }
  const result = rewardPolicySchema.safeParse(raw);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`Invalid reward policy ${file}: ${fields}`);
  }
  if (result.data.version !== version) {
    throw new Error(`Reward policy ${file} declares version "${result.data.version}"; the file name says "${version}"`);
  }
  return result.data;
}
