/**
 * `Request ... approval` (a `lambda:invoke.waitForTaskToken` task, payload `{ taskToken, approvalId }`):
 * attaches the task token to the pending record, then sends each approver of the kind an e-mail with
 * their personal page link (one publish per address, delivered to that address's subscription only). The
 * execution then waits until a human decides (SendTaskSuccess / SendTaskFailure) or the state's
 * TimeoutSeconds, equal to the approval's expiry, times the task out (States.Timeout).
 *
 * Order: token first, e-mail second. A human can only decide once a token is attached, so sending
 * the e-mail first could invite a click that cannot be honoured yet. If the e-mail fails, the Lambda
 * fails, Step Functions retries the state with a new token, and the new token replaces the old one
 * (allowed until the e-mail went out; see transitions.ts).
 */
import * as z from '../../shared/zod-mini';
import type { Clock, Notifier } from '../ports';
import { approvalIdSchema, approvalStatus, isDecided } from './approval-record';
import { approvalEmail, topicFor } from './approval-email';
import type { AddressesByKind } from './approval-recipients';
import type { ApprovalLinkSigner } from './signer';
import type { ApprovalStore } from './store';

export const requestApprovalInputSchema = z.strictObject({
  /** `$$.Task.Token`. Bounded only loosely: Step Functions decides its length. */
  taskToken: z.string().check(z.minLength(1), z.maxLength(8192)),
  approvalId: approvalIdSchema,
});
export type RequestApprovalInput = z.infer<typeof requestApprovalInputSchema>;

export interface RequestApprovalDeps {
  readonly store: ApprovalStore;
  readonly signer: ApprovalLinkSigner;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly pageBaseUrl: string;
  /** Who gets a personal link for each kind (approval-recipients.ts); none: one view-only message. */
  readonly recipients: AddressesByKind;
}

/** The approval cannot take a token: it is unknown, decided, expired, or its e-mail already went out. */
export class ApprovalNotRequestable extends Error {
  override name = 'ApprovalNotRequestable';
}

/** What was done, for the Lambda's log (the Lambda's return value is not used by a waitForTaskToken task). */
export interface RequestApprovalResult {
  readonly approvalId: string;
  readonly topic: 'approvals' | 'finops';
  readonly expiresAt: string;
  /** False only when a decision arrived before the e-mail could go out. */
  readonly notified: boolean;
  /** How many personal links went out (0: one view-only message, nobody to address). */
  readonly personalLinks: number;
}

/** Attaches the token and sends the e-mail; throws {@link ApprovalNotRequestable} when the record refuses the token. */
export async function requestApproval(input: RequestApprovalInput, deps: RequestApprovalDeps): Promise<RequestApprovalResult> {
  const { approvalId, taskToken } = input;
  const attached = await deps.store.attachToken(approvalId, taskToken, deps.clock());
  const record = await deps.store.get(approvalId);
  if (record === undefined) throw new ApprovalNotRequestable(`Approval ${approvalId} does not exist`);
  if (!attached) {
    const status = approvalStatus(record, deps.clock());
    const why = status !== 'pending' ? `it is ${status}` : 'its e-mail was already sent for an earlier attempt';
    throw new ApprovalNotRequestable(`Approval ${approvalId} cannot be requested: ${why}`);
  }
  // Someone with the console link decided between the two reads: the decision already went to this
  // token, so asking by e-mail would only confuse.
  if (isDecided(record)) return { approvalId, topic: topicFor(record.kind), expiresAt: record.expiresAt, notified: false, personalLinks: 0 };
  const expiresAt = new Date(record.expiresAt);
  const recipients = deps.recipients[record.kind];
  if (recipients.length === 0) {
    const email = approvalEmail(record, await deps.signer.url(deps.pageBaseUrl, approvalId, expiresAt));
    await deps.notifier.publish(email.topic, email.subject, email.message);
  }
  // One message per approver, each with a link only they receive: a shared message would let every
  // approver read (and use) the others' links. A retried attempt re-sends the same links.
  for (const recipient of recipients) {
    const email = approvalEmail(record, await deps.signer.url(deps.pageBaseUrl, approvalId, expiresAt, recipient), recipient);
    await deps.notifier.publish(email.topic, email.subject, email.message, recipient);
  }
  await deps.store.markNotified(approvalId, deps.clock());
  return { approvalId, topic: topicFor(record.kind), expiresAt: record.expiresAt, notified: true, personalLinks: recipients.length };
}
