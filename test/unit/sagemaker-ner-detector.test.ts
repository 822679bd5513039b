import {
  InternalFailure,
  InvokeEndpointCommand,
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  ValidationError,
  type InvokeEndpointCommandInput,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import type { PiiConfig } from '../../config/schema';
import { prodKr } from '../../config/stages/prod-kr';
import { scanAndMaskTraces, type PiiScanOutcome } from '../../lambdas/gate-score/pii/pii-scan';
import type { Trace } from '../../lambdas/gate-score/trace';
import {
  SageMakerNerDetector,
  createEntityDetectors,
  createSageMakerRuntimeClient,
  isTransientSageMakerError,
} from '../../lambdas/shared/aws/sagemaker-ner-detector';
import { withLanguageDetectors } from '../../lambdas/shared/language-detectors';
import { TransientDetectorError } from '../../lambdas/shared/ports';
import { TokenClassificationResponseError, type TokenClassificationEntity } from '../../lambdas/shared/token-classification';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import { makeTrace } from '../helpers/trace-factory';

const sagemaker = mockClient(SageMakerRuntimeClient);

beforeEach(() => {
  sagemaker.reset();
});

afterAll(() => {
  sagemaker.restore();
});

const client = () => createSageMakerRuntimeClient({ region: 'ap-northeast-2' });
const detector = (overrides: Partial<ConstructorParameters<typeof SageMakerNerDetector>[1]> = {}) =>
  new SageMakerNerDetector(client(), { language: 'ko', endpointName: 'ner-ko', maxTextBytes: 1_500, batchLimits: { maxTexts: 8, maxBytes: 6_000 }, ...overrides });

/** An InvokeEndpoint answer with a JSON body. */
function answer(body: unknown): InvokeEndpointCommandOutput {
  return { $metadata: { httpStatusCode: 200 }, ContentType: 'application/json', Body: new TextEncoder().encode(JSON.stringify(body)) as InvokeEndpointCommandOutput['Body'] };
}

/** The request's inputs, decoded as the endpoint would. */
function inputsOf(input: InvokeEndpointCommandInput): string[] {
  const body = JSON.parse(new TextDecoder().decode(input.Body as Uint8Array)) as { inputs: string[] };
  return body.inputs;
}

const KOREAN_NAMES = ['김민수', '이서연', '박지훈'];

/** Plays the Hugging Face toolkit: finds the known names, offsets as Python str indices (code points). */
function endpoint(input: InvokeEndpointCommandInput): InvokeEndpointCommandOutput {
  return answer(inputsOf(input).map((text) => pythonEntities(text)));
}

function pythonEntities(text: string): TokenClassificationEntity[] {
  const codePoints = Array.from(text);
  const found: TokenClassificationEntity[] = [];
  for (const name of KOREAN_NAMES) {
    for (let i = 0; i + 3 <= codePoints.length; i += 1) {
      if (codePoints.slice(i, i + 3).join('') === name) found.push({ entity_group: 'PS', score: 0.97, word: name, start: i, end: i + 3 });
    }
  }
  return found;
}

const serviceError = <T extends Error>(ErrorClass: new (opts: never) => T, status: number, extra: object = {}): T =>
  new ErrorClass({ message: `${ErrorClass.name} (test)`, $metadata: { httpStatusCode: status }, ...extra } as never);

describe('SageMakerNerDetector', () => {
  it('sends all texts of a batch in one InvokeEndpoint call in the toolkit format and maps the answer', async () => {
    sagemaker.on(InvokeEndpointCommand).callsFake(endpoint);
    const result = await detector({ stride: 32 }).detectBatch(['김민수 님 안녕하세요', '주문 확인', '이서연 고객님'], 'ko');
    expect(result).toEqual([[{ type: 'NAME', beginOffset: 0, endOffset: 3, score: 0.97 }], [], [{ type: 'NAME', beginOffset: 0, endOffset: 3, score: 0.97 }]]);
    const calls = sagemaker.commandCalls(InvokeEndpointCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ EndpointName: 'ner-ko', ContentType: 'application/json', Accept: 'application/json' });
    expect(JSON.parse(new TextDecoder().decode(input.Body as Uint8Array))).toEqual({
      inputs: ['김민수 님 안녕하세요', '주문 확인', '이서연 고객님'],
      parameters: { aggregation_strategy: 'simple', stride: 32 },
    });
  });

  it('takes code-point offsets as they are: an emoji or astral character before a name does not shift it', async () => {
    sagemaker.on(InvokeEndpointCommand).callsFake(endpoint);
    const text = '😀👍🏽𝒳 김민수 님';
    const [entities] = await detector().detectBatch([text], 'ko');
    expect(entities).toEqual([{ type: 'NAME', beginOffset: 5, endOffset: 8, score: 0.97 }]);
    expect(Array.from(text).slice(5, 8).join('')).toBe('김민수');
  });

  it('fails the call when the endpoint counts offsets in UTF-16 units (the word does not match there)', async () => {
    const text = '😀 김민수 님';
    sagemaker.on(InvokeEndpointCommand).resolves(answer([[{ entity_group: 'PS', score: 0.9, word: '김민수', start: 3, end: 6 }]]));
    await expect(detector().detectBatch([text], 'ko')).rejects.toThrow(TokenClassificationResponseError);
  });

  it.each([
    ['a body that is not JSON', new TextEncoder().encode('<html>502 Bad Gateway</html>'), /not JSON/],
    ['a body that is not UTF-8', new Uint8Array([0xff, 0xfe, 0x00]), /not UTF-8/],
    ['one list for two inputs', new TextEncoder().encode(JSON.stringify([[]])), /expected 2 entity lists/],
    ['an error object', new TextEncoder().encode(JSON.stringify({ error: 'CUDA out of memory' })), /received an object/],
  ])('fails the call closed on %s', async (_name, body, message) => {
    sagemaker.on(InvokeEndpointCommand).resolves({ $metadata: { httpStatusCode: 200 }, Body: body as InvokeEndpointCommandOutput['Body'] });
    const failure = detector().detectBatch(['김민수', '이서연'], 'ko');
    await expect(failure).rejects.toThrow(TokenClassificationResponseError);
    await expect(detector().detectBatch(['김민수', '이서연'], 'ko')).rejects.toThrow(message);
  });

  it('maps entity groups to masker types: persons and places masked, organisations only when the stage says so', async () => {
    const text = '박지훈 님은 삼성전자 서울 본사에 있습니다';
    const response = [[
      { entity_group: 'PS', score: 0.9, word: '박지훈', start: 0, end: 3 },
      { entity_group: 'OG', score: 0.9, word: '삼성전자', start: 7, end: 11 },
      { entity_group: 'LC', score: 0.9, word: '서울', start: 12, end: 14 },
      { entity_group: 'DT', score: 0.9, word: '있습니다', start: 19, end: 23 },
    ]];
    sagemaker.on(InvokeEndpointCommand).resolves(answer(response));
    expect((await detector().detect(text, 'ko')).map((e) => e.type)).toEqual(['NAME', 'ADDRESS']);
    expect((await detector({ entityTypes: { OG: 'ORGANIZATION' } }).detect(text, 'ko')).map((e) => e.type)).toEqual(['NAME', 'ORGANIZATION', 'ADDRESS']);
  });

  it('answers empty texts locally and sends only the others', async () => {
    sagemaker.on(InvokeEndpointCommand).callsFake(endpoint);
    expect(await detector().detectBatch(['', '김민수', ''], 'ko')).toEqual([[], [{ type: 'NAME', beginOffset: 0, endOffset: 3, score: 0.97 }], []]);
    expect(inputsOf(sagemaker.commandCalls(InvokeEndpointCommand)[0]!.args[0].input)).toEqual(['김민수']);
    expect(await detector().detectBatch([''], 'ko')).toEqual([[]]);
    expect(sagemaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
  });

  it('refuses texts and batches over its limits, and other languages, before any request', async () => {
    const ner = detector({ maxTextBytes: 300, batchLimits: { maxTexts: 2, maxBytes: 400 } });
    await expect(ner.detectBatch(['가'.repeat(101)], 'ko')).rejects.toThrow('a text of 303 bytes exceeds the input limit of 300 bytes');
    await expect(ner.detectBatch(['a', 'b', 'c'], 'ko')).rejects.toThrow('3 texts exceed the batch limit of 2');
    await expect(ner.detectBatch(['가'.repeat(70), '가'.repeat(70)], 'ko')).rejects.toThrow('texts of 420 bytes exceed the batch limit of 400 bytes');
    await expect(ner.detect('hello', 'en')).rejects.toThrow('endpoint ner-ko reads ko, not en');
    expect(sagemaker.commandCalls(InvokeEndpointCommand)).toHaveLength(0);
  });

  describe('error classification', () => {
    it.each([
      ['ThrottlingException', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })],
      ['ModelNotReadyException', serviceError(ModelNotReadyException, 429)],
      ['InternalFailure', serviceError(InternalFailure, 500)],
      ['ModelError with a 503 from the container', serviceError(ModelError, 424, { OriginalStatusCode: 503 })],
      ['ModelError with a 429 from the container', serviceError(ModelError, 424, { OriginalStatusCode: 429 })],
      ['a dropped connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ])('retries %s (TransientDetectorError)', async (_name, error) => {
      expect(isTransientSageMakerError(error)).toBe(true);
      sagemaker.on(InvokeEndpointCommand).rejects(error);
      await expect(detector().detect('김민수', 'ko')).rejects.toBeInstanceOf(TransientDetectorError);
    });

    it.each([
      ['ModelError with a 400 from the container (an input or parameter it refuses)', serviceError(ModelError, 424, { OriginalStatusCode: 400 })],
      ['ValidationError (no such endpoint)', serviceError(ValidationError, 400)],
      ['AccessDeniedException', Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } })],
    ])('does not retry %s: the SDK error is passed on unchanged', async (_name, error) => {
      expect(isTransientSageMakerError(error)).toBe(false);
      sagemaker.on(InvokeEndpointCommand).rejects(error);
      await expect(detector().detect('김민수', 'ko')).rejects.toBe(error);
    });
  });

  it('builds one detector per configured language, invoking an ARN-configured endpoint by its name', () => {
    const detectors = createEntityDetectors(
      {
        entityDetectors: {
          ko: { ...prodKr.pii.entityDetectors.ko!, endpoint: 'arn:aws:sagemaker:ap-northeast-2:123456789012:endpoint/ner-ko-v2' },
        },
      },
      client(),
    );
    expect(Object.keys(detectors)).toEqual(['ko']);
    expect(detectors.ko).toMatchObject({ name: 'sagemaker-ner', maxTextBytes: 1_500, batchLimits: { maxTexts: 32, maxBytes: 48_000 } });
    sagemaker.on(InvokeEndpointCommand).callsFake(endpoint);
    return detectors.ko!.detect('김민수', 'ko').then(() => {
      expect(sagemaker.commandCalls(InvokeEndpointCommand)[0]!.args[0].input.EndpointName).toBe('ner-ko-v2');
    });
  });
});

describe('the PII gate over the SageMaker adapter', () => {
  const config: PiiConfig = {
    ...prodKr.pii,
    entityDetectors: { ko: { ...prodKr.pii.entityDetectors.ko!, maxTextBytes: 300, maxBatchTexts: 2, maxBatchBytes: 600 } },
    maxAttempts: 3,
  };
  const waits: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    waits.push(ms);
  };
  beforeEach(() => {
    waits.length = 0;
  });

  const koreanTrace = (i: number): Trace =>
    makeTrace({
      trace_id: `ko-${i}`,
      language: 'ko',
      input_messages: [{ role: 'user', content: `🎉 ${'안녕하세요 '.repeat(12)}김민수 님 ${i}번 문의` }],
      retrieved_contexts: [],
      output: `${'네 '.repeat(30)}이서연 고객님께 ${i}번 전달했습니다`,
    });

  const scan = async (traces: readonly Trace[]): Promise<PiiScanOutcome[]> => {
    const ner = createEntityDetectors(config, client());
    return scanAndMaskTraces(
      traces.map((trace, i) => ({ key: `rec-${i}`, trace })),
      { detector: withLanguageDetectors(new SimulatedComprehendDetector(), ner), config, sleep, random: () => 0.5 },
    );
  };

  it('masks at the right place after emoji, with texts of several traces batched into each call', async () => {
    sagemaker.on(InvokeEndpointCommand).callsFake(endpoint);
    const outcomes = await scan([koreanTrace(1), koreanTrace(2), koreanTrace(3)]);
    for (const outcome of outcomes) {
      if (outcome.status !== 'masked') throw new Error(JSON.stringify(outcome));
      expect(outcome.scanner).toBe('sagemaker-ner');
      expect(outcome.trace.input_messages[0]?.content).toMatch(/^🎉 (안녕하세요 ){12}\[NAME\] 님 \d번 문의$/);
      expect(outcome.trace.output).toMatch(/\[NAME\] 고객님께 \d번 전달했습니다$/);
    }
    const calls = sagemaker.commandCalls(InvokeEndpointCommand);
    expect(calls.length).toBeLessThan(6);
    for (const call of calls) expect(inputsOf(call.args[0].input).length).toBeLessThanOrEqual(2);
  });

  it('retries throttling with backoff, then masks', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    sagemaker.on(InvokeEndpointCommand).rejectsOnce(throttled).rejectsOnce(throttled).callsFake(endpoint);
    const [outcome] = await scan([koreanTrace(1)]);
    expect(outcome?.status).toBe('masked');
    expect(waits).toEqual([100, 200]);
  });

  it('discards the traces when throttling outlasts the attempts, and writes nothing unmasked', async () => {
    sagemaker.on(InvokeEndpointCommand).rejects(serviceError(ModelNotReadyException, 429));
    const outcomes = await scan([koreanTrace(1)]);
    expect(sagemaker.commandCalls(InvokeEndpointCommand)).toHaveLength(config.maxAttempts);
    expect(outcomes).toEqual([{ key: 'rec-0', status: 'discarded', reason: 'pii_scan_failed: TransientDetectorError (ModelNotReadyException)' }]);
  });

  it('discards only the traces with text in the one call of several that failed', async () => {
    let call = 0;
    sagemaker.on(InvokeEndpointCommand).callsFake((input: InvokeEndpointCommandInput) => {
      call += 1;
      if (call === 2) throw serviceError(ModelError, 424, { OriginalStatusCode: 400 });
      return endpoint(input);
    });
    const traces = [1, 2, 3, 4, 5, 6].map(koreanTrace);
    const outcomes = await scan(traces);
    const calls = sagemaker.commandCalls(InvokeEndpointCommand);
    expect(calls.length).toBeGreaterThan(2);
    const failedInputs = inputsOf(calls[1]!.args[0].input).join('\n');
    const inFailedCall = (n: number) => failedInputs.includes(`님 ${n}번 문의`) || failedInputs.includes(`고객님께 ${n}번 전달`);
    expect(outcomes.map((o) => o.status)).toEqual(traces.map((_, i) => (inFailedCall(i + 1) ? 'discarded' : 'masked')));
    expect(outcomes.some((o) => o.status === 'discarded')).toBe(true);
    expect(outcomes.some((o) => o.status === 'masked')).toBe(true);
    expect(outcomes.filter((o) => o.status === 'discarded').every((o) => o.status === 'discarded' && o.reason.startsWith('pii_scan_failed: ModelError'))).toBe(true);
  });

  it('discards the traces of a call whose answer is malformed', async () => {
    sagemaker.on(InvokeEndpointCommand).callsFake((input: InvokeEndpointCommandInput) =>
      answer(inputsOf(input).map(() => [{ entity_group: 'PS', score: 0.9, word: '김민수', start: 0, end: 9_999 }])),
    );
    const [outcome] = await scan([koreanTrace(1)]);
    expect(outcome).toMatchObject({ status: 'discarded', reason: 'pii_scan_failed: TokenClassificationResponseError' });
  });
});
