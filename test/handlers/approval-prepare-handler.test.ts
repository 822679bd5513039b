import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { loadStageConfig } from '../../config';
import { approvalRefSchema, type ApprovalRef } from '../../lambdas/pipeline/contracts';
import { pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import type * as PrepareHandlerModule from '../../lambdas/pipeline/approvals/prepare-handler';
import { fakeApprovalsTable } from '../pipeline/approvals/fake-approvals-table';
import { SIGNING_KEY, TOKEN, linkParams, prepareInput, signer } from '../pipeline/approvals/helpers';
import { lambdaContext } from '../helpers/lambda-context';

const ddb = mockClient(DynamoDBDocumentClient);
const secrets = mockClient(SecretsManagerClient);
const settings = pipelineSettingsFromStage(loadStageConfig('dev'), { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' });
process.env.PIPELINE_SETTINGS = JSON.stringify(settings);
process.env.APPROVALS_TABLE = 'approvals-table';
process.env.APPROVAL_SIGNING_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:approval-signing-AbCdEf';
process.env.APPROVAL_PAGE_BASE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'approvals-prepare';
process.env.POWERTOOLS_DEV = 'true';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/pipeline/approvals/prepare-handler') as typeof PrepareHandlerModule;

jest.spyOn(console, 'log').mockImplementation(() => undefined);
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);

beforeEach(() => {
  ddb.reset();
  secrets.reset();
  secrets.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: SIGNING_KEY.toString('utf8') });
  secrets.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(new ResourceNotFoundException({ message: 'none', $metadata: {} }));
});

describe('prepare approval handler', () => {
  it('stores a pending record without a token (conditional Put) and returns the ApprovalRef with a signed page link', async () => {
    const items = fakeApprovalsTable(ddb);
    const started = Date.now();
    const ref = (await handler(prepareInput('finops'), lambdaContext('approvals-prepare'))) as ApprovalRef;
    expect(approvalRefSchema.parse(ref)).toEqual(ref);
    expect(ref.kind).toBe('finops');
    const { id, exp, sig, path } = linkParams(ref.approvalUrl);
    expect(ref.approvalUrl.startsWith('https://abc123.execute-api.us-east-1.amazonaws.com/prod/approvals/')).toBe(true);
    expect(path).toBe(`/prod/approvals/${ref.approvalId}`);
    await expect(signer().verify(id, { exp, sig }, new Date())).resolves.toMatchObject({ ok: true });
    // Expiry from the stage's approvals.expiryHours.
    const hours = (Date.parse(ref.expiresAt) - started) / 3_600_000;
    expect(hours).toBeGreaterThan(settings.approvalExpiryHours - 0.01);
    expect(hours).toBeLessThanOrEqual(settings.approvalExpiryHours);

    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.TableName).toBe('approvals-table');
    expect(put.ConditionExpression).toBe('attribute_not_exists(#id)');
    expect(put.Item).toMatchObject({ approvalId: ref.approvalId, kind: 'finops', status: 'pending', expiresAt: ref.expiresAt });
    expect(put.Item).not.toHaveProperty('taskToken');
    expect(put.Item).not.toHaveProperty('waitingStage');
    expect(items.get(ref.approvalId)?.ttl).toBe(Math.floor(Date.parse(ref.expiresAt) / 1000) + 400 * 86_400);
  });

  it('refuses an input that does not fit the contract, naming the fields, and writes nothing', async () => {
    fakeApprovalsTable(ddb);
    await expect(handler({ ...prepareInput(), kind: 'deploy', taskToken: TOKEN }, lambdaContext('approvals-prepare'))).rejects.toThrow(/^Invalid input to Prepare approval: kind: .*; \(root\): Unrecognized key: "taskToken"$/);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});
