import { decideApproval, DecisionNotDelivered, STALE_DELIVERY_MS, type DecideCommand } from '../../../lambdas/pipeline/approvals/decide';
import { TaskCallbackRefused } from '../../../lambdas/pipeline/approvals/task-callbacks';
import { approvalDecisionSchema } from '../../../lambdas/pipeline/contracts';
import { LocalApprovalStore } from '../../../local/pipeline/local-approval-store';
import { RecordingCallbacks, TestClock, TOKEN, prepareInput, requestedApproval, signer, tempDir } from './helpers';
import { prepareApproval } from '../../../lambdas/pipeline/approvals/prepare-approval';

describe('decideApproval', () => {
  let dir: string;
  let cleanup: () => void;
  let store: LocalApprovalStore;
  let clock: TestClock;
  let callbacks: RecordingCallbacks;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    store = new LocalApprovalStore(dir);
    clock = new TestClock();
    callbacks = new RecordingCallbacks();
  });
  afterEach(() => cleanup());

  const command = (approvalId: string, overrides: Partial<DecideCommand> = {}): DecideCommand => ({ approvalId, decision: 'approved', approver: 'Jane Doe', via: 'page', ...overrides });
  const deps = () => ({ store, callbacks, clock: clock.fn });

  it('approve: records the decision once, then SendTaskSuccess with the ApprovalDecision', async () => {
    const { ref } = await requestedApproval(store, clock);
    clock.advance(60_000);
    const outcome = await decideApproval(command(ref.approvalId, { sourceIp: '203.0.113.7', userAgent: 'Mozilla/5.0' }), deps());
    expect(outcome.kind).toBe('decided');
    expect(callbacks.calls).toHaveLength(1);
    const call = callbacks.calls[0]!;
    expect(call).toMatchObject({ kind: 'succeed', token: TOKEN });
    const decision = approvalDecisionSchema.parse(JSON.parse(call.kind === 'succeed' ? call.output : ''));
    expect(decision).toEqual({ approvalId: ref.approvalId, decision: 'approved', approver: 'Jane Doe', decidedAt: clock.now.toISOString(), via: 'page' });
    const record = await store.get(ref.approvalId);
    expect(record).toMatchObject({ status: 'approved', approver: 'Jane Doe', via: 'page', sourceIp: '203.0.113.7', userAgent: 'Mozilla/5.0', decidedAt: clock.now.toISOString(), deliveryStatus: 'delivered' });
    expect(record?.waitingStage).toBeUndefined();
  });

  it("reject with a comment: SendTaskFailure('ApprovalRejected') with the decision, comment included, as the cause", async () => {
    const { ref } = await requestedApproval(store, clock);
    const outcome = await decideApproval(command(ref.approvalId, { decision: 'rejected', comment: '  Dataset too small for GRPO this week.  ', via: 'cli', approver: 'arn:aws:iam::123456789012:user/jane' }), deps());
    expect(outcome.kind).toBe('decided');
    const call = callbacks.calls[0]!;
    expect(call.kind).toBe('fail');
    if (call.kind !== 'fail') return;
    expect(call.error).toBe('ApprovalRejected');
    expect(JSON.parse(call.cause)).toEqual({
      approvalId: ref.approvalId,
      decision: 'rejected',
      approver: 'arn:aws:iam::123456789012:user/jane',
      comment: 'Dataset too small for GRPO this week.',
      decidedAt: clock.now.toISOString(),
      via: 'cli',
    });
  });

  it('a second decision (replayed link, double POST) is refused and never reaches the task', async () => {
    const { ref } = await requestedApproval(store, clock);
    await decideApproval(command(ref.approvalId), deps());
    const again = await decideApproval(command(ref.approvalId, { decision: 'rejected', approver: 'Mallory' }), deps());
    expect(again.kind).toBe('already-decided');
    expect(callbacks.calls).toHaveLength(1);
    expect(await store.get(ref.approvalId)).toMatchObject({ status: 'approved', approver: 'Jane Doe' });
  });

  it('concurrent decisions through two store instances (two processes): exactly one wins', async () => {
    const { ref } = await requestedApproval(store, clock);
    const other = new LocalApprovalStore(dir);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => decideApproval(command(ref.approvalId, { approver: `approver-${i}`, decision: i % 2 === 0 ? 'approved' : 'rejected' }), { store: i % 2 === 0 ? store : other, callbacks, clock: clock.fn })),
    );
    expect(outcomes.filter((o) => o.kind === 'decided')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'already-decided')).toHaveLength(7);
    expect(callbacks.calls).toHaveLength(1);
  });

  it('an expired approval cannot be decided, and reads as expired', async () => {
    const { ref } = await requestedApproval(store, clock, { expiryHours: 1 });
    clock.advance(3_600_000);
    const outcome = await decideApproval(command(ref.approvalId), deps());
    expect(outcome.kind).toBe('expired');
    expect(callbacks.calls).toHaveLength(0);
    expect(await store.get(ref.approvalId)).toMatchObject({ status: 'pending' });
  });

  it('refuses to decide before the pipeline attached its task token, and for an unknown id', async () => {
    const ref = await prepareApproval(prepareInput(), { store, signer: signer(), clock: clock.fn, pageBaseUrl: 'https://x.example', expiryHours: 72 });
    await expect(decideApproval(command(ref.approvalId), deps())).resolves.toMatchObject({ kind: 'not-requested' });
    await expect(decideApproval(command('train-doesnotexist'), deps())).resolves.toEqual({ kind: 'not-found' });
    expect(callbacks.calls).toHaveLength(0);
  });

  it('a task that already timed out: the decision is recorded and reported too late', async () => {
    const { ref } = await requestedApproval(store, clock);
    callbacks.next = new TaskCallbackRefused('task-timed-out', 'TaskTimedOut: Task Timed Out');
    const outcome = await decideApproval(command(ref.approvalId), deps());
    expect(outcome).toMatchObject({ kind: 'too-late', refusal: 'task-timed-out' });
    expect(await store.get(ref.approvalId)).toMatchObject({ status: 'approved', deliveryStatus: 'task-timed-out', deliveryError: expect.stringContaining('TaskTimedOut') });
    // Final: nobody retries a refused delivery.
    await expect(decideApproval(command(ref.approvalId), deps())).resolves.toMatchObject({ kind: 'already-decided' });
    expect(callbacks.calls).toHaveLength(1);
  });

  it('a transient callback failure keeps the decision and lets the next caller deliver it (never a different one)', async () => {
    const { ref } = await requestedApproval(store, clock);
    callbacks.next = new Error('ThrottlingException: Rate exceeded');
    await expect(decideApproval(command(ref.approvalId), deps())).rejects.toBeInstanceOf(DecisionNotDelivered);
    expect(await store.get(ref.approvalId)).toMatchObject({ status: 'approved', deliveryStatus: 'failed' });
    const retry = await decideApproval(command(ref.approvalId, { decision: 'rejected', approver: 'Someone Else' }), deps());
    expect(retry).toMatchObject({ kind: 'redelivered', decision: { decision: 'approved', approver: 'Jane Doe' } });
    expect(callbacks.calls.map((c) => c.kind)).toEqual(['succeed', 'succeed']);
    expect(await store.get(ref.approvalId)).toMatchObject({ status: 'approved', approver: 'Jane Doe', deliveryStatus: 'delivered' });
  });

  it('a delivery left pending by a process that died is retried only once it is stale', async () => {
    const { ref } = await requestedApproval(store, clock);
    // The deciding process wrote the decision and died before calling Step Functions.
    await store.decide(ref.approvalId, { status: 'approved', approver: 'Jane Doe', decidedAt: clock.now.toISOString(), via: 'page' }, clock.now);
    await expect(decideApproval(command(ref.approvalId), deps())).resolves.toMatchObject({ kind: 'already-decided' });
    expect(callbacks.calls).toHaveLength(0);
    clock.advance(STALE_DELIVERY_MS + 1);
    await expect(decideApproval(command(ref.approvalId), deps())).resolves.toMatchObject({ kind: 'redelivered' });
    expect(callbacks.calls).toHaveLength(1);
  });

  it('validates the approver and comment', async () => {
    const { ref } = await requestedApproval(store, clock);
    await expect(decideApproval(command(ref.approvalId, { approver: '   ' }), deps())).rejects.toThrow('a name is required');
    await expect(decideApproval(command(ref.approvalId, { comment: 'x'.repeat(2001) }), deps())).rejects.toThrow('at most 2000');
    expect(await store.get(ref.approvalId)).toMatchObject({ status: 'pending' });
  });
});
