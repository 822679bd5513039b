/**
 * The local adapter of the ApprovalStore port: every approval in one JSON file
 * (`<dir>/approvals.json`), changed under a lock with the same rules the DynamoDB store states as
 * ConditionExpressions (lambdas/pipeline/approvals/transitions.ts). The CLI (`sial approvals
 * --local DIR`), the local approval server and the local engine may be separate processes.
 */
import { join } from 'node:path';
import { parseApprovalRecord, type ApprovalRecord } from '../../lambdas/pipeline/approvals/approval-record';
import { ApprovalExistsError, type ApprovalStore, type PendingQuery } from '../../lambdas/pipeline/approvals/store';
import {
  canAttachToken,
  canClaimDelivery,
  canDecide,
  canRecordDelivery,
  isWaiting,
  withDecision,
  withDelivery,
  withDeliveryClaim,
  withNotified,
  withToken,
  type DecisionFields,
  type DeliveryFields,
} from '../../lambdas/pipeline/approvals/transitions';
import { LockedJsonFile } from './local-approval-json-file';

interface ApprovalsDocument {
  readonly approvals: Readonly<Record<string, ApprovalRecord>>;
}

/** The file name inside the local state directory. */
export const LOCAL_APPROVALS_FILE = 'approvals.json';

const codec = {
  empty: (): ApprovalsDocument => ({ approvals: {} }),
  parse(raw: unknown, where: string): ApprovalsDocument {
    const approvals = (raw as { approvals?: unknown } | null)?.approvals;
    if (approvals === null || typeof approvals !== 'object' || Array.isArray(approvals)) throw new Error(`${where} is not a local approvals file (no "approvals" object)`);
    return { approvals: Object.fromEntries(Object.entries(approvals).map(([id, record]) => [id, parseApprovalRecord(record, `${where} (${id})`)])) };
  },
};

/** ApprovalStore in `<dir>/approvals.json`. */
export class LocalApprovalStore implements ApprovalStore {
  private readonly file: LockedJsonFile<ApprovalsDocument>;

  constructor(readonly dir: string) {
    this.file = new LockedJsonFile(join(dir, LOCAL_APPROVALS_FILE), codec);
  }

  async create(record: ApprovalRecord): Promise<void> {
    const created = await this.file.update((doc) =>
      doc.approvals[record.approvalId] !== undefined ? { result: false } : { next: { approvals: { ...doc.approvals, [record.approvalId]: record } }, result: true },
    );
    if (!created) throw new ApprovalExistsError(record.approvalId);
  }

  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    return (await this.file.read()).approvals[approvalId];
  }

  async attachToken(approvalId: string, taskToken: string, now: Date): Promise<boolean> {
    return (await this.change(approvalId, (r) => canAttachToken(r, now), (r) => withToken(r, taskToken, now))) !== undefined;
  }

  async markNotified(approvalId: string, now: Date): Promise<void> {
    await this.change(approvalId, () => true, (r) => withNotified(r, now));
  }

  async decide(approvalId: string, decision: DecisionFields, now: Date): Promise<ApprovalRecord | undefined> {
    return this.change(approvalId, (r) => canDecide(r, now), (r) => withDecision(r, decision, now));
  }

  async claimDelivery(approvalId: string, now: Date, staleBefore: Date): Promise<ApprovalRecord | undefined> {
    return this.change(approvalId, (r) => canClaimDelivery(r, staleBefore), (r) => withDeliveryClaim(r, now));
  }

  async recordDelivery(approvalId: string, delivery: DeliveryFields, now: Date): Promise<boolean> {
    return (await this.change(approvalId, canRecordDelivery, (r) => withDelivery(r, delivery, now))) !== undefined;
  }

  async listPending(query: PendingQuery): Promise<ApprovalRecord[]> {
    const { approvals } = await this.file.read();
    return Object.values(approvals)
      .filter((r) => isWaiting(r, query.now) && (query.stage === undefined || r.stage === query.stage))
      .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  }

  /** A conditional update: applies `write` only if `condition` holds on the freshly read record. */
  private change(approvalId: string, condition: (r: ApprovalRecord) => boolean, write: (r: ApprovalRecord) => ApprovalRecord): Promise<ApprovalRecord | undefined> {
    return this.file.update((doc) => {
      const record = doc.approvals[approvalId];
      if (record === undefined || !condition(record)) return { result: undefined };
      const next = write(record);
      return { next: { approvals: { ...doc.approvals, [approvalId]: next } }, result: next };
    });
  }
}
