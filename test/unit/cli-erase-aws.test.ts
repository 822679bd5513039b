/**
 * `sial erase` without --local: the id is pseudonymised with the stage's key (Secrets Manager) and only
 * the pseudonym starts the stage's erasure state machine; the ledger is read from DynamoDB. AWS is
 * mocked with aws-sdk-client-mock.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../bin/cli/main';
import { createPseudonymiser } from '../../lambdas/shared/pseudonymisation';

const sfn = mockClient(SFNClient);
const secrets = mockClient(SecretsManagerClient);
const ddb = mockClient(DynamoDBDocumentClient);
const KEY = 'k'.repeat(64);
const ARN = 'arn:aws:states:eu-central-1:123456789012:stateMachine:sial-dev-erasure';

function cli(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env, clock: () => new Date('2026-12-04T10:00:00Z') };
  return { out, err, run: (...argv: string[]) => runCli(argv, context) };
}

beforeEach(() => {
  sfn.reset();
  secrets.reset();
  ddb.reset();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN.replace(':stateMachine:', ':execution:')}:erase-1` });
});

describe('sial erase in AWS', () => {
  it('pseudonymises the subject here and starts the state machine with the pseudonym only', async () => {
    const c = cli({ SIAL_PSEUDONYMISATION_KEY_SECRET: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:sial/dev/pseudonymisation-AbCdEf' });
    expect(await c.run('erase', '--subject', 'alice@example.com', '--state-machine', ARN)).toBe(0);
    const [call] = sfn.commandCalls(StartExecutionCommand);
    const input = call!.args[0].input;
    expect(input.stateMachineArn).toBe(ARN);
    expect(input.name).toMatch(/^erase-20261204T100000Z-[0-9a-f]{16}$/);
    const expected = createPseudonymiser(new TextEncoder().encode(KEY)).pseudonymise('subject', 'alice@example.com');
    expect(JSON.parse(input.input!)).toEqual({ target: { kind: 'subject', subjectKey: expected } });
    expect(input.input).not.toContain('alice');
    expect(c.out.join('\n')).not.toContain('alice');
    expect(c.out.join('\n')).toContain('Erasure started: arn:aws:states:');
  });

  it('starts trace-id requests without reading the key, from the environment default', async () => {
    const c = cli({ SIAL_ERASURE_STATE_MACHINE: ARN });
    expect(await c.run('erase', '--trace-id', 'tr-2', '--trace-id', 'tr-1')).toBe(0);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!)).toEqual({ target: { kind: 'trace-ids', traceIds: ['tr-1', 'tr-2'] } });
  });

  it('refuses without a state machine, with a malformed ARN, and a subject without the key, before calling AWS', async () => {
    const none = cli();
    expect(await none.run('erase', '--subject', 'alice')).toBe(2);
    expect(none.err.join('\n')).toContain('--state-machine ARN');
    const bad = cli();
    expect(await bad.run('erase', '--subject', 'alice', '--state-machine', 'sial-dev-erasure')).toBe(2);
    const noKey = cli();
    expect(await noKey.run('erase', '--subject', 'alice', '--state-machine', ARN)).toBe(2);
    expect(noKey.err.join('\n')).toContain('--key-secret ARN');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(none.err.join('\n') + bad.err.join('\n') + noKey.err.join('\n')).not.toContain('alice');
  });

  it('lists the DynamoDB ledger and flags requests past their deadline', async () => {
    ddb.on(ScanCommand).resolves({
      Items: [
        { erasureId: 'er-1', target: 'subject:x', kind: 'subject', requestedAt: '2026-10-01T00:00:00.000Z', deadline: '2026-10-31T00:00:00.000Z', status: 'failed', updatedAt: '2026-10-01T00:00:00.000Z', traceIds: 1, rowsDeleted: { traces: 1 }, snapshotIds: {}, verification: null, lineage: null },
      ],
    });
    const c = cli({ SIAL_ERASURE_LEDGER_TABLE: 'sial-dev-erasure-ledger' });
    expect(await c.run('erase', '--ledger')).toBe(1);
    expect(c.out.join('\n')).toContain('1 past the deadline without a verified deletion (ALARM)');
  });
});
