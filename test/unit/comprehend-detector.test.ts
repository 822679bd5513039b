import {
  ComprehendClient,
  ComprehendServiceException,
  DetectPiiEntitiesCommand,
  InternalServerException,
  InvalidRequestException,
  TextSizeLimitExceededException,
  TooManyRequestsException,
  UnsupportedLanguageException,
} from '@aws-sdk/client-comprehend';
import { mockClient } from 'aws-sdk-client-mock';
import {
  COMPREHEND_MAX_TEXT_BYTES,
  ComprehendPiiDetector,
  createComprehendClient,
  isTransientComprehendError,
} from '../../lambdas/shared/aws/comprehend-detector';
import { TransientDetectorError } from '../../lambdas/shared/ports';

const comprehend = mockClient(ComprehendClient);

beforeEach(() => {
  comprehend.reset();
});

afterAll(() => {
  comprehend.restore();
});

function detector(): ComprehendPiiDetector {
  return new ComprehendPiiDetector(createComprehendClient({ region: 'us-east-1' }));
}

const serviceError = (name: string, status: number, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') =>
  new ComprehendServiceException({ name, $fault: fault, message: `${name} (test)`, $metadata: { httpStatusCode: status } });

describe('ComprehendPiiDetector', () => {
  it('sends the text and language and maps a DetectPiiEntities response to port entities', async () => {
    const text = 'Hello Paulo Santos. The latest statement for your credit card account 1111-0000-1111-0000 was mailed to 123 Any Street, Seattle, WA 98109.';
    comprehend.on(DetectPiiEntitiesCommand).resolves({
      $metadata: { httpStatusCode: 200, requestId: 'b8c1c2e3-0000-4000-8000-000000000000', attempts: 1 },
      Entities: [
        { Score: 0.9999, Type: 'NAME', BeginOffset: 6, EndOffset: 18 },
        { Score: 0.9999, Type: 'CREDIT_DEBIT_NUMBER', BeginOffset: 70, EndOffset: 89 },
        { Score: 0.9999, Type: 'ADDRESS', BeginOffset: 104, EndOffset: 137 },
      ],
    });
    const entities = await detector().detect(text, 'en');

    expect(entities).toEqual([
      { type: 'NAME', beginOffset: 6, endOffset: 18, score: 0.9999 },
      { type: 'CREDIT_DEBIT_NUMBER', beginOffset: 70, endOffset: 89, score: 0.9999 },
      { type: 'ADDRESS', beginOffset: 104, endOffset: 137, score: 0.9999 },
    ]);
    // Exclusive end offsets: the slices are the values themselves.
    expect(entities.map((e) => text.slice(e.beginOffset, e.endOffset))).toEqual([
      'Paulo Santos',
      '1111-0000-1111-0000',
      '123 Any Street, Seattle, WA 98109',
    ]);
    const calls = comprehend.commandCalls(DetectPiiEntitiesCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ Text: text, LanguageCode: 'en' });
  });

  it('returns no entities for a response without Entities, and does not call for an empty text', async () => {
    comprehend.on(DetectPiiEntitiesCommand).resolves({ $metadata: {} });
    await expect(detector().detect('nothing here', 'es')).resolves.toEqual([]);
    await expect(detector().detect('', 'en')).resolves.toEqual([]);
    expect(comprehend.commandCalls(DetectPiiEntitiesCommand)).toHaveLength(1);
  });

  it('fills a missing type or score so the span is still masked, and fails on missing offsets', async () => {
    comprehend.on(DetectPiiEntitiesCommand).resolvesOnce({ Entities: [{ BeginOffset: 0, EndOffset: 4 }] }).resolvesOnce({ Entities: [{ Type: 'NAME', Score: 0.9 }] });
    await expect(detector().detect('Jane', 'en')).resolves.toEqual([{ type: 'PII', beginOffset: 0, endOffset: 4, score: 1 }]);
    await expect(detector().detect('Jane', 'en')).rejects.toThrow(/without offsets/);
  });

  it('refuses a text over the limit before calling (the limit counts UTF-8 bytes)', async () => {
    const d = detector();
    expect(d.maxTextBytes).toBe(COMPREHEND_MAX_TEXT_BYTES);
    expect(d.name).toBe('comprehend');
    // 33,334 Hangul characters are 100,002 bytes though only 33,334 UTF-16 units.
    await expect(d.detect('가'.repeat(33_334), 'en')).rejects.toThrow(RangeError);
    expect(comprehend.commandCalls(DetectPiiEntitiesCommand)).toHaveLength(0);
  });

  it.each([
    ['TooManyRequestsException', new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } })],
    ['ThrottlingException (service error code)', serviceError('ThrottlingException', 400)],
    ['InternalServerException', new InternalServerException({ message: 'Internal error', $metadata: { httpStatusCode: 500 } })],
    ['an unmodelled 503', serviceError('ServiceUnavailable', 503)],
    ['an unmodelled 502 with an unknown name', serviceError('BadGatewayWhatever', 502)],
    ['HTTP 429', serviceError('SlowDown', 429, 'client')],
    ['a request timeout', Object.assign(new Error('Request did not complete within 15000 ms'), { name: 'TimeoutError' })],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('maps %s to TransientDetectorError', async (_label, error) => {
    comprehend.on(DetectPiiEntitiesCommand).rejects(error);
    const failure = await detector()
      .detect('Jane Doe', 'en')
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransientDetectorError);
    expect((failure as TransientDetectorError).cause).toBe(error);
    expect((failure as Error).message).toContain(error.name);
  });

  it.each([
    ['TextSizeLimitExceededException', new TextSizeLimitExceededException({ message: 'Input text size exceeds limit', $metadata: { httpStatusCode: 400 } })],
    ['InvalidRequestException', new InvalidRequestException({ message: 'Invalid request', $metadata: { httpStatusCode: 400 } })],
    ['UnsupportedLanguageException', new UnsupportedLanguageException({ message: 'Unsupported language', $metadata: { httpStatusCode: 400 } })],
    ['AccessDeniedException', serviceError('AccessDeniedException', 400)],
  ])('passes %s through unchanged (final, not retried)', async (_label, error) => {
    comprehend.on(DetectPiiEntitiesCommand).rejects(error);
    const failure = await detector()
      .detect('Jane Doe', 'en')
      .catch((e: unknown) => e);
    expect(failure).toBe(error);
    expect(failure).not.toBeInstanceOf(TransientDetectorError);
  });
});

describe('isTransientComprehendError', () => {
  it('honours the SDK retryable marker and ignores non-errors', () => {
    expect(isTransientComprehendError(Object.assign(new Error('x'), { $retryable: { throttling: true } }))).toBe(true);
    expect(isTransientComprehendError(new Error('plain'))).toBe(false);
    expect(isTransientComprehendError('ThrottlingException')).toBe(false);
    expect(isTransientComprehendError(undefined)).toBe(false);
  });
});

describe('createComprehendClient', () => {
  it('turns the SDK retries off so that the gate owns retrying', async () => {
    const client = createComprehendClient({ region: 'eu-central-1' });
    await expect(client.config.maxAttempts()).resolves.toBe(1);
    await expect(client.config.region()).resolves.toBe('eu-central-1');
  });
});
