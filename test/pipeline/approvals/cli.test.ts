import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { awsBackend } from '../../../bin/cli/approvals-backend';
import { APPROVALS_TABLE_ENV, createApprovalsCommand } from '../../../bin/cli/approvals';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { stsCallerArn } from '../../../bin/cli/caller-identity';
import { runCli } from '../../../bin/cli/main';
import type { ApprovalRecord } from '../../../lambdas/pipeline/approvals/approval-record';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareLakeDir } from '../../../local/lake-dir';
import { LocalApprovalStore } from '../../../local/pipeline/local-approval-store';
import { LocalTaskCallbacks } from '../../../local/pipeline/local-task-callbacks';
import { TestClock, TOKEN, requestedApproval, tempDir } from './helpers';

function cli(clock: TestClock, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env, clock: clock.fn };
  return { out, err, run: (...argv: string[]) => runCli(argv, context) };
}

describe('sial approvals --local DIR', () => {
  /** The lake directory of a local run (what --local names) and its approvals folder. */
  let lakeDir: string;
  let dir: string;
  let cleanup: () => void;
  let clock: TestClock;
  let store: LocalApprovalStore;
  beforeEach(() => {
    let root: string;
    ({ dir: root, cleanup } = tempDir());
    ({ lakeDir, approvalsDir: dir } = prepareLakeDir(join(root, 'lake'), { keep: false }));
    mkdirSync(dir, { recursive: true });
    clock = new TestClock();
    store = new LocalApprovalStore(dir);
  });
  afterEach(() => cleanup());

  it('list shows waiting approvals with their expiry, filtered by --stage; never the token', async () => {
    const { ref } = await requestedApproval(store, clock);
    clock.advance(90 * 60_000);
    const c = cli(clock);
    expect(await c.run('approvals', 'list', '--local', lakeDir)).toBe(0);
    expect(c.out[0]).toMatch(/^ID\s+KIND\s+STAGE\s+MODEL\s+RUN\s+REQUESTED BY\s+EXPIRES$/);
    expect(c.out[2]).toContain(ref.approvalId);
    expect(c.out[2]).toContain('train  dev    qwen3-4b');
    expect(c.out[2]).toContain('2026-11-26 09:00 UTC (in 70 h 30 min)');
    expect(c.out.join('\n')).not.toContain(TOKEN);

    const json = cli(clock);
    expect(await json.run('approvals', 'list', '--local', lakeDir, '--json')).toBe(0);
    const listed = JSON.parse(json.out.join('\n')) as ApprovalRecord[];
    expect(listed.map((r) => r.approvalId)).toEqual([ref.approvalId]);
    expect(json.out.join('\n')).not.toContain(TOKEN);

    const other = cli(clock);
    expect(await other.run('approvals', 'list', '--local', lakeDir, '--stage', 'prod-eu')).toBe(0);
    expect(other.out).toEqual([`No approvals are waiting (local run ${lakeDir}).`]);
  });

  it('approve decides as the local OS user and completes the waiting local task', async () => {
    const callbacks = new LocalTaskCallbacks(dir);
    await callbacks.open(TOKEN);
    const { ref } = await requestedApproval(store, clock);
    const c = cli(clock);
    expect(await c.run('approvals', 'approve', ref.approvalId, '--local', lakeDir, '--comment', 'ship it')).toBe(0);
    expect(c.out[0]).toMatch(new RegExp(`^Approved ${ref.approvalId}: training run for qwen3-4b \\(run run-2026-11-23-a, stage dev\\), as local:`));
    const outcome = await callbacks.outcome(TOKEN);
    expect(outcome?.status).toBe('succeeded');
    expect(JSON.parse(outcome?.status === 'succeeded' ? outcome.output : '{}')).toMatchObject({ decision: 'approved', via: 'cli', comment: 'ship it', approver: expect.stringMatching(/^local:/) });
    // A second decision is refused with who decided.
    const again = cli(clock);
    expect(await again.run('approvals', 'reject', ref.approvalId, '--local', lakeDir)).toBe(1);
    expect(again.err[0]).toMatch(new RegExp(`^${ref.approvalId} was already approved by local:.* at 2026-11-23 09:00 UTC\\. A decision is final\\.$`));
    expect(await again.run('approvals', 'list', '--local', lakeDir)).toBe(0);
    expect(again.out.at(-1)).toContain('No approvals are waiting');
  });

  it('reject with a comment fails the waiting local task with ApprovalRejected', async () => {
    const callbacks = new LocalTaskCallbacks(dir);
    await callbacks.open(TOKEN);
    const { ref } = await requestedApproval(store, clock);
    const c = cli(clock);
    expect(await c.run('approvals', 'reject', ref.approvalId, '--comment', 'not this week', '--local', lakeDir)).toBe(0);
    expect(c.out[1]).toBe('The pipeline has been told and stops.');
    const outcome = await callbacks.outcome(TOKEN);
    expect(outcome).toMatchObject({ status: 'failed', error: 'ApprovalRejected' });
    expect(outcome?.status === 'failed' && JSON.parse(outcome.cause)).toMatchObject({ decision: 'rejected', comment: 'not this week' });
  });

  it('explains unknown, expired and too-late approvals with exit code 1', async () => {
    const c = cli(clock);
    expect(await c.run('approvals', 'approve', 'train-nope', '--local', lakeDir)).toBe(1);
    expect(c.err[0]).toBe('There is no approval train-nope. List the waiting ones with: sial approvals list');

    // Requested, but the local engine's wait already timed out.
    const callbacks = new LocalTaskCallbacks(dir);
    await callbacks.open(TOKEN);
    await callbacks.timeOut(TOKEN);
    const { ref } = await requestedApproval(store, clock);
    expect(await c.run('approvals', 'approve', ref.approvalId, '--local', lakeDir)).toBe(1);
    expect(c.err.at(-1)).toContain(`Recorded approved for ${ref.approvalId}, but the pipeline was no longer waiting (task-timed-out)`);

    const expired = await requestedApproval(store, clock, { expiryHours: 1, token: 'other' });
    clock.advance(3_600_000);
    expect(await c.run('approvals', 'approve', expired.ref.approvalId, '--local', lakeDir)).toBe(1);
    expect(c.err.at(-1)).toBe(`${expired.ref.approvalId} expired at 2026-11-23 10:00 UTC without a decision; the pipeline stopped waiting.`);
  });

  it('a folder that is not a local run, or a run that never asked for an approval, is an error (exit 1), not an empty list', async () => {
    const c = cli(clock);
    expect(await c.run('approvals', 'list', '--local', dir)).toBe(1);
    expect(c.err[0]).toBe(`sial approvals: --local ${dir} is not a local lake directory (no .sial-local-lake marker); it is inside the lake directory ${lakeDir}: pass --local ${lakeDir}`);
    const unmarked = mkdtempSync(join(tmpdir(), 'sial-not-a-lake-'));
    try {
      expect(await c.run('approvals', 'list', '--local', unmarked)).toBe(1);
      expect(c.err.at(-1)).toContain('is not a local lake directory');
    } finally {
      rmSync(unmarked, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true });
    expect(await c.run('approvals', 'list', '--local', lakeDir)).toBe(1);
    expect(c.err.at(-1)).toBe(`sial approvals: no run in ${lakeDir} has asked for an approval yet (there is no ${dir}); start one with: npm run local -- --lake-dir ${lakeDir}`);
    expect(c.out).toEqual([]);
  });

  it('usage errors exit 2 with the usage', async () => {
    const c = cli(clock);
    expect(await c.run('approvals', 'approve', '--local', lakeDir)).toBe(2);
    expect(c.err[0]).toBe('sial approvals: approve needs the approval ID (see: sial approvals list)');
    expect(await c.run('approvals', 'list', '--local', lakeDir, '--bogus')).toBe(2);
    expect(await c.run('approvals', 'frobnicate')).toBe(2);
    expect(await c.run('approvals', 'list')).toBe(2);
    expect(c.err.join('\n')).toContain(`--table NAME or $${APPROVALS_TABLE_ENV}`);
    expect(await c.run('nope')).toBe(2);
    expect(await c.run('--help')).toBe(0);
    expect(c.out.join('\n')).toContain('approvals  list pending approvals');
  });
});

describe('sial approvals in AWS (IAM auth)', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const sfn = mockClient(SFNClient);
  // A session of the training approver role the production stages name (config/stages/prod-*.ts).
  const CALLER = 'arn:aws:sts::111111111111:assumed-role/sial-ml-approver/jane';
  let clock: TestClock;
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    clock = new TestClock();
  });

  const waitingRecord = (): ApprovalRecord => ({
    approvalId: 'train-00aa11bb22cc33dd',
    kind: 'train',
    stage: 'prod-eu',
    runId: 'run-9',
    targetModelId: 'qwen3-4b',
    requestedBy: 'scheduler:weekly',
    summary: {},
    executionArn: 'arn:aws:states:eu-central-1:123456789012:execution:sial:run-9',
    createdAt: '2026-11-23T08:00:00.000Z',
    expiresAt: '2026-11-26T08:00:00.000Z',
    status: 'pending',
    ttl: 1_800_000_000,
    taskToken: TOKEN,
    tokenAttachedAt: '2026-11-23T08:00:01.000Z',
    notifiedAt: '2026-11-23T08:00:02.000Z',
    waitingStage: 'prod-eu',
  });

  function command(seen: Array<{ tableName: string; region?: string }>) {
    return createApprovalsCommand((options) => {
      seen.push({ tableName: options.tableName, ...(options.region !== undefined ? { region: options.region } : {}) });
      return awsBackend({ ...options, callerArn: async () => CALLER, dynamoDb: new DynamoDBClient({ region: 'eu-central-1' }), sfn: new SFNClient({ region: 'eu-central-1' }) });
    });
  }

  it('refuses a caller the stage does not name as an approver of the kind, recording nothing', async () => {
    const record = waitingRecord();
    ddb.on(GetCommand).resolves({ Item: record });
    const err: string[] = [];
    const outsider = createApprovalsCommand((options) =>
      awsBackend({ ...options, callerArn: async () => 'arn:aws:sts::111111111111:assumed-role/sial-finops-approver/fin', dynamoDb: new DynamoDBClient({ region: 'eu-central-1' }), sfn: new SFNClient({ region: 'eu-central-1' }) }),
    );
    const code = await outsider.run(['approve', record.approvalId, '--stage', 'prod-eu'], { io: { out: () => undefined, err: (l) => err.push(l) }, env: { [APPROVALS_TABLE_ENV]: 'T' }, clock: clock.fn });
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('You are not among the train approvers');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('approve: conditional write as the caller principal, then SendTaskSuccess with the decision', async () => {
    const record = waitingRecord();
    ddb.on(GetCommand).resolves({ Item: record });
    ddb.on(UpdateCommand).callsFake((input: { ConditionExpression: string }) =>
      input.ConditionExpression.includes('attribute_exists(#taskToken)')
        ? { Attributes: { ...record, status: 'approved', approver: CALLER, decidedAt: clock.now.toISOString(), via: 'cli', deliveryStatus: 'pending', deliveryAt: clock.now.toISOString() } }
        : { Attributes: { ...record, status: 'approved', approver: CALLER, decidedAt: clock.now.toISOString(), via: 'cli', deliveryStatus: 'delivered' } },
    );
    sfn.on(SendTaskSuccessCommand).resolves({});
    const seen: Array<{ tableName: string; region?: string }> = [];
    const out: string[] = [];
    const code = await command(seen).run(['approve', record.approvalId, '--stage', 'prod-eu'], { io: { out: (l) => out.push(l), err: (l) => out.push(l) }, env: { [APPROVALS_TABLE_ENV]: 'sial-prod-eu-Approvals' }, clock: clock.fn });
    expect(code).toBe(0);
    expect(seen).toEqual([{ tableName: 'sial-prod-eu-Approvals', region: 'eu-central-1' }]);
    const decide = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(decide.TableName).toBe('sial-prod-eu-Approvals');
    expect(decide.ConditionExpression).toBe('#status = :pending AND #expiresAt > :now AND attribute_exists(#taskToken)');
    expect(Object.values(decide.ExpressionAttributeValues ?? {})).toEqual(expect.arrayContaining([CALLER, 'cli', 'approved']));
    const calls = sfn.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.taskToken).toBe(TOKEN);
    expect(JSON.parse(calls[0]!.args[0].input.output!)).toEqual({ approvalId: record.approvalId, decision: 'approved', approver: CALLER, decidedAt: clock.now.toISOString(), via: 'cli' });
    expect(out[0]).toContain(`as ${CALLER}`);
  });

  it('reject after the task timed out: SendTaskFailure refused with TaskTimedOut is reported as too late', async () => {
    const record = waitingRecord();
    ddb.on(GetCommand).resolves({ Item: record });
    ddb.on(UpdateCommand).resolves({ Attributes: { ...record, status: 'rejected', approver: CALLER, decidedAt: clock.now.toISOString(), via: 'cli', deliveryStatus: 'pending', deliveryAt: clock.now.toISOString() } });
    sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    const err: string[] = [];
    const code = await command([]).run(['reject', record.approvalId, '--table', 'T', '--region', 'eu-central-1'], { io: { out: () => undefined, err: (l) => err.push(l) }, env: {}, clock: clock.fn });
    expect(code).toBe(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toMatchObject({ taskToken: TOKEN, error: 'ApprovalRejected' });
    expect(err[0]).toContain('no longer waiting (task-timed-out)');
    const recorded = ddb.commandCalls(UpdateCommand)[1]!.args[0].input;
    expect(recorded.ConditionExpression).toBe('#delivery = :pending');
    expect(Object.values(recorded.ExpressionAttributeValues ?? {})).toContain('task-timed-out');
  });

  it('asks STS GetCallerIdentity for the approver ARN', async () => {
    const sts = mockClient(STSClient);
    sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER, Account: '123456789012' });
    await expect(stsCallerArn('eu-central-1', new STSClient({ region: 'eu-central-1' }))).resolves.toBe(CALLER);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    sts.on(GetCallerIdentityCommand).resolves({});
    await expect(stsCallerArn('eu-central-1', new STSClient({ region: 'eu-central-1' }))).rejects.toThrow('approver cannot be identified');
    sts.restore();
  });
});
