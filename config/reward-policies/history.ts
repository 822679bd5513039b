/**
 * Which reward policies exist for whom: the published history (history.json, append-only), the retention
 * rule over it, and the acceptance rule for policy files (each needs a backtest report of exactly its
 * content). The loader (read.ts) and the acceptance test both read these, so the rules exist once.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../../lambdas/shared/zod-mini';
import { rewardPolicySchema } from '../../lambdas/gate-score/reward/policy';
import { ConfigError } from '../schema';
import { rewardPolicyHash } from './policy-hash';

/** The published history's file name, in the policy folder. */
export const HISTORY_FILE = 'history.json';

/** The suffix of a policy's backtest report (`<version>.backtest.json`) and its readable summary. */
export const BACKTEST_REPORT_SUFFIX = '.backtest.json';
export const BACKTEST_SUMMARY_SUFFIX = '.backtest.html';

/** The last this many published versions can never be removed or changed. */
export const RETAINED_VERSIONS = 5;

/**
 * Versions accepted without a backtest report: v1 was the first policy, written before there was a
 * lake to backtest against or another policy to compare with. The list is closed: every later policy
 * needs its report.
 */
export const PREDATES_BACKTESTS: readonly string[] = ['v1'];

const VERSION = /^[a-z0-9][a-z0-9.-]*$/;

export const publishedPolicySchema = z.strictObject({
  version: z.string().check(z.regex(VERSION)),
  /** rewardPolicyHash of the file as published. */
  hash: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/)),
  /** The day it was published (YYYY-MM-DD, UTC). */
  date: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/)),
  /** The policy's owner when it was published. */
  owner: z.string().check(z.minLength(1)),
});
export type PublishedPolicy = z.infer<typeof publishedPolicySchema>;

const historySchema = z.strictObject({
  description: z.optional(z.string()),
  published: z.array(publishedPolicySchema).check(z.minLength(1)),
});

/** Reads and checks history.json: entries unique by version, dates never going back. */
export function readPolicyHistory(dir: string): PublishedPolicy[] {
  const file = join(dir, HISTORY_FILE);
  if (!existsSync(file)) throw new ConfigError(`The reward-policy history config/reward-policies/${HISTORY_FILE} is missing: without it no policy is published`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`config/reward-policies/${HISTORY_FILE} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = historySchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`Invalid config/reward-policies/${HISTORY_FILE}: ${z.prettifyError(parsed.error)}`);
  const seen = new Set<string>();
  parsed.data.published.forEach((entry, i) => {
    if (seen.has(entry.version)) throw new ConfigError(`Invalid config/reward-policies/${HISTORY_FILE}: published[${i}] repeats version "${entry.version}"; a version is published once`);
    seen.add(entry.version);
    const previous = parsed.data.published[i - 1];
    if (previous !== undefined && entry.date < previous.date) {
      throw new ConfigError(`Invalid config/reward-policies/${HISTORY_FILE}: published[${i}] (${entry.version}, ${entry.date}) is dated before the entry above it (${previous.date}); append new versions at the end`);
    }
  });
  return parsed.data.published;
}

/** The policy versions whose files are in the folder (not the history, not the backtest reports). */
export function policyVersionsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== HISTORY_FILE && !f.endsWith(BACKTEST_REPORT_SUFFIX))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** A policy file's hash and owner, or why it cannot be read. */
function fileIdentity(dir: string, version: string): { hash: string; owner: string } | { problem: string } {
  const file = join(dir, `${version}.json`);
  if (!existsSync(file)) return { problem: `config/reward-policies/${version}.json is missing` };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { problem: `config/reward-policies/${version}.json is not valid JSON: ${(error as Error).message}` };
  }
  const parsed = rewardPolicySchema.safeParse(raw);
  if (!parsed.success) return { problem: `config/reward-policies/${version}.json is not a valid policy: ${z.prettifyError(parsed.error)}` };
  return { hash: rewardPolicyHash(parsed.data), owner: parsed.data.owner };
}

/**
 * Retention: each of the last {@link RETAINED_VERSIONS} published versions must still have its file,
 * unchanged (same hash); an older version may be removed, but while its file exists it must not change
 * either (the history says what was published under that name).
 */
export function retentionProblems(dir: string): string[] {
  const history = readPolicyHistory(dir);
  const retained = new Set(history.slice(-RETAINED_VERSIONS).map((e) => e.version));
  const problems: string[] = [];
  for (const entry of history) {
    const present = existsSync(join(dir, `${entry.version}.json`));
    if (!present && !retained.has(entry.version)) continue;
    const identity = fileIdentity(dir, entry.version);
    if ('problem' in identity) problems.push(`${entry.version} (one of the last ${RETAINED_VERSIONS} published): ${identity.problem}`);
    else if (identity.hash !== entry.hash) problems.push(`${entry.version}: the file's hash is ${identity.hash} but ${HISTORY_FILE} published ${entry.hash}; a published policy never changes: write a new version`);
  }
  return problems;
}

const reportIdentitySchema = z.object({
  kind: z.literal('sial-reward-policy-backtest'),
  candidate: z.object({ version: z.string(), hash: z.string(), owner: z.string() }),
});

/**
 * Acceptance: every policy file, except those that predate backtests, needs `<version>.backtest.json`
 * whose candidate is this very content (same version, hash and owner).
 */
export function acceptanceProblems(dir: string): string[] {
  const problems: string[] = [];
  for (const version of policyVersionsIn(dir)) {
    if (PREDATES_BACKTESTS.includes(version)) continue;
    const identity = fileIdentity(dir, version);
    if ('problem' in identity) {
      problems.push(identity.problem);
      continue;
    }
    const reportFile = join(dir, `${version}${BACKTEST_REPORT_SUFFIX}`);
    if (!existsSync(reportFile)) {
      problems.push(`${version}: no backtest report config/reward-policies/${version}${BACKTEST_REPORT_SUFFIX}; run sial policy backtest --candidate config/reward-policies/${version}.json --out config/reward-policies/${version}${BACKTEST_REPORT_SUFFIX}`);
      continue;
    }
    let report: z.infer<typeof reportIdentitySchema>;
    try {
      report = reportIdentitySchema.parse(JSON.parse(readFileSync(reportFile, 'utf8')));
    } catch (error) {
      problems.push(`${version}: ${version}${BACKTEST_REPORT_SUFFIX} is not a backtest report of sial policy backtest: ${error instanceof z.core.$ZodError ? z.prettifyError(error) : (error as Error).message}`);
      continue;
    }
    if (report.candidate.version !== version) problems.push(`${version}: the backtest report is of version "${report.candidate.version}"`);
    if (report.candidate.hash !== identity.hash) problems.push(`${version}: the backtest report is of hash ${report.candidate.hash} but the file's hash is ${identity.hash}; backtest the policy again`);
    if (report.candidate.owner !== identity.owner) problems.push(`${version}: the backtest report names owner "${report.candidate.owner}" but the policy names "${identity.owner}"`);
  }
  return problems;
}

/**
 * The guard in front of removing a published policy's file: one of the last {@link RETAINED_VERSIONS}
 * published versions is refused (a stage may roll back to it, a backtest compares with it); an older one
 * may go. The history entry itself stays either way: history.json is append-only.
 */
export function policyRemovalRefusal(history: readonly PublishedPolicy[], version: string): string | undefined {
  const index = history.findIndex((e) => e.version === version);
  if (index === -1) return `reward policy ${version} was never published (config/reward-policies/${HISTORY_FILE} has no entry for it); nothing to retain, but check the name`;
  const retained = history.slice(-RETAINED_VERSIONS).map((e) => e.version);
  if (retained.includes(version)) return `reward policy ${version} is one of the last ${RETAINED_VERSIONS} published versions (${retained.join(', ')}); its file stays, unchanged`;
  return undefined;
}
