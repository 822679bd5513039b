/**
 * The review page Lambda with mocked AWS clients: the masked trace read through Athena, the review
 * claimed with a conditional update, written to the ReviewStream under the reviewer's pseudonym, and
 * the second submission refused.
 */
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type * as Module from '../../lambdas/judge/calibration/aws/review-api-handler';
import { reviewItemId, type ReviewItem } from '../../lambdas/judge/calibration/review-item';
import { ApprovalLinkSigner, REVIEW_LINK } from '../../lambdas/pipeline/approvals/signer';
import { createPseudonymiser } from '../../lambdas/shared/pseudonymisation';
import { lambdaContext } from '../helpers/lambda-context';
import { athenaPage, athenaReturns, PSEUDONYM_KEY, PSEUDONYM_SECRET_ARN, setCalibrationEnv, SIGNING_KEY, SIGNING_SECRET_ARN } from './calibration-helpers';
import { PROMPT_HASH } from '../helpers/calibration-lake';

const ddb = mockClient(DynamoDBDocumentClient);
const athena = mockClient(AthenaClient);
const firehose = mockClient(FirehoseClient);
const secrets = mockClient(SecretsManagerClient);
setCalibrationEnv('review-page');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/judge/calibration/aws/review-api-handler') as typeof Module;

jest.spyOn(console, 'log').mockImplementation(() => undefined);
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);
jest.spyOn(console, 'error').mockImplementation(() => undefined);

const ITEM: ReviewItem = { itemId: reviewItemId('2026-W49', 'trace-1', PROMPT_HASH), traceId: 'trace-1', agentId: 'rag-qa-agent', week: '2026-W49', band: 'band-0', judgePromptHash: PROMPT_HASH, sampledAt: '2026-11-30T06:00:00.000Z', status: 'open' };

function event(method: 'GET' | 'POST', query: Record<string, string> | null, body?: string): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    pathParameters: { id: ITEM.itemId },
    queryStringParameters: query,
    headers: body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {},
    body: body ?? null,
    isBase64Encoded: false,
    requestContext: { identity: { sourceIp: '203.0.113.9' } },
  } as unknown as APIGatewayProxyEvent;
}

const invoke = async (e: APIGatewayProxyEvent) => (await handler(e, lambdaContext('review-page'))) as APIGatewayProxyResult;
const link = () => new ApprovalLinkSigner({ keys: async () => ({ current: Buffer.from(SIGNING_KEY), previous: [] }) }, REVIEW_LINK).sign(ITEM.itemId, new Date(Date.now() + 3_600_000));

beforeEach(() => {
  ddb.reset();
  athena.reset();
  firehose.reset();
  secrets.reset();
  secrets.on(GetSecretValueCommand, { SecretId: SIGNING_SECRET_ARN, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: SIGNING_KEY });
  secrets.on(GetSecretValueCommand, { SecretId: SIGNING_SECRET_ARN, VersionStage: 'AWSPREVIOUS' }).rejects(new ResourceNotFoundException({ message: 'none', $metadata: {} }));
  secrets.on(GetSecretValueCommand, { SecretId: PSEUDONYM_SECRET_ARN }).resolves({ SecretString: PSEUDONYM_KEY });
  ddb.on(GetCommand).resolves({ Item: { ...ITEM, openWeek: ITEM.week } });
});

it('GET reads the masked trace through Athena, within the sampled week, and writes nothing', async () => {
  athenaReturns(
    athena,
    athenaPage(
      [['trace_id', 'varchar'], ['agent_id', 'varchar'], ['route_tier', 'varchar'], ['messages_json', 'json'], ['contexts_json', 'json'], ['output', 'varchar'], ['tool_calls_json', 'json']],
      [['trace-1', 'rag-qa-agent', undefined, '[["user","Refund policy?"]]', '["Refunds within 14 days."]', 'Within 14 days <b>.', '[]']],
    ),
  );
  const response = await invoke(event('GET', { ...(await link()) }));
  expect(response.statusCode).toBe(200);
  expect(response.body).toContain('Within 14 days &#60;b&#62;.');
  expect(response.headers?.['content-security-policy']).toMatch(/^default-src 'none'/);
  const start = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
  expect(start?.QueryString).toContain('FROM "traces"');
  expect(start?.ExecutionParameters).toEqual(["'trace-1'", "'2026-11-23 00:00:00.000'", "'2026-11-30 00:00:00.000'"]);
  expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  expect(firehose.commandCalls(PutRecordCommand)).toHaveLength(0);
});

it('POST claims the item conditionally, puts one row on the ReviewStream with the reviewer pseudonym, and a replay gets 409', async () => {
  ddb.on(UpdateCommand).resolvesOnce({ Attributes: { ...ITEM, status: 'done', reviewedAt: '2026-12-01T10:00:00.000Z' } });
  firehose.on(PutRecordCommand).resolves({ RecordId: 'r1' });
  const body = new URLSearchParams({ ...(await link()), faithfulness: '0.3', answerRelevance: '0.9', misrouted: 'na', reviewer: 'Jane Doe' }).toString();
  const response = await invoke(event('POST', null, body));
  expect(response.statusCode).toBe(200);
  const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
  expect(update?.ConditionExpression).toBe('#status = :open');
  expect(update?.Key).toEqual({ itemId: ITEM.itemId });
  const put = firehose.commandCalls(PutRecordCommand)[0]?.args[0].input;
  expect(put?.DeliveryStreamName).toBe('review-stream');
  const row = JSON.parse(Buffer.from(put?.Record?.Data as Uint8Array).toString('utf8')) as Record<string, unknown>;
  expect(row).toMatchObject({ review_id: ITEM.itemId, trace_id: 'trace-1', faithfulness: 0.3, answer_relevance: 0.9, misrouted: null, reviewer: createPseudonymiser(Buffer.from(PSEUDONYM_KEY)).pseudonymise('reviewer', 'Jane Doe') });
  expect(JSON.stringify(row)).not.toContain('Jane');

  // The conditional update fails the second time: someone reviewed it first.
  ddb.on(UpdateCommand).rejects(Object.assign(new Error('conditional'), { name: 'ConditionalCheckFailedException' }));
  ddb.on(GetCommand).resolves({ Item: { ...ITEM, status: 'done', reviewedAt: '2026-12-01T10:00:00.000Z' } });
  const replay = await invoke(event('POST', null, body));
  expect(replay.statusCode).toBe(409);
  expect(firehose.commandCalls(PutRecordCommand)).toHaveLength(1);
});

it('a forged link is refused before any lookup', async () => {
  const response = await invoke(event('GET', { exp: '9999999999', sig: 'A'.repeat(43) }));
  expect(response.statusCode).toBe(403);
  expect(ddb.calls()).toHaveLength(0);
  expect(athena.calls()).toHaveLength(0);
});
