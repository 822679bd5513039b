/**
 * SIMULATED Korean named-entity endpoint (a token-classification model on SageMaker), for the local
 * runner and tests. It is not a model and finds far less: three-syllable names that start with a
 * common surname and stand before an honorific (`김민수 님`, `박지훈씨`) or after a self-introduction
 * (`제 이름은 김민수`, `저는 이서연`), and road or district addresses that start with a province or
 * metropolitan city (`서울특별시 강남구 테헤란로 152`). Enough to demo masking of Korean traces; not a
 * statement about any model's accuracy.
 *
 * What it does reproduce: the endpoint's contract. Each call builds the toolkit's response
 * (`[{entity_group, score, word, start, end}]` per input, offsets in code points, KLUE-style groups
 * PS and LC) and passes it through the same validation and entity-group mapping as the SageMaker
 * adapter (token-classification.ts), with the stage's input and batch limits and an optional latency.
 */
import type { PiiConfig } from '../config/schema';
import { utf16OffsetsToCodePoints } from '../lambdas/gate-score/pii/unicode';
import type { DetectorBatchLimits, PiiEntity, PiiEntityDetector, Sleep } from '../lambdas/shared/ports';
import { entityTypeMap, parseTokenClassificationResponse, type TokenClassificationEntity } from '../lambdas/shared/token-classification';

/** How the simulation behaves. */
export interface SimulatedKoreanNerOptions {
  /**
   * Largest single input, in UTF-8 bytes.
   * @default 1_500
   */
  readonly maxTextBytes?: number;
  /**
   * Limits of one call.
   * @default { maxTexts: 32, maxBytes: 48_000 }
   */
  readonly batchLimits?: DetectorBatchLimits;
  /** Entity groups added to the built-in map, as in the stage config. */
  readonly entityTypes?: Readonly<Record<string, string>>;
  /**
   * Latency of every call, in milliseconds.
   * @default 0
   */
  readonly latencyMs?: number;
  /**
   * How latency is waited for.
   * @default a setTimeout-based sleep
   */
  readonly sleep?: Sleep;
}

/** Scores the simulation gives (a model's aggregated scores are averages below 1). */
export const SIMULATED_PERSON_SCORE = 0.93;
export const SIMULATED_LOCATION_SCORE = 0.88;

const SURNAMES = '김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용';

/** A common surname and two syllables, before an honorific or after a self-introduction. */
const PERSON = new RegExp(
  `(?:(?<=(?:제 이름은|이름은|저는|성함은)\\s{1,3})([${SURNAMES}][가-힣]{2}))|(?:(?<![가-힣])([${SURNAMES}][가-힣]{2})(?=\\s?(?:씨|님|고객님|고객|선생님)))`,
  'gu',
);

/** A province or metropolitan city, a district, and a road or neighbourhood with an optional number. */
const LOCATION =
  /(?<![가-힣])(?:서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충청북|충청남|충북|충남|전라북|전라남|전북|전남|경상북|경상남|경북|경남|제주)[가-힣]{0,4}\s[가-힣]{1,6}(?:구|군|시)(?:\s[가-힣0-9]{1,10}(?:로|길|동))?(?:\s\d{1,5}(?:-\d{1,5})?)?/gu;

const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A stand-in for a Korean named-entity endpoint; see the module comment for what it simulates. */
export class SimulatedKoreanNerDetector implements PiiEntityDetector<string> {
  readonly name = 'korean-ner-simulated';
  readonly maxTextBytes: number;
  readonly batchLimits: DetectorBatchLimits;
  /** Calls received. */
  calls = 0;
  /** Inputs received over all calls. */
  inputs = 0;

  private readonly types: Readonly<Record<string, string>>;
  private readonly latencyMs: number;
  private readonly sleep: Sleep;

  constructor(options: SimulatedKoreanNerOptions = {}) {
    this.maxTextBytes = options.maxTextBytes ?? 1_500;
    this.batchLimits = options.batchLimits ?? { maxTexts: 32, maxBytes: 48_000 };
    this.types = entityTypeMap(options.entityTypes);
    this.latencyMs = options.latencyMs ?? 0;
    this.sleep = options.sleep ?? defaultSleep;
    if (!(this.latencyMs >= 0)) throw new RangeError(`latencyMs must be >= 0; received ${String(options.latencyMs)}`);
  }

  async detect(text: string, language: string): Promise<readonly PiiEntity[]> {
    const [entities] = await this.detectBatch([text], language);
    return entities ?? [];
  }

  async detectBatch(texts: readonly string[], language: string): Promise<ReadonlyArray<readonly PiiEntity[]>> {
    this.calls += 1;
    this.inputs += texts.length;
    if (language !== 'ko') throw new Error(`the simulated endpoint reads ko, not ${language} (simulated)`);
    if (texts.length > this.batchLimits.maxTexts) throw new RangeError(`${texts.length} inputs exceed the batch limit of ${this.batchLimits.maxTexts} (simulated)`);
    let total = 0;
    for (const text of texts) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > this.maxTextBytes) throw new RangeError(`an input of ${bytes} bytes exceeds the limit of ${this.maxTextBytes} (simulated)`);
      total += bytes;
    }
    if (total > this.batchLimits.maxBytes) throw new RangeError(`inputs of ${total} bytes exceed the batch limit of ${this.batchLimits.maxBytes} (simulated)`);
    if (this.latencyMs > 0) await this.sleep(this.latencyMs);
    // The response as the endpoint would send it, then the adapter's own validation and mapping.
    const response: unknown = JSON.parse(JSON.stringify(texts.map((text) => simulatedEntities(text))));
    return parseTokenClassificationResponse(response, texts, this.types);
  }
}

/** What the simulated model answers for one input, in the toolkit's shape (code-point offsets). */
export function simulatedEntities(text: string): TokenClassificationEntity[] {
  const raw: { group: string; score: number; start: number; end: number }[] = [];
  PERSON.lastIndex = 0;
  for (let m = PERSON.exec(text); m !== null; m = PERSON.exec(text)) {
    const name = m[1] ?? m[2] ?? '';
    const start = m.index + m[0].length - name.length;
    raw.push({ group: 'PS', score: SIMULATED_PERSON_SCORE, start, end: start + name.length });
  }
  LOCATION.lastIndex = 0;
  for (let m = LOCATION.exec(text); m !== null; m = LOCATION.exec(text)) {
    raw.push({ group: 'LC', score: SIMULATED_LOCATION_SCORE, start: m.index, end: m.index + m[0].length });
  }
  if (raw.length === 0) return [];
  raw.sort((a, b) => a.start - b.start);
  // The regexes give UTF-16 indices; the endpoint answers code points (Python str indices).
  const sorted = raw.flatMap((r) => [r.start, r.end]).sort((a, b) => a - b);
  const codePoints = utf16OffsetsToCodePoints(text, sorted);
  const toCodePoint = new Map(sorted.map((offset, i) => [offset, codePoints[i] ?? 0]));
  return raw.map((r) => ({
    entity_group: r.group,
    score: r.score,
    word: text.slice(r.start, r.end),
    start: toCodePoint.get(r.start) ?? 0,
    end: toCodePoint.get(r.end) ?? 0,
  }));
}

/**
 * The simulated entity detectors for a stage's `pii.entityDetectors`, with the stage's limits. Only
 * Korean is simulated: a stage that configures another language gets no detector for it locally, and
 * its traces are discarded as the gate discards a language whose detector is not wired.
 */
export function simulatedEntityDetectors(pii: Pick<PiiConfig, 'entityDetectors'>, options: Pick<SimulatedKoreanNerOptions, 'latencyMs' | 'sleep'> = {}): Record<string, SimulatedKoreanNerDetector> {
  const ko = Object.prototype.hasOwnProperty.call(pii.entityDetectors, 'ko') ? pii.entityDetectors.ko : undefined;
  if (ko === undefined) return {};
  return {
    ko: new SimulatedKoreanNerDetector({
      ...options,
      maxTextBytes: ko.maxTextBytes,
      batchLimits: { maxTexts: ko.maxBatchTexts, maxBytes: ko.maxBatchBytes },
      ...(ko.entityTypes !== undefined ? { entityTypes: ko.entityTypes } : {}),
    }),
  };
}
