import { approvalDecisionSchema } from '../../../lambdas/pipeline/contracts';
import { startLocalApprovals, type LocalApprovals } from '../../../local/pipeline/local-approval-runtime';
import { settleLocalTask } from '../../../local/pipeline/local-task-callbacks';
import { RecordingNotifier, linkIn, prepareInput, tempDir } from './helpers';

async function until<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What a browser does with the page: the form's action and fields. */
function formOf(html: string, pageUrl: string): { action: URL; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  if (action === undefined) throw new Error('no form on the page');
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
  return { action: new URL(action, pageUrl), fields };
}

describe('local approval server over HTTP on 127.0.0.1', () => {
  let dir: string;
  let cleanup: () => void;
  let approvals: LocalApprovals;
  let notifier: RecordingNotifier;
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    notifier = new RecordingNotifier();
    approvals = await startLocalApprovals({ dir, expiryHours: 72, notifier });
  });
  afterEach(async () => {
    await approvals.close();
    cleanup();
  });

  it('prepare -> request -> GET the e-mailed link -> POST the form -> the waiting task gets the decision', async () => {
    expect(approvals.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ref = await approvals.prepare(prepareInput());
    expect(ref.approvalUrl.startsWith(`${approvals.baseUrl}/approvals/${ref.approvalId}?exp=`)).toBe(true);
    // The engine hands every task the same placeholder token; the runtime uses its own per request.
    const waiting = approvals.requestAndWait({ taskToken: 'local-task-token:run-1', approvalId: ref.approvalId });
    const email = await until(() => notifier.sent[0]);
    const link = /^http:\/\/127\.0\.0\.1:\d+\/approvals\/\S+$/m.exec(email.message)?.[0];
    // The e-mail carries the approver's personal link (the ref's is view-only).
    expect(link).toBe(await approvals.signer.url(approvals.baseUrl, ref.approvalId, new Date(ref.expiresAt), 'simulated-approver@sial.local'));
    expect(email.message).not.toContain('local-task');

    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('Approve training run for qwen3-4b?');
    // The GET changed nothing: still waiting for a human.
    expect(await approvals.store.get(ref.approvalId)).toMatchObject({ status: 'pending' });

    const { action, fields } = formOf(html, link!);
    expect(action.pathname).toBe(`/approvals/${ref.approvalId}`);
    expect(action.search).toBe('');
    const body = new URLSearchParams({ ...fields, comment: 'Looks good', decision: 'approved' });
    const decided = await fetch(action, { method: 'POST', body, headers: { 'user-agent': 'e2e-browser/1.0' } });
    expect(decided.status).toBe(200);
    expect(await decided.text()).toContain('<h1>Approved</h1>');

    const outcome = await waiting;
    const decision = approvalDecisionSchema.parse(settleLocalTask(outcome));
    expect(decision).toMatchObject({ approvalId: ref.approvalId, decision: 'approved', approver: 'simulated-approver@sial.local', comment: 'Looks good', via: 'page' });
    expect(await approvals.store.get(ref.approvalId)).toMatchObject({ status: 'approved', sourceIp: expect.stringMatching(/127\.0\.0\.1/), userAgent: 'e2e-browser/1.0', deliveryStatus: 'delivered' });

    const replay = await fetch(action, { method: 'POST', body });
    expect(replay.status).toBe(409);
  });

  it('a rejection fails the waiting task with ApprovalRejected and the decision as cause', async () => {
    const ref = await approvals.prepare(prepareInput('finops'));
    const waiting = approvals.requestAndWait({ approvalId: ref.approvalId });
    const personal = linkIn((await until(() => notifier.sent[0])).message);
    const page = await fetch(personal);
    const { action, fields } = formOf(await page.text(), personal);
    const response = await fetch(action, { method: 'POST', body: new URLSearchParams({ ...fields, comment: 'Over budget', decision: 'rejected' }) });
    expect(response.status).toBe(200);
    const outcome = await waiting;
    expect(() => settleLocalTask(outcome)).toThrow(expect.objectContaining({ name: 'ApprovalRejected', message: expect.stringContaining('"comment":"Over budget"') }));
  });

  it('an approval nobody decides times out the wait; a later decision is recorded as too late', async () => {
    const ref = await approvals.prepare(prepareInput());
    await expect(approvals.requestAndWait({ approvalId: ref.approvalId }, { timeoutMs: 50 })).resolves.toEqual({ status: 'timed-out' });
    const personal = linkIn(notifier.sent[0]!.message);
    const { fields, action } = formOf(await (await fetch(personal)).text(), personal);
    const late = await fetch(action, { method: 'POST', body: new URLSearchParams({ ...fields, decision: 'approved' }) });
    expect(late.status).toBe(409);
    expect(await late.text()).toContain('Recorded, but too late');
  });

  it('answers 403 to a forged link, 404 off the route, 405 to other methods', async () => {
    const ref = await approvals.prepare(prepareInput());
    const forged = await fetch(ref.approvalUrl.replace(/sig=[^&]+/, `sig=${'A'.repeat(43)}`));
    expect(forged.status).toBe(403);
    expect(await forged.text()).not.toContain('qwen3-4b');
    expect((await fetch(`${approvals.baseUrl}/elsewhere`)).status).toBe(404);
    expect((await fetch(ref.approvalUrl, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${approvals.baseUrl}/approvals/%E0%A4%A`)).status).toBe(403);
  });
});
