/**
 * The PII gate for languages Comprehend does not read: the entity detector route, the pattern-only
 * risk acceptance, and Comprehend over the Latin-script runs of such traces.
 */
import type { EntityDetectorConfig, PiiConfig } from '../../config/schema';
import { latinRunLanguage, routeLanguage } from '../../lambdas/gate-score/pii/language-route';
import { scanAndMaskTraces, type PiiScanOutcome, type PiiScanRequest } from '../../lambdas/gate-score/pii/pii-scan';
import type { Trace } from '../../lambdas/gate-score/trace';
import { withLanguageDetectors } from '../../lambdas/shared/language-detectors';
import { TransientDetectorError, type DetectorBatchLimits, type PiiEntity, type PiiEntityDetector } from '../../lambdas/shared/ports';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import { SimulatedKoreanNerDetector } from '../../local/simulated-korean-ner';
import { makeTrace } from '../helpers/trace-factory';

const NAMES = ['Jane Doe', 'Carlos Ruiz', 'John Smith', 'Jana Schmidt'];
const KOREAN_NAMES = ['김민수', '이서연'];

/** Every occurrence of the names, in code points (counted incrementally: packs are large). */
function find(text: string, names: readonly string[], type: string, score = 0.99): PiiEntity[] {
  const entities: PiiEntity[] = [];
  for (const name of names) {
    let unit = 0;
    let codePoint = 0;
    for (let i = text.indexOf(name); i !== -1; i = text.indexOf(name, i + 1)) {
      codePoint += Array.from(text.slice(unit, i)).length;
      unit = i;
      entities.push({ type, beginOffset: codePoint, endOffset: codePoint + Array.from(name).length, score });
    }
  }
  return entities;
}

/** Plays Comprehend: finds the Latin names, records every call. */
class FakeComprehend implements PiiEntityDetector {
  readonly name = 'fake-comprehend';
  readonly maxTextBytes = 100_000;
  readonly calls: { text: string; language: string }[] = [];
  constructor(private readonly fail: (text: string, call: number) => Error | undefined = () => undefined) {}
  async detect(text: string, language: 'en' | 'es'): Promise<readonly PiiEntity[]> {
    this.calls.push({ text, language });
    const error = this.fail(text, this.calls.length);
    if (error !== undefined) throw error;
    return find(text, NAMES, 'NAME');
  }
}

/** Plays a Korean named-entity endpoint that takes a list of inputs. */
class FakeKoreanNer implements PiiEntityDetector<string> {
  readonly name = 'fake-ner';
  readonly calls: { texts: readonly string[]; language: string }[] = [];
  constructor(
    readonly batchLimits: DetectorBatchLimits = { maxTexts: 32, maxBytes: 48_000 },
    readonly maxTextBytes = 1_500,
    private readonly behaviour: (texts: readonly string[], call: number) => ReadonlyArray<readonly PiiEntity[]> = (texts) =>
      texts.map((text) => find(text, KOREAN_NAMES, 'NAME', 0.8)),
  ) {}
  async detect(text: string, language: string): Promise<readonly PiiEntity[]> {
    const [entities] = await this.detectBatch([text], language);
    return entities ?? [];
  }
  async detectBatch(texts: readonly string[], language: string): Promise<ReadonlyArray<readonly PiiEntity[]>> {
    this.calls.push({ texts, language });
    return this.behaviour(texts, this.calls.length);
  }
}

const KO_DETECTOR: EntityDetectorConfig = { kind: 'sagemaker-endpoint', endpoint: 'ner-ko', minScore: 0.5, maxTextBytes: 1_500, maxBatchTexts: 32, maxBatchBytes: 48_000 };
const KO_ACCEPTANCE = { language: 'ko', acceptedBy: 'dpo-kr@example.com', reference: 'RISK-7', reason: 'test: pattern-only scanning of Korean' };

const base: PiiConfig = {
  comprehendLanguages: ['en', 'es'],
  entityDetectors: {},
  patternOnlyRiskAcceptances: [],
  undeclaredLanguage: 'en',
  minScore: 0.5,
  maxAttempts: 3,
  maxConcurrentCalls: 4,
};
const withNer: PiiConfig = { ...base, entityDetectors: { ko: KO_DETECTOR } };
const patternOnly: PiiConfig = { ...base, patternOnlyRiskAcceptances: [KO_ACCEPTANCE] };

const sleep = async (): Promise<void> => undefined;

function requests(traces: readonly Trace[]): PiiScanRequest[] {
  return traces.map((trace, i) => ({ key: `rec-${i}`, trace }));
}

function masked(outcome: PiiScanOutcome | undefined): Extract<PiiScanOutcome, { status: 'masked' }> {
  if (outcome?.status !== 'masked') throw new Error(`expected a masked outcome, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function koreanTrace(overrides: Partial<Trace> = {}): Trace {
  return makeTrace({
    language: 'ko',
    input_messages: [{ role: 'user', content: '😀 제 이름은 김민수이고 영문 이름은 John Smith 입니다. 전화 010-1234-5678' }],
    retrieved_contexts: [],
    output: '김민수 님, 확인했습니다.',
    tool_calls: [{ name: 'crm', arguments: '{"customer":"John Smith","city":"Seoul"}', result: '{"주소":"서울", "contact":"Jane Doe"}', status: 'ok' }],
    ...overrides,
  });
}

const englishTrace = (text = 'My name is Jane Doe.') =>
  makeTrace({ language: 'en', input_messages: [{ role: 'user', content: text }], output: 'Hello Jane Doe!', retrieved_contexts: [] });

describe('routeLanguage', () => {
  const ner = new FakeKoreanNer();
  it('routes Comprehend languages, detector languages, accepted languages, and discards the rest', () => {
    expect(routeLanguage('en', withNer, {})).toEqual({ kind: 'comprehend', language: 'en' });
    expect(routeLanguage('ko', withNer, { ko: ner })).toEqual({ kind: 'entity-detector', detector: ner, minScore: 0.5 });
    expect(routeLanguage('ko', patternOnly, {})).toEqual({ kind: 'pattern-only' });
    expect(routeLanguage('ko', base, { ko: ner })).toEqual({ kind: 'discard', reason: 'unsupported_language: ko' });
    expect(routeLanguage('ja', withNer, { ko: ner })).toEqual({ kind: 'discard', reason: 'unsupported_language: ja' });
  });

  it('fails closed when a configured detector is not wired, instead of falling back to patterns', () => {
    expect(routeLanguage('ko', withNer, {})).toEqual({ kind: 'discard', reason: 'pii_scan_failed: no entity detector is wired for ko' });
  });

  it('does not take prototype keys for languages', () => {
    expect(routeLanguage('constructor', withNer, { ko: ner })).toMatchObject({ kind: 'discard' });
  });
});

describe('latinRunLanguage', () => {
  it('reads runs in the Comprehend language their words point to, else the stage default', () => {
    expect(latinRunLanguage('Hola, me llamo Carlos y mi casa es la casa de la familia con los perros', base)).toBe('es');
    expect(latinRunLanguage('Das ist nicht mein Haus und ich bin nicht der Mann von der Frau', base)).toBe('en');
    expect(latinRunLanguage('John Smith', base)).toBe('en');
    expect(latinRunLanguage('John Smith', { comprehendLanguages: ['es'], undeclaredLanguage: 'en' })).toBe('es');
  });
});

describe('scanAndMaskTraces: Korean traces with an entity detector', () => {
  it('masks Korean names with the entity detector and the Latin-script names with Comprehend, at exact offsets', async () => {
    const comprehend = new FakeComprehend();
    const ner = new FakeKoreanNer();
    const [outcome] = await scanAndMaskTraces(requests([koreanTrace()]), { detector: withLanguageDetectors(comprehend, { ko: ner }), config: withNer, sleep });
    const result = masked(outcome);
    expect(result).toMatchObject({ language: 'ko', scanner: 'fake-ner+fake-comprehend' });
    expect(result.trace.input_messages[0]?.content).toBe('😀 제 이름은 [NAME]이고 영문 이름은 [NAME] 입니다. 전화 [PHONE]');
    expect(result.trace.output).toBe('[NAME] 님, 확인했습니다.');
    expect(result.trace.tool_calls[0]).toMatchObject({ arguments: '{"customer":"[NAME]","city":"Seoul"}', result: '{"주소":"서울", "contact":"[NAME]"}' });
    expect(result.entitiesMasked).toBe(6);
    // Comprehend read the Latin runs only, never the Hangul.
    expect(comprehend.calls).toHaveLength(1);
    expect(comprehend.calls[0]?.text).not.toMatch(/[가-힣]/);
    expect(comprehend.calls[0]?.language).toBe('en');
    // The entity detector read every text.
    expect(ner.calls).toHaveLength(1);
    expect(ner.calls[0]?.texts.join('')).toContain('김민수 님, 확인했습니다.');
  });

  it('packs the Latin runs of Korean traces into the same Comprehend calls as English traces, and Korean texts into few batched calls', async () => {
    const comprehend = new FakeComprehend();
    const ner = new FakeKoreanNer({ maxTexts: 4, maxBytes: 6_000 });
    const traces = Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? koreanTrace() : englishTrace(`Ticket ${i}: Jane Doe asked about refunds.`)));
    const outcomes = await scanAndMaskTraces(requests(traces), { detector: withLanguageDetectors(comprehend, { ko: ner }), config: withNer, sleep });
    expect(outcomes.every((o) => o.status === 'masked')).toBe(true);
    expect(JSON.stringify(outcomes)).not.toMatch(/Jane Doe|John Smith|김민수/);
    // Per 1,000 traces: a handful of Comprehend calls for all English text and all Latin runs.
    expect(comprehend.calls.length).toBeLessThanOrEqual(2);
    // Korean texts: 1,500-byte inputs, 4 per call, so each call carries several traces.
    expect(ner.calls.every((c) => c.texts.length <= 4 && c.texts.every((t) => Buffer.byteLength(t) <= 1_500))).toBe(true);
    expect(ner.calls.length).toBeLessThan(500 / 3);
  });

  it('keeps entities of the detector at or above its own minimum score', async () => {
    const ner = new FakeKoreanNer(undefined, undefined, (texts) => texts.map((text) => find(text, KOREAN_NAMES, 'NAME', 0.45)));
    const strict = await scanAndMaskTraces(requests([koreanTrace()]), { detector: withLanguageDetectors(new FakeComprehend(), { ko: ner }), config: withNer, sleep });
    expect(masked(strict[0]).trace.output).toBe('김민수 님, 확인했습니다.');
    const lenient = { ...withNer, entityDetectors: { ko: { ...KO_DETECTOR, minScore: 0.4 } } };
    const loose = await scanAndMaskTraces(requests([koreanTrace()]), { detector: withLanguageDetectors(new FakeComprehend(), { ko: ner }), config: lenient, sleep });
    expect(masked(loose[0]).trace.output).toBe('[NAME] 님, 확인했습니다.');
  });

  it('retries a throttled detector call and then masks', async () => {
    const ner = new FakeKoreanNer(undefined, undefined, (texts, call) => {
      if (call === 1) throw new TransientDetectorError('ThrottlingException: Rate exceeded');
      return texts.map((text) => find(text, KOREAN_NAMES, 'NAME'));
    });
    const [outcome] = await scanAndMaskTraces(requests([koreanTrace()]), { detector: withLanguageDetectors(new FakeComprehend(), { ko: ner }), config: withNer, sleep });
    expect(ner.calls).toHaveLength(2);
    expect(masked(outcome).trace.output).toBe('[NAME] 님, 확인했습니다.');
  });

  it('discards only the traces with text in the failed call of several', async () => {
    const traces = Array.from({ length: 6 }, (_, i) => koreanTrace({ output: `${'가'.repeat(400)} 김민수 님 ${i}` }));
    // One trace's output fills most of an input: about two traces per call of 2 inputs.
    const ner = new FakeKoreanNer({ maxTexts: 2, maxBytes: 3_000 }, 1_500, (texts, call) => {
      if (call === 2) throw new Error('ModelError: the model failed');
      return texts.map((text) => find(text, KOREAN_NAMES, 'NAME'));
    });
    const outcomes = await scanAndMaskTraces(requests(traces), { detector: withLanguageDetectors(new FakeComprehend(), { ko: ner }), config: withNer, sleep });
    expect(ner.calls.length).toBeGreaterThan(2);
    const failedCall = ner.calls[1]!.texts.join('\n');
    outcomes.forEach((outcome, i) => {
      const inFailedCall = failedCall.includes(` 김민수 님 ${i}`);
      expect([i, outcome.status]).toEqual([i, inFailedCall ? 'discarded' : 'masked']);
    });
    expect(outcomes.filter((o) => o.status === 'discarded').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.status === 'masked').length).toBeGreaterThan(0);
    expect(outcomes.find((o) => o.status === 'discarded')).toMatchObject({ reason: 'pii_scan_failed: Error' });
  });

  it('discards a Korean trace whose Latin runs could not be scanned, even if its own detector succeeded', async () => {
    const comprehend = new FakeComprehend(() => new TransientDetectorError('ThrottlingException: Rate exceeded'));
    const [outcome] = await scanAndMaskTraces(requests([koreanTrace()]), { detector: withLanguageDetectors(comprehend, { ko: new FakeKoreanNer() }), config: withNer, sleep });
    expect(comprehend.calls).toHaveLength(withNer.maxAttempts);
    expect(outcome).toEqual({ key: 'rec-0', status: 'discarded', reason: 'pii_scan_failed: TransientDetectorError' });
  });

  it('discards when a batch answer has the wrong number of lists', async () => {
    const ner = new FakeKoreanNer(undefined, undefined, () => []);
    const [outcome] = await scanAndMaskTraces(requests([koreanTrace()]), { detector: withLanguageDetectors(new FakeComprehend(), { ko: ner }), config: withNer, sleep });
    expect(outcome).toMatchObject({ status: 'discarded', reason: 'pii_scan_failed: TypeError' });
  });

  it('works with the simulated Comprehend and the simulated Korean endpoint together', async () => {
    const comprehend = new SimulatedComprehendDetector();
    const ner = new SimulatedKoreanNerDetector();
    const trace = koreanTrace({
      input_messages: [{ role: 'user', content: '🎉 제 이름은 김민수이고 주소는 서울특별시 강남구 테헤란로 152입니다. My name is John Smith.' }],
      output: '박지훈 님께 전달했습니다.',
      tool_calls: [],
    });
    const [outcome] = await scanAndMaskTraces(requests([trace]), { detector: withLanguageDetectors(comprehend, { ko: ner }), config: withNer, sleep });
    expect(masked(outcome).scanner).toBe('korean-ner-simulated+comprehend-simulated');
    expect(masked(outcome).trace.input_messages[0]?.content).toBe('🎉 제 이름은 [NAME]이고 주소는 [ADDRESS]입니다. My name is [NAME].');
    expect(masked(outcome).trace.output).toBe('[NAME] 님께 전달했습니다.');
    expect([comprehend.calls, ner.calls]).toEqual([1, 1]);
  });
});

describe('scanAndMaskTraces: Korean traces without an entity detector', () => {
  it('keeps them on patterns plus Comprehend over their Latin runs when the stage accepts the risk', async () => {
    const comprehend = new FakeComprehend();
    const [outcome] = await scanAndMaskTraces(requests([koreanTrace()]), { detector: comprehend, config: patternOnly, sleep });
    const result = masked(outcome);
    expect(result.scanner).toBe('pattern+fake-comprehend');
    // The Korean name stays (the accepted risk); the English names and the phone are masked.
    expect(result.trace.input_messages[0]?.content).toBe('😀 제 이름은 김민수이고 영문 이름은 [NAME] 입니다. 전화 [PHONE]');
    expect(result.trace.tool_calls[0]?.arguments).toBe('{"customer":"[NAME]","city":"Seoul"}');
  });

  it('labels a pattern-only trace without Latin text as pattern alone and calls nothing', async () => {
    const comprehend = new FakeComprehend();
    const trace = koreanTrace({ input_messages: [{ role: 'user', content: '전화 010-1234-5678' }], output: '확인했습니다', tool_calls: [] });
    const [outcome] = await scanAndMaskTraces(requests([trace]), { detector: comprehend, config: patternOnly, sleep });
    expect(masked(outcome)).toMatchObject({ scanner: 'pattern', entitiesMasked: 1 });
    expect(comprehend.calls).toEqual([]);
  });

  it('discards them without an acceptance, and nothing of them is sent anywhere', async () => {
    const comprehend = new FakeComprehend();
    const [outcome] = await scanAndMaskTraces(requests([koreanTrace()]), { detector: comprehend, config: base, sleep });
    expect(outcome).toEqual({ key: 'rec-0', status: 'discarded', reason: 'unsupported_language: ko' });
    expect(comprehend.calls).toEqual([]);
  });
});
