/**
 * The review page's HTTP behaviour, independent of transport (the API Gateway handler and the local
 * node:http server both translate to {@link ReviewHttpRequest}), with the approval page's rules:
 *
 *   GET  /reviews/{id}?exp&sig  the masked trace and the form; reads, never writes (link scanners follow GETs)
 *   POST /reviews/{id}          form-encoded exp, sig, faithfulness, answerRelevance, misrouted, reviewer: records once
 *
 * A bad signature is refused before anything is looked up (a forged link learns nothing, not even
 * whether the item exists); the task of single use is the queue's conditional complete.
 *
 * Status codes: 200 shown/recorded, 400 bad form, 403 invalid link, 404 unknown item or trace no
 * longer in the lake, 405 other methods, 409 already reviewed, 410 expired, 413/415 bad body.
 */
import type { ApprovalLinkSigner, LinkParams } from '../../pipeline/approvals/signer';
import type { MaskedTrace } from './calibration-queries';
import { reviewItemIdSchema, type ReviewItem } from './review-item';
import { REVIEW_PAGE_HEADERS, reviewFormPage, reviewNoticePage, type ReviewFormState } from './review-page';
import type { ReviewQueue } from './review-queue';
import { reviewInputSchema, submitReview, type SubmitReviewDeps } from './submit-review';

/** Largest form body accepted: a few short fields fit many times over. */
export const MAX_REVIEW_FORM_BYTES = 8 * 1024;

export interface ReviewHttpRequest {
  readonly method: string;
  /** The `{id}` path segment, decoded. */
  readonly itemId: string | undefined;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly contentType: string | undefined;
}

/** Short names of what happened, for logs and metrics (never content). */
export type ReviewHttpOutcome =
  | 'shown'
  | 'recorded'
  | 'already-reviewed'
  | 'expired'
  | 'not-found'
  | 'trace-gone'
  | 'invalid-link'
  | 'invalid-form'
  | 'method-not-allowed'
  | 'unsupported-media-type'
  | 'too-large'
  | 'internal-error';

export interface ReviewHttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly outcome: ReviewHttpOutcome;
}

export interface ReviewWebDeps extends SubmitReviewDeps {
  readonly queue: ReviewQueue;
  /** A signer for review links (REVIEW_LINK). */
  readonly signer: ApprovalLinkSigner;
  /** The item's masked trace from the lake, or undefined when the lake no longer holds it. */
  readonly loadTrace: (item: ReviewItem) => Promise<MaskedTrace | undefined>;
  /**
   * The name the page shows for a stored agent id (`lake.hashAgentIds`: a declared agent's configured
   * name where the id is its pseudonym). Default: the stored id.
   */
  readonly agentName?: (storedAgentId: string) => Promise<string>;
}

async function shownAgent(item: ReviewItem, deps: ReviewWebDeps): Promise<string> {
  return deps.agentName === undefined ? item.agentId : deps.agentName(item.agentId);
}

function respond(statusCode: number, outcome: ReviewHttpOutcome, title: string, paragraphs: readonly string[], extra: Record<string, string> = {}): ReviewHttpResponse {
  return { statusCode, outcome, body: reviewNoticePage(title, paragraphs), headers: { ...REVIEW_PAGE_HEADERS, ...extra } };
}

const invalidLink = (): ReviewHttpResponse =>
  respond(403, 'invalid-link', 'This link is not valid', ['Open the link exactly as it arrived in the review e-mail, or use the CLI: sial review list.']);
const expired = (): ReviewHttpResponse => respond(410, 'expired', 'This review link has expired', ['The next weekly sample brings new links. Open items can still be reviewed with the CLI: sial review list.']);
const notFound = (): ReviewHttpResponse => respond(404, 'not-found', 'Review item not found', ['There is no such review item; this link is probably from another stage.']);
const traceGone = (): ReviewHttpResponse =>
  respond(404, 'trace-gone', 'The trace is no longer in the lake', ['It was erased or has aged out of the lake, so it cannot be reviewed. Nothing was recorded.']);
const alreadyReviewed = (item: ReviewItem, statusCode: number): ReviewHttpResponse =>
  respond(statusCode, 'already-reviewed', 'Already reviewed', [`This item was reviewed${item.reviewedAt !== undefined ? ` at ${item.reviewedAt.slice(0, 16).replace('T', ' ')} UTC` : ''}. A review is final and a link works only once.`]);

async function showPage(itemId: string, link: Partial<LinkParams>, deps: ReviewWebDeps): Promise<ReviewHttpResponse> {
  const check = await deps.signer.verify(itemId, link, deps.clock());
  if (!check.ok) return check.reason === 'forged' ? invalidLink() : expired();
  const item = await deps.queue.get(itemId);
  if (item === undefined) return notFound();
  if (item.status !== 'open') return alreadyReviewed(item, 200);
  const trace = await deps.loadTrace(item);
  if (trace === undefined) return traceGone();
  return { statusCode: 200, outcome: 'shown', body: reviewFormPage(item, trace, { exp: link.exp ?? '', sig: link.sig ?? '' }, {}, await shownAgent(item, deps)), headers: { ...REVIEW_PAGE_HEADERS } };
}

const FIELD_LABELS: Record<string, string> = { faithfulness: 'Faithfulness', answerRelevance: 'Answer relevance', misrouted: 'Misrouted', reviewer: 'Your name' };

async function submit(itemId: string, request: ReviewHttpRequest, deps: ReviewWebDeps): Promise<ReviewHttpResponse> {
  const mediaType = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') return respond(415, 'unsupported-media-type', 'Unsupported form', ['Submit the review with the form on the review page.']);
  const body = request.body ?? '';
  if (Buffer.byteLength(body) > MAX_REVIEW_FORM_BYTES) return respond(413, 'too-large', 'Form too large', [`The form exceeds ${MAX_REVIEW_FORM_BYTES} bytes.`]);
  const form = new URLSearchParams(body);
  const field = (name: string): string | undefined => form.get(name) ?? undefined;
  const link = { exp: field('exp'), sig: field('sig') };
  const check = await deps.signer.verify(itemId, link, deps.clock());
  if (!check.ok) return check.reason === 'forged' ? invalidLink() : expired();

  const input = reviewInputSchema.safeParse({ faithfulness: field('faithfulness'), answerRelevance: field('answerRelevance'), misrouted: field('misrouted'), reviewer: field('reviewer') });
  if (!input.success) {
    const item = await deps.queue.get(itemId);
    if (item === undefined) return notFound();
    if (item.status !== 'open') return alreadyReviewed(item, 409);
    const trace = await deps.loadTrace(item);
    if (trace === undefined) return traceGone();
    const issue = input.error.issues[0];
    const state: ReviewFormState = {
      faithfulness: field('faithfulness') ?? '',
      answerRelevance: field('answerRelevance') ?? '',
      misrouted: field('misrouted') ?? '',
      reviewer: field('reviewer') ?? '',
      error: `${FIELD_LABELS[String(issue?.path[0])] ?? 'Form'}: ${issue?.message ?? 'invalid'}`,
    };
    return { statusCode: 400, outcome: 'invalid-form', body: reviewFormPage(item, trace, { exp: link.exp ?? '', sig: link.sig ?? '' }, state, await shownAgent(item, deps)), headers: { ...REVIEW_PAGE_HEADERS } };
  }
  const outcome = await submitReview(itemId, input.data, deps);
  switch (outcome.kind) {
    case 'recorded':
      return respond(200, 'recorded', 'Review recorded', ['Thank you. Your scores are recorded and go into this week\'s agreement report; this link no longer works.']);
    case 'already-reviewed':
      return alreadyReviewed(outcome.item, 409);
    case 'not-found':
      return notFound();
  }
}

/** Serves one request to `/reviews/{id}`. Unexpected errors propagate: the transport logs them and answers 500. */
export async function handleReviewHttp(request: ReviewHttpRequest, deps: ReviewWebDeps): Promise<ReviewHttpResponse> {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'POST') return respond(405, 'method-not-allowed', 'Method not allowed', ['Use the review page.'], { allow: 'GET, POST' });
  const id = reviewItemIdSchema.safeParse(request.itemId);
  // A malformed id cannot have been signed by us: the same answer as any other invalid link.
  if (!id.success) return invalidLink();
  return method === 'GET' ? showPage(id.data, { exp: request.query.exp, sig: request.query.sig }, deps) : submit(id.data, request, deps);
}

/** The page for an error nothing above anticipated. */
export function reviewInternalErrorResponse(): ReviewHttpResponse {
  return respond(500, 'internal-error', 'Something went wrong', ['Nothing is known to have changed. Try again in a minute; if it persists, use the CLI: sial review list.']);
}
