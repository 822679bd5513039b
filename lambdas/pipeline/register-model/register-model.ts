/**
 * `Register model`: registers the candidate as a new version of its family's model package group,
 * status PendingManualApproval, with its eval metrics attached and the lineage a reviewer needs
 * (run, dataset, reward policy, who approved the training) as customer metadata. Then reports which
 * approved versions retention protects. It never deletes or approves anything.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { approvalDecisionSchema, datasetManifestSchema, evalGateResultSchema, registrationSchema, validatedRequestSchema, type EvalGateResult, type Registration } from '../contracts';
import type { PipelineSettings } from '../settings';
import { EVAL_EVIDENCE_PREFIX, MODEL_METADATA, type ModelRegistry } from './model-registry';
import { protectedApprovedVersions } from './retention';

/** `{ request, dataset, evalGate, trainingApproval }`. */
export const registerModelEventSchema = z.object({
  request: validatedRequestSchema,
  dataset: datasetManifestSchema,
  evalGate: evalGateResultSchema,
  trainingApproval: approvalDecisionSchema,
});
export type RegisterModelEvent = z.infer<typeof registerModelEventSchema>;

export interface RegisterModelDeps {
  readonly registry: ModelRegistry;
  readonly settings: Pick<PipelineSettings, 'modelPackageGroups' | 'retainApprovedModelVersions'>;
  /** The serving container image (SERVING_IMAGE_URI): the training image cannot serve the model. */
  readonly servingImageUri: string;
}

/**
 * Environment of the Register model function besides PIPELINE_SETTINGS. The serving image is its own
 * variable because the training container is not the serving container (e.g. a vLLM or LMI image in
 * ECR that SageMaker's execution role can pull).
 */
export const REGISTER_MODEL_ENV = { servingImageUri: 'SERVING_IMAGE_URI' } as const;

/** The file the training job writes the model artifacts to, inside the run's output prefix (training/README.md). */
export const MODEL_ARTIFACT_FILE = 'model.tar.gz';

// SageMaker CustomerMetadataProperties: keys up to 128, values up to 256 characters of this set.
const METADATA_UNSAFE = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu;
const METADATA_MAX_VALUE = 256;
const DESCRIPTION_MAX = 1024;

/** A metadata value SageMaker accepts: unsupported characters become `_`, and it is cut to 256. */
export function metadataValue(value: string): string {
  return value.replace(METADATA_UNSAFE, '_').slice(0, METADATA_MAX_VALUE);
}

/** SageMaker keeps at most 50 metadata entries: the lineage takes 11, the evidence at most this many. */
const MAX_EVIDENCE_ENTRIES = 20;

/**
 * The eval gate's comparison as metadata, one figure per key (`eval.faithfulness` = `0.9 vs production
 * 0.87`), so the deploy approvals can show it without reading S3. Worded within the characters SageMaker
 * accepts in metadata (no parentheses or commas).
 */
export function evalEvidence(evalGate: EvalGateResult): Record<string, string> {
  const { candidate, production } = evalGate;
  const versus = (value: number, baseline: number | undefined) => (baseline === undefined ? String(value) : `${value} vs production ${baseline}`);
  const productionVersion = evalGate.productionModelPackageArn?.split('/').pop();
  const evidence: Record<string, string> = {
    verdict: production === null ? 'passed the eval gate as the first model of its family - no production baseline' : `passed the eval gate against production version ${productionVersion ?? '?'}`,
    goldenSet: `${candidate.goldenSetVersion} with ${candidate.examples} examples`,
    faithfulness: versus(candidate.faithfulness, production?.faithfulness),
  };
  for (const [name, value] of Object.entries(candidate.metrics)) evidence[name] = versus(value, production?.metrics[name]);
  if (candidate.meanAnswerChars !== undefined) evidence.meanAnswerChars = versus(Math.round(candidate.meanAnswerChars), production?.meanAnswerChars === undefined ? undefined : Math.round(production.meanAnswerChars));
  const entries = Object.entries(evidence).slice(0, MAX_EVIDENCE_ENTRIES);
  return Object.fromEntries(entries.map(([key, value]) => [metadataValue(`${EVAL_EVIDENCE_PREFIX}${key}`).slice(0, 128), metadataValue(value)]));
}

/** The idempotency token of a run's registration: the same group and run always give the same token. */
export function registrationToken(groupName: string, runId: string): string {
  return createHash('sha256').update(`${groupName}\n${runId}`, 'utf8').digest('hex').slice(0, 32);
}

function groupOf(family: string, settings: RegisterModelDeps['settings']): string {
  const group = settings.modelPackageGroups[family];
  if (group === undefined) {
    throw new Error(`no model package group is configured for family "${family}" (settings.modelPackageGroups has ${Object.keys(settings.modelPackageGroups).join(', ') || 'none'})`);
  }
  return group;
}

/** Registers the candidate and returns the Registration (ResultPath `$.registration`). */
export async function registerModel(event: RegisterModelEvent, deps: RegisterModelDeps): Promise<Registration> {
  const { request, dataset, evalGate, trainingApproval } = event;
  const groupName = groupOf(request.modelFamily, deps.settings);
  const candidate = evalGate.candidate;
  const metadata: Record<string, string> = {
    [MODEL_METADATA.runId]: request.runId,
    [MODEL_METADATA.stage]: request.stage,
    [MODEL_METADATA.targetModelId]: request.targetModelId,
    [MODEL_METADATA.algorithm]: request.algorithm,
    [MODEL_METADATA.datasetId]: dataset.datasetId,
    [MODEL_METADATA.datasetSha256]: dataset.contentSha256,
    [MODEL_METADATA.rewardPolicyVersion]: dataset.rewardPolicyVersion,
    [MODEL_METADATA.approver]: trainingApproval.approver,
    [MODEL_METADATA.approvedAt]: trainingApproval.decidedAt,
    [MODEL_METADATA.goldenSetVersion]: candidate.goldenSetVersion,
    [MODEL_METADATA.faithfulness]: String(candidate.faithfulness),
  };
  const description =
    `${request.targetModelId} ${request.algorithm.toUpperCase()} run ${request.runId} on dataset ${dataset.datasetId} ` +
    `(reward policy ${dataset.rewardPolicyVersion}); faithfulness ${candidate.faithfulness} on golden set ${candidate.goldenSetVersion}; ` +
    `training approved by ${trainingApproval.approver}`;

  const created = await deps.registry.createPackage({
    groupName,
    description: description.slice(0, DESCRIPTION_MAX),
    servingImageUri: deps.servingImageUri,
    modelDataUrl: `${request.uris.output}${MODEL_ARTIFACT_FILE}`,
    metricsUri: request.uris.metrics,
    metadata: { ...Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, metadataValue(v)])), ...evalEvidence(evalGate) },
    idempotencyToken: registrationToken(groupName, request.runId),
  });

  const approved = await deps.registry.listPackages(groupName, { approvalStatus: 'Approved' });
  const protectedVersions = protectedApprovedVersions(approved, deps.settings.retainApprovedModelVersions);
  return registrationSchema.parse({
    modelPackageGroupName: groupName,
    modelPackageArn: created.arn,
    modelPackageVersion: created.version,
    approvalStatus: 'PendingManualApproval',
    protectedApprovedVersions: protectedVersions.map((p) => p.arn),
  });
}
