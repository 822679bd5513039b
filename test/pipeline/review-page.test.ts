/**
 * The review page over HTTP (the local server, which runs the same review-web.ts as the Lambda): a
 * GET shows the masked trace and changes nothing, a POST records once, forged and tampered links learn
 * nothing, the judge's scores are never on the page, and review links are not approval links.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReviewItem } from '../../lambdas/judge/calibration/review-item';
import { APPROVAL_LINK, ApprovalLinkSigner, REVIEW_LINK } from '../../lambdas/pipeline/approvals/signer';
import { startLocalReviews, type LocalReviews } from '../../local/calibration/local-review-server';
import { LocalLake } from '../../local/local-lake';
import { LocalSigningKeyProvider } from '../../local/pipeline/local-approval-signing-key';
import { queueReviewItems, type CalibrationTraceSpec } from '../helpers/calibration-lake';

const HOSTILE: CalibrationTraceSpec = {
  id: 'trace-hostile',
  agent: 'rag-qa-agent',
  at: '2026-11-25T10:00:00.000Z',
  question: 'What is the refund policy? <img src=x onerror=alert(1)>',
  contexts: ['Refunds within 14 days [PERSON_1] may ask.', '"quoted" & <b>bold</b>'],
  answer: 'Refunds within 14 days.</div><script>alert("x")</script>',
  routeTier: 'small',
};
const PLAIN: CalibrationTraceSpec = { id: 'trace-plain', agent: 'code-reviewer', at: '2026-11-26T10:00:00.000Z', question: 'Review this diff', contexts: [], answer: 'Looks fine.' };
const NOW = new Date('2026-11-30T08:00:00.000Z');

describe('review page over HTTP', () => {
  let dir: string;
  let reviews: LocalReviews;
  let items: ReviewItem[];
  let now: Date;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-review-page-'));
    items = await queueReviewItems(dir, [HOSTILE, PLAIN], '2026-W49', '2026-11-30T06:00:00.000Z');
    now = NOW;
    reviews = await startLocalReviews({ lakeDir: dir, linkExpiryHours: 168, clock: () => now });
  });
  afterEach(async () => {
    await reviews.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (url: string, fields: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

  async function formOf(link: string): Promise<Record<string, string>> {
    const url = new URL(link);
    return { exp: url.searchParams.get('exp') ?? '', sig: url.searchParams.get('sig') ?? '' };
  }

  async function reviewRows(): Promise<number> {
    const lake = await LocalLake.open(dir);
    try {
      return (await lake.query('SELECT count(*)::INTEGER AS n FROM reviews'))[0]?.n as number;
    } finally {
      lake.close();
    }
  }

  it('shows the masked trace escaped, without the judge\'s scores, under a strict CSP, and changes nothing', async () => {
    const item = items[0] as ReviewItem;
    const response = await fetch(await reviews.linkFor(item));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await response.text();
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(html).not.toMatch(/<script|<img/);
    expect(html).toContain('[PERSON_1]');
    expect(html).toContain('routed to small');
    expect(html).not.toMatch(/judge_score|judged|0\.\d+ faithfulness/i);
    await expect(reviews.queue.get(item.itemId)).resolves.toMatchObject({ status: 'open' });
    expect(await reviewRows()).toBe(0);
  });

  it('records a POST once; a replay of the same form is refused with 409', async () => {
    const item = items[1] as ReviewItem;
    const link = await reviews.linkFor(item);
    const fields = { ...(await formOf(link)), faithfulness: '0.4', answerRelevance: '0.9', misrouted: 'na', reviewer: 'Jane Doe' };
    const first = await post(link.split('?')[0] as string, fields);
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('Review recorded');
    const second = await post(link.split('?')[0] as string, fields);
    expect(second.status).toBe(409);
    expect(await reviewRows()).toBe(1);
    // The link now says it was used; the GET still changes nothing.
    const again = await fetch(link);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('Already reviewed');
  });

  it('answers a bad form with the form again and its error, recording nothing', async () => {
    const item = items[1] as ReviewItem;
    const link = await reviews.linkFor(item);
    const response = await post(link.split('?')[0] as string, { ...(await formOf(link)), faithfulness: '7', answerRelevance: '0.9', misrouted: 'na', reviewer: 'Jane' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Faithfulness: must be at most 1');
    expect(await reviewRows()).toBe(0);
  });

  it('refuses forged, tampered, other-purpose and expired links', async () => {
    const item = items[0] as ReviewItem;
    const link = new URL(await reviews.linkFor(item));
    const tampered = new URL(link);
    tampered.searchParams.set('exp', String(Number(link.searchParams.get('exp')) + 3600));
    expect((await fetch(tampered)).status).toBe(403);
    // Signed with the same key for an approval: not valid for a review.
    const approvalSigner = new ApprovalLinkSigner(new LocalSigningKeyProvider(dir), APPROVAL_LINK);
    const approvalParams = await approvalSigner.sign(item.itemId, new Date('2026-12-07T06:00:00.000Z'));
    expect((await fetch(`${reviews.baseUrl}/reviews/${item.itemId}?exp=${approvalParams.exp}&sig=${approvalParams.sig}`)).status).toBe(403);
    // A forged link to an id that does not exist gets the same answer as one that does.
    expect((await fetch(`${reviews.baseUrl}/reviews/rv-${'0'.repeat(32)}?exp=${approvalParams.exp}&sig=${approvalParams.sig}`)).status).toBe(403);
    const reviewSigner = new ApprovalLinkSigner(new LocalSigningKeyProvider(dir), REVIEW_LINK);
    await expect(reviewSigner.verify(item.itemId, { exp: link.searchParams.get('exp') ?? '', sig: link.searchParams.get('sig') ?? '' }, NOW)).resolves.toMatchObject({ ok: true });
    now = new Date('2026-12-08T00:00:00.000Z');
    expect((await fetch(link)).status).toBe(410);
    expect((await fetch(link, { method: 'DELETE' })).status).toBe(405);
  });
});
