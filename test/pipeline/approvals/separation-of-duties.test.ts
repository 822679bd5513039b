/**
 * Separation of duties: the requester of a run never decides its approvals, and where the stage names
 * approvers for a kind, only they decide it (a FinOps approval needs a FinOps approver). Each refusal
 * records nothing and never reaches the waiting task.
 */
import { decideApproval, type DecideCommand } from '../../../lambdas/pipeline/approvals/decide';
import { dutyRefusal, type ApproverLists } from '../../../lambdas/pipeline/approvals/approver-duties';
import { LocalApprovalStore } from '../../../local/pipeline/local-approval-store';
import { loadStageConfig, parseStageConfig } from '../../../config';
import { prodEu } from '../../../config/stages/prod-eu';
import { dev } from '../../../config/stages/dev';
import { RecordingCallbacks, TestClock, requestedApproval, tempDir } from './helpers';

const ML_ROLE = 'arn:aws:iam::111111111111:role/sial-ml-approver';
const FINOPS_ROLE = 'arn:aws:iam::111111111111:role/sial-finops-approver';
const LISTS: ApproverLists = {
  train: { principals: [ML_ROLE], emails: ['ana@example.com'] },
  'deploy-stage': { principals: [ML_ROLE], emails: ['ana@example.com'] },
  finops: { principals: [FINOPS_ROLE], emails: ['fin@example.com'] },
};
const session = (role: string, name: string) => role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/') + `/${name}`;

describe('dutyRefusal', () => {
  it('refuses the requester of the run, by principal (any session of the same role) and by e-mail (any case)', () => {
    expect(dutyRefusal({ kind: 'train', requestedBy: ML_ROLE }, { kind: 'principal', arn: session(ML_ROLE, 'jane') }, LISTS)).toBe('own-run');
    expect(dutyRefusal({ kind: 'train', requestedBy: session(ML_ROLE, 'bob') }, { kind: 'principal', arn: session(ML_ROLE, 'jane') }, LISTS)).toBe('own-run');
    expect(dutyRefusal({ kind: 'train', requestedBy: 'Ana@Example.com' }, { kind: 'email', email: 'ana@example.com' }, LISTS)).toBe('own-run');
    // Even where the stage names no approvers (dev).
    expect(dutyRefusal({ kind: 'train', requestedBy: 'ana@example.com' }, { kind: 'email', email: 'ana@example.com' }, undefined)).toBe('own-run');
  });

  it('refuses someone not on the list of the kind: a FinOps approval needs a FinOps approver', () => {
    expect(dutyRefusal({ kind: 'finops', requestedBy: 'scheduler:weekly' }, { kind: 'principal', arn: session(ML_ROLE, 'jane') }, LISTS)).toBe('not-an-approver');
    expect(dutyRefusal({ kind: 'finops', requestedBy: 'scheduler:weekly' }, { kind: 'email', email: 'ana@example.com' }, LISTS)).toBe('not-an-approver');
    expect(dutyRefusal({ kind: 'finops', requestedBy: 'scheduler:weekly' }, { kind: 'principal', arn: session(FINOPS_ROLE, 'fin') }, LISTS)).toBeUndefined();
    expect(dutyRefusal({ kind: 'train', requestedBy: 'scheduler:weekly' }, { kind: 'principal', arn: session(FINOPS_ROLE, 'fin') }, LISTS)).toBe('not-an-approver');
    // A role of the same name in another account is another principal.
    expect(dutyRefusal({ kind: 'train', requestedBy: 'scheduler:weekly' }, { kind: 'principal', arn: session(ML_ROLE.replace('111111111111', '222222222222'), 'x') }, LISTS)).toBe('not-an-approver');
  });

  it('keeps the page out of a kind whose list names principals only, and the CLI out of one that names addresses only', () => {
    const principalsOnly = { train: { principals: [ML_ROLE] } };
    expect(dutyRefusal({ kind: 'train', requestedBy: 'scheduler:weekly' }, { kind: 'email', email: 'anyone@example.com' }, principalsOnly)).toBe('not-an-approver');
    expect(dutyRefusal({ kind: 'train', requestedBy: 'scheduler:weekly' }, { kind: 'principal', arn: session(ML_ROLE, 'jane') }, principalsOnly)).toBeUndefined();
    const emailsOnly = { train: { emails: ['ana@example.com'] } };
    expect(dutyRefusal({ kind: 'train', requestedBy: 'scheduler:weekly' }, { kind: 'principal', arn: session(ML_ROLE, 'jane') }, emailsOnly)).toBe('not-an-approver');
    expect(dutyRefusal({ kind: 'train', requestedBy: 'scheduler:weekly' }, { kind: 'email', email: 'ANA@example.com' }, emailsOnly)).toBeUndefined();
    // Another kind without a list stays open.
    expect(dutyRefusal({ kind: 'finops', requestedBy: 'scheduler:weekly' }, { kind: 'email', email: 'anyone@example.com' }, principalsOnly)).toBeUndefined();
  });

  it('lets anyone but the requester decide a kind the stage names no approvers for (non-production stages)', () => {
    expect(dutyRefusal({ kind: 'finops', requestedBy: 'scheduler:weekly' }, { kind: 'email', email: 'someone@example.com' }, {})).toBeUndefined();
  });
});

describe('decideApproval with separation of duties', () => {
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
  const deps = () => ({ store, callbacks, clock: clock.fn, approversOf: () => LISTS });
  const cli = (approvalId: string, arn: string): DecideCommand => ({ approvalId, decision: 'approved', approver: arn, identity: { kind: 'principal', arn }, via: 'cli' });

  it('refuses the requester of the run: nothing recorded, the task never told, the record still pending', async () => {
    const { ref } = await requestedApproval(store, clock);
    const record = await store.get(ref.approvalId);
    const outcome = await decideApproval(cli(ref.approvalId, record!.requestedBy), { ...deps(), approversOf: () => undefined });
    expect(outcome).toMatchObject({ kind: 'refused', refusal: 'own-run' });
    expect(callbacks.calls).toHaveLength(0);
    expect((await store.get(ref.approvalId))?.status).toBe('pending');
  });

  it('refuses an ML approver on a FinOps approval, then records the FinOps approver who decides it', async () => {
    const { ref } = await requestedApproval(store, clock, { kind: 'finops' });
    expect(await decideApproval(cli(ref.approvalId, session(ML_ROLE, 'jane')), deps())).toMatchObject({ kind: 'refused', refusal: 'not-an-approver' });
    expect(callbacks.calls).toHaveLength(0);
    const outcome = await decideApproval(cli(ref.approvalId, session(FINOPS_ROLE, 'fin')), deps());
    expect(outcome.kind).toBe('decided');
    expect(await store.get(ref.approvalId)).toMatchObject({ status: 'approved', approver: session(FINOPS_ROLE, 'fin') });
  });

  it('refuses a principal on no list for a training approval', async () => {
    const { ref } = await requestedApproval(store, clock);
    expect(await decideApproval(cli(ref.approvalId, 'arn:aws:iam::111111111111:user/intern'), deps())).toMatchObject({ kind: 'refused', refusal: 'not-an-approver' });
  });
});

describe('approver lists in the stage configuration', () => {
  it('refuses a kind that names principals but no addresses: the page would be open to every subscriber', () => {
    const approvers = { ...prodEu.approvals.approvers, train: { principals: ['arn:aws:iam::111111111111:role/sial-ml-approver'] } };
    expect(() => parseStageConfig({ ...prodEu, approvals: { ...prodEu.approvals, approvers } }, 'config/stages/prod-eu.ts')).toThrow(/approvals\.approvers\.train\.emails: received nothing \(the field is missing\); names principals but no emails/);
  });

  it('a production stage without approver lists does not synthesize', () => {
    const { approvers: _approvers, ...withoutLists } = prodEu.approvals;
    expect(() => parseStageConfig({ ...prodEu, approvals: withoutLists }, 'config/stages/prod-eu.ts')).toThrow(/approvals\.approvers\.finops\.principals: received nothing; a production stage must name who may decide/);
  });

  it('dev may leave them out (anyone but the requester decides), and the shipped production stages name them', () => {
    expect(loadStageConfig('dev').approvals.approvers).toBeUndefined();
    expect(dev.production).toBe(false);
    for (const stage of ['prod-eu', 'prod-kr']) expect(loadStageConfig(stage).approvals.approvers?.finops?.principals?.length).toBeGreaterThan(0);
  });
});
