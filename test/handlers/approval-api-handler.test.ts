import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type * as ApiHandlerModule from '../../lambdas/pipeline/approvals/api-handler';
import { fakeApprovalsTable } from '../pipeline/approvals/fake-approvals-table';
import { SIGNING_KEY, TOKEN, signer, waitingRecord } from '../pipeline/approvals/helpers';
import { lambdaContext } from '../helpers/lambda-context';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const secrets = mockClient(SecretsManagerClient);
process.env.APPROVALS_TABLE = 'approvals-table';
process.env.APPROVAL_SIGNING_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:approval-signing-AbCdEf';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'approvals-api';
process.env.POWERTOOLS_DEV = 'true';
process.env.APPROVER_EMAILS = JSON.stringify({ train: ['approver@example.com'], 'deploy-stage': [], finops: [] });

// Imported after the environment is set: the module reads it at load, as in Lambda.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/pipeline/approvals/api-handler') as typeof ApiHandlerModule;

jest.spyOn(console, 'log').mockImplementation(() => undefined);
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);
jest.spyOn(console, 'error').mockImplementation(() => undefined);

const ID = 'train-00aa11bb22cc33dd';

function event(method: 'GET' | 'POST' | 'PUT', query: Record<string, string> | null, body?: string, base64 = false): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path: `/approvals/${ID}`,
    resource: '/approvals/{id}',
    pathParameters: { id: ID },
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    headers: { Host: 'abc123.execute-api.us-east-1.amazonaws.com', ...(body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
    multiValueHeaders: {},
    body: body === undefined ? null : base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
    stageVariables: null,
    requestContext: { httpMethod: method, stage: 'prod', identity: { sourceIp: '203.0.113.9', userAgent: 'Mozilla/5.0 (approver)' } },
  } as unknown as APIGatewayProxyEvent;
}

async function invoke(e: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return (await handler(e, lambdaContext('approvals-api'))) as APIGatewayProxyResult;
}

const future = () => new Date(Math.floor(Date.now() / 1000) * 1000 + 48 * 3_600_000);

/** The personal link's address: the page decides as this approver, whatever a form types. */
const APPROVER = 'approver@example.com';

async function link(expiresAt: Date): Promise<{ exp: string; sig: string; to: string }> {
  const params = await signer().sign(ID, expiresAt, APPROVER);
  return { exp: params.exp, sig: params.sig, to: APPROVER };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

beforeEach(() => {
  ddb.reset();
  sfn.reset();
  secrets.reset();
  secrets.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: SIGNING_KEY.toString('utf8') });
  secrets.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(new ResourceNotFoundException({ message: 'no previous version', $metadata: {} }));
});

describe('approval API handler (API Gateway REST proxy)', () => {
  it('GET renders the confirmation page with security headers and changes nothing', async () => {
    const expiresAt = future();
    fakeApprovalsTable(ddb, [waitingRecord(expiresAt)]);
    const result = await invoke(event('GET', await link(expiresAt)));
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
    expect(String(result.headers?.['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(result.body).toContain('Approve training run for qwen3-4b?');
    expect(result.body).not.toContain(TOKEN);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('POST approve: conditional write with the audit fields, then SendTaskSuccess with the decision', async () => {
    const expiresAt = future();
    const items = fakeApprovalsTable(ddb, [waitingRecord(expiresAt)]);
    sfn.on(SendTaskSuccessCommand).resolves({});
    const result = await invoke(event('POST', null, form({ ...(await link(expiresAt)), decision: 'approved', approver: 'Jane Doe' })));
    expect(result.statusCode).toBe(200);
    const calls = sfn.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.taskToken).toBe(TOKEN);
    const decision = JSON.parse(calls[0]!.args[0].input.output!);
    expect(decision).toEqual({ approvalId: ID, decision: 'approved', approver: APPROVER, decidedAt: expect.any(String), via: 'page' });
    expect(items.get(ID)).toMatchObject({ status: 'approved', approver: APPROVER, via: 'page', sourceIp: '203.0.113.9', userAgent: 'Mozilla/5.0 (approver)', deliveryStatus: 'delivered' });
    expect(items.get(ID)?.waitingStage).toBeUndefined();
  });

  it('a replayed POST (the same form again) gets 409 and never a second SendTask call', async () => {
    const expiresAt = future();
    fakeApprovalsTable(ddb, [waitingRecord(expiresAt)]);
    sfn.on(SendTaskSuccessCommand).resolves({});
    const body = form({ ...(await link(expiresAt)), decision: 'approved', approver: 'Jane Doe' });
    expect((await invoke(event('POST', null, body))).statusCode).toBe(200);
    const replay = await invoke(event('POST', null, body));
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toContain('Already approved');
    expect(sfn.calls()).toHaveLength(1);
  });

  it('a concurrent double POST decides once', async () => {
    const expiresAt = future();
    fakeApprovalsTable(ddb, [waitingRecord(expiresAt)]);
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    const params = await link(expiresAt);
    const results = await Promise.all([
      invoke(event('POST', null, form({ ...params, decision: 'approved', approver: 'A' }))),
      invoke(event('POST', null, form({ ...params, decision: 'rejected', approver: 'B' }))),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(sfn.calls()).toHaveLength(1);
  });

  it('rejection with a comment (base64 body): SendTaskFailure ApprovalRejected with the decision as cause', async () => {
    const expiresAt = future();
    fakeApprovalsTable(ddb, [waitingRecord(expiresAt)]);
    sfn.on(SendTaskFailureCommand).resolves({});
    const result = await invoke(event('POST', null, form({ ...(await link(expiresAt)), decision: 'rejected', approver: 'Jane Doe', comment: 'Reward policy v2 first, please' }), true));
    expect(result.statusCode).toBe(200);
    const input = sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ taskToken: TOKEN, error: 'ApprovalRejected' });
    expect(JSON.parse(input.cause!)).toEqual({ approvalId: ID, decision: 'rejected', approver: APPROVER, comment: 'Reward policy v2 first, please', decidedAt: expect.any(String), via: 'page' });
  });

  it('a forged signature or a tampered expiry gets 403 without a single read of the table', async () => {
    const expiresAt = future();
    fakeApprovalsTable(ddb, [waitingRecord(expiresAt)]);
    const good = await link(expiresAt);
    for (const query of [{ ...good, sig: `${good.sig.slice(0, 40)}abc` }, { ...good, exp: String(Number(good.exp) + 86_400) }]) {
      const page = await invoke(event('GET', query));
      expect(page.statusCode).toBe(403);
      expect(page.body).not.toContain('qwen3-4b');
      const submit = await invoke(event('POST', null, form({ ...query, decision: 'approved', approver: 'Mallory' })));
      expect(submit.statusCode).toBe(403);
    }
    expect(ddb.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('an expired link gets 410 and decides nothing', async () => {
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
    fakeApprovalsTable(ddb, [waitingRecord(expiresAt)]);
    const params = await link(expiresAt);
    expect((await invoke(event('GET', params))).statusCode).toBe(410);
    expect((await invoke(event('POST', null, form({ ...params, decision: 'approved', approver: 'Late' })))).statusCode).toBe(410);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('a task that already timed out: the decision is recorded, the page says it came too late', async () => {
    const expiresAt = future();
    const items = fakeApprovalsTable(ddb, [waitingRecord(expiresAt)]);
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    const result = await invoke(event('POST', null, form({ ...(await link(expiresAt)), decision: 'approved', approver: 'Jane' })));
    expect(result.statusCode).toBe(409);
    expect(result.body).toContain('Recorded, but too late');
    expect(items.get(ID)).toMatchObject({ status: 'approved', deliveryStatus: 'task-timed-out', deliveryError: 'TaskTimedOut: Task Timed Out' });
  });

  it("an unexpected failure answers a 500 page of our own, without the error's details", async () => {
    const expiresAt = future();
    ddb.on(GetCommand).rejects(new Error('InternalServerError'));
    const result = await invoke(event('GET', await link(expiresAt)));
    expect(result.statusCode).toBe(500);
    expect(result.headers?.['content-security-policy']).toBeDefined();
    expect(result.body).toContain('Something went wrong');
    expect(result.body).not.toContain('InternalServerError');
  });

  it('answers 405 to other methods', async () => {
    const result = await invoke(event('PUT', null));
    expect(result.statusCode).toBe(405);
    expect(result.headers?.allow).toBe('GET, POST');
  });
});
