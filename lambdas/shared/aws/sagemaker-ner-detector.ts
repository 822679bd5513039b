/**
 * The AWS adapter of the PiiEntityDetector port for languages Comprehend does not read: a self-hosted
 * token-classification (named-entity) model behind a SageMaker real-time endpoint, served by the
 * Hugging Face inference toolkit, invoked with InvokeEndpoint. The request and response contract and
 * its strict validation live in token-classification.ts (shared with the local simulation).
 *
 * Batching: the toolkit takes a list of inputs and answers a list of entity lists, so one call carries
 * up to `maxBatchTexts` inputs (and `maxBatchBytes` bytes); the gate packs many short texts into each
 * input as it does for Comprehend. The endpoint is invoked by name, with the function's own region and
 * credentials: the stage's account and region, which config validation holds the endpoint to.
 *
 * Retries: like the Comprehend adapter, the client makes one attempt and errors are classified here.
 * Throttling, 5xx, a model that is not ready, timeouts, and a container answer of 429 or 5xx
 * (`ModelError` with that original status: a worker that died or was overloaded) become
 * TransientDetectorError, retried by the gate. A container answer of 4xx (the toolkit's answer to an
 * input or parameter it rejects), a missing endpoint (`ValidationError`), access denied, and a response
 * that does not fit the contract are final: the traces in the call are discarded.
 */
import {
  InvokeEndpointCommand,
  SageMakerRuntimeClient,
  type SageMakerRuntimeClientConfig,
} from '@aws-sdk/client-sagemaker-runtime';
import type { PiiConfig } from '../../../config/pii';
import { parseSageMakerEndpoint } from '../../../config/sagemaker-endpoint';
import { TransientDetectorError, type DetectorBatchLimits, type PiiEntity, type PiiEntityDetector } from '../ports';
import {
  TokenClassificationResponseError,
  entityTypeMap,
  parseTokenClassificationResponse,
  tokenClassificationRequest,
} from '../token-classification';
import { isTransientSageMakerError } from './sagemaker-errors';

export { isTransientSageMakerError };

/** Per-request timeouts: a hung endpoint fails fast into the gate's backoff, well inside the Lambda's timeout. */
export const SAGEMAKER_CONNECTION_TIMEOUT_MS = 3_000;
export const SAGEMAKER_REQUEST_TIMEOUT_MS = 20_000;


/**
 * A SageMaker Runtime client for the detector: SDK retries off (the gate owns retrying) and explicit
 * timeouts. Extra config (region, credentials) is merged in.
 */
export function createSageMakerRuntimeClient(config: SageMakerRuntimeClientConfig = {}): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: SAGEMAKER_CONNECTION_TIMEOUT_MS,
      requestTimeout: SAGEMAKER_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
    ...config,
  });
}


/** How a SageMakerNerDetector calls its endpoint. */
export interface SageMakerNerDetectorOptions {
  /** The one language the model reads; a call for another language is refused. */
  readonly language: string;
  readonly endpointName: string;
  /** Largest single input, in UTF-8 bytes. */
  readonly maxTextBytes: number;
  /** Most inputs per call, and most bytes of all of them. */
  readonly batchLimits: DetectorBatchLimits;
  /** The pipeline's `stride`, when the model's window is smaller than an input may tokenise to. */
  readonly stride?: number;
  /** Entity groups added to the built-in map, and their masker types. */
  readonly entityTypes?: Readonly<Record<string, string>>;
}

/** A named-entity model on a SageMaker endpoint behind the PiiEntityDetector port. */
export class SageMakerNerDetector implements PiiEntityDetector<string> {
  readonly name = 'sagemaker-ner';
  readonly maxTextBytes: number;
  readonly batchLimits: DetectorBatchLimits;
  private readonly types: Readonly<Record<string, string>>;

  /** @param client a client from `createSageMakerRuntimeClient` (module scope in the handler) */
  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly options: SageMakerNerDetectorOptions,
  ) {
    this.maxTextBytes = options.maxTextBytes;
    this.batchLimits = options.batchLimits;
    this.types = entityTypeMap(options.entityTypes);
  }

  /** Detects entities in one text (a batch of one). */
  async detect(text: string, language: string): Promise<readonly PiiEntity[]> {
    const [entities] = await this.detectBatch([text], language);
    return entities ?? [];
  }

  /**
   * Detects entities in each text with one InvokeEndpoint call. Empty texts are answered locally;
   * texts or batches over the limits are refused before any request (the gate never builds one).
   *
   * @throws TransientDetectorError for throttling, 5xx, a model not ready and timeouts;
   *   TokenClassificationResponseError for a response that does not fit the contract; the SDK error,
   *   unchanged, otherwise
   */
  async detectBatch(texts: readonly string[], language: string): Promise<ReadonlyArray<readonly PiiEntity[]>> {
    if (language !== this.options.language) {
      throw new Error(`endpoint ${this.options.endpointName} reads ${this.options.language}, not ${language}`);
    }
    this.checkLimits(texts);
    const sent = texts.flatMap((text, index) => (text.length > 0 ? [index] : []));
    const results: (readonly PiiEntity[])[] = texts.map(() => []);
    if (sent.length === 0) return results;
    const inputs = sent.map((index) => texts[index] ?? '');

    let response;
    try {
      response = await this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.options.endpointName,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: new TextEncoder().encode(tokenClassificationRequest(inputs, this.options.stride)),
        }),
      );
    } catch (error) {
      if (isTransientSageMakerError(error)) {
        const name = error instanceof Error ? error.name : 'Error';
        const message = error instanceof Error ? error.message : String(error);
        throw new TransientDetectorError(`${name}: ${message}`, { cause: error });
      }
      throw error;
    }
    const found = parseTokenClassificationResponse(decodeJson(response.Body), inputs, this.types);
    sent.forEach((index, k) => {
      results[index] = found[k] ?? [];
    });
    return results;
  }

  private checkLimits(texts: readonly string[]): void {
    const { maxTexts, maxBytes } = this.batchLimits;
    if (texts.length > maxTexts) throw new RangeError(`${texts.length} texts exceed the batch limit of ${maxTexts}`);
    let total = 0;
    for (const text of texts) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > this.maxTextBytes) throw new RangeError(`a text of ${bytes} bytes exceeds the input limit of ${this.maxTextBytes} bytes`);
      total += bytes;
    }
    if (total > maxBytes) throw new RangeError(`texts of ${total} bytes exceed the batch limit of ${maxBytes} bytes`);
  }
}

/** The response body as JSON; anything else fails the call. */
function decodeJson(body: Uint8Array | undefined): unknown {
  if (body === undefined) throw new TokenClassificationResponseError('the endpoint answered without a body');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new TokenClassificationResponseError('the endpoint answered a body that is not UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new TokenClassificationResponseError(`the endpoint answered ${text.length} characters that are not JSON`);
  }
}

/**
 * The stage's entity detectors, by language, sharing one client. Endpoints given as ARNs are invoked
 * by their name (config validation has checked they are the stage's own).
 */
export function createEntityDetectors(pii: Pick<PiiConfig, 'entityDetectors'>, client: SageMakerRuntimeClient): Record<string, SageMakerNerDetector> {
  return Object.fromEntries(
    Object.entries(pii.entityDetectors).map(([language, config]) => [
      language,
      new SageMakerNerDetector(client, {
        language,
        endpointName: parseSageMakerEndpoint(config.endpoint).name,
        maxTextBytes: config.maxTextBytes,
        batchLimits: { maxTexts: config.maxBatchTexts, maxBytes: config.maxBatchBytes },
        ...(config.stride !== undefined ? { stride: config.stride } : {}),
        ...(config.entityTypes !== undefined ? { entityTypes: config.entityTypes } : {}),
      }),
    ]),
  );
}
