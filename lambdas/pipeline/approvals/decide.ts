/**
 * The decision, shared by the approval page and the CLI: record it with a conditional write (so a
 * replayed link, a double POST or a second CLI call can never decide twice), then tell the waiting
 * task: SendTaskSuccess with the ApprovalDecision, or SendTaskFailure `ApprovalRejected` with the
 * decision as JSON in the cause.
 *
 * The decision is written before the callback on purpose: the record is the audit trail, and a
 * callback without a record could let a second decision through. If the callback then fails for a
 * transient reason, the decision stays recorded and its delivery is retried by the next caller who
 * reaches the record; it is never replaced by another decision.
 */
import * as z from '../../shared/zod-mini';
import { PIPELINE_ERRORS } from '../../../stepfunctions/training-pipeline-states';
import { approvalDecisionSchema, type ApprovalDecision } from '../contracts';
import type { Clock } from '../ports';
import { approvalStatus, isDecided, type ApprovalRecord } from './approval-record';
import { dutyRefusal, type ApproverIdentity, type ApproverLists, type DutyRefusal } from './approver-duties';
import type { ApprovalStore } from './store';
import { TaskCallbackRefused, type CallbackRefusal, type TaskCallbacks } from './task-callbacks';
import { canClaimDelivery, type DecisionFields } from './transitions';

/** A delivery still `pending` this long after it started belongs to a process that died; it may be retried. */
export const STALE_DELIVERY_MS = 5 * 60_000;

/** Longest approver string kept (the page link's e-mail address, or an IAM ARN). */
export const MAX_APPROVER_CHARS = 256;

/** What a human supplies with a decision, validated the same way for the page and the CLI. */
export const decisionInputSchema = z.strictObject({
  decision: approvalDecisionSchema.shape.decision,
  approver: z.string().check(z.trim(), z.minLength(1, 'a name is required'), z.maxLength(MAX_APPROVER_CHARS, `at most ${MAX_APPROVER_CHARS} characters`)),
  // An empty comment box means no comment.
  comment: z.pipe(z.optional(z.string().check(z.trim(), z.maxLength(2000, 'at most 2000 characters'))), z.transform((c) => (c === '' ? undefined : c))),
});
export type DecisionInput = z.infer<typeof decisionInputSchema>;

/** A decision as a caller supplies it (validated and trimmed by {@link decisionInputSchema}). */
export interface DecideCommand extends z.input<typeof decisionInputSchema> {
  readonly approvalId: string;
  readonly via: ApprovalDecision['via'];
  /** Where the decision came from, for the audit fields (the page sets both; the CLI neither). */
  readonly sourceIp?: string;
  readonly userAgent?: string;
  /**
   * Who is deciding as the channel verified it (the CLI's STS caller, the page link's e-mail): checked
   * against the run's requester and the stage's approver lists. Absent only for the SIMULATED scripted
   * approver of local runs, which no person can reach.
   */
  readonly identity?: ApproverIdentity;
}

export interface DecideDeps {
  readonly store: ApprovalStore;
  readonly callbacks: TaskCallbacks;
  readonly clock: Clock;
  /** The approver lists of an approval's stage (undefined: none named, only the requester is excluded). */
  readonly approversOf?: (stage: string) => ApproverLists | undefined;
}

/** Every way a decision can end; the page and the CLI word each one for a human. */
export type DecideOutcome =
  /** Recorded and delivered: the pipeline continues (approved) or stops (rejected). */
  | { readonly kind: 'decided'; readonly record: ApprovalRecord; readonly decision: ApprovalDecision }
  /** Recorded, but the task had stopped waiting (timed out, execution gone): nothing changes in the pipeline. */
  | { readonly kind: 'too-late'; readonly record: ApprovalRecord; readonly decision: ApprovalDecision; readonly refusal: CallbackRefusal }
  /** An earlier decision whose delivery had failed was delivered now; the caller's own choice was not used. */
  | { readonly kind: 'redelivered'; readonly record: ApprovalRecord; readonly decision: ApprovalDecision }
  | { readonly kind: 'already-decided'; readonly record: ApprovalRecord }
  | { readonly kind: 'expired'; readonly record: ApprovalRecord }
  /** The pipeline has not attached its task token yet: nothing could receive a decision. */
  | { readonly kind: 'not-requested'; readonly record: ApprovalRecord }
  | { readonly kind: 'not-found' }
  /** Separation of duties: this decider may not decide this approval; nothing was recorded. */
  | { readonly kind: 'refused'; readonly record: ApprovalRecord; readonly refusal: DutyRefusal };

/**
 * Thrown when a decision was recorded but the callback failed for a transient reason (after the
 * SDK's own retries). The decision stands; deciding again (any choice) retries its delivery.
 */
export class DecisionNotDelivered extends Error {
  override name = 'DecisionNotDelivered';
  constructor(
    readonly record: ApprovalRecord,
    readonly decision: ApprovalDecision,
    options: { cause: unknown },
  ) {
    super(`The decision on ${record.approvalId} is recorded (${decision.decision}) but could not be delivered to the pipeline yet`, options);
  }
}

/** The contract's ApprovalDecision of a decided record. */
export function decisionOf(record: ApprovalRecord): ApprovalDecision {
  if (!isDecided(record) || record.approver === undefined || record.decidedAt === undefined || record.via === undefined) {
    throw new Error(`Approval ${record.approvalId} has no complete decision to deliver`);
  }
  return approvalDecisionSchema.parse({
    approvalId: record.approvalId,
    decision: record.status,
    approver: record.approver,
    ...(record.comment !== undefined ? { comment: record.comment } : {}),
    decidedAt: record.decidedAt,
    via: record.via,
  });
}

function describe(error: unknown): string {
  const e = error as { name?: unknown; message?: unknown } | null;
  const text = typeof e === 'object' && e !== null && typeof e.message === 'string' ? `${String(e.name)}: ${e.message}` : String(error);
  return text.slice(0, 500);
}

/** Sends the recorded decision to the record's task and records how that went. */
async function deliver(record: ApprovalRecord, deps: DecideDeps): Promise<{ decision: ApprovalDecision; refusal?: CallbackRefusal }> {
  const decision = decisionOf(record);
  const token = record.taskToken;
  if (token === undefined) throw new Error(`Approval ${record.approvalId} was decided without a task token`);
  try {
    if (decision.decision === 'approved') await deps.callbacks.succeed(token, JSON.stringify(decision));
    else await deps.callbacks.fail(token, PIPELINE_ERRORS.approvalRejected, JSON.stringify(decision));
  } catch (error) {
    if (error instanceof TaskCallbackRefused) {
      await deps.store.recordDelivery(record.approvalId, { status: error.reason, error: error.message.slice(0, 500) }, deps.clock());
      return { decision, refusal: error.reason };
    }
    await deps.store.recordDelivery(record.approvalId, { status: 'failed', error: describe(error) }, deps.clock());
    throw new DecisionNotDelivered(record, decision, { cause: error });
  }
  await deps.store.recordDelivery(record.approvalId, { status: 'delivered' }, deps.clock());
  return { decision };
}

/** A decided record: retry its delivery if it failed or stalled, otherwise report who decided. */
async function settleDecided(record: ApprovalRecord, deps: DecideDeps): Promise<DecideOutcome> {
  const now = deps.clock();
  const staleBefore = new Date(now.getTime() - STALE_DELIVERY_MS);
  if (!canClaimDelivery(record, staleBefore)) return { kind: 'already-decided', record };
  const claimed = await deps.store.claimDelivery(record.approvalId, now, staleBefore);
  if (claimed === undefined) return { kind: 'already-decided', record };
  const { decision, refusal } = await deliver(claimed, deps);
  return refusal === undefined ? { kind: 'redelivered', record: claimed, decision } : { kind: 'too-late', record: claimed, decision, refusal };
}

function classify(record: ApprovalRecord, now: Date): DecideOutcome | undefined {
  const status = approvalStatus(record, now);
  if (status === 'expired') return { kind: 'expired', record };
  if (status === 'pending' && record.taskToken === undefined) return { kind: 'not-requested', record };
  return undefined;
}

/** Decides an approval once; see {@link DecideOutcome} for every way it can end. */
export async function decideApproval(command: DecideCommand, deps: DecideDeps): Promise<DecideOutcome> {
  const input = decisionInputSchema.parse({ decision: command.decision, approver: command.approver, comment: command.comment });
  const before = await deps.store.get(command.approvalId);
  if (before === undefined) return { kind: 'not-found' };
  if (isDecided(before)) return settleDecided(before, deps);
  const early = classify(before, deps.clock());
  if (early !== undefined) return early;
  if (command.identity !== undefined) {
    const refusal = dutyRefusal(before, command.identity, deps.approversOf?.(before.stage));
    if (refusal !== undefined) return { kind: 'refused', record: before, refusal };
  }

  const now = deps.clock();
  const fields: DecisionFields = {
    status: input.decision,
    approver: input.approver,
    ...(input.comment !== undefined ? { comment: input.comment } : {}),
    decidedAt: now.toISOString(),
    via: command.via,
    ...(command.sourceIp !== undefined ? { sourceIp: command.sourceIp } : {}),
    ...(command.userAgent !== undefined ? { userAgent: command.userAgent } : {}),
  };
  const written = await deps.store.decide(command.approvalId, fields, now);
  if (written === undefined) {
    // Lost the conditional write: someone decided in between, or it expired. Say which.
    const after = await deps.store.get(command.approvalId);
    if (after === undefined) return { kind: 'not-found' };
    if (isDecided(after)) return settleDecided(after, deps);
    const reason = classify(after, deps.clock());
    // The write is refused only for a decided, expired or token-less record; anything else is a store bug.
    if (reason === undefined) throw new Error(`The store refused a decision on ${command.approvalId} that is still open`);
    return reason;
  }
  const { decision, refusal } = await deliver(written, deps);
  return refusal === undefined ? { kind: 'decided', record: written, decision } : { kind: 'too-late', record: written, decision, refusal };
}
