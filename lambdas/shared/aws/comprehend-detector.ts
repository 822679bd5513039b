/**
 * The AWS adapter of the PiiEntityDetector port: Amazon Comprehend DetectPiiEntities.
 *
 * Limits and shapes (Comprehend API reference and "Guidelines and quotas"): `Text` is UTF-8 of at
 * most 100 KB and at least 1 character; `LanguageCode` is `en` or `es` for this operation; each
 * returned entity has `Type`, `Score`, and `BeginOffset`/`EndOffset` counted in code points, the end
 * exclusive. "100 KB" is taken as 100,000 bytes, the stricter reading of the two (100,000 vs
 * 102,400): a pack a few bytes smaller costs nothing, a rejected pack costs a whole batch of traces.
 *
 * Retries: the client is built with `maxAttempts: 1`, so the SDK does not retry on its own. The PII
 * gate retries each call with jittered backoff up to the stage's `pii.maxAttempts`; if the SDK also
 * retried (3 attempts by default), every throttled call would be tried up to 3 x maxAttempts times
 * and the stage setting would not mean what it says. Errors are classified here instead:
 * throttling, 5xx and timeouts become TransientDetectorError (retried by the gate); client errors
 * (oversized text, unsupported language, invalid request, access denied) are final.
 */
import {
  ComprehendClient,
  DetectPiiEntitiesCommand,
  type ComprehendClientConfig,
  type PiiEntity as ComprehendPiiEntity,
} from '@aws-sdk/client-comprehend';
import { TransientDetectorError, type DetectorLanguage, type PiiEntity, type PiiEntityDetector } from '../ports';
import { isTransientAwsError } from './transient-errors';

/** DetectPiiEntities' largest `Text`, in UTF-8 bytes (see the module comment for the reading of "100 KB"). */
export const COMPREHEND_MAX_TEXT_BYTES = 100_000;

/** Per-request timeouts: a hung connection fails fast into the gate's backoff instead of the Lambda's timeout. */
export const COMPREHEND_CONNECTION_TIMEOUT_MS = 3_000;
export const COMPREHEND_REQUEST_TIMEOUT_MS = 15_000;

/** Error names (SDK exception classes and service error codes) worth retrying with backoff. */
const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ThrottledException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'InternalServerException',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/**
 * A Comprehend client for the detector: SDK retries off (the gate owns retrying, see the module
 * comment) and explicit timeouts. Extra config (region, credentials, endpoint) is merged in; a
 * caller that passes its own `maxAttempts` or `requestHandler` overrides these on purpose.
 */
export function createComprehendClient(config: ComprehendClientConfig = {}): ComprehendClient {
  return new ComprehendClient({
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: COMPREHEND_CONNECTION_TIMEOUT_MS,
      requestTimeout: COMPREHEND_REQUEST_TIMEOUT_MS,
      // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
    },
    ...config,
  });
}

/**
 * True for an error worth retrying: a throttling or server-side error by name, an HTTP 429 or 5xx,
 * an error the SDK marked retryable, or a dropped connection.
 */
export function isTransientComprehendError(error: unknown): boolean {
  return isTransientAwsError(error, TRANSIENT_ERROR_NAMES);
}

/** Amazon Comprehend DetectPiiEntities behind the PiiEntityDetector port. */
export class ComprehendPiiDetector implements PiiEntityDetector {
  readonly name = 'comprehend';
  readonly maxTextBytes = COMPREHEND_MAX_TEXT_BYTES;

  /** @param client a client from `createComprehendClient` (module scope in the handler, reused across invocations) */
  constructor(private readonly client: ComprehendClient = createComprehendClient()) {}

  /**
   * Detects PII in one text. An empty text is answered locally (Comprehend rejects it); a text over
   * the limit is refused before any request (the packer never builds one).
   *
   * @throws TransientDetectorError for throttling, 5xx and timeouts; the SDK error, unchanged, otherwise
   */
  async detect(text: string, language: DetectorLanguage): Promise<readonly PiiEntity[]> {
    if (text.length === 0) return [];
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.maxTextBytes) {
      throw new RangeError(`text of ${bytes} bytes exceeds the DetectPiiEntities limit of ${this.maxTextBytes} bytes`);
    }
    let response;
    try {
      response = await this.client.send(new DetectPiiEntitiesCommand({ Text: text, LanguageCode: language }));
    } catch (error) {
      if (isTransientComprehendError(error)) {
        const name = error instanceof Error ? error.name : 'Error';
        const message = error instanceof Error ? error.message : String(error);
        throw new TransientDetectorError(`${name}: ${message}`, { cause: error });
      }
      throw error;
    }
    return (response.Entities ?? []).map(toPortEntity);
  }
}

/**
 * Maps one response entity. Offsets are required: an entity we cannot place must fail the call
 * (and so discard its traces) rather than be skipped. A missing type or score is filled so that the
 * span is still masked (`PII`, score 1) instead of dropped by the minimum-score filter.
 */
export function toPortEntity(entity: ComprehendPiiEntity): PiiEntity {
  const { BeginOffset: begin, EndOffset: end } = entity;
  if (typeof begin !== 'number' || typeof end !== 'number') {
    throw new Error(`DetectPiiEntities returned an entity without offsets (type ${String(entity.Type)})`);
  }
  return { type: entity.Type ?? 'PII', beginOffset: begin, endOffset: end, score: entity.Score ?? 1 };
}
