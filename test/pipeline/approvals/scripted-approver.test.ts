import type { LocalApprovals } from '../../../local/pipeline/local-approval-runtime';
import { startScriptedApprover } from '../../../local/pipeline/scripted-approver';

/** Approvals whose `listPending` is the given function: the approver only ever reads that first. */
function approvalsListing(listPending: () => Promise<never[]>): LocalApprovals {
  return { store: { listPending } } as unknown as LocalApprovals;
}

const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
};

describe('scripted approver (local simulation)', () => {
  it('keeps a failed poll as a failure instead of an unhandled rejection', async () => {
    let polls = 0;
    const approver = startScriptedApprover(
      approvalsListing(async () => {
        polls += 1;
        throw new Error('ENOENT: approvals.json.lock');
      }),
      { train: 'approve' },
      { pollMs: 1 },
    );
    await until(() => polls >= 2);
    await approver.stop();
    expect(approver.failures.length).toBeGreaterThanOrEqual(2);
    expect(approver.failures[0]!.message).toBe('ENOENT: approvals.json.lock');
  });

  it('stop() resolves only after the poll in flight has finished, and no poll starts after it', async () => {
    let release: () => void = () => undefined;
    let started = 0;
    let finished = 0;
    const approver = startScriptedApprover(
      approvalsListing(async () => {
        started += 1;
        await new Promise<void>((resolve) => (release = resolve));
        finished += 1;
        return [];
      }),
      { train: 'approve' },
      { pollMs: 1 },
    );
    await until(() => started === 1);
    const stopped = approver.stop().then(() => finished);
    release();
    expect(await stopped).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(started).toBe(1);
    expect(approver.failures).toEqual([]);
  });
});
