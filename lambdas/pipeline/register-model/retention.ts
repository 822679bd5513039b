/**
 * Retention: the last N approved model versions stay deployable, so a canary can roll
 * back to any of them. This module only *chooses* them; nothing in the pipeline deletes a model
 * version, and the registry port has no delete.
 */
import { MODEL_METADATA, type RegisteredModelPackage } from './model-registry';

/** Packages registered without a target model id (by hand) are kept together under this key. */
export const UNLABELLED_TARGET = '(no targetModelId)';

/**
 * The approved versions to protect: the newest `keep` approved versions of each target model in the
 * group (by version number, which the registry assigns in creation order), newest first. A family's
 * group holds every target model of that family (e.g. `qwen3-4b` and `qwen3-4b-internal`), and each
 * must keep its own rollback targets: counting the group as one would let a busy model push the
 * other's last approved versions out.
 */
export function protectedApprovedVersions(packages: readonly RegisteredModelPackage[], keep: number): RegisteredModelPackage[] {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be an integer >= 1; received ${String(keep)}`);
  const byTarget = new Map<string, RegisteredModelPackage[]>();
  for (const pkg of packages) {
    if (pkg.approvalStatus !== 'Approved') continue;
    const target = pkg.metadata[MODEL_METADATA.targetModelId] ?? UNLABELLED_TARGET;
    byTarget.set(target, [...(byTarget.get(target) ?? []), pkg]);
  }
  const chosen = [...byTarget.values()].flatMap((group) => [...group].sort((a, b) => b.version - a.version).slice(0, keep));
  return chosen.sort((a, b) => b.version - a.version);
}

/** Whether one registered version may be removed, and why: the answer `sial retention remove` prints. */
export type RemovalDecision = { readonly removable: true; readonly reason: string } | { readonly removable: false; readonly reason: string };

/**
 * The guard in front of every deliberate removal: a version among the newest `keep` approved versions
 * of its target model is refused, whoever asks (break-glass included), because a canary rolls back to
 * exactly those. An older approved version, or one never approved, may go.
 */
export function removalDecision(target: RegisteredModelPackage, packages: readonly RegisteredModelPackage[], keep: number): RemovalDecision {
  const model = target.metadata[MODEL_METADATA.targetModelId] ?? UNLABELLED_TARGET;
  const sameModel = packages.filter((p) => (p.metadata[MODEL_METADATA.targetModelId] ?? UNLABELLED_TARGET) === model);
  const kept = protectedApprovedVersions(sameModel, keep);
  const versions = kept.map((p) => p.version).join(', ');
  if (kept.some((p) => p.arn === target.arn)) {
    return {
      removable: false,
      reason: `version ${target.version} of ${model} is one of its newest ${keep} approved versions (${versions}); they stay deployable so a canary can roll back to any of them, and no one removes them`,
    };
  }
  if (target.approvalStatus !== 'Approved') return { removable: true, reason: `version ${target.version} of ${model} was never approved (${target.approvalStatus}); the newest ${keep} approved versions (${versions || 'none'}) are untouched` };
  return { removable: true, reason: `version ${target.version} of ${model} is approved but older than its newest ${keep} approved versions (${versions})` };
}
