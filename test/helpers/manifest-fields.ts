/**
 * Manifest fields that tests of later pipeline steps (eligibility, registration) do not look at: spread
 * into their hand-written manifests so each one still satisfies the contract.
 */
import type { DatasetManifest } from '../../lambdas/pipeline/contracts';

/** The counts beyond groups and pairs: nothing excluded, re-scored or de-duplicated. */
export const QUIET_COUNTS: Omit<DatasetManifest['counts'], 'tracesUsed' | 'grpoGroups' | 'grpoCompletions' | 'dpoPairs' | 'discardedByGate'> = {
  rowsInWindow: 0,
  duplicateCopies: 0,
  excludedPolicyVersion: 0,
  excludedNoUserTurn: 0,
  excludedGoldenOverlap: 0,
  excludedIneligibleAgent: 0,
  lateFeedbackApplied: 0,
  rescoredOlderPolicy: 0,
};

/** The build settings a manifest records, and file lists under `prefix`. */
export function buildFields(prefix: string): Pick<DatasetManifest, 'acceptedRewardPolicyVersions' | 'files' | 'dpoMinRewardMargin' | 'decontamination'> {
  return {
    acceptedRewardPolicyVersions: ['v1'],
    files: { grpo: [`${prefix}grpo/part-0.json.gz`], dpo: [`${prefix}dpo/part-0.json.gz`], traceIds: [`${prefix}trace-ids/part-0.gz`] },
    dpoMinRewardMargin: 0.2,
    decontamination: { goldenSet: null, ngramWords: 8, maxOverlap: 0.5 },
  };
}
