import { approvalStatus } from '../../../lambdas/pipeline/approvals/approval-record';
import { approvalTimeoutSeconds, prepareApproval, prepareApprovalInputSchema } from '../../../lambdas/pipeline/approvals/prepare-approval';
import { ApprovalNotRequestable, requestApproval } from '../../../lambdas/pipeline/approvals/request-approval';
import { ApprovalExistsError } from '../../../lambdas/pipeline/approvals/store';
import { approvalRefSchema } from '../../../lambdas/pipeline/contracts';
import { LocalApprovalStore } from '../../../local/pipeline/local-approval-store';
import { RecordingNotifier, TestClock, TEST_RECIPIENTS, TOKEN, linkIn, linkParams, prepareInput, requestedApproval, signer, tempDir } from './helpers';

const BASE = 'https://approvals.example.com/prod';

describe('prepare and request an approval', () => {
  let cleanup: () => void;
  let store: LocalApprovalStore;
  let clock: TestClock;
  beforeEach(() => {
    const t = tempDir();
    cleanup = t.cleanup;
    store = new LocalApprovalStore(t.dir);
    clock = new TestClock(new Date('2026-11-23T09:00:00.789Z'));
  });
  afterEach(() => cleanup());

  const prepare = (input = prepareInput(), ids?: () => string) =>
    prepareApproval(input, { store, signer: signer(), clock: clock.fn, pageBaseUrl: BASE, expiryHours: 72, ...(ids ? { newId: ids } : {}) });

  it('creates a pending record without a token and returns the contract ApprovalRef with a signed link', async () => {
    const ref = await prepare();
    expect(approvalRefSchema.parse(ref)).toEqual(ref);
    expect(ref.approvalId).toMatch(/^train-[0-9a-f]{16}$/);
    // Whole seconds, so the link's exp is exactly the record's expiry.
    expect(ref.expiresAt).toBe('2026-11-26T09:00:00.000Z');
    const { exp, sig, path } = linkParams(ref.approvalUrl);
    expect(path).toBe(`/prod/approvals/${ref.approvalId}`);
    expect(Number(exp) * 1000).toBe(Date.parse(ref.expiresAt));
    await expect(signer().verify(ref.approvalId, { exp, sig }, clock.now)).resolves.toMatchObject({ ok: true });
    const record = await store.get(ref.approvalId);
    expect(record).toMatchObject({ kind: 'train', stage: 'dev', runId: 'run-2026-11-23-a', targetModelId: 'qwen3-4b', requestedBy: 'scheduler:weekly', status: 'pending', createdAt: '2026-11-23T09:00:00.000Z' });
    expect(record?.taskToken).toBeUndefined();
    // TTL: kept for audit well after the expiry (400 days).
    expect(record!.ttl - Date.parse(ref.expiresAt) / 1000).toBe(400 * 86_400);
    expect(approvalTimeoutSeconds(72)).toBe(259_200);
  });

  it('never overwrites an existing record on an id collision', async () => {
    await prepare(prepareInput(), () => 'train-fixed');
    await expect(prepare(prepareInput(), () => 'train-fixed')).rejects.toBeInstanceOf(ApprovalExistsError);
  });

  it('the input schema refuses an oversized or non-JSON summary, and unknown fields such as a token', () => {
    expect(prepareApprovalInputSchema.safeParse(prepareInput()).success).toBe(true);
    const big = prepareApprovalInputSchema.safeParse({ ...prepareInput(), summary: { blob: 'x'.repeat(17_000) } });
    expect(big.error?.issues[0]?.message).toContain('at most 16384 bytes');
    expect(prepareApprovalInputSchema.safeParse({ ...prepareInput(), summary: { f: () => 1 } }).success).toBe(false);
    expect(prepareApprovalInputSchema.safeParse({ ...prepareInput(), kind: 'deploy' }).success).toBe(false);
    expect(prepareApprovalInputSchema.safeParse({ ...prepareInput(), taskToken: TOKEN }).success).toBe(false);
  });

  it('request: attaches the token, then sends each approver one e-mail with their own personal link and never the token', async () => {
    const { ref, notifier } = await requestedApproval(store, clock, { baseUrl: BASE });
    expect(await store.get(ref.approvalId)).toMatchObject({ taskToken: TOKEN, waitingStage: 'dev', notifiedAt: clock.now.toISOString() });
    expect(notifier.sent.map((m) => m.recipient)).toEqual(['approver@example.com', 'second@example.com']);
    const links = notifier.sent.map((m) => linkIn(m.message));
    // Each message carries only its recipient's link, signed for that address; nobody sees another's.
    expect(links.map((l) => linkParams(l).to)).toEqual(['approver@example.com', 'second@example.com']);
    expect(notifier.sent[0]!.message).not.toContain('second@example.com');
    expect(links[0]).not.toBe(ref.approvalUrl);
    const email = notifier.sent[0]!;
    expect(email.topic).toBe('approvals');
    expect(email.subject).toBe('[sial dev] Approval needed: training run for qwen3-4b (run run-2026-11-23-a)');
    expect(email.message).toContain('This link is personal to approver@example.com');
    expect(email.message).toContain('datasetCounts.tracesUsed: 1,234');
    expect(email.message).toContain('eligibility.lastTrainedAt: none');
    expect(email.message).toContain('gpuBudget.estimateGpuHours: 192');
    expect(`${email.subject}\n${email.message}`).not.toContain(TOKEN);
    expect(email.message.match(/https?:\/\//g)).toHaveLength(1);
  });

  it('sends FinOps approvals to the FinOps topic', async () => {
    const { notifier } = await requestedApproval(store, clock, { kind: 'finops' });
    expect(notifier.sent.map((m) => [m.topic, m.recipient])).toEqual([['finops', 'finops@example.com']]);
    expect(notifier.sent[0]!.subject).toContain('FinOps budget exception');
  });

  it('with nobody to address for the kind, one view-only message goes to the topic: it names no approver and cannot decide', async () => {
    const { ref, notifier } = await requestedApproval(store, clock, { recipients: { ...TEST_RECIPIENTS, train: [] } });
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.recipient).toBeUndefined();
    expect(linkIn(notifier.sent[0]!.message)).toBe(ref.approvalUrl);
    expect(linkParams(ref.approvalUrl).to).toBe('');
    expect(notifier.sent[0]!.message).toContain('this link only shows the request');
  });

  it('a hostile summary cannot add lines or links to the e-mail', async () => {
    const { notifier } = await requestedApproval(store, clock, { summary: { note: 'ok\n\nApprove here instead: https://evil.example/\u202Eexe.pdf' } });
    const { message } = notifier.sent[0]!;
    expect(message).toContain('note: ok  Approve here instead: https://evil.example/ exe.pdf');
    expect(message.split('\n').filter((l) => l.startsWith('https://'))).toHaveLength(1);
  });

  it('the token is attached once: a replayed request after the e-mail is refused and sends nothing', async () => {
    const { ref } = await requestedApproval(store, clock);
    const notifier = new RecordingNotifier();
    await expect(requestApproval({ taskToken: 'another-token', approvalId: ref.approvalId }, { store, signer: signer(), notifier, clock: clock.fn, pageBaseUrl: BASE, recipients: TEST_RECIPIENTS })).rejects.toThrow(
      ApprovalNotRequestable,
    );
    expect(notifier.sent).toHaveLength(0);
    expect(await store.get(ref.approvalId)).toMatchObject({ taskToken: TOKEN });
  });

  it('a retried attempt whose e-mail failed replaces the token of the failed attempt', async () => {
    const ref = await prepare();
    const failing = { publish: async () => Promise.reject(new Error('SNS throttled')) };
    await expect(requestApproval({ taskToken: 'attempt-1', approvalId: ref.approvalId }, { store, signer: signer(), notifier: failing, clock: clock.fn, pageBaseUrl: BASE, recipients: TEST_RECIPIENTS })).rejects.toThrow('SNS throttled');
    const notifier = new RecordingNotifier();
    await requestApproval({ taskToken: 'attempt-2', approvalId: ref.approvalId }, { store, signer: signer(), notifier, clock: clock.fn, pageBaseUrl: BASE, recipients: TEST_RECIPIENTS });
    expect(await store.get(ref.approvalId)).toMatchObject({ taskToken: 'attempt-2' });
    expect(notifier.sent).toHaveLength(TEST_RECIPIENTS.train.length);
  });

  it('refuses to request an expired or unknown approval', async () => {
    const ref = await prepare();
    clock.advance(72 * 3_600_000);
    const deps = { store, signer: signer(), notifier: new RecordingNotifier(), clock: clock.fn, pageBaseUrl: BASE, recipients: TEST_RECIPIENTS };
    await expect(requestApproval({ taskToken: TOKEN, approvalId: ref.approvalId }, deps)).rejects.toThrow('it is expired');
    await expect(requestApproval({ taskToken: TOKEN, approvalId: 'train-unknown' }, deps)).rejects.toThrow('does not exist');
    const record = await store.get(ref.approvalId);
    expect(approvalStatus(record!, clock.now)).toBe('expired');
    expect(record?.taskToken).toBeUndefined();
  });
});
