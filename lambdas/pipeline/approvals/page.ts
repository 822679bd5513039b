/**
 * HTML of the approval page: the confirmation form (GET) and the notices (decided, expired, invalid
 * link, ...). Every value that reaches the HTML goes through {@link escapeHtml}; there is no script at
 * all, and the only style is one inline block allowed by its hash in the Content-Security-Policy, so
 * even a value that escaped escaping could not run or load anything.
 */
import { contentSecurityPolicy, escapeHtml, htmlDocument, pageHeaders } from '../../shared/html-page';
import { kindLabel, type ApprovalRecord } from './approval-record';
import type { LinkParams } from './signer';
import { plainText, summaryLines, utc } from './summary-text';

export { escapeHtml };

const STYLE = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}',
  'h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}',
  'table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #ddd;overflow-wrap:anywhere}th{width:35%;font-weight:600}',
  'label{display:block;margin-top:1rem;font-weight:600}input[type=text],textarea{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}',
  '.actions{margin-top:1.2rem;display:flex;gap:1rem}button{font:inherit;padding:.5rem 1.4rem;border:0;border-radius:4px;cursor:pointer;color:#fff}',
  '.approve{background:#1d6b2f}.reject{background:#a4161a}.note{color:#555;font-size:.9rem}.error{color:#a4161a;font-weight:600}',
].join('');

/** The Content-Security-Policy: nothing but the page's own inline style, forms posting back to this origin, no framing. */
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy(STYLE);

/** Headers of every approval page response (see html-page.ts for why each is there). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = pageHeaders(CONTENT_SECURITY_POLICY);

function layout(title: string, body: string): string {
  return htmlDocument(title, STYLE, body);
}

function rows(entries: ReadonlyArray<readonly [string, string | undefined]>): string {
  const cells = entries
    .filter((e): e is readonly [string, string] => e[1] !== undefined)
    .map(([label, value]) => `<tr><th scope="row">${escapeHtml(label)}</th><td>${escapeHtml(plainText(value, 2000))}</td></tr>`);
  return `<table>${cells.join('')}</table>`;
}

function remaining(expiresAt: string, now: Date): string {
  const minutes = Math.max(0, Math.floor((Date.parse(expiresAt) - now.getTime()) / 60_000));
  return minutes >= 60 ? `in ${Math.floor(minutes / 60)} h ${minutes % 60} min` : `in ${minutes} min`;
}

/** The facts every page about a record shows. */
function requestFacts(record: ApprovalRecord): Array<readonly [string, string | undefined]> {
  return [
    ['Approval', record.approvalId],
    ['Kind', kindLabel(record.kind)],
    ['Stage', record.stage],
    ['Model', record.targetModelId],
    ['Run', record.runId],
    ['Requested by', record.requestedBy],
    ['Reason', record.reason],
    ['Requested at', utc(record.createdAt)],
    ['Execution', record.executionArn],
  ];
}

/** The decision's facts (the audit trail a human can see). */
export function decisionFacts(record: ApprovalRecord): Array<readonly [string, string | undefined]> {
  return [
    ['Decision', record.status],
    ['Decided by', record.approver],
    ['Via', record.via === 'page' ? 'approval page (personal link)' : record.via === 'cli' ? 'CLI (IAM principal)' : undefined],
    ['Decided at', record.decidedAt === undefined ? undefined : utc(record.decidedAt)],
    ['Comment', record.comment],
  ];
}

/** What the confirmation form shows again after a refused submission. */
export interface FormState {
  readonly comment?: string;
  readonly error?: string;
}

/** The confirmation page: the request, its summary, and the form. Rendering it changes nothing. */
export function confirmationPage(record: ApprovalRecord, link: LinkParams, now: Date, form: FormState = {}): string {
  const title = `Approve ${kindLabel(record.kind)} for ${record.targetModelId}?`;
  const summary = summaryLines(record.summary).map((l) => [l.label, l.value] as const);
  const body = [
    `<h1>${escapeHtml(plainText(title))}</h1>`,
    `<p>This approval expires at <strong>${escapeHtml(utc(record.expiresAt))}</strong> (${escapeHtml(remaining(record.expiresAt, now))}). After that the pipeline stops waiting and nothing proceeds.</p>`,
    rows([...requestFacts(record), ['Expires at', utc(record.expiresAt)]]),
    '<h2>Summary</h2>',
    summary.length > 0 ? rows(summary) : '<p>No summary was given.</p>',
    '<h2>Your decision</h2>',
    form.error !== undefined ? `<p class="error" role="alert">${escapeHtml(plainText(form.error))}</p>` : '',
    // Relative action: resolves to this page's own path, behind an API stage prefix or not.
    `<form method="post" action="./${escapeHtml(encodeURIComponent(record.approvalId))}">`,
    `<input type="hidden" name="exp" value="${escapeHtml(link.exp)}">`,
    `<input type="hidden" name="sig" value="${escapeHtml(link.sig)}">`,
    // The approver is the address the link's signature covers: shown, carried, never typed.
    `<input type="hidden" name="to" value="${escapeHtml(link.to ?? '')}">`,
    `<p class="as">Deciding as <strong>${escapeHtml(link.to ?? '')}</strong> (the address this personal link was sent to).</p>`,
    '<label for="comment">Comment (optional)</label>',
    `<textarea id="comment" name="comment" rows="3" maxlength="2000">${escapeHtml(form.comment ?? '')}</textarea>`,
    '<div class="actions">',
    '<button type="submit" class="approve" name="decision" value="approved">Approve</button>',
    '<button type="submit" class="reject" name="decision" value="rejected">Reject</button>',
    '</div></form>',
    '<p class="note">Opening this page changed nothing. A decision is final: it is recorded as decided by this address, with the time, your IP address and browser, and the link stops working.</p>',
  ].join('\n');
  return layout(title, body);
}

/** A notice: a heading, a few sentences, and optionally the record's facts and decision. */
export interface Notice {
  readonly title: string;
  readonly paragraphs: readonly string[];
  readonly record?: ApprovalRecord;
  readonly showDecision?: boolean;
}

/** Any page other than the form (outcomes and errors). */
export function noticePage(notice: Notice): string {
  const parts = [`<h1>${escapeHtml(plainText(notice.title))}</h1>`, ...notice.paragraphs.map((p) => `<p>${escapeHtml(plainText(p, 2000))}</p>`)];
  if (notice.record !== undefined) {
    if (notice.showDecision === true) parts.push(rows(decisionFacts(notice.record)));
    parts.push('<h2>Request</h2>', rows(requestFacts(notice.record)));
  }
  return layout(notice.title, parts.join('\n'));
}
