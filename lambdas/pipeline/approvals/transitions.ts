/**
 * The record's state transitions as pure functions: each `can*` is the condition a store must check
 * atomically with the write, and each `with*` is the write. The local store applies them under a file
 * lock; the DynamoDB store states the same conditions as ConditionExpressions (kept side by side with
 * these in aws/dynamodb-approval-store.ts). Keeping them here makes the rules one readable page.
 */
import type { ApprovalDecision } from '../contracts';
import type { ApprovalRecord, DeliveryStatus } from './approval-record';

/** The fields a decision writes (the record's audit trail). */
export interface DecisionFields {
  readonly status: ApprovalDecision['decision'];
  readonly approver: string;
  readonly comment?: string;
  readonly decidedAt: string;
  readonly via: ApprovalDecision['via'];
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** What the end of a delivery attempt writes. */
export interface DeliveryFields {
  readonly status: Exclude<DeliveryStatus, 'pending'>;
  readonly error?: string;
}

function beforeExpiry(record: ApprovalRecord, now: Date): boolean {
  return now.getTime() < Date.parse(record.expiresAt);
}

/**
 * A token may be attached while the approval is pending and unexpired, and only until the e-mail went
 * out: a retried `Request ... approval` attempt (Step Functions issues a new token per attempt) may
 * replace the token of an attempt that failed before notifying, never one a human was asked about.
 */
export function canAttachToken(record: ApprovalRecord, now: Date): boolean {
  return record.status === 'pending' && beforeExpiry(record, now) && record.notifiedAt === undefined;
}

export function withToken(record: ApprovalRecord, taskToken: string, now: Date): ApprovalRecord {
  return { ...record, taskToken, tokenAttachedAt: now.toISOString(), waitingStage: record.stage };
}

/** Notified once; a second mark keeps the first time. */
export function withNotified(record: ApprovalRecord, now: Date): ApprovalRecord {
  return record.notifiedAt === undefined ? { ...record, notifiedAt: now.toISOString() } : record;
}

/** The single-use rule: pending, unexpired, and a task waiting for the answer. */
export function canDecide(record: ApprovalRecord, now: Date): boolean {
  return record.status === 'pending' && beforeExpiry(record, now) && record.taskToken !== undefined;
}

export function withDecision(record: ApprovalRecord, decision: DecisionFields, now: Date): ApprovalRecord {
  const { waitingStage: _removed, ...rest } = record;
  return {
    ...rest,
    status: decision.status,
    approver: decision.approver,
    ...(decision.comment !== undefined ? { comment: decision.comment } : {}),
    decidedAt: decision.decidedAt,
    via: decision.via,
    ...(decision.sourceIp !== undefined ? { sourceIp: decision.sourceIp } : {}),
    ...(decision.userAgent !== undefined ? { userAgent: decision.userAgent } : {}),
    deliveryStatus: 'pending',
    deliveryAt: now.toISOString(),
  };
}

/**
 * A recorded decision whose callback failed, or whose delivery has been pending since before
 * `staleBefore` (the deciding process died), may be delivered again by whoever claims it first.
 * A fresh `pending` belongs to the process that is delivering it right now.
 */
export function canClaimDelivery(record: ApprovalRecord, staleBefore: Date): boolean {
  if (record.status === 'pending' || record.taskToken === undefined) return false;
  if (record.deliveryStatus === 'failed') return true;
  return record.deliveryStatus === 'pending' && record.deliveryAt !== undefined && Date.parse(record.deliveryAt) < staleBefore.getTime();
}

export function withDeliveryClaim(record: ApprovalRecord, now: Date): ApprovalRecord {
  const { deliveryError: _cleared, ...rest } = record;
  return { ...rest, deliveryStatus: 'pending', deliveryAt: now.toISOString() };
}

/** Only the delivery in progress may write its result (a late duplicate must not overwrite `delivered`). */
export function canRecordDelivery(record: ApprovalRecord): boolean {
  return record.deliveryStatus === 'pending';
}

export function withDelivery(record: ApprovalRecord, delivery: DeliveryFields, now: Date): ApprovalRecord {
  const { deliveryError: _cleared, ...rest } = record;
  return {
    ...rest,
    deliveryStatus: delivery.status,
    deliveryAt: now.toISOString(),
    ...(delivery.error !== undefined ? { deliveryError: delivery.error } : {}),
  };
}

/** What `listPending` returns: waiting for a human (token attached), undecided, unexpired. */
export function isWaiting(record: ApprovalRecord, now: Date): boolean {
  return record.status === 'pending' && record.taskToken !== undefined && beforeExpiry(record, now);
}
