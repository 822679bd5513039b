/**
 * The review page in a real browser (headless Chromium driven by playwright-core), as the approval
 * page is tested: the CSP must not block the page's own style or its form, `required` must stop an
 * incomplete review in the browser, hostile trace text must stay text, and a submitted review must
 * reach the lake once.
 *
 * CI installs Debian's `chromium-headless-shell` (.ci/run). On a developer machine without a Chromium
 * the suite is skipped with a note; with CI=true a missing browser fails it instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ReviewItem } from '../../lambdas/judge/calibration/review-item';
import { PSEUDONYM_PATTERN } from '../../lambdas/shared/pseudonymisation';
import { startLocalReviews, type LocalReviews } from '../../local/calibration/local-review-server';
import { LocalLake } from '../../local/local-lake';
import { queueReviewItems } from '../helpers/calibration-lake';
import { chromiumPath, describeInChromium } from '../helpers/chromium';

/** The browser APIs the assertions read, typed here so the Node-only tsconfig stays free of DOM globals. */
interface BrowserWindow {
  getComputedStyle(element: unknown): { backgroundColor: string; whiteSpace: string };
}
interface FormField {
  validity: { valueMissing: boolean };
}


describeInChromium('review-page-browser', 'review page in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  let reviews: LocalReviews;
  let items: ReviewItem[];
  let page: Page;
  let problems: string[];
  let dialogs: string[];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-review-browser-'));
    items = await queueReviewItems(
      dir,
      [
        {
          id: 'trace-hostile',
          agent: 'rag-qa-agent',
          at: '2026-11-25T10:00:00.000Z',
          question: 'What is the refund policy? <img src=x onerror=alert(1)>',
          contexts: ['Refunds within 14 days.'],
          answer: 'Refunds within 14 days.\n<script>alert("x")</script>',
          routeTier: 'small',
        },
      ],
      '2026-W49',
      '2026-11-30T06:00:00.000Z',
    );
    reviews = await startLocalReviews({ lakeDir: dir, linkExpiryHours: 168, clock: () => new Date('2026-11-30T08:00:00.000Z') });
    page = await browser.newPage();
    problems = [];
    dialogs = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });
  afterEach(async () => {
    await page.close();
    await reviews.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function reviewRows(): Promise<Record<string, unknown>[]> {
    const lake = await LocalLake.open(dir);
    try {
      return await lake.query('SELECT reviewer, faithfulness, answer_relevance, misrouted FROM reviews');
    } finally {
      lake.close();
    }
  }

  it('shows the masked trace styled under its CSP, hostile text as text, and a submitted review reaches the lake once', async () => {
    const item = items[0] as ReviewItem;
    const link = await reviews.linkFor(item);
    const response = await page.goto(link);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Review rag-qa-agent trace trace-hostile');
    // The inline style is allowed by its hash: a refused style would leave the button grey and text unwrapped.
    const button = await page.locator('button[type=submit]').evaluate((b) => (globalThis as unknown as BrowserWindow).getComputedStyle(b).backgroundColor);
    expect(button).toBe('rgb(29, 78, 137)');
    await expect(page.locator('.text').nth(2).evaluate((d) => (globalThis as unknown as BrowserWindow).getComputedStyle(d).whiteSpace)).resolves.toBe('pre-wrap');
    await expect(page.locator('.text').nth(2).textContent()).resolves.toBe('Refunds within 14 days.\n<script>alert("x")</script>');
    await expect(page.locator('img').count()).resolves.toBe(0);

    await page.fill('#faithfulness', '0.5');
    await page.fill('#answerRelevance', '1');
    await page.check('input[name=misrouted][value=no]');
    await page.fill('#reviewer', 'Jane Doe');
    await Promise.all([page.waitForURL((url) => !url.search.includes('sig=')), page.click('button[type=submit]')]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Review recorded');
    // The judge's scores are not revealed after submission either.
    await expect(page.locator('body').textContent()).resolves.not.toMatch(/judge (said|scored)|\b0\.\d\d\b/);

    const rows = await reviewRows();
    expect(rows).toEqual([{ reviewer: expect.stringMatching(PSEUDONYM_PATTERN), faithfulness: 0.5, answer_relevance: 1, misrouted: false }]);
    await expect(reviews.queue.get(item.itemId)).resolves.toMatchObject({ status: 'done' });

    // Single use: the link now only says it was used.
    await page.goto(link);
    await expect(page.locator('h1').textContent()).resolves.toBe('Already reviewed');
    await expect(page.locator('form').count()).resolves.toBe(0);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('the browser refuses a review without scores or a name (required fields), and nothing is recorded', async () => {
    const item = items[0] as ReviewItem;
    await page.goto(await reviews.linkFor(item));
    await page.fill('#reviewer', 'Jane Doe');
    await page.click('button[type=submit]');
    await expect(page.locator('#faithfulness').evaluate((input) => (input as unknown as FormField).validity.valueMissing)).resolves.toBe(true);
    await expect(page.title()).resolves.toBe('Review rag-qa-agent trace trace-hostile');
    await expect(reviews.queue.get(item.itemId)).resolves.toMatchObject({ status: 'open' });
    expect(await reviewRows()).toEqual([]);
    expect(problems).toEqual([]);
  });
});
