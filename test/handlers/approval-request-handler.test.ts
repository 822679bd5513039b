import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type * as RequestHandlerModule from '../../lambdas/pipeline/approvals/request-handler';
import { fakeApprovalsTable } from '../pipeline/approvals/fake-approvals-table';
import { SIGNING_KEY, TEST_RECIPIENTS, TOKEN, linkParams, signer, waitingRecord } from '../pipeline/approvals/helpers';
import { lambdaContext } from '../helpers/lambda-context';

const ddb = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);
const secrets = mockClient(SecretsManagerClient);
const APPROVALS_TOPIC = 'arn:aws:sns:us-east-1:123456789012:sial-dev-approvals';
const FINOPS_TOPIC = 'arn:aws:sns:us-east-1:123456789012:sial-dev-finops';
process.env.APPROVALS_TABLE = 'approvals-table';
process.env.APPROVAL_SIGNING_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:approval-signing-AbCdEf';
process.env.APPROVAL_PAGE_BASE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';
process.env.APPROVALS_TOPIC_ARN = APPROVALS_TOPIC;
process.env.FINOPS_TOPIC_ARN = FINOPS_TOPIC;
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'approvals-request';
process.env.POWERTOOLS_DEV = 'true';
process.env.APPROVAL_RECIPIENTS = JSON.stringify(TEST_RECIPIENTS);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/pipeline/approvals/request-handler') as typeof RequestHandlerModule;

jest.spyOn(console, 'log').mockImplementation(() => undefined);
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);

const ID = 'train-00aa11bb22cc33dd';
const future = () => new Date(Math.floor(Date.now() / 1000) * 1000 + 72 * 3_600_000);
/** As `Prepare ... approval` left it: no token, no e-mail yet. */
function prepared(kind: 'train' | 'finops' = 'train') {
  const { taskToken: _t, tokenAttachedAt: _a, notifiedAt: _n, waitingStage: _w, ...rest } = waitingRecord(future(), { kind });
  return rest;
}

beforeEach(() => {
  ddb.reset();
  sns.reset();
  secrets.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  secrets.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: SIGNING_KEY.toString('utf8') });
  secrets.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(new ResourceNotFoundException({ message: 'none', $metadata: {} }));
});

describe('request approval handler (waitForTaskToken)', () => {
  it('attaches the token, then publishes one e-mail per approver, each with its own signed link; the token is in no e-mail and not in the result', async () => {
    const items = fakeApprovalsTable(ddb, [prepared()]);
    const result = await handler({ taskToken: TOKEN, approvalId: ID }, lambdaContext('approvals-request'));
    expect(items.get(ID)).toMatchObject({ taskToken: TOKEN, waitingStage: 'dev', notifiedAt: expect.any(String) });
    const publishes = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    // One message per recipient of the kind, addressed by the attribute each e-mail subscription filters on.
    expect(publishes.map((p) => p.MessageAttributes?.recipient?.StringValue)).toEqual([...TEST_RECIPIENTS.train]);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    for (const input of publishes) {
      expect(input.TopicArn).toBe(APPROVALS_TOPIC);
      expect(input.Subject).toBe('[sial dev] Approval needed: training run for qwen3-4b (run run-2026-11-23-a)');
      expect(JSON.stringify(input)).not.toContain(TOKEN);
      const urls = input.Message!.match(/https:\/\/\S+/g) ?? [];
      expect(urls).toHaveLength(1);
      expect(urls[0]).not.toContain(TOKEN);
      expect(urls[0]).not.toContain(encodeURIComponent(TOKEN));
      const { id, exp, sig, to } = linkParams(urls[0]!);
      expect(id).toBe(ID);
      // The link names the address it was sent to, and its signature covers that address.
      expect(to).toBe(input.MessageAttributes!.recipient!.StringValue);
      await expect(signer().verify(id, { exp, sig, to }, new Date())).resolves.toMatchObject({ ok: true });
      await expect(signer().verify(id, { exp, sig, to: 'mallory@example.com' }, new Date())).resolves.toMatchObject({ ok: false });
    }
    // The attach is the conditional write of transitions.canAttachToken.
    const attach = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(attach.ConditionExpression).toBe('#status = :pending AND #expiresAt > :now AND attribute_not_exists(#notifiedAt)');
  });

  it('FinOps approvals go to the FinOps topic', async () => {
    fakeApprovalsTable(ddb, [prepared('finops')]);
    await handler({ taskToken: TOKEN, approvalId: ID }, lambdaContext('approvals-request'));
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TopicArn)).toEqual([FINOPS_TOPIC]);
  });

  it('a replayed request after the e-mail is refused and publishes nothing', async () => {
    const items = fakeApprovalsTable(ddb, [waitingRecord(future())]);
    await expect(handler({ taskToken: 'a-newer-token', approvalId: ID }, lambdaContext('approvals-request'))).rejects.toThrow(
      `Approval ${ID} cannot be requested: its e-mail was already sent for an earlier attempt`,
    );
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(items.get(ID)?.taskToken).toBe(TOKEN);
  });

  it('a failed publish fails the task (Step Functions retries with a new token, which may replace this one)', async () => {
    const items = fakeApprovalsTable(ddb, [prepared()]);
    sns.on(PublishCommand).rejectsOnce(new Error('Throttled')).resolves({ MessageId: 'm-2' });
    await expect(handler({ taskToken: 'attempt-1', approvalId: ID }, lambdaContext('approvals-request'))).rejects.toThrow('Throttled');
    expect(items.get(ID)?.notifiedAt).toBeUndefined();
    await handler({ taskToken: 'attempt-2', approvalId: ID }, lambdaContext('approvals-request'));
    expect(items.get(ID)).toMatchObject({ taskToken: 'attempt-2', notifiedAt: expect.any(String) });
  });

  it('refuses an input without a token or with an unknown field', async () => {
    fakeApprovalsTable(ddb, [prepared()]);
    await expect(handler({ approvalId: ID }, lambdaContext('approvals-request'))).rejects.toThrow('Invalid input to Request approval: taskToken');
    expect(ddb.calls()).toHaveLength(0);
  });
});
