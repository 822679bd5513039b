import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { NOTIFIER_TOPIC_ENV, SNS_MAX_MESSAGE_BYTES, SnsNotifier, snsMessage, snsSubject } from '../../lambdas/pipeline/aws/sns-notifier';
import { ConsoleNotifier } from '../../local/pipeline/console-notifier';

const sns = mockClient(SNSClient);
const client = new SNSClient({ region: 'us-east-1' });
const ARN = (name: string) => `arn:aws:sns:us-east-1:123456789012:${name}`;

beforeEach(() => sns.reset());

describe('SnsNotifier', () => {
  it('maps each topic to its environment variable and publishes there', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const notifier = SnsNotifier.fromEnv(client, { APPROVALS_TOPIC_ARN: ARN('approvals'), FINOPS_TOPIC_ARN: ARN('finops'), NOTIFICATIONS_TOPIC_ARN: ARN('notifications') });
    await notifier.publish('approvals', 'Approve training of qwen3-4b', 'Open the approval page.');
    await notifier.publish('finops', 'GPU budget: approval needed', 'Over the ceiling.');
    await notifier.publish('notifications', 'Run failed', 'Details.');
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input)).toEqual([
      { TopicArn: ARN('approvals'), Subject: 'Approve training of qwen3-4b', Message: 'Open the approval page.' },
      { TopicArn: ARN('finops'), Subject: 'GPU budget: approval needed', Message: 'Over the ceiling.' },
      { TopicArn: ARN('notifications'), Subject: 'Run failed', Message: 'Details.' },
    ]);
    expect(NOTIFIER_TOPIC_ENV).toEqual({ approvals: 'APPROVALS_TOPIC_ARN', finops: 'FINOPS_TOPIC_ARN', notifications: 'NOTIFICATIONS_TOPIC_ARN' });
  });

  it("a message for one recipient carries the `recipient` attribute each e-mail subscription's filter policy matches", async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const notifier = SnsNotifier.fromEnv(client, { APPROVALS_TOPIC_ARN: ARN('approvals') });
    await notifier.publish('approvals', 'Approval needed', 'Your personal link.', 'jane@example.com');
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input).toEqual({
      TopicArn: ARN('approvals'),
      Subject: 'Approval needed',
      Message: 'Your personal link.',
      MessageAttributes: { recipient: { DataType: 'String', StringValue: 'jane@example.com' } },
    });
  });

  it('names the missing variable when a function publishes to a topic it was not given', async () => {
    const notifier = SnsNotifier.fromEnv(client, { NOTIFICATIONS_TOPIC_ARN: ARN('notifications'), FINOPS_TOPIC_ARN: '' });
    await expect(notifier.publish('finops', 's', 'm')).rejects.toThrow('FINOPS_TOPIC_ARN is not set: this function was not given the "finops" topic by its construct');
    expect(sns.calls()).toHaveLength(0);
  });

  it('lets an SNS failure through so the state retries', async () => {
    sns.on(PublishCommand).rejects(new Error('Throttled'));
    await expect(new SnsNotifier(client, { notifications: ARN('n') }).publish('notifications', 's', 'm')).rejects.toThrow('Throttled');
  });
});

describe('snsSubject and snsMessage', () => {
  it('repairs a subject SNS would reject: line breaks, non-ASCII, length', () => {
    expect(snsSubject('Eval gate failed\nfor qwen3-4b → run 42')).toBe('Eval gate failed for qwen3-4b run 42');
    const long = snsSubject(`Training approval: ${'x'.repeat(200)}`);
    expect(long.length).toBeLessThan(100);
    expect(long.endsWith('...')).toBe(true);
    expect(snsSubject('   \n')).toBe('Self-Improving Agent Loop notification');
  });

  it('cuts an oversized message on a character boundary and says so', () => {
    const message = snsMessage('é'.repeat(SNS_MAX_MESSAGE_BYTES));
    expect(Buffer.byteLength(message, 'utf8')).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    expect(message).not.toContain('\uFFFD');
    expect(message.endsWith('[message truncated to the SNS size limit; the execution history has the full details]')).toBe(true);
    expect(snsMessage('short')).toBe('short');
  });
});

describe('ConsoleNotifier (local)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sial-notify-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints each notification marked as local and appends it to a JSON-lines file', async () => {
    const printed: string[] = [];
    const file = join(dir, 'out', 'notifications.jsonl');
    const notifier = new ConsoleNotifier({ file, print: (t) => printed.push(t), clock: () => new Date('2026-05-04T00:00:00Z') });
    await notifier.publish('finops', 'GPU budget: approval needed', 'line 1\nline 2');
    await notifier.publish('notifications', 'Registered', 'ok');
    expect(printed[0]).toBe('[local notification -> finops] GPU budget: approval needed\n    line 1\n    line 2');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { at: '2026-05-04T00:00:00.000Z', topic: 'finops', subject: 'GPU budget: approval needed', message: 'line 1\nline 2', local: true },
      { at: '2026-05-04T00:00:00.000Z', topic: 'notifications', subject: 'Registered', message: 'ok', local: true },
    ]);
    expect(notifier.sent.map((n) => n.topic)).toEqual(['finops', 'notifications']);
  });
});
