import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeHtml } from '../../../lambdas/pipeline/approvals/page';
import type { ApproverLists } from '../../../lambdas/pipeline/approvals/approver-duties';
import type { ApprovalStore } from '../../../lambdas/pipeline/approvals/store';
import { handleApprovalHttp, MAX_FORM_BYTES, type ApprovalHttpRequest } from '../../../lambdas/pipeline/approvals/web';
import { LocalApprovalStore } from '../../../local/pipeline/local-approval-store';
import { RecordingCallbacks, TestClock, TOKEN, linkIn, linkParams, requestedApproval, signer, tempDir } from './helpers';

const WRITES = ['create', 'attachToken', 'markNotified', 'decide', 'claimDelivery', 'recordDelivery'] as const;

/** Counts every write a store receives. */
function counting(store: ApprovalStore): { store: ApprovalStore; writes: string[] } {
  const writes: string[] = [];
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if ((WRITES as readonly string[]).includes(String(prop))) writes.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, writes };
}

/** The stage's approver e-mail lists the page enforces in these tests (deploy stages name none). */
const LISTS: ApproverLists = { train: { emails: ['approver@example.com', 'second@example.com'] }, finops: { emails: ['finops@example.com'] } };
const approversOf = (): ApproverLists => LISTS;

const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'`&';

describe('approval page (web.ts)', () => {
  let dir: string;
  let cleanup: () => void;
  let clock: TestClock;
  let callbacks: RecordingCallbacks;
  let local: LocalApprovalStore;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    clock = new TestClock();
    callbacks = new RecordingCallbacks();
    local = new LocalApprovalStore(dir);
  });
  afterEach(() => cleanup());

  const get = (id: string, exp: string | undefined, sig: string | undefined, to?: string, store: ApprovalStore = local) =>
    handleApprovalHttp({ method: 'GET', approvalId: id, query: { exp, sig, to }, body: undefined, contentType: undefined }, { store, signer: signer(), callbacks, clock: clock.fn, approversOf });
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const post = (id: string, body: string, extra: Partial<ApprovalHttpRequest> = {}) =>
    handleApprovalHttp(
      { method: 'POST', approvalId: id, query: {}, body, contentType: 'application/x-www-form-urlencoded; charset=UTF-8', sourceIp: '198.51.100.4', userAgent: 'Firefox/140', ...extra },
      { store: local, signer: signer(), callbacks, clock: clock.fn, approversOf },
    );

  it('GET shows the confirmation page and changes nothing: no write, no callback, file unchanged', async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    const before = readFileSync(join(dir, 'approvals.json'), 'utf8');
    const { store, writes } = counting(local);
    for (let i = 0; i < 3; i++) {
      const page = await get(id, exp, sig, to, store);
      expect(page.statusCode).toBe(200);
      expect(page.outcome).toBe('shown');
      expect(page.body).toContain('<form method="post" action="./' + id + '">');
      expect(page.body).toContain(`name="exp" value="${exp}"`);
      expect(page.body).toContain(`name="sig" value="${sig}"`);
      expect(page.body).toContain(`name="to" value="${to}"`);
      expect(page.body).toContain('Deciding as <strong>approver@example.com</strong>');
      expect(page.body).not.toContain('name="approver"');
      expect(page.body).not.toContain(TOKEN);
    }
    expect(writes).toEqual([]);
    expect(callbacks.calls).toEqual([]);
    expect(readFileSync(join(dir, 'approvals.json'), 'utf8')).toBe(before);
  });

  it('every response carries a strict CSP, no-store, DENY framing and no referrer', async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    for (const response of [await get(id, exp, sig, to), await get(id, exp, 'A'.repeat(43), to), await post(id, form({ exp, sig, to }))]) {
      expect(response.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).not.toMatch(/<script/i);
    }
  });

  it("the CSP's style hash is the hash of the page's one style block (so the page is styled, and nothing else is)", async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    const page = await get(id, exp, sig, to);
    const styles = [...page.body.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(styles).toHaveLength(1);
    const hash = createHash('sha256').update(styles[0]!, 'utf8').digest('base64');
    expect(page.headers['content-security-policy']).toContain(`style-src 'sha256-${hash}'`);
    expect(page.body).not.toMatch(/\sstyle=|\son[a-z]+=/i);
  });

  it('a forged or tampered link gets 403 and reveals nothing about the record', async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    const { store, writes } = counting(local);
    const responses = [
      await get(id, exp, `${sig.slice(0, -2)}AA`, to, store),
      await get(id, String(Number(exp) + 3600), sig, to, store),
      await get(id, undefined, undefined, undefined, store),
      await get('train-0000000000000000', exp, sig, to, store),
      await get('../etc/passwd', exp, sig, to, store),
    ];
    for (const r of responses) {
      expect(r.statusCode).toBe(403);
      expect(r.body).not.toContain('qwen3-4b');
      expect(r.body).not.toContain('scheduler:weekly');
    }
    // All identical: nothing distinguishes an existing id from a made-up one.
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    expect(writes).toEqual([]);
    const forgedPost = await post(id, form({ exp, sig, to: 'B'.repeat(43), decision: 'approved' }));
    expect(forgedPost.statusCode).toBe(403);
    expect(callbacks.calls).toEqual([]);
    expect(await local.get(id)).toMatchObject({ status: 'pending' });
  });

  it('POST approves once: 200, the task is told, and a replay of the same form gets 409', async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    const body = form({ exp, sig, to, decision: 'approved', comment: '' });
    const first = await post(id, body);
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('<h1>Approved</h1>');
    expect(callbacks.calls).toHaveLength(1);
    expect(await local.get(id)).toMatchObject({ status: 'approved', via: 'page', sourceIp: '198.51.100.4', userAgent: 'Firefox/140' });
    const replay = await post(id, body);
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toContain('Already approved');
    const replayGet = await get(id, exp, sig, to);
    expect(replayGet.statusCode).toBe(200);
    expect(replayGet.body).not.toContain('<form');
    expect(callbacks.calls).toHaveLength(1);
  });

  it('a concurrent double POST decides once', async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    const results = await Promise.all([
      post(id, form({ exp, sig, to, decision: 'approved' })),
      post(id, form({ exp, sig, to, decision: 'rejected' })),
      post(id, form({ exp, sig, to, decision: 'approved' })),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
    expect(callbacks.calls).toHaveLength(1);
  });

  it('an expired link gets 410 on GET and POST, and nothing is decided', async () => {
    const { url } = await requestedApproval(local, clock, { expiryHours: 2 });
    const { id, exp, sig, to } = linkParams(url);
    clock.advance(2 * 3_600_000);
    const page = await get(id, exp, sig, to);
    expect(page.statusCode).toBe(410);
    expect(page.body).toContain('This approval has expired');
    const submit = await post(id, form({ exp, sig, to, decision: 'approved' }));
    expect(submit.statusCode).toBe(410);
    expect(callbacks.calls).toEqual([]);
    expect(await local.get(id)).toMatchObject({ status: 'pending' });
  });

  it('rejection with a comment: SendTaskFailure ApprovalRejected, cause carries the comment', async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    const response = await post(id, form({ exp, sig, to, decision: 'rejected', comment: 'Eval set is stale' }));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<h1>Rejected</h1>');
    const call = callbacks.calls[0];
    expect(call).toMatchObject({ kind: 'fail', error: 'ApprovalRejected' });
    expect(call?.kind === 'fail' && JSON.parse(call.cause)).toMatchObject({ decision: 'rejected', comment: 'Eval set is stale', via: 'page' });
  });

  it('escapes a hostile summary and comment everywhere they are shown', async () => {
    const { url } = await requestedApproval(local, clock, { summary: { [HOSTILE]: HOSTILE, nested: { list: [HOSTILE, 1] } } });
    const { id, exp, sig, to } = linkParams(url);
    const page = await get(id, exp, sig, to);
    expect(page.body).not.toContain('<script>');
    expect(page.body).not.toContain('<img');
    expect(page.body).toContain(escapeHtml(HOSTILE));
    const decided = await post(id, form({ exp, sig, to, decision: 'rejected', comment: `</textarea>${HOSTILE}` }));
    expect(decided.statusCode).toBe(200);
    for (const body of [decided.body, (await get(id, exp, sig, to)).body]) {
      expect(body).not.toMatch(/<script|<img|<\/textarea>/i);
      expect(body).toContain(escapeHtml(`</textarea>${HOSTILE}`));
    }
  });

  it('a form with an over-long comment is refused with the form shown again, keeping what was typed and who decides', async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    const response = await post(id, form({ exp, sig, to, decision: 'approved', comment: `kept <b>${'x'.repeat(2000)}` }));
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Comment: at most 2000 characters');
    expect(response.body).toContain('kept &#60;b&#62;');
    expect(response.body).toContain('Deciding as <strong>approver@example.com</strong>');
    const noDecision = await post(id, form({ exp, sig, to }));
    expect(noDecision.statusCode).toBe(400);
    expect(callbacks.calls).toEqual([]);
  });

  it('refuses other methods, other media types and oversized forms', async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    const put = await handleApprovalHttp({ method: 'PUT', approvalId: id, query: {}, body: undefined, contentType: undefined }, { store: local, signer: signer(), callbacks, clock: clock.fn });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('GET, POST');
    expect((await post(id, JSON.stringify({ exp, sig, decision: 'approved' }), { contentType: 'application/json' })).statusCode).toBe(415);
    expect((await post(id, form({ exp, sig, to, decision: 'approved', comment: 'x'.repeat(MAX_FORM_BYTES) }))).statusCode).toBe(413);
    expect(callbacks.calls).toEqual([]);
  });

  it('a decision the task no longer waits for is recorded and shown as too late (409)', async () => {
    const { url } = await requestedApproval(local, clock);
    const { id, exp, sig, to } = linkParams(url);
    const { TaskCallbackRefused } = await import('../../../lambdas/pipeline/approvals/task-callbacks');
    callbacks.next = new TaskCallbackRefused('task-timed-out', 'TaskTimedOut: Task Timed Out');
    const response = await post(id, form({ exp, sig, to, decision: 'approved' }));
    expect(response.statusCode).toBe(409);
    expect(response.body).toContain('Recorded, but too late');
    expect(response.body).toContain('its wait had timed out');
    expect(await local.get(id)).toMatchObject({ status: 'approved', deliveryStatus: 'task-timed-out' });
  });

  describe('separation of duties on the page: the link decides as the address it was signed for', () => {
    /** A personal link for `address`, signed with the stage's key (what request-approval would e-mail them). */
    const personalLink = async (id: string, address: string) => linkParams(await signer().url('https://approvals.example.com/prod', id, new Date((await local.get(id))!.expiresAt), address));

    it('records the signed address as the approver, whatever an extra `approver` field says', async () => {
      const { url } = await requestedApproval(local, clock);
      const { id, exp, sig, to } = linkParams(url);
      const response = await post(id, form({ exp, sig, to, decision: 'approved', approver: 'Someone Else' }));
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('approver@example.com');
      expect(await local.get(id)).toMatchObject({ status: 'approved', approver: 'approver@example.com', via: 'page' });
      expect(JSON.parse((callbacks.calls[0] as { output: string }).output)).toMatchObject({ approver: 'approver@example.com' });
    });

    it("refuses the run's requester (403), records nothing and tells no task", async () => {
      const { url } = await requestedApproval(local, clock, { requestedBy: 'Approver@Example.com' });
      const { id, exp, sig, to } = linkParams(url);
      const response = await post(id, form({ exp, sig, to, decision: 'approved' }));
      expect(response.statusCode).toBe(403);
      expect(response.outcome).toBe('refused');
      expect(response.body).toContain('You requested this run');
      expect(await local.get(id)).toMatchObject({ status: 'pending' });
      expect(callbacks.calls).toEqual([]);
    });

    it('refuses an authentic link for an address not on the kind\'s approver list', async () => {
      const { ref } = await requestedApproval(local, clock);
      const { exp, sig, to } = await personalLink(ref.approvalId, 'outsider@example.com');
      const page = await get(ref.approvalId, exp, sig, to);
      expect(page.body).toContain('Deciding as <strong>outsider@example.com</strong>');
      const response = await post(ref.approvalId, form({ exp, sig, to, decision: 'approved' }));
      expect(response.statusCode).toBe(403);
      expect(response.body).toContain('You are not among the train approvers');
      expect(await local.get(ref.approvalId)).toMatchObject({ status: 'pending' });
      expect(callbacks.calls).toEqual([]);
    });

    it('refuses a model approver on a FinOps approval: only a FinOps approver decides it', async () => {
      const { ref, notifier } = await requestedApproval(local, clock, { kind: 'finops' });
      expect(notifier.sent.map((m) => m.recipient)).toEqual(['finops@example.com']);
      const { exp, sig, to } = await personalLink(ref.approvalId, 'approver@example.com');
      const response = await post(ref.approvalId, form({ exp, sig, to, decision: 'approved' }));
      expect(response.statusCode).toBe(403);
      expect(response.body).toContain('Only a FinOps approver');
      expect(callbacks.calls).toEqual([]);
      const finops = linkParams(linkIn(notifier.sent[0]!.message));
      expect((await post(ref.approvalId, form({ exp: finops.exp, sig: finops.sig, to: finops.to, decision: 'approved' }))).statusCode).toBe(200);
      expect(await local.get(ref.approvalId)).toMatchObject({ status: 'approved', approver: 'finops@example.com' });
    });

    it('a tampered address (another approver, or none) is an invalid link: 403, nothing recorded', async () => {
      const { url } = await requestedApproval(local, clock);
      const { id, exp, sig } = linkParams(url);
      for (const to of ['second@example.com', 'APPROVER@example.com']) {
        expect((await get(id, exp, sig, to)).outcome).toBe('invalid-link');
        const response = await post(id, form({ exp, sig, to, decision: 'approved' }));
        expect(response.statusCode).toBe(403);
        expect(response.outcome).toBe('invalid-link');
      }
      expect((await post(id, form({ exp, sig, decision: 'approved' }))).outcome).toBe('invalid-link');
      expect(await local.get(id)).toMatchObject({ status: 'pending' });
      expect(callbacks.calls).toEqual([]);
    });

    it("the operator's view-only link (no address) shows the request without a form and cannot decide", async () => {
      const { ref } = await requestedApproval(local, clock);
      const { id, exp, sig } = linkParams(ref.approvalUrl);
      const page = await get(id, exp, sig);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Waiting for an approver');
      expect(page.body).not.toContain('<form');
      const response = await post(id, form({ exp, sig, decision: 'approved' }));
      expect(response.statusCode).toBe(403);
      expect(response.body).toContain('Only the personal link');
      expect(await local.get(id)).toMatchObject({ status: 'pending' });
      expect(callbacks.calls).toEqual([]);
    });
  });
});
