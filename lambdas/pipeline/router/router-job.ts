/**
 * The router's CPU training job: `Prepare router job` turns the request, the dataset and the registry's
 * current router version into the command and size the `Train router` state submits (AWS Batch on
 * Fargate, the router image's `train`), and `Record router CPU hours` books what the job used. A router
 * holds no GPU, so nothing here touches the GPU budget; its vCPU-hours are recorded with the run and the
 * target counts as trained for the eligibility cooldown, as an LLM does.
 */
import * as z from '../../shared/zod-mini';
import type { RouterTargetModel } from '../../../config/schema';
import { datasetManifestSchema, validatedRequestSchema, type DatasetManifest, type ValidatedRequest } from '../contracts';
import { batchJobOutcome, taskErrorSchema } from '../budget/batch-job';
import type { GpuLedger } from '../budget/ledger';
import type { ObjectStore } from '../ports';
import { MODEL_METADATA, type ModelRegistry } from '../register-model/model-registry';

/** `Prepare router job` -> `$.routerJob`: what `Train router` submits. */
export const routerJobSchema = z.strictObject({
  /** The arguments of `python -m sial_training.router` (the image's entry point). */
  command: z.array(z.string()).check(z.minLength(1)),
  /** SIAL_ROUTER_CONFIG: the trainer's config JSON (tiers, quality floor, gate thresholds). */
  config: z.string().check(z.minLength(2)),
  /** Fargate size, as Batch's ResourceRequirements want them (strings). */
  vcpus: z.string(),
  memoryMiB: z.string(),
  vcpusNumber: z.number().check(z.positive()),
  /** Attempt timeout (the router's maxJobHours). */
  timeoutSeconds: z.number().check(z.int(), z.gte(60)),
  /** The approved version the candidate is compared with, or null for the first router. */
  currentModelUri: z.nullable(z.string()),
  goldenSetUri: z.nullable(z.string()),
});
export type RouterJob = z.infer<typeof routerJobSchema>;

/** `{ operation: 'prepare', request, dataset }`. */
export const prepareRouterJobEventSchema = z.object({ operation: z.literal('prepare'), request: validatedRequestSchema, dataset: datasetManifestSchema });

/** The trainer's config (training/sial_training/router/config.py) from the stage's router target. */
export function routerTrainerConfig(router: RouterTargetModel): Record<string, unknown> {
  return {
    tiers: router.tiers.map((t) => ({ name: t.name, cost_per_1k_requests_usd: t.costPer1kRequestsUsd })),
    quality_floor: router.qualityFloor,
    max_misroute_rise: router.maxMisrouteRise,
    min_routing_quality: router.minRoutingQuality,
  };
}

export interface PrepareRouterJobDeps {
  readonly registry: Pick<ModelRegistry, 'listPackages'>;
  readonly store: ObjectStore;
  readonly groupName: string;
  /** Where golden sets live (`<goldenSetsUri><targetModelId>/golden.jsonl`). */
  readonly goldenSetsUri: string;
}

/** The newest approved version of this router in its group: what the candidate must beat. */
async function currentRouterUri(request: ValidatedRequest, deps: PrepareRouterJobDeps): Promise<string | null> {
  const approved = (await deps.registry.listPackages(deps.groupName, { approvalStatus: 'Approved' })).filter(
    (p) => p.approvalStatus === 'Approved' && (p.metadata[MODEL_METADATA.targetModelId] ?? request.targetModelId) === request.targetModelId,
  );
  const newest = approved.sort((a, b) => b.version - a.version)[0];
  if (newest === undefined) return null;
  if (newest.modelDataUrl === undefined) throw new Error(`approved router version ${newest.version} (${newest.arn}) has no model data URL: the candidate cannot be compared with it`);
  return newest.modelDataUrl;
}

/** The single router file of a dataset (the job reads one file). */
function routerFile(dataset: DatasetManifest): string {
  const files = dataset.files.router;
  if (files === undefined) throw new Error(`dataset ${dataset.datasetId} has no router file: it was not built for a router target`);
  if (files.length !== 1) throw new Error(`dataset ${dataset.datasetId} has ${files.length} router files; the router job reads exactly one`);
  return files[0] as string;
}

/** Builds `$.routerJob`. */
export async function prepareRouterJob(request: ValidatedRequest, dataset: DatasetManifest, router: RouterTargetModel, deps: PrepareRouterJobDeps): Promise<RouterJob> {
  const currentModelUri = await currentRouterUri(request, deps);
  const goldenPrefix = `${deps.goldenSetsUri.endsWith('/') ? deps.goldenSetsUri : `${deps.goldenSetsUri}/`}${request.targetModelId}/`;
  // A golden set is optional for a router: the held-out split gates it; a reviewed set, when present, too.
  const goldenSetUri = (await deps.store.getText(`${goldenPrefix}golden.jsonl`)) === undefined ? null : `${goldenPrefix}golden.jsonl`;
  const command = [
    'train',
    '--dataset',
    routerFile(dataset),
    '--out',
    request.uris.output,
    ...(currentModelUri === null ? [] : ['--current', currentModelUri]),
    ...(goldenSetUri === null ? [] : ['--golden', goldenSetUri]),
  ];
  return routerJobSchema.parse({
    command,
    config: JSON.stringify(routerTrainerConfig(router)),
    vcpus: String(router.resources.vcpus),
    memoryMiB: String(router.resources.memoryMiB),
    vcpusNumber: router.resources.vcpus,
    timeoutSeconds: Math.round(router.resources.maxJobHours * 3600),
    currentModelUri,
    goldenSetUri,
  });
}

/** `{ operation: 'record', request, routerJob, job }` or `{ ..., error }` (Train router's result or its Catch). */
export const recordRouterCpuHoursEventSchema = z.object({
    operation: z.literal('record'),
    request: validatedRequestSchema,
    routerJob: routerJobSchema,
    job: z.optional(z.unknown()),
    error: z.optional(taskErrorSchema),
  }).check(z.refine((e) => (e.job === undefined) !== (e.error === undefined), { message: 'exactly one of `job` and `error` is expected' }));
export type RecordRouterCpuHoursEvent = z.infer<typeof recordRouterCpuHoursEventSchema>;

/** `Record router CPU hours` -> `$.cpuUsage`. */
export const routerCpuUsageSchema = z.strictObject({
  runId: z.string(),
  jobStatus: z.enum(['SUCCEEDED', 'FAILED', 'NOT_STARTED', 'UNKNOWN']),
  attempts: z.number().check(z.int(), z.nonnegative()),
  vcpus: z.number().check(z.positive()),
  /** Sum over the attempts of (stoppedAt - startedAt) x vCPUs, in hours: what Fargate bills. */
  vcpuHours: z.number().check(z.nonnegative()),
});
export type RouterCpuUsage = z.infer<typeof routerCpuUsageSchema>;

/**
 * Measures the job's vCPU-hours from Batch's own attempt times (an attempt that wrote nothing still
 * ran), and marks the router trained when the job succeeded (the eligibility cooldown).
 */
export async function recordRouterCpuHours(event: RecordRouterCpuHoursEvent, deps: { readonly ledger: Pick<GpuLedger, 'markTrained'>; readonly now: Date }): Promise<RouterCpuUsage> {
  const outcome = batchJobOutcome(event, deps.now.getTime());
  const vcpus = event.routerJob.vcpusNumber;
  if (outcome.kind !== 'job') {
    return routerCpuUsageSchema.parse({ runId: event.request.runId, jobStatus: outcome.kind === 'not-started' ? 'NOT_STARTED' : 'UNKNOWN', attempts: 0, vcpus, vcpuHours: 0 });
  }
  const seconds = outcome.spans.reduce((sum, s) => sum + Math.max(0, s.stoppedAt - s.startedAt) / 1000, 0);
  const vcpuHours = Math.round(((seconds * vcpus) / 3600) * 1e6) / 1e6;
  if (outcome.status === 'SUCCEEDED') {
    const endedAt = outcome.spans.length > 0 ? new Date(Math.max(...outcome.spans.map((s) => s.stoppedAt))) : deps.now;
    await deps.ledger.markTrained(event.request.targetModelId, endedAt, event.request.runId);
  }
  return routerCpuUsageSchema.parse({ runId: event.request.runId, jobStatus: outcome.status, attempts: outcome.attempts, vcpus, vcpuHours });
}
