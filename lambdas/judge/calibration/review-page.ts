/**
 * HTML of the review page: the masked trace (question, contexts, answer, tool calls) and a form for
 * the reviewer's OWN scores. The judge's scores are never on the page, before or after submission: a
 * person who saw them first would anchor on them, and agreement would measure nothing. Every value is
 * escaped; no script; the one inline style is allowed by its hash (html-page.ts).
 */
import { contentSecurityPolicy, escapeHtml, htmlDocument, pageHeaders } from '../../shared/html-page';
import type { LinkParams } from '../../pipeline/approvals/signer';
import type { MaskedTrace } from './calibration-queries';
import type { ReviewItem } from './review-item';

const STYLE = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}',
  'h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}',
  '.text{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;border-left:3px solid #bbb;padding:.4rem .6rem;margin:.3rem 0}',
  '.role{font-weight:600;color:#555;font-size:.9rem}ol{padding-left:1.4rem}',
  'fieldset{border:1px solid #ddd;margin-top:1rem}label{display:block;margin-top:.8rem;font-weight:600}label.inline{display:inline;font-weight:400;margin-right:1rem}',
  'input[type=number],input[type=text]{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}',
  'button{font:inherit;padding:.5rem 1.4rem;border:0;border-radius:4px;cursor:pointer;color:#fff;background:#1d4e89;margin-top:1.2rem}',
  '.note{color:#555;font-size:.9rem}.error{color:#a4161a;font-weight:600}',
].join('');

export const REVIEW_PAGE_CSP = contentSecurityPolicy(STYLE);
export const REVIEW_PAGE_HEADERS = pageHeaders(REVIEW_PAGE_CSP);

// C0/C1 controls other than tab and newline, line/paragraph separators and bidi overrides: a hostile
// trace must not reorder what the reviewer reads.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const MAX_TEXT_CHARS = 20_000;

/** Lake text as it may be shown: unsafe characters replaced, very long text cut (and said so). */
export function visibleText(value: string): string {
  const flat = value.replace(UNSAFE, ' ');
  return flat.length > MAX_TEXT_CHARS ? `${flat.slice(0, MAX_TEXT_CHARS)}\n[... ${flat.length - MAX_TEXT_CHARS} more characters not shown]` : flat;
}

const block = (value: string): string => `<div class="text">${escapeHtml(visibleText(value))}</div>`;

function traceSection(trace: MaskedTrace): string {
  const parts = ['<h2>Conversation</h2>'];
  if (trace.messages.length === 0) parts.push('<p>No input messages.</p>');
  for (const m of trace.messages) parts.push(`<div class="role">${escapeHtml(visibleText(m.role))}</div>${block(m.content)}`);
  parts.push('<h2>Retrieved contexts</h2>');
  parts.push(trace.contexts.length === 0 ? '<p>None: the answer had no retrieved evidence.</p>' : `<ol>${trace.contexts.map((c) => `<li>${block(c)}</li>`).join('')}</ol>`);
  parts.push('<h2>Answer</h2>', block(trace.answer));
  if (trace.toolCalls.length > 0) {
    parts.push('<h2>Tool calls</h2><ol>');
    for (const t of trace.toolCalls) {
      parts.push(`<li><span class="role">${escapeHtml(visibleText(`${t.name} (${t.status})`))}</span>${block(t.arguments)}${t.result === null ? '' : block(t.result)}</li>`);
    }
    parts.push('</ol>');
  }
  return parts.join('\n');
}

/** What the form shows again after a refused submission. */
export interface ReviewFormState {
  readonly faithfulness?: string;
  readonly answerRelevance?: string;
  readonly misrouted?: string;
  readonly reviewer?: string;
  readonly error?: string;
}

/**
 * The review form for an open item. Rendering it changes nothing. `agentName` is the agent as the page
 * shows it: with `lake.hashAgentIds`, the item holds the stored pseudonym and the page shows the
 * declared agent's configured name (the pseudonym for any other agent); default: the stored id.
 */
export function reviewFormPage(item: ReviewItem, trace: MaskedTrace, link: LinkParams, form: ReviewFormState = {}, agentName: string = item.agentId): string {
  const title = `Review ${agentName} trace ${item.traceId}`;
  const checked = (value: string): string => ((form.misrouted ?? (trace.routeTier === null ? 'na' : '')) === value ? ' checked' : '');
  const body = [
    `<h1>${escapeHtml(visibleText(title))}</h1>`,
    `<p>Sample of ${escapeHtml(item.week)}. Score this answer yourself: the judge's scores are not shown, so that your verdict is your own. The text was masked for personal data before it was stored.</p>`,
    traceSection(trace),
    '<h2>Your scores</h2>',
    form.error !== undefined ? `<p class="error" role="alert">${escapeHtml(visibleText(form.error))}</p>` : '',
    `<form method="post" action="./${escapeHtml(encodeURIComponent(item.itemId))}">`,
    `<input type="hidden" name="exp" value="${escapeHtml(link.exp)}">`,
    `<input type="hidden" name="sig" value="${escapeHtml(link.sig)}">`,
    '<label for="faithfulness">Faithfulness: share of the answer\'s claims the contexts support (0 to 1)</label>',
    `<input type="number" id="faithfulness" name="faithfulness" min="0" max="1" step="0.01" required value="${escapeHtml(form.faithfulness ?? '')}">`,
    '<label for="answerRelevance">Answer relevance: how directly it addresses the question (0 to 1)</label>',
    `<input type="number" id="answerRelevance" name="answerRelevance" min="0" max="1" step="0.01" required value="${escapeHtml(form.answerRelevance ?? '')}">`,
    `<fieldset><legend>Misrouted? ${trace.routeTier === null ? '(this request had no route tier)' : `(routed to ${escapeHtml(visibleText(trace.routeTier))})`}</legend>`,
    `<label class="inline"><input type="radio" name="misrouted" value="yes" required${checked('yes')}> yes</label>`,
    `<label class="inline"><input type="radio" name="misrouted" value="no"${checked('no')}> no</label>`,
    `<label class="inline"><input type="radio" name="misrouted" value="na"${checked('na')}> n.a.</label></fieldset>`,
    '<label for="reviewer">Your name</label>',
    `<input type="text" id="reviewer" name="reviewer" required maxlength="256" autocomplete="name" value="${escapeHtml(form.reviewer ?? '')}">`,
    '<button type="submit">Submit my review</button></form>',
    '<p class="note">Opening this page changed nothing. A review is final and the link works once; your name is stored only as a keyed pseudonym.</p>',
  ].join('\n');
  return htmlDocument(title, STYLE, body);
}

/** Any page other than the form. */
export function reviewNoticePage(title: string, paragraphs: readonly string[]): string {
  return htmlDocument(title, STYLE, [`<h1>${escapeHtml(title)}</h1>`, ...paragraphs.map((p) => `<p>${escapeHtml(visibleText(p))}</p>`)].join('\n'));
}
