/**
 * The gate handler in a stage with a Korean named-entity endpoint (prod-kr): the SageMaker and
 * Comprehend clients the handler builds at cold start are mocked with aws-sdk-client-mock.
 */
import { ComprehendClient, DetectPiiEntitiesCommand, type DetectPiiEntitiesCommandInput } from '@aws-sdk/client-comprehend';
import {
  InvokeEndpointCommand,
  SageMakerRuntimeClient,
  ValidationError,
  type InvokeEndpointCommandInput,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type * as GateHandlerModule from '../../lambdas/gate-score/handler';
import { prodKr } from '../../config/stages/prod-kr';
import { readRewardPolicy } from '../../config/reward-policies/read';
import type { FirehoseOutputRecord } from '../../lambdas/gate-score/firehose-records';
import { gateConfigDigest, gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import { lambdaContext } from '../helpers/lambda-context';
import { makeTrace } from '../helpers/trace-factory';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const comprehend = mockClient(ComprehendClient);
const sagemaker = mockClient(SageMakerRuntimeClient);
mockClient(SecretsManagerClient).on(GetSecretValueCommand).resolves({ SecretString: 'korean-gate-test-pseudonymisation-key-0123456789abcdef' });
process.env.PSEUDONYMISATION_KEY_SECRET_ARN = 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:pseudonymisation-key';
process.env.GATE_CONFIG = JSON.stringify(
  gateConfigFromStage(prodKr, readRewardPolicy('v1'), { databaseName: 'sial_prod_kr', tracesTable: 'traces', auditTable: 'gate_audit' }),
);
process.env.GATE_CONFIG_SHA256 = gateConfigDigest(process.env.GATE_CONFIG);
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'gate-score';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_DEV = 'true';

// Imported after the environment is set: the module reads GATE_CONFIG at load, as at a cold start.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/gate-score/handler') as typeof GateHandlerModule;

jest.spyOn(console, 'log').mockImplementation(() => undefined);
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);

const LATIN_NAMES = ['John Smith'];
const KOREAN_NAMES = ['김민수', '이서연'];

/** Comprehend: finds the Latin names, offsets in code points. */
function detectNames(input: DetectPiiEntitiesCommandInput) {
  const text = input.Text ?? '';
  const entities = [];
  for (const name of LATIN_NAMES) {
    for (let i = text.indexOf(name); i !== -1; i = text.indexOf(name, i + 1)) {
      const begin = [...text.slice(0, i)].length;
      entities.push({ Type: 'NAME' as const, Score: 0.99, BeginOffset: begin, EndOffset: begin + name.length });
    }
  }
  return { Entities: entities };
}

/** The endpoint: the toolkit's answer, a list of entity lists with Python (code-point) offsets. */
function endpoint(input: InvokeEndpointCommandInput): InvokeEndpointCommandOutput {
  const { inputs } = JSON.parse(new TextDecoder().decode(input.Body as Uint8Array)) as { inputs: string[] };
  const answer = inputs.map((text) => {
    const codePoints = Array.from(text);
    const found = [];
    for (let i = 0; i + 3 <= codePoints.length; i += 1) {
      const word = codePoints.slice(i, i + 3).join('');
      if (KOREAN_NAMES.includes(word)) found.push({ entity_group: 'PS', score: 0.96, word, start: i, end: i + 3 });
    }
    return found;
  });
  return { $metadata: { httpStatusCode: 200 }, Body: new TextEncoder().encode(JSON.stringify(answer)) as InvokeEndpointCommandOutput['Body'] };
}

const koreanTrace = (i: number) =>
  Buffer.from(
    JSON.stringify(
      makeTrace({
        trace_id: `ko-${i}`,
        data_region: 'ap-northeast-2',
        language: 'ko',
        input_messages: [{ role: 'user', content: `🙂 저는 김민수이고 영문 이름은 John Smith 입니다 (${i})` }],
        retrieved_contexts: [],
        output: '이서연 님께 전달했습니다.',
        tool_calls: [{ name: 'crm', arguments: '{"customer":"John Smith"}', status: 'ok' }],
      }),
    ),
  );

async function invoke(records: Buffer[]): Promise<FirehoseOutputRecord[]> {
  const event: FirehoseTransformationEvent = {
    invocationId: 'inv-1',
    deliveryStreamArn: 'arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/traces',
    region: 'ap-northeast-2',
    records: records.map((data, i) => ({ recordId: `rec-${i}`, approximateArrivalTimestamp: 0, data: data.toString('base64') })),
  };
  const result = (await handler(event, lambdaContext('gate-score'))) as { records: FirehoseOutputRecord[] };
  return result.records;
}

function rowOf(record: FirehoseOutputRecord | undefined): Record<string, unknown> & { input_messages: { content: string }[] } {
  if (record === undefined) throw new Error('missing record');
  return JSON.parse(Buffer.from(record.data, 'base64').toString('utf8')) as Record<string, unknown> & { input_messages: { content: string }[] };
}

const tableOf = (record: FirehoseOutputRecord | undefined) => (record?.result === 'Ok' ? record.metadata.otfMetadata.destinationTableName : undefined);

beforeEach(() => {
  comprehend.reset();
  sagemaker.reset();
  comprehend.on(DetectPiiEntitiesCommand).callsFake(detectNames);
  sagemaker.on(InvokeEndpointCommand).callsFake(endpoint);
});

describe('gate handler with a Korean named-entity endpoint', () => {
  it('masks Korean names through the endpoint and the English ones through Comprehend, one call each for the batch', async () => {
    const results = await invoke([koreanTrace(1), koreanTrace(2), koreanTrace(3)]);
    expect(results.map(tableOf)).toEqual(['traces', 'traces', 'traces']);
    const row = rowOf(results[0]);
    expect(row.input_messages[0]?.content).toBe('🙂 저는 [NAME]이고 영문 이름은 [NAME] 입니다 (1)');
    expect(row.output).toBe('[NAME] 님께 전달했습니다.');
    expect(row.tool_calls).toEqual([expect.objectContaining({ arguments: '{"customer":"[NAME]"}' })]);
    expect(row.pii_scanner).toBe('sagemaker-ner+comprehend');

    const invocations = sagemaker.commandCalls(InvokeEndpointCommand);
    expect(invocations).toHaveLength(1);
    expect(invocations[0]!.args[0].input.EndpointName).toBe('sial-prod-kr-pii-ner-ko');
    const calls = comprehend.commandCalls(DetectPiiEntitiesCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.Text).not.toMatch(/[가-힣]/);
  });

  it('retries a throttled endpoint and then delivers', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    sagemaker.reset();
    sagemaker.on(InvokeEndpointCommand).rejectsOnce(throttled).callsFake(endpoint);
    const results = await invoke([koreanTrace(1)]);
    expect(sagemaker.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
    expect(tableOf(results[0])).toBe('traces');
  });

  it('audits the Korean traces, without content, when the endpoint does not exist; English traces are unaffected', async () => {
    sagemaker.reset();
    sagemaker.on(InvokeEndpointCommand).rejects(new ValidationError({ message: 'Endpoint sial-prod-kr-pii-ner-ko of account 123456789012 not found.', $metadata: { httpStatusCode: 400 } }));
    const english = Buffer.from(JSON.stringify(makeTrace({ data_region: 'ap-northeast-2', output: 'Thanks, John Smith.' })));
    const results = await invoke([koreanTrace(1), english]);
    expect(sagemaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
    expect(results.map(tableOf)).toEqual(['gate_audit', 'traces']);
    const audit = rowOf(results[0]);
    expect(audit).toEqual(expect.objectContaining({ gate: 'pii', reason: 'pii_scan_failed: ValidationError' }));
    expect(JSON.stringify(audit)).not.toMatch(/김민수|John Smith/);
  });
});
