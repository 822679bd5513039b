/**
 * The approval record: one per human approval the pipeline asks for (docs/architecture.md, "Contracts",
 * "Approval"). It is created by `Prepare ... approval` without a task token, receives the token from
 * `Request ... approval`, and is decided once, by the page or the CLI. The stored status is only ever
 * pending, approved or rejected; "expired" is derived from `expiresAt` when a record is read, so no
 * background job has to sweep records.
 */
import * as z from '../../shared/zod-mini';
import { APPROVAL_KINDS, approvalDecisionSchema, type ApprovalKind } from '../contracts';

const isoInstant = z.iso.datetime({ offset: true });

/** Approval ids: the contracts' id pattern (they travel in URLs and ARNs of nothing else). */
export const approvalIdSchema = z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 . _ : -'));

/** Largest serialized summary: it is shown on a page and in an e-mail, and stored in one DynamoDB item. */
export const MAX_SUMMARY_BYTES = 16 * 1024;

/** The human-relevant figures the state machine passes (dataset counts, eligibility, cost, who asked). */
export const approvalSummarySchema = z.record(z.string(), z.json()).check(z.refine((s) => Buffer.byteLength(JSON.stringify(s)) <= MAX_SUMMARY_BYTES, `the summary must serialize to at most ${MAX_SUMMARY_BYTES} bytes`));
export type ApprovalSummary = z.infer<typeof approvalSummarySchema>;

/** Stored statuses. `expired` is never stored (see {@link approvalStatus}). */
export const STORED_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type StoredStatus = (typeof STORED_STATUSES)[number];
export type ApprovalStatus = StoredStatus | 'expired';

/**
 * What became of the SendTaskSuccess / SendTaskFailure call after a decision. `pending` is written
 * with the decision and replaced once the call returns; the three refusals are final (the task is no
 * longer waiting), `failed` means a transient error outlasted the SDK's retries and may be retried.
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'task-timed-out', 'task-not-found', 'invalid-token'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** How long a decided record is kept after its expiry before DynamoDB TTL removes it (docs/decisions.md, "Approvals"). */
export const APPROVAL_RECORD_RETENTION_DAYS = 400;

export const approvalRecordSchema = z.object({
  approvalId: approvalIdSchema,
  kind: z.enum(APPROVAL_KINDS),
  stage: z.string().check(z.minLength(1)),
  runId: z.string().check(z.minLength(1)),
  targetModelId: z.string().check(z.minLength(1)),
  requestedBy: z.string().check(z.minLength(1)),
  reason: z.optional(z.string()),
  summary: approvalSummarySchema,
  executionArn: z.string().check(z.minLength(1)),
  createdAt: isoInstant,
  /** The link and the task both end here; the state's TimeoutSeconds matches it. */
  expiresAt: isoInstant,
  status: z.enum(STORED_STATUSES),
  /** DynamoDB TTL attribute, epoch seconds: well after expiry, so decisions stay auditable. */
  ttl: z.number().check(z.int(), z.positive()),
  /** Set once by `Request ... approval`; never rendered, never in a URL or an e-mail. */
  taskToken: z.optional(z.string().check(z.minLength(1))),
  tokenAttachedAt: z.optional(isoInstant),
  /** When the one e-mail went out; after it the token can no longer be replaced. */
  notifiedAt: z.optional(isoInstant),
  /** Sparse index key: the stage while the approval waits for a human, removed by the decision. */
  waitingStage: z.optional(z.string()),
  approver: z.optional(z.string()),
  comment: z.optional(z.string()),
  decidedAt: z.optional(isoInstant),
  via: z.optional(approvalDecisionSchema.shape.via),
  /** Audit: where the decision came from (the page only; the CLI's identity is its IAM principal). */
  sourceIp: z.optional(z.string()),
  userAgent: z.optional(z.string()),
  deliveryStatus: z.optional(z.enum(DELIVERY_STATUSES)),
  deliveryAt: z.optional(isoInstant),
  deliveryError: z.optional(z.string()),
});
export type ApprovalRecord = z.infer<typeof approvalRecordSchema>;

/**
 * The table's shape, for the construct that creates it: partition key, TTL attribute, and the sparse
 * index `listPending` queries (partition `waitingStage`, sort `expiresAt`, projection ALL).
 */
export const APPROVALS_TABLE_SCHEMA = {
  partitionKey: 'approvalId',
  ttlAttribute: 'ttl',
  waitingIndex: { name: 'waiting-by-stage', partitionKey: 'waitingStage', sortKey: 'expiresAt' },
} as const;

/** The status a reader sees: a pending record past its expiry reads as `expired`. */
export function approvalStatus(record: Pick<ApprovalRecord, 'status' | 'expiresAt'>, now: Date): ApprovalStatus {
  if (record.status === 'pending' && now.getTime() >= Date.parse(record.expiresAt)) return 'expired';
  return record.status;
}

/** True once a human decided (approved or rejected), whatever became of the callback. */
export function isDecided(record: Pick<ApprovalRecord, 'status'>): boolean {
  return record.status !== 'pending';
}

/** TTL (epoch seconds) of a record expiring at `expiresAt`. */
export function ttlFor(expiresAt: Date): number {
  return Math.floor(expiresAt.getTime() / 1000) + APPROVAL_RECORD_RETENTION_DAYS * 86_400;
}

/** Words for a kind, for subjects, pages and the CLI. */
export function kindLabel(kind: ApprovalKind): string {
  switch (kind) {
    case 'train':
      return 'training run';
    case 'finops':
      return 'FinOps budget exception';
    case 'deploy-stage':
      return 'deployment stage';
  }
}

/** Validates a record read from a store; a record that does not fit is a bug or tampering, never data to act on. */
export function parseApprovalRecord(raw: unknown, where: string): ApprovalRecord {
  const result = approvalRecordSchema.safeParse(raw);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`The approval record in ${where} is invalid: ${fields}`);
  }
  return result.data;
}
