import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApprovalExistsError } from '../../../lambdas/pipeline/approvals/store';
import { LockedJsonFile } from '../../../local/pipeline/local-approval-json-file';
import { LocalApprovalStore } from '../../../local/pipeline/local-approval-store';
import { TestClock, TOKEN, requestedApproval, tempDir } from './helpers';

describe('LocalApprovalStore', () => {
  let dir: string;
  let cleanup: () => void;
  let clock: TestClock;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    clock = new TestClock();
  });
  afterEach(() => cleanup());

  it('keeps records in <dir>/approvals.json, private to the user, and reads them back through the schema', async () => {
    const store = new LocalApprovalStore(dir);
    const { ref } = await requestedApproval(store, clock);
    const file = join(dir, 'approvals.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).approvals[ref.approvalId]).toMatchObject({ status: 'pending', taskToken: TOKEN });
    expect(await new LocalApprovalStore(dir).get(ref.approvalId)).toMatchObject({ approvalId: ref.approvalId });
  });

  it('refuses a corrupted file instead of acting on it', async () => {
    const store = new LocalApprovalStore(dir);
    const { ref } = await requestedApproval(store, clock);
    const file = join(dir, 'approvals.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.approvals[ref.approvalId].status = 'maybe';
    writeFileSync(file, JSON.stringify(doc));
    await expect(store.get(ref.approvalId)).rejects.toThrow(/approval record in .*approvals\.json .* is invalid: status/);
  });

  it('create refuses an existing id', async () => {
    const store = new LocalApprovalStore(dir);
    const { ref } = await requestedApproval(store, clock);
    const record = (await store.get(ref.approvalId))!;
    await expect(store.create({ ...record, status: 'approved' })).rejects.toBeInstanceOf(ApprovalExistsError);
    expect(await store.get(ref.approvalId)).toMatchObject({ status: 'pending' });
  });

  it('listPending: waiting, unexpired approvals only, soonest expiry first, by stage if asked', async () => {
    const store = new LocalApprovalStore(dir);
    const long = await requestedApproval(store, clock, { expiryHours: 48 });
    const short = await requestedApproval(store, clock, { expiryHours: 2 });
    const decided = await requestedApproval(store, clock);
    await store.decide(decided.ref.approvalId, { status: 'approved', approver: 'J', decidedAt: clock.now.toISOString(), via: 'cli' }, clock.now);
    const ids = (await store.listPending({ now: clock.now })).map((r) => r.approvalId);
    expect(ids).toEqual([short.ref.approvalId, long.ref.approvalId]);
    expect(await store.listPending({ now: clock.now, stage: 'prod-eu' })).toEqual([]);
    expect((await store.listPending({ now: clock.now, stage: 'dev' })).map((r) => r.approvalId)).toEqual(ids);
    clock.advance(3 * 3_600_000);
    expect((await store.listPending({ now: clock.now })).map((r) => r.approvalId)).toEqual([long.ref.approvalId]);
  });

  it('many concurrent read-modify-writes from separate instances lose no update', async () => {
    const file = join(dir, 'counter.json');
    const codec = { empty: () => ({ n: 0 }), parse: (raw: unknown) => raw as { n: number } };
    const instances = Array.from({ length: 4 }, () => new LockedJsonFile(file, codec));
    await Promise.all(Array.from({ length: 40 }, (_, i) => instances[i % 4]!.update((doc) => ({ next: { n: doc.n + 1 }, result: undefined }))));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ n: 40 });
  });

  it('breaks a lock left behind by a dead process once it is stale, and times out on a live one', async () => {
    const file = join(dir, 'doc.json');
    const codec = { empty: () => ({ n: 0 }), parse: (raw: unknown) => raw as { n: number } };
    writeFileSync(`${file}.lock`, '99999\n');
    const patient = new LockedJsonFile(file, codec, { lockTimeoutMs: 150, staleLockMs: 60_000 });
    await expect(patient.update(() => ({ result: 1 }))).rejects.toThrow(/Timed out after 150 ms waiting for .*doc\.json\.lock/);
    const breaker = new LockedJsonFile(file, codec, { lockTimeoutMs: 1_000, staleLockMs: 0 });
    await new Promise((r) => setTimeout(r, 5));
    await expect(breaker.update((doc) => ({ next: { n: doc.n + 1 }, result: 'ok' }))).resolves.toBe('ok');
  });
});
