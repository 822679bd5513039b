/**
 * Ports: the interfaces domain modules depend on. AWS adapters (lambdas/shared/aws/) and local
 * adapters (local/) implement them; domain code never imports an AWS SDK.
 */

/** One PII entity found in a text. Offsets count Unicode code points; `endOffset` is exclusive. */
export interface PiiEntity {
  readonly type: string;
  readonly beginOffset: number;
  readonly endOffset: number;
  readonly score: number;
}

/** Languages a PII entity detector scans with its full model (Amazon Comprehend: en, es). */
export type DetectorLanguage = 'en' | 'es';

/** How many texts one `detectBatch` call of a detector takes. */
export interface DetectorBatchLimits {
  /** Most texts in one call. */
  readonly maxTexts: number;
  /** Most UTF-8 bytes of all texts of one call together. */
  readonly maxBytes: number;
}

/**
 * Finds PII entities in one text of at most `maxTextBytes` UTF-8 bytes. `L` is the languages it
 * reads: Comprehend's two by default, any code for a model that serves one language.
 */
export interface PiiEntityDetector<L extends string = DetectorLanguage> {
  /** A human-readable name for logs and the lake row's `pii_scanner` column (e.g. `comprehend`). */
  readonly name: string;
  /** Largest text one call accepts, in UTF-8 bytes (Comprehend DetectPiiEntities: 100 KB). */
  readonly maxTextBytes: number;
  detect(text: string, language: L): Promise<readonly PiiEntity[]>;
  /**
   * Scans several texts in one call, for a service that takes a list (a model endpoint batches them
   * on its accelerator): one entity list per text, in the same order. Each text is at most
   * `maxTextBytes`; the call within `batchLimits`. Absent: the gate makes one `detect` call per text.
   */
  detectBatch?(texts: readonly string[], language: L): Promise<ReadonlyArray<readonly PiiEntity[]>>;
  /** Limits of one `detectBatch` call; required with `detectBatch`. */
  readonly batchLimits?: DetectorBatchLimits;
  /**
   * Detectors for languages this one does not read, by language code (a self-hosted Korean
   * named-entity model beside Comprehend). The PII gate sends the texts of such a language's traces
   * to the detector listed for it, if the stage configures one for that language. Carried on the
   * detector so that the code between the handler and the gate passes one object, as before.
   */
  readonly languageDetectors?: Readonly<Record<string, PiiEntityDetector<string>>>;
}

/**
 * Thrown by a detector adapter for a failure worth retrying with backoff (throttling, 5xx, timeouts).
 * Any other error is final for that call.
 */
export class TransientDetectorError extends Error {
  override name = 'TransientDetectorError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Waits; injected so that retries with backoff are testable without real time passing. */
export type Sleep = (ms: number) => Promise<void>;

/**
 * The stage's pseudonymisation key: the secret behind every keyed pseudonym in the lake (producers'
 * session ids; data subjects' user ids). Secrets Manager in AWS, a local file locally.
 */
export interface PseudonymisationKeyProvider {
  /**
   * The key bytes (at least 32). Rejects when the key cannot be read: a caller must then process
   * nothing rather than write values it could not pseudonymise.
   */
  key(): Promise<Uint8Array>;
}

/** Accepts one feedback row for the lake (Firehose in AWS, a local file locally). */
export interface FeedbackSink {
  put(row: object): Promise<void>;
}
