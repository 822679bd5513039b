/**
 * `Prepare ... approval`: creates the approval record (pending, no token yet) and returns the
 * ApprovalRef the next state carries in its input, so an operator finds the page link in the Step
 * Functions console. Creating the record here, before the task-token state, keeps the token out of
 * everything a human or the console sees: the token only ever goes from Step Functions to the store.
 */
import { randomBytes } from 'node:crypto';
import * as z from '../../shared/zod-mini';
import { APPROVAL_KINDS, approvalRefSchema, validatedRequestSchema, type ApprovalKind, type ApprovalRef } from '../contracts';
import type { Clock } from '../ports';
import { approvalSummarySchema, ttlFor, type ApprovalRecord } from './approval-record';
import type { ApprovalLinkSigner } from './signer';
import type { ApprovalStore } from './store';

/**
 * What an approval needs of the run it gates: the training pipeline passes its whole `$.request`, the
 * canary rollout `{ runId: rolloutId, stage, targetModelId, requestedBy }`. Other fields are dropped.
 */
export const approvalRequestSchema = z.object(z.pick(validatedRequestSchema, { runId: true, stage: true, targetModelId: true, requestedBy: true, reason: true }).shape);

/** The Lambda's input: `{ kind, request: $.request, summary: {...}, executionArn: $$.Execution.Id }`. */
export const prepareApprovalInputSchema = z.strictObject({
  kind: z.enum(APPROVAL_KINDS),
  request: approvalRequestSchema,
  summary: approvalSummarySchema,
  executionArn: z.string().check(z.minLength(1), z.maxLength(2048)),
});
export type PrepareApprovalInput = z.infer<typeof prepareApprovalInputSchema>;

export interface PrepareApprovalDeps {
  readonly store: ApprovalStore;
  readonly signer: ApprovalLinkSigner;
  readonly clock: Clock;
  /** Where the approval page is served: the API's URL in AWS, the local server's locally. */
  readonly pageBaseUrl: string;
  /** The stage's `approvals.expiryHours`; the task-token state's TimeoutSeconds is the same span. */
  readonly expiryHours: number;
  /** Ids are random by default; tests pass their own. */
  readonly newId?: (kind: ApprovalKind) => string;
}

/**
 * A new id: the kind plus 64 random bits. The id is not a secret (the signature is), so its
 * randomness only has to avoid collisions, which `create` refuses anyway.
 */
export function newApprovalId(kind: ApprovalKind): string {
  return `${kind}-${randomBytes(8).toString('hex')}`;
}

/** Whole seconds of the approval window; also the task-token state's TimeoutSeconds. */
export function approvalTimeoutSeconds(expiryHours: number): number {
  return Math.ceil(expiryHours * 3600);
}

/** Creates the pending record and returns its reference with the signed page link. */
export async function prepareApproval(input: PrepareApprovalInput, deps: PrepareApprovalDeps): Promise<ApprovalRef> {
  const now = deps.clock();
  // Whole seconds, so the link's `exp` and the record's `expiresAt` are the same instant.
  const createdAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const expiresAt = new Date(createdAt.getTime() + approvalTimeoutSeconds(deps.expiryHours) * 1000);
  const approvalId = (deps.newId ?? newApprovalId)(input.kind);
  const { request } = input;
  const record: ApprovalRecord = {
    approvalId,
    kind: input.kind,
    stage: request.stage,
    runId: request.runId,
    targetModelId: request.targetModelId,
    requestedBy: request.requestedBy,
    ...(request.reason !== undefined ? { reason: request.reason } : {}),
    summary: input.summary,
    executionArn: input.executionArn,
    createdAt: createdAt.toISOString(),
    expiresAt: expiresAt.toISOString(),
    status: 'pending',
    ttl: ttlFor(expiresAt),
  };
  await deps.store.create(record);
  const approvalUrl = await deps.signer.url(deps.pageBaseUrl, approvalId, expiresAt);
  return approvalRefSchema.parse({ approvalId, kind: input.kind, approvalUrl, expiresAt: record.expiresAt });
}
