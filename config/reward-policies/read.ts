/**
 * Reward policy files (config/reward-policies/<version>.json): read by bin/ at synth time and by local
 * mode; Lambdas receive the parsed policy in their configuration. A bad file stops synthesis with a
 * message naming the file, each field, the value received and what is allowed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { rewardPolicySchema, type RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { parseStrictJson } from '../../lambdas/gate-score/strict-json';
import { ConfigError, describeReceived } from '../schema';
import { HISTORY_FILE, policyVersionsIn, readPolicyHistory } from './history';
import { rewardPolicyHash } from './policy-hash';

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

/**
 * Reads and validates the policy a stage names. Only a published version (listed in history.json) is
 * read, and only with the content that was published: an unpublished candidate is backtested from its
 * file (`readPolicyFile`), never run by a stage.
 */
export function readRewardPolicy(version: string, dir: string = REWARD_POLICY_DIR): RewardPolicy {
  const source = `config/reward-policies/${version}.json`;
  const file = join(dir, `${version}.json`);
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(version) || !existsSync(file)) {
    throw new ConfigError(`Reward policy "${version}" not found: expected ${source}; available versions: ${policyVersionsIn(dir).join(', ') || 'none'}`);
  }
  const published = readPolicyHistory(dir).find((entry) => entry.version === version);
  if (published === undefined) {
    throw new ConfigError(`Reward policy "${version}" is not published: config/reward-policies/${HISTORY_FILE} does not list it; backtest it and append it there (docs/reward-policies.md) before a stage names it`);
  }
  const policy = parseRewardPolicy(parseJsonText(readFileSync(file, 'utf8'), source), source, version);
  const hash = rewardPolicyHash(policy);
  if (hash !== published.hash) {
    throw new ConfigError(`Reward policy ${source} has hash ${hash} but ${HISTORY_FILE} published ${published.hash}: a published policy never changes; write a new version`);
  }
  return policy;
}

/** Line and column (1-based) of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before[before.length - 1] ?? '').length + 1 };
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A quote, then characters other than a quote, a backslash or a raw control character (JSON forbids
// those inside strings), or escapes, then a quote.
// eslint-disable-next-line no-control-regex -- the class must name the control characters JSON forbids
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/**
 * The offset of the first character that cannot continue valid JSON, or undefined for valid JSON. Only
 * called once JSON.parse has failed, whose message does not always give a position.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i += 1;
  };
  const match = (pattern: RegExp): boolean => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) return false;
    i = pattern.lastIndex;
    return true;
  };
  const value = (): boolean => {
    space();
    const c = text.charAt(i);
    if (c === '"') return match(JSON_STRING);
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i += 1;
      space();
      if (text.charAt(i) === close) {
        i += 1;
        return true;
      }
      for (;;) {
        if (c === '{') {
          space();
          if (text.charAt(i) !== '"' || !match(JSON_STRING)) return false;
          space();
          if (text.charAt(i) !== ':') return false;
          i += 1;
        }
        if (!value()) return false;
        space();
        if (text.charAt(i) === ',') {
          i += 1;
          continue;
        }
        if (text.charAt(i) !== close) return false;
        i += 1;
        return true;
      }
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return true;
      }
    }
    return match(JSON_NUMBER);
  };
  if (!value()) return i;
  space();
  return i < text.length ? i : undefined;
}

/**
 * JSON.parse with an error that says where (file, line, column), refusing a member name given twice:
 * JSON.parse would keep the last one silently, and a reviewer reading the first would approve a weight
 * that is not the one applied.
 */
function parseJsonText(text: string, source: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const offset = jsonErrorOffset(text);
    const where = text.trim() === '' ? ' (the file is empty)' : offset === undefined ? '' : (({ line, column }) => ` at line ${line}, column ${column}`)(lineAndColumn(text, offset));
    throw new ConfigError(`Reward policy ${source} is not valid JSON${where}: ${(error as Error).message}`);
  }
  const strict = parseStrictJson(text, 64);
  if (!strict.ok && strict.problem === 'duplicate_member') {
    const at = strict.duplicate.path.length > 0 ? ` in ${strict.duplicate.path.map(String).join('.')}` : '';
    throw new ConfigError(`Reward policy ${source} gives the field "${strict.duplicate.name}"${at} twice; give each field once`);
  }
  return value;
}

/**
 * Reads a policy from any file (a candidate under review): valid JSON, a valid policy, and a version
 * equal to the file's name, as for a published one; not required to be published.
 */
export function readPolicyFile(path: string): RewardPolicy {
  if (!existsSync(path)) throw new ConfigError(`Reward policy file ${path} does not exist`);
  const name = basename(path);
  if (!name.endsWith('.json')) throw new ConfigError(`Reward policy file ${path}: expected <version>.json`);
  return parseRewardPolicy(parseJsonText(readFileSync(path, 'utf8'), path), path, name.slice(0, -'.json'.length));
}
