/**
 * `Register model`: registers the candidate as a new version of its family's model package group,
 * status PendingManualApproval, with its eval metrics attached and the lineage a reviewer needs
 * (run, dataset, reward policy, who approved the training) as customer metadata. Then reports which
 * approved versions retention protects. It never deletes or approves anything.
 */
import { createHash } from 'node:crypto';
import * as z from '../../shared/zod-mini';
import { approvalDecisionSchema, datasetManifestSchema, evalGateResultSchema, registrationSchema, validatedRequestSchema, type EvalGateResult, type Registration } from '../contracts';
import { retainedApprovedVersions, type PipelineSettings } from '../settings';
import { routerEvalGateResultSchema, type RouterEvalGateResult } from '../router/router-eval-gate';
import { EVAL_EVIDENCE_PREFIX, MODEL_METADATA, type ModelRegistry } from './model-registry';
import { protectedApprovedVersions } from './retention';

/** `{ request, dataset, evalGate, trainingApproval }`. */
export const registerModelEventSchema = z.object({
  request: validatedRequestSchema,
  dataset: datasetManifestSchema,
  /** An LLM's eval gate result, or a router's (its metrics are the router job's metrics.json). */
  evalGate: z.union([evalGateResultSchema, routerEvalGateResultSchema]),
  trainingApproval: approvalDecisionSchema,
});
export type RegisterModelEvent = z.infer<typeof registerModelEventSchema>;

export interface RegisterModelDeps {
  readonly registry: ModelRegistry;
  readonly settings: Pick<PipelineSettings, 'modelPackageGroups' | 'retainApprovedModelVersions' | 'retainApprovedRouterVersions' | 'targetModels'>;
  /** The serving container image (SERVING_IMAGE_URI): the training image cannot serve the model. */
  readonly servingImageUri: string;
  /**
   * The router image (ROUTER_IMAGE_URI): it trains the router and serves it (`serve`), so a router's
   * package names it. Required only to register a router.
   */
  readonly routerImageUri?: string;
}

/**
 * Environment of the Register model function besides PIPELINE_SETTINGS. The serving image is its own
 * variable because the training container is not the serving container (e.g. a vLLM or LMI image in
 * ECR that SageMaker's execution role can pull).
 */
export const REGISTER_MODEL_ENV = { servingImageUri: 'SERVING_IMAGE_URI', routerImageUri: 'ROUTER_IMAGE_URI' } as const;

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

/**
 * The router gate's comparison as metadata (`eval.holdout.misrouteRate` = `0.12 vs current 0.15`), for
 * the deploy approvals, in the characters SageMaker accepts.
 */
export function routerEvalEvidence(evalGate: RouterEvalGateResult): Record<string, string> {
  const evidence: Record<string, string> = { verdict: evalGate.holdout?.current == null && evalGate.golden?.current == null ? 'passed the router gate as the first version - no current version to compare' : 'passed the router gate against the current version', baselineTier: evalGate.baselineTier, cpuHours: String(evalGate.cpuHours) };
  for (const set of ['holdout', 'golden'] as const) {
    const figures = evalGate[set];
    if (figures === null) continue;
    for (const name of ['misrouteRate', 'routingQuality', 'costPer1kRequestsUsd'] as const) {
      const current = figures.current?.[name];
      evidence[`${set}.${name}`] = current === undefined ? String(figures.candidate[name]) : `${figures.candidate[name]} vs current ${current}`;
    }
  }
  return Object.fromEntries(Object.entries(evidence).map(([key, value]) => [metadataValue(`${EVAL_EVIDENCE_PREFIX}${key}`).slice(0, 128), metadataValue(value)]));
}

/** The versions retention protects for this target (routers keep more than LLMs). */
function retentionOf(targetModelId: string, settings: RegisterModelDeps['settings']): number {
  const target = settings.targetModels.find((m) => m.id === targetModelId);
  return target === undefined ? settings.retainApprovedModelVersions : retainedApprovedVersions(target, settings);
}

/** What every registered version records of where it came from: run, target, dataset, policy, approval. */
function lineageMetadata({ request, dataset, trainingApproval }: RegisterModelEvent): Record<string, string> {
  return {
    [MODEL_METADATA.runId]: request.runId,
    [MODEL_METADATA.stage]: request.stage,
    [MODEL_METADATA.targetModelId]: request.targetModelId,
    [MODEL_METADATA.algorithm]: request.algorithm,
    [MODEL_METADATA.datasetId]: dataset.datasetId,
    [MODEL_METADATA.datasetSha256]: dataset.contentSha256,
    [MODEL_METADATA.rewardPolicyVersion]: dataset.rewardPolicyVersion,
    [MODEL_METADATA.approver]: trainingApproval.approver,
    [MODEL_METADATA.approvedAt]: trainingApproval.decidedAt,
  };
}

/** Registers a router candidate: the router image serves it, its metrics are the router job's. */
async function registerRouter(event: RegisterModelEvent, evalGate: RouterEvalGateResult, deps: RegisterModelDeps): Promise<Registration> {
  const { request, dataset, trainingApproval } = event;
  if (deps.routerImageUri === undefined) throw new Error(`${REGISTER_MODEL_ENV.routerImageUri} is not set: a router is registered with the router image, which serves it`);
  const groupName = groupOf(request.modelFamily, deps.settings);
  const metadata = lineageMetadata(event);
  const holdout = evalGate.holdout?.candidate;
  const description =
    `router ${request.targetModelId} run ${request.runId} on dataset ${dataset.datasetId} (${dataset.counts.routerRows ?? 0} traces); ` +
    `held-out misroute rate ${holdout?.misrouteRate ?? 'n/a'}, routing quality ${holdout?.routingQuality ?? 'n/a'}; training approved by ${trainingApproval.approver}`;
  const created = await deps.registry.createPackage({
    groupName,
    description: description.slice(0, DESCRIPTION_MAX),
    servingImageUri: deps.routerImageUri,
    modelDataUrl: `${request.uris.output}${MODEL_ARTIFACT_FILE}`,
    metricsUri: evalGate.metricsUri,
    metadata: { ...Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, metadataValue(v)])), ...routerEvalEvidence(evalGate) },
    idempotencyToken: registrationToken(groupName, request.runId),
  });
  const approved = await deps.registry.listPackages(groupName, { approvalStatus: 'Approved' });
  return registrationSchema.parse({
    modelPackageGroupName: groupName,
    modelPackageArn: created.arn,
    modelPackageVersion: created.version,
    approvalStatus: 'PendingManualApproval',
    protectedApprovedVersions: protectedApprovedVersions(approved, retentionOf(request.targetModelId, deps.settings)).map((p) => p.arn),
  });
}

/** Registers the candidate and returns the Registration (ResultPath `$.registration`). */
export async function registerModel(event: RegisterModelEvent, deps: RegisterModelDeps): Promise<Registration> {
  const { request, dataset, trainingApproval } = event;
  const gate = event.evalGate;
  if ('kind' in gate) return registerRouter(event, gate, deps);
  const evalGate: EvalGateResult = gate;
  const groupName = groupOf(request.modelFamily, deps.settings);
  const candidate = evalGate.candidate;
  const metadata: Record<string, string> = {
    ...lineageMetadata(event),
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
  const protectedVersions = protectedApprovedVersions(approved, retentionOf(request.targetModelId, deps.settings));
  return registrationSchema.parse({
    modelPackageGroupName: groupName,
    modelPackageArn: created.arn,
    modelPackageVersion: created.version,
    approvalStatus: 'PendingManualApproval',
    protectedApprovedVersions: protectedVersions.map((p) => p.arn),
  });
}
