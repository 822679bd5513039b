import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type * as FeedbackHandlerModule from '../../lambdas/feedback/handler';
import { lambdaContext } from '../helpers/lambda-context';

const firehose = mockClient(FirehoseClient);
process.env.FEEDBACK_STREAM_NAME = 'feedback-stream';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'feedback';
process.env.POWERTOOLS_DEV = 'true';

// Imported after the environment is set: the module reads it at load, as in Lambda.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/feedback/handler') as typeof FeedbackHandlerModule;

function event(agentId: string, body: unknown): APIGatewayProxyEvent {
  return {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    pathParameters: { 'agent-id': agentId },
    httpMethod: 'POST',
    path: `/agents/${agentId}/feedback`,
  } as unknown as APIGatewayProxyEvent;
}

beforeEach(() => firehose.reset());
jest.spyOn(console, 'log').mockImplementation(() => undefined);
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);

describe('feedback handler', () => {
  it('puts the row on the feedback stream and answers 202', async () => {
    firehose.on(PutRecordCommand).resolves({ RecordId: 'x' });
    const result = (await handler(event('rag-qa-agent', { request_id: 'req-1', outcome: 'success' }), lambdaContext())) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(202);
    const calls = firehose.commandCalls(PutRecordCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.DeliveryStreamName).toBe('feedback-stream');
    const row = JSON.parse(Buffer.from(input.Record!.Data!).toString('utf8'));
    expect(row).toEqual(expect.objectContaining({ agent_id: 'rag-qa-agent', request_id: 'req-1', outcome: 'success' }));
  });

  it('answers 400 with the wrong field and does not call Firehose', async () => {
    const result = (await handler(event('rag-qa-agent', { request_id: 'req-1', outcome: 'success', metadata: { completion_quality: 42 } }), lambdaContext())) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toEqual(expect.objectContaining({ field: 'metadata.completion_quality' }));
    expect(firehose.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it('surfaces a Firehose failure as an error so API Gateway answers 5xx and the client retries', async () => {
    firehose.on(PutRecordCommand).rejects(new Error('ServiceUnavailableException'));
    await expect(handler(event('rag-qa-agent', { request_id: 'req-2', outcome: 'error' }), lambdaContext())).rejects.toThrow('ServiceUnavailable');
  });
});
