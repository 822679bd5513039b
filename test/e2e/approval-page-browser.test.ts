/**
 * The approval page in a real browser (headless Chromium driven by playwright-core): what the HTTP
 * tests cannot show. The page's Content-Security-Policy must not block its own style or its form
 * (`form-action 'self'` with a relative action), the page says whom the personal link decides as,
 * a person clicking Approve / Reject must reach the waiting task, and a link for someone who may
 * not decide is refused with nothing recorded.
 *
 * CI installs Debian's `chromium-headless-shell` (.ci/run). On a developer machine without a Chromium
 * the suite is skipped with a note; with CI=true a missing browser fails it instead.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { approvalDecisionSchema, type ApprovalRef } from '../../lambdas/pipeline/contracts';
import { startLocalApprovals, type LocalApprovals } from '../../local/pipeline/local-approval-runtime';
import { settleLocalTask, type LocalTaskOutcome } from '../../local/pipeline/local-task-callbacks';
import { RecordingNotifier, prepareInput, tempDir } from '../pipeline/approvals/helpers';
import { chromiumPath, describeInChromium } from '../helpers/chromium';

/** The browser APIs the assertions read, typed here so the Node-only tsconfig stays free of DOM globals. */
interface BrowserWindow {
  getComputedStyle(element: unknown): { color: string };
}

/** The stage's approval addresses in these tests: two model approvers (no list: anyone but the requester), FinOps named. */
const ADDRESSES = { approverEmails: ['jane@example.com', 'second@example.com'], finopsEmails: ['finops@example.com'], approvers: { finops: { emails: ['finops@example.com'] } } };


describeInChromium('approval-page-browser', 'approval page in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  let cleanup: () => void;
  let approvals: LocalApprovals;
  let notifier: RecordingNotifier;
  let page: Page;
  /** What the browser reported that a person would not see: CSP refusals, script errors, failed loads. */
  let problems: string[];
  /** Ends the waits a test leaves open (an undecided approval) before its directory is removed. */
  let stopWaiting: AbortController;
  let waits: Array<Promise<unknown>>;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    notifier = new RecordingNotifier();
    approvals = await startLocalApprovals({ dir, expiryHours: 72, notifier, addresses: ADDRESSES });
    page = await browser.newPage();
    stopWaiting = new AbortController();
    waits = [];
    problems = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  });
  afterEach(async () => {
    stopWaiting.abort(new Error('test over'));
    await Promise.allSettled(waits);
    await page.close();
    await approvals.close();
    cleanup();
  });

  /** The personal link in the e-mail sent to `recipient`. */
  function linkFor(recipient: string): string {
    const email = notifier.sent.find((m) => m.recipient === recipient);
    const link = email === undefined ? undefined : /^http:\/\/127\.0\.0\.1:\d+\/approvals\/\S+$/m.exec(email.message)?.[0];
    if (link === undefined) throw new Error(`no approval link e-mailed to ${recipient}`);
    return link;
  }

  /** Prepares and requests an approval; resolves the first recipient's personal link and the wait for a decision. */
  async function requestApproval(kind: 'train' | 'finops' = 'train'): Promise<{ ref: ApprovalRef; link: string; waiting: Promise<LocalTaskOutcome> }> {
    const ref = await approvals.prepare(prepareInput(kind));
    const waiting = approvals.requestAndWait({ approvalId: ref.approvalId }, { signal: stopWaiting.signal });
    waits.push(waiting);
    const expected = kind === 'finops' ? 1 : 2;
    for (let i = 0; notifier.sent.length < expected; i += 1) {
      if (i > 500) throw new Error('the approval e-mails were never sent');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { ref, link: linkFor(kind === 'finops' ? 'finops@example.com' : 'jane@example.com'), waiting };
  }

  it('opens the e-mailed link, shows the request styled under its CSP, and an Approve click reaches the waiting task', async () => {
    const { ref, link, waiting } = await requestApproval();
    const response = await page.goto(link);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Approve training run for qwen3-4b?');
    // The inline style is allowed by its hash: a refused style would leave the buttons unstyled.
    const approveColour = await page.locator('button.approve').evaluate((button) => (globalThis as unknown as BrowserWindow).getComputedStyle(button).color);
    expect(approveColour).toBe('rgb(255, 255, 255)');
    await expect(approvals.store.get(ref.approvalId)).resolves.toMatchObject({ status: 'pending' });
    // The link names its approver: the page says so and asks for no name.
    await expect(page.locator('p.as').textContent()).resolves.toContain('Deciding as jane@example.com');
    await expect(page.locator('#approver').count()).resolves.toBe(0);

    await page.fill('#comment', 'Dataset counts look right');
    await Promise.all([page.waitForURL((url) => !url.search.includes('sig=')), page.click('button.approve')]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Approved');

    const decision = approvalDecisionSchema.parse(settleLocalTask(await waiting));
    expect(decision).toMatchObject({ approvalId: ref.approvalId, decision: 'approved', approver: 'jane@example.com', comment: 'Dataset counts look right', via: 'page' });
    await expect(approvals.store.get(ref.approvalId)).resolves.toMatchObject({ status: 'approved', userAgent: expect.stringContaining('HeadlessChrome') });
    expect(problems).toEqual([]);
  });

  it('a personal link for someone who is not a FinOps approver is refused on a FinOps approval: 403, nothing recorded, the task keeps waiting', async () => {
    const { ref } = await requestApproval('finops');
    // Authentic (signed with the stage's key), but for a model approver: not on the FinOps list.
    const outsider = await approvals.signer.url(approvals.baseUrl, ref.approvalId, new Date(ref.expiresAt), 'jane@example.com');
    await page.goto(outsider);
    await expect(page.locator('p.as').textContent()).resolves.toContain('Deciding as jane@example.com');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('button.approve')]);
    expect(refused.status()).toBe(403);
    await expect(page.locator('h1').textContent()).resolves.toBe('Not yours to decide');
    await expect(page.locator('body').textContent()).resolves.toContain('Only a FinOps approver');
    await expect(approvals.store.get(ref.approvalId)).resolves.toMatchObject({ status: 'pending' });
    // The only thing the browser reports is the refusal's own status: no CSP or script problem.
    expect(problems).toEqual(['console error: Failed to load resource: the server responded with a status of 403 (Forbidden)']);
  });

  it('a Reject click with a comment fails the waiting task; reopening the link shows the decision, not a form', async () => {
    const { ref, link, waiting } = await requestApproval('finops');
    await page.goto(link);
    await page.fill('#comment', 'Over the quarter budget');
    await Promise.all([page.waitForURL((url) => !url.search.includes('sig=')), page.click('button.reject')]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Rejected');
    const outcome = await waiting;
    expect(() => settleLocalTask(outcome)).toThrow(expect.objectContaining({ name: 'ApprovalRejected', message: expect.stringContaining('Over the quarter budget') }));

    // Single use: the same link now only tells what was decided.
    await page.goto(link);
    await expect(page.locator('h1').textContent()).resolves.toBe('Already rejected');
    await expect(page.locator('form').count()).resolves.toBe(0);
    await expect(approvals.store.get(ref.approvalId)).resolves.toMatchObject({ status: 'rejected', approver: 'finops@example.com' });
    expect(problems).toEqual([]);
  });

  it('two approvers with the page open: the second submission is refused with 409, the first decision stands; Back shows the decision', async () => {
    const { ref, link, waiting } = await requestApproval();
    const second = await browser.newPage();
    try {
      // Each approver opens their own personal link.
      await Promise.all([page.goto(link), second.goto(linkFor('second@example.com'))]);
      await Promise.all([page.waitForURL((url) => !url.search.includes('sig=')), page.click('button.approve')]);
      await waiting;

      const [late] = await Promise.all([second.waitForResponse((r) => r.request().method() === 'POST'), second.click('button.reject')]);
      expect(late.status()).toBe(409);
      await expect(second.locator('h1').textContent()).resolves.toBe('Already approved');
      await expect(approvals.store.get(ref.approvalId)).resolves.toMatchObject({ status: 'approved', approver: 'jane@example.com' });

      // The page is no-store: Back fetches it again, and it now shows the decision instead of the form.
      await page.goBack();
      await expect(page.locator('h1').textContent()).resolves.toBe('Already approved');
      await expect(page.locator('form').count()).resolves.toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
