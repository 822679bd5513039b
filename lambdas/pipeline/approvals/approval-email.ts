/**
 * The e-mail an approval sends to each approver: a human summary and that approver's personal link to
 * the confirmation page (or, with nobody to address, the view-only link and the CLI command). Plain
 * text (SNS e-mail subscriptions deliver text); every value passes through `plainText`, so a hostile
 * summary cannot add lines, links or reordered text. It never contains the task token.
 */
import type { ApprovalKind } from '../contracts';
import { kindLabel, type ApprovalRecord } from './approval-record';
import { plainText, summaryLines, utc } from './summary-text';

export interface ApprovalEmail {
  readonly topic: 'approvals' | 'finops';
  readonly subject: string;
  readonly message: string;
}

/** FinOps exceptions go to the FinOps approvers; training and deploy stages to the model approvers. */
export function topicFor(kind: ApprovalKind): 'approvals' | 'finops' {
  return kind === 'finops' ? 'finops' : 'approvals';
}

/**
 * Composes the e-mail for a record; `approvalUrl` is the signed page link (no token in it), personal
 * to `recipient` when given.
 */
export function approvalEmail(record: ApprovalRecord, approvalUrl: string, recipient?: string): ApprovalEmail {
  const what = kindLabel(record.kind);
  // The Notifier adapter makes subjects fit its transport (SNS: printable ASCII, under 100 characters).
  const subject = plainText(`[sial ${record.stage}] Approval needed: ${what} for ${record.targetModelId} (run ${record.runId})`, 200);
  const summary = summaryLines(record.summary).map((l) => `  ${l.label}: ${l.value}`);
  const lines = [
    `A ${what} for ${plainText(record.targetModelId)} in stage ${plainText(record.stage)} is waiting for your decision.`,
    '',
    `  Requested by: ${plainText(record.requestedBy)}`,
    ...(record.reason !== undefined ? [`  Reason: ${plainText(record.reason)}`] : []),
    `  Run: ${plainText(record.runId)}`,
    `  Approval: ${record.approvalId}`,
    `  Expires: ${utc(record.expiresAt)}`,
    '',
    'Summary',
    ...(summary.length > 0 ? summary : ['  (none given)']),
    '',
    ...(recipient !== undefined
      ? [
          `Review and decide on the approval page (opening it changes nothing; the decision is a button on the page). This link is personal to ${recipient}: it decides as you, so do not forward it.`,
          approvalUrl,
          '',
          `The link works once and expires at ${utc(record.expiresAt)}. Without a decision by then the pipeline stops waiting and nothing proceeds.`,
        ]
      : ['No approver address is configured for this kind of approval, so this link only shows the request:', approvalUrl, '', `Without a decision by ${utc(record.expiresAt)} the pipeline stops waiting and nothing proceeds.`]),
    `With AWS credentials you can also decide from a terminal: sial approvals approve ${record.approvalId}  (or: reject)`,
    '',
    `Execution: ${plainText(record.executionArn)}`,
  ];
  return { topic: topicFor(record.kind), subject, message: lines.join('\n') };
}
