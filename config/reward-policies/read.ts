/**
 * Reward policy files (config/reward-policies/<version>.json): read by bin/ at synth time and by local
 * mode; Lambdas receive the parsed policy in their configuration. A bad file stops synthesis with a
 * message naming the file, each field, the value received and what is allowed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rewardPolicySchema, type RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { ConfigError, describeReceived } from '../schema';

/** The folder of the policy files (this file's own). */
export const REWARD_POLICY_DIR = __dirname;

/** Validates a parsed policy file; `expectedVersion` is the version its file name (and the stage) gives. */
export function parseRewardPolicy(raw: unknown, source: string, expectedVersion: string): RewardPolicy {
  const result = rewardPolicySchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
      return `  - ${field}: received ${describeReceived(raw, issue.path)}; ${issue.message}`;
    });
    throw new ConfigError(`Invalid reward policy in ${source}:\n${lines.join('\n')}`);
  }
  if (result.data.version !== expectedVersion) {
    throw new ConfigError(`Invalid reward policy in ${source}:\n  - version: received "${result.data.version}"; expected "${expectedVersion}", the file's name`);
  }
  return result.data;
}

/** Reads and validates the policy of a version; throws ConfigError listing the versions available. */
export function readRewardPolicy(version: string, dir: string = REWARD_POLICY_DIR): RewardPolicy {
  const source = `config/reward-policies/${version}.json`;
  const file = join(dir, `${version}.json`);
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(version) || !existsSync(file)) {
    const available = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
    throw new ConfigError(`Reward policy "${version}" not found: expected ${source}; available versions: ${available.join(', ') || 'none'}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Reward policy ${source} is not valid JSON: ${(error as Error).message}`);
  }
  return parseRewardPolicy(raw, source, version);
}
