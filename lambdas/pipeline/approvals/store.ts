/**
 * The ApprovalStore port: where approval records live (DynamoDB in AWS, a JSON file locally). Every
 * method that changes a record is a conditional write whose condition is the matching `can*` rule in
 * transitions.ts; a refused condition is an ordinary `false`, never an exception, because losing a
 * race (a double POST, a replayed link) is an expected outcome the caller explains to a human.
 */
import type { ApprovalRecord } from './approval-record';
import type { DecisionFields, DeliveryFields } from './transitions';

/** Thrown by `create` when the id is taken (an id collision must never overwrite a record). */
export class ApprovalExistsError extends Error {
  override name = 'ApprovalExistsError';
  constructor(readonly approvalId: string) {
    super(`An approval with id ${approvalId} already exists`);
  }
}

/** Filter of `listPending`. */
export interface PendingQuery {
  readonly now: Date;
  /** Only approvals of this stage. */
  readonly stage?: string;
}

export interface ApprovalStore {
  /** Stores a new record; throws {@link ApprovalExistsError} when the id is taken. */
  create(record: ApprovalRecord): Promise<void>;
  /** The record, or undefined when there is none (never created, or removed by TTL). */
  get(approvalId: string): Promise<ApprovalRecord | undefined>;
  /** Attaches the task token if `canAttachToken`; false when refused (or the record does not exist). */
  attachToken(approvalId: string, taskToken: string, now: Date): Promise<boolean>;
  /** Records that the e-mail went out (first time only). */
  markNotified(approvalId: string, now: Date): Promise<void>;
  /**
   * Writes the decision if `canDecide` and returns the record as written (its token is the one the
   * decision must be delivered to); undefined when refused: someone decided first, it expired, or no
   * task waits yet.
   */
  decide(approvalId: string, decision: DecisionFields, now: Date): Promise<ApprovalRecord | undefined>;
  /** Claims a failed or stale delivery for a retry if `canClaimDelivery`; undefined when refused (someone else holds it). */
  claimDelivery(approvalId: string, now: Date, staleBefore: Date): Promise<ApprovalRecord | undefined>;
  /** Writes the end of a delivery if `canRecordDelivery`; false when another attempt already recorded one. */
  recordDelivery(approvalId: string, delivery: DeliveryFields, now: Date): Promise<boolean>;
  /** Approvals waiting for a human (`isWaiting`), soonest expiry first. */
  listPending(query: PendingQuery): Promise<ApprovalRecord[]>;
}
