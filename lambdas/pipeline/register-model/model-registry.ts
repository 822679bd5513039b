/**
 * The model registry port: SageMaker Model Registry in AWS (lambdas/pipeline/aws/sagemaker-model-registry.ts),
 * a JSON file locally (local/pipeline/local-model-registry.ts). It can list and create model packages
 * and nothing else: there is no delete, so no step can remove a version retention protects. Approval is {@link ModelApprover}'s: the training pipeline never approves; the canary
 * rollout's `Promote candidate` does, after a human approved every traffic step and the candidate
 * served 100 % through its bake.
 */

export const MODEL_APPROVAL_STATUSES = ['PendingManualApproval', 'Approved', 'Rejected'] as const;
export type ModelApprovalStatus = (typeof MODEL_APPROVAL_STATUSES)[number];

/** Customer metadata keys the pipeline writes on every package it registers. */
export const MODEL_METADATA = {
  runId: 'runId',
  stage: 'stage',
  targetModelId: 'targetModelId',
  algorithm: 'algorithm',
  datasetId: 'datasetId',
  datasetSha256: 'datasetSha256',
  rewardPolicyVersion: 'rewardPolicyVersion',
  approver: 'trainingApprover',
  approvedAt: 'trainingApprovedAt',
  goldenSetVersion: 'goldenSetVersion',
  faithfulness: 'faithfulness',
} as const;

/**
 * Prefix of the eval evidence Register model writes beside the lineage, one key per figure:
 * `eval.faithfulness` = `0.9 vs production 0.87`. The rollout copies them into its deploy approvals,
 * so the approver sees why the candidate may serve.
 */
export const EVAL_EVIDENCE_PREFIX = 'eval.';

/** A version in a model package group. */
export interface RegisteredModelPackage {
  readonly arn: string;
  readonly groupName: string;
  readonly version: number;
  readonly approvalStatus: ModelApprovalStatus;
  readonly createdAt: Date;
  /** metrics.json of the version (ModelMetrics.ModelQuality.Statistics), when it has one. */
  readonly metricsUri?: string;
  /** The version's artifacts (its inference container's ModelDataUrl), when it has one. */
  readonly modelDataUrl?: string;
  /** CustomerMetadataProperties (empty for a package registered outside the pipeline without any). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** A version to register. */
export interface NewModelPackage {
  readonly groupName: string;
  readonly description: string;
  /** The inference (serving) container image, not the training image. */
  readonly servingImageUri: string;
  /** The trained artifacts (`<run output>model.tar.gz`). */
  readonly modelDataUrl: string;
  readonly metricsUri: string;
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * The same token registers the same version once: a retried Register step gets the package the
   * first attempt created instead of a second version (SageMaker ClientToken: 1-36 of [A-Za-z0-9-]).
   */
  readonly idempotencyToken: string;
}

/** Lists and creates model packages. Deliberately without delete. */
export interface ModelRegistry {
  /** Every version of a group (optionally only those with one approval status), in no particular order. */
  listPackages(groupName: string, filter?: { readonly approvalStatus?: ModelApprovalStatus }): Promise<RegisteredModelPackage[]>;
  /** Registers a version with status PendingManualApproval; returns its ARN and version number. */
  createPackage(pkg: NewModelPackage): Promise<{ arn: string; version: number }>;
}

/**
 * The registry's approval write, a port of its own so that the training pipeline's steps cannot even
 * see it: only `Promote candidate` depends on it. Both adapters implement it next to ModelRegistry.
 */
export interface ModelApprover {
  /**
   * Sets a version's approval status (SageMaker UpdateModelPackage), recording who or what decided in
   * the approval description. Setting the status a version already has is not an error, so a retried
   * promotion is harmless.
   */
  setApprovalStatus(arn: string, status: ModelApprovalStatus, by: string): Promise<void>;
}

/**
 * The version number at the end of a versioned model package ARN
 * (`arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>`).
 *
 * @throws Error when the ARN does not end in a version number.
 */
export function versionFromArn(arn: string): number {
  const match = /\/(\d+)$/.exec(arn);
  if (match === null) throw new Error(`"${arn}" is not a versioned model package ARN (expected .../model-package/<group>/<version>)`);
  return Number(match[1]);
}
