/**
 * The approval page's HTTP behaviour, independent of how requests arrive: the API Gateway handler
 * (api-handler.ts) and the local node:http server both translate to {@link ApprovalHttpRequest} and
 * back, so AWS and local mode serve the same pages and take the same decisions.
 *
 *   GET  /approvals/{id}?exp&sig  the confirmation page; reads, never writes (link scanners follow GETs)
 *   POST /approvals/{id}          form-encoded exp, to, sig, decision, comment: decides once, as `to`
 *
 * Only a personal link (one whose signature covers an approver's address, `to`) can decide, and it
 * decides as that address: the run's requester, an address not on the kind's approver list and a
 * link without an address are refused before anything is recorded.
 *
 * Status codes: 200 shown/decided, 400 bad form, 403 invalid link (nothing else said), 404 unknown,
 * 405 other methods, 409 already decided or too late, 410 expired, 413/415 bad body, 502 recorded
 * but not delivered, 503 not requested yet.
 */
import { dutyRefusalText } from './approver-duties';
import type { ApprovalRecord } from './approval-record';
import { approvalIdSchema, approvalStatus, isDecided, kindLabel } from './approval-record';
import { decideApproval, decisionInputSchema, DecisionNotDelivered, type DecideDeps, type DecideOutcome } from './decide';
import { confirmationPage, noticePage, PAGE_HEADERS, type FormState } from './page';
import type { ApprovalLinkSigner } from './signer';
import { utc } from './summary-text';

/** Largest form body accepted: a comment of 2,000 characters, percent-encoded, fits many times over. */
export const MAX_FORM_BYTES = 16 * 1024;
const MAX_USER_AGENT_CHARS = 512;
const MAX_SOURCE_IP_CHARS = 64;

export interface ApprovalHttpRequest {
  readonly method: string;
  /** The `{id}` path segment, decoded. */
  readonly approvalId: string | undefined;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The body as text (already base64-decoded where the transport encoded it). */
  readonly body: string | undefined;
  readonly contentType: string | undefined;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** Short names of what happened, for logs and metrics (never content). */
export type ApprovalHttpOutcome =
  | 'shown'
  | 'decided'
  | 'too-late'
  | 'redelivered'
  | 'already-decided'
  | 'expired'
  | 'not-requested'
  | 'not-found'
  | 'refused'
  | 'invalid-link'
  | 'invalid-form'
  | 'not-delivered'
  | 'method-not-allowed'
  | 'unsupported-media-type'
  | 'too-large'
  | 'internal-error';

export interface ApprovalHttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly outcome: ApprovalHttpOutcome;
}

export interface ApprovalWebDeps extends DecideDeps {
  readonly signer: ApprovalLinkSigner;
}

function respond(statusCode: number, outcome: ApprovalHttpOutcome, body: string, extra: Record<string, string> = {}): ApprovalHttpResponse {
  return { statusCode, outcome, body, headers: { ...PAGE_HEADERS, ...extra } };
}

/** The one answer to any link that does not verify: it says nothing about the approval. */
function invalidLink(): ApprovalHttpResponse {
  return respond(
    403,
    'invalid-link',
    noticePage({
      title: 'This link is not valid',
      paragraphs: ['Open the link exactly as it arrived in the approval e-mail, or use the CLI: sial approvals list.'],
    }),
  );
}

function expired(record: ApprovalRecord | undefined): ApprovalHttpResponse {
  return respond(
    410,
    'expired',
    noticePage({
      title: 'This approval has expired',
      paragraphs: [
        record === undefined ? 'The link has expired.' : `It expired at ${utc(record.expiresAt)} without a decision. The pipeline stopped waiting, and nothing proceeded.`,
        'Start a new run to ask again.',
      ],
      ...(record !== undefined ? { record } : {}),
    }),
  );
}

function notFound(): ApprovalHttpResponse {
  return respond(404, 'not-found', noticePage({ title: 'Approval not found', paragraphs: ['There is no such approval (any more). Decided approvals are kept for audit for a long time, so this link is probably from another stage.'] }));
}

function alreadyDecided(record: ApprovalRecord, statusCode: number): ApprovalHttpResponse {
  return respond(
    statusCode,
    'already-decided',
    noticePage({
      title: `Already ${record.status}`,
      paragraphs: [`This approval was already ${record.status}${record.decidedAt ? ` at ${utc(record.decidedAt)}` : ''}. A decision is final and a link works only once.`],
      record,
      showDecision: true,
    }),
  );
}

function notRequested(record: ApprovalRecord): ApprovalHttpResponse {
  return respond(
    503,
    'not-requested',
    noticePage({ title: 'Not ready for a decision yet', paragraphs: ['The pipeline has not finished asking for this approval. Try again in a minute.'], record }),
    { 'retry-after': '30' },
  );
}

/** The page for an outcome of {@link decideApproval}. */
function outcomePage(outcome: DecideOutcome): ApprovalHttpResponse {
  switch (outcome.kind) {
    case 'decided': {
      const approved = outcome.decision.decision === 'approved';
      return respond(
        200,
        'decided',
        noticePage({
          title: approved ? 'Approved' : 'Rejected',
          paragraphs: [approved ? `The pipeline has been told and the ${kindLabel(outcome.record.kind)} proceeds.` : `The pipeline has been told and stops; nothing proceeds from this request.`],
          record: outcome.record,
          showDecision: true,
        }),
      );
    }
    case 'too-late': {
      const why = { 'task-timed-out': 'its wait had timed out', 'task-not-found': 'the execution no longer exists', 'invalid-token': 'it did not recognise the request' }[outcome.refusal];
      return respond(
        409,
        'too-late',
        noticePage({
          title: 'Recorded, but too late',
          paragraphs: [`Your decision (${outcome.decision.decision}) is recorded, but the pipeline was no longer waiting: ${why}. Nothing proceeds from this approval; start a new run if it is still wanted.`],
          record: outcome.record,
          showDecision: true,
        }),
      );
    }
    case 'redelivered':
      return respond(
        200,
        'redelivered',
        noticePage({
          title: `Already ${outcome.decision.decision}`,
          paragraphs: [`This approval had already been ${outcome.decision.decision}; that decision had not reached the pipeline and has been delivered now. Your submission did not change it.`],
          record: outcome.record,
          showDecision: true,
        }),
      );
    case 'already-decided':
      return alreadyDecided(outcome.record, 409);
    case 'expired':
      return expired(outcome.record);
    case 'not-requested':
      return notRequested(outcome.record);
    case 'not-found':
      return notFound();
    case 'refused':
      return respond(403, 'refused', noticePage({ title: 'Not yours to decide', paragraphs: [dutyRefusalText(outcome.refusal, outcome.record.kind), 'Nothing was recorded.'], record: outcome.record }));
  }
}

/** An authentic link that names no approver (the operator's link in the execution's input): it shows, never decides. */
function viewOnly(record: ApprovalRecord): ApprovalHttpResponse {
  return respond(
    200,
    'shown',
    noticePage({
      title: 'Waiting for an approver',
      paragraphs: ['This link shows the request only. Each approver decides with the personal link e-mailed to them, or with the CLI: sial approvals approve ' + record.approvalId + ' (or: reject).'],
      record,
    }),
  );
}

/** A POST from a link that names no approver: nothing is recorded. */
function noApprover(record: ApprovalRecord | undefined): ApprovalHttpResponse {
  return respond(403, 'refused', noticePage({ title: 'Not a personal link', paragraphs: ['Only the personal link e-mailed to an approver can decide. Nothing was recorded.'], ...(record !== undefined ? { record } : {}) }));
}

/** After an authentic link is past its expiry: decided records still say who decided. */
async function expiredLink(approvalId: string, deps: ApprovalWebDeps, decidedStatus: number): Promise<ApprovalHttpResponse> {
  const record = await deps.store.get(approvalId);
  if (record !== undefined && isDecided(record)) return alreadyDecided(record, decidedStatus);
  return expired(record);
}

async function showPage(approvalId: string, link: { readonly exp?: string | undefined; readonly sig?: string | undefined; readonly to?: string | undefined }, deps: ApprovalWebDeps): Promise<ApprovalHttpResponse> {
  const now = deps.clock();
  const check = await deps.signer.verify(approvalId, link, now);
  if (!check.ok) return check.reason === 'forged' ? invalidLink() : expiredLink(approvalId, deps, 200);
  const record = await deps.store.get(approvalId);
  if (record === undefined) return notFound();
  const status = approvalStatus(record, now);
  if (status === 'expired') return expired(record);
  if (status !== 'pending') return alreadyDecided(record, 200);
  if (record.taskToken === undefined) return notRequested(record);
  if (check.to === undefined) return viewOnly(record);
  return respond(200, 'shown', confirmationPage(record, { exp: link.exp ?? '', sig: link.sig ?? '', to: check.to }, now));
}

function formField(form: URLSearchParams, name: string): string | undefined {
  return form.get(name) ?? undefined;
}

async function submitDecision(approvalId: string, request: ApprovalHttpRequest, deps: ApprovalWebDeps): Promise<ApprovalHttpResponse> {
  const mediaType = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    return respond(415, 'unsupported-media-type', noticePage({ title: 'Unsupported form', paragraphs: ['Submit the decision with the form on the approval page.'] }));
  }
  const body = request.body ?? '';
  if (Buffer.byteLength(body) > MAX_FORM_BYTES) {
    return respond(413, 'too-large', noticePage({ title: 'Form too large', paragraphs: [`The form exceeds ${MAX_FORM_BYTES} bytes; shorten the comment.`] }));
  }
  const form = new URLSearchParams(body);
  const link = { exp: formField(form, 'exp'), sig: formField(form, 'sig'), to: formField(form, 'to') };
  const check = await deps.signer.verify(approvalId, link, deps.clock());
  if (!check.ok) return check.reason === 'forged' ? invalidLink() : expiredLink(approvalId, deps, 409);
  const approver = check.to;
  if (approver === undefined) return noApprover(await deps.store.get(approvalId));

  const input = decisionInputSchema.safeParse({ decision: formField(form, 'decision'), approver, comment: formField(form, 'comment') });
  if (!input.success) {
    const record = await deps.store.get(approvalId);
    if (record === undefined) return notFound();
    const issue = input.error.issues[0];
    const field = { decision: 'Decision', comment: 'Comment' }[String(issue?.path[0])] ?? 'Form';
    const state: FormState = { comment: formField(form, 'comment') ?? '', error: `${field}: ${issue?.message ?? 'invalid'}` };
    if (approvalStatus(record, deps.clock()) !== 'pending') return outcomePage(isDecided(record) ? { kind: 'already-decided', record } : { kind: 'expired', record });
    return respond(400, 'invalid-form', confirmationPage(record, { exp: link.exp ?? '', sig: link.sig ?? '', to: approver }, deps.clock(), state));
  }

  try {
    const outcome = await decideApproval(
      {
        approvalId,
        ...input.data,
        identity: { kind: 'email', email: approver },
        via: 'page',
        ...(request.sourceIp !== undefined ? { sourceIp: request.sourceIp.slice(0, MAX_SOURCE_IP_CHARS) } : {}),
        ...(request.userAgent !== undefined ? { userAgent: request.userAgent.slice(0, MAX_USER_AGENT_CHARS) } : {}),
      },
      deps,
    );
    return outcomePage(outcome);
  } catch (error) {
    if (!(error instanceof DecisionNotDelivered)) throw error;
    return respond(
      502,
      'not-delivered',
      noticePage({
        title: `Recorded (${error.decision.decision}), not yet delivered`,
        paragraphs: ['Your decision is recorded and final, but the pipeline could not be told just now. Submit the form again in a minute to retry the delivery; your decision will not change.'],
        record: error.record,
        showDecision: true,
      }),
    );
  }
}

/** Serves one request to `/approvals/{id}`. Unexpected errors propagate: the transport logs them and answers 500. */
export async function handleApprovalHttp(request: ApprovalHttpRequest, deps: ApprovalWebDeps): Promise<ApprovalHttpResponse> {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'POST') {
    return respond(405, 'method-not-allowed', noticePage({ title: 'Method not allowed', paragraphs: ['Use the approval page.'] }), { allow: 'GET, POST' });
  }
  const id = approvalIdSchema.safeParse(request.approvalId);
  // A malformed id cannot have been signed by us: the same answer as any other invalid link.
  if (!id.success) return invalidLink();
  return method === 'GET' ? showPage(id.data, { exp: request.query.exp, sig: request.query.sig, to: request.query.to }, deps) : submitDecision(id.data, request, deps);
}

/** The page for an error nothing above anticipated (the transport logs the error itself). */
export function internalErrorResponse(): ApprovalHttpResponse {
  return {
    statusCode: 500,
    outcome: 'internal-error',
    headers: { ...PAGE_HEADERS },
    body: noticePage({ title: 'Something went wrong', paragraphs: ['Nothing is known to have changed. Try again in a minute; if it persists, use the CLI: sial approvals list.'] }),
  };
}
