/**
 * `Validate request`, the pipeline's first state: turns the execution input into the run's
 * ValidatedRequest, or refuses it. The scope rule (never a managed closed model) is enforced here at run time as
 * config/schema.ts enforces it at synth time, with the same family check: a managed closed model
 * ends the execution at once with a message that says what is allowed.
 */
import * as z from '../../shared/zod-mini';
import { isRouterTarget, MANAGED_MODEL_MARKERS, registryKeyOf, SELF_HOSTED_MODEL_FAMILIES, targetModelFamily, type RouterTargetModel, type TargetModel } from '../../../config/schema';
import { PIPELINE_ERRORS } from '../../../stepfunctions/training-pipeline-states';
import { pipelineInputSchema, validatedRequestSchema, type PipelineInput, type ValidatedRequest } from '../contracts';
import type { PipelineSettings } from '../settings';
import { runIdFromExecutionName } from './run-id';
import { runUris } from './run-uris';

/**
 * Thrown for a request the pipeline will not run. Its `name` is the error the state machine's Catch
 * matches (PIPELINE_ERRORS.requestRefused) and its message is what the requester reads.
 */
export class RequestRefused extends Error {
  override readonly name = PIPELINE_ERRORS.requestRefused;
}

/** What the state passes in: `{ input: $, executionName: $$.Execution.Name }`. */
export const validateRequestEventSchema = z.object({
  input: z.unknown(),
  executionName: z.string().check(z.minLength(1), z.maxLength(256)),
});
export type ValidateRequestEvent = z.infer<typeof validateRequestEventSchema>;

export interface ValidateRequestContext {
  readonly settings: PipelineSettings;
  /** The stage's artifact bucket name (ARTIFACT_BUCKET). */
  readonly artifactBucket: string;
  readonly now: Date;
}

const ALLOWED_INPUT_FIELDS = Object.keys(pipelineInputSchema.shape).join(', ');

function describeTargets(settings: PipelineSettings): string {
  return settings.targetModels.map((m) => `${m.id} (${isRouterTarget(m) ? 'router' : m.family})`).join(', ');
}

/** The managed-model marker a value contains, if any (same list as the synth-time check). */
function managedMarker(value: string): string | undefined {
  const lower = value.toLowerCase();
  return MANAGED_MODEL_MARKERS.find((marker) => lower.includes(marker));
}

/** The family check of config/schema.ts, as a refusal message (undefined when the family is allowed). */
function familyProblem(family: string): string | undefined {
  const result = targetModelFamily.safeParse(family);
  return result.success ? undefined : result.error.issues.map((i) => i.message).join('; ');
}

/**
 * Refuses a managed closed model before anything else is looked at, so that the requester reads the
 * scope rule's reason rather than a complaint about some other field of the same request.
 */
function refuseManagedModel(raw: unknown, settings: PipelineSettings): void {
  if (raw === null || typeof raw !== 'object') return;
  const { modelFamily, targetModelId } = raw as Record<string, unknown>;
  if (typeof modelFamily === 'string' && managedMarker(modelFamily) !== undefined) {
    throw new RequestRefused(`modelFamily: ${familyProblem(modelFamily)}`);
  }
  // A configured id is trusted even if it happens to contain a marker ("...nova..." in a name);
  // an unknown id that names a managed model gets the scope rule's reason instead of "unknown model".
  if (typeof targetModelId === 'string' && !settings.targetModels.some((m) => m.id === targetModelId)) {
    const marker = managedMarker(targetModelId);
    if (marker !== undefined) {
      throw new RequestRefused(
        `targetModelId: "${targetModelId}" is a managed closed model (matched "${marker}"); this loop only trains self-hosted open-weight families: ${SELF_HOSTED_MODEL_FAMILIES.join(', ')} (managed closed models are never trained). Target models of stage ${settings.stage}: ${describeTargets(settings)}`,
      );
    }
  }
}

function findTarget(targetModelId: string, settings: PipelineSettings): TargetModel {
  const target = settings.targetModels.find((m) => m.id === targetModelId);
  if (target === undefined) {
    throw new RequestRefused(`targetModelId: unknown target model "${targetModelId}"; stage ${settings.stage} trains only: ${describeTargets(settings)}`);
  }
  // A router is our own classifier, no LLM family: the family rule does not apply to it.
  if (isRouterTarget(target)) return target;
  // Settings were validated with the same schema, but the first state re-checks the scope rule
  // rather than rely on every path that produces settings having done so.
  const problem = familyProblem(target.family);
  if (problem !== undefined) throw new RequestRefused(`target model "${target.id}": ${problem}`);
  return target;
}

/**
 * Validates the execution input against the stage's settings and builds the run's request.
 *
 * @throws RequestRefused for a managed closed model, an invalid input, an unknown target model id, or
 *   a `modelFamily` that is not the target's family; the message names what is allowed.
 * @throws Error for a wiring or configuration fault (no execution name, no base model URI).
 */
export function validateRequest(event: unknown, context: ValidateRequestContext): ValidatedRequest {
  const envelope = validateRequestEventSchema.safeParse(event);
  if (!envelope.success) {
    throw new Error(`Validate request expects { input, executionName } from the state machine: ${envelope.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const { settings } = context;
  refuseManagedModel(envelope.data.input, settings);

  const parsed = pipelineInputSchema.safeParse(envelope.data.input);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new RequestRefused(`the execution input is invalid: ${fields}. Allowed fields: ${ALLOWED_INPUT_FIELDS}`);
  }
  const input = parsed.data;
  const target = findTarget(input.targetModelId, settings);
  if (isRouterTarget(target)) return validatedRouterRequest(input, target, envelope.data.executionName, context);

  if (input.modelFamily !== undefined) {
    const problem = familyProblem(input.modelFamily);
    if (problem !== undefined) throw new RequestRefused(`modelFamily: ${problem}`);
    if (input.modelFamily.toLowerCase() !== target.family.toLowerCase()) {
      throw new RequestRefused(
        `modelFamily "${input.modelFamily}" does not match target model "${target.id}", which is a ${target.family} model; omit modelFamily or pass "${target.family}"`,
      );
    }
  }

  const baseModelUri = settings.training.baseModelUris[target.id];
  if (baseModelUri === undefined) {
    throw new Error(`training.baseModelUris has no entry for "${target.id}" in stage ${settings.stage}: the stage configuration is inconsistent`);
  }

  const runId = runIdFromExecutionName(envelope.data.executionName);
  return validatedRequestSchema.parse({
    runId,
    mode: input.mode,
    stage: settings.stage,
    boundary: settings.boundary,
    targetModelId: target.id,
    // As configured, so it keys settings.modelPackageGroups exactly.
    modelFamily: target.family,
    internalOnly: target.internalOnly,
    algorithm: input.algorithm ?? settings.training.algorithm,
    baseModelUri,
    requestedBy: input.requestedBy,
    ...(input.reason === undefined ? {} : { reason: input.reason }),
    requestedAt: context.now.toISOString(),
    uris: runUris(context.artifactBucket, runId),
  });
}

/**
 * The request of a router run: no family to cross-check and no LLM algorithm to choose (it trains the
 * classifier), no base weights; the same run id, URIs and approvals as an LLM run.
 */
function validatedRouterRequest(input: PipelineInput, target: RouterTargetModel, executionName: string, context: ValidateRequestContext): ValidatedRequest {
  if (input.modelFamily !== undefined && input.modelFamily.toLowerCase() !== 'router') {
    throw new RequestRefused(`modelFamily "${input.modelFamily}" does not match target model "${target.id}", which is a router; omit modelFamily`);
  }
  if (input.algorithm !== undefined) {
    throw new RequestRefused(`algorithm "${input.algorithm}" is an LLM algorithm; target model "${target.id}" is a router, trained as a classifier: omit algorithm`);
  }
  const { settings } = context;
  const runId = runIdFromExecutionName(executionName);
  return validatedRequestSchema.parse({
    runId,
    mode: input.mode,
    stage: settings.stage,
    boundary: settings.boundary,
    targetModelId: target.id,
    targetKind: 'router',
    modelFamily: registryKeyOf(target),
    internalOnly: target.internalOnly,
    algorithm: 'router',
    requestedBy: input.requestedBy,
    ...(input.reason === undefined ? {} : { reason: input.reason }),
    requestedAt: context.now.toISOString(),
    uris: runUris(context.artifactBucket, runId),
  });
}
