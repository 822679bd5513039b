import type { PiiConfig } from '../../config/schema';
import { scanAndMaskTraces, type PiiScanOutcome, type PiiScanRequest } from '../../lambdas/gate-score/pii/pii-scan';
import type { Trace } from '../../lambdas/gate-score/trace';
import { TransientDetectorError, type DetectorLanguage, type PiiEntity, type PiiEntityDetector } from '../../lambdas/shared/ports';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import { makeTrace } from '../helpers/trace-factory';

const NAMES = ['Jane Doe', 'Carlos Ruiz'];

/** Plays Comprehend: reports every known name in the text, in code points, unless told otherwise. */
function findNames(text: string, score = 0.99): PiiEntity[] {
  const entities: PiiEntity[] = [];
  for (const name of NAMES) {
    for (let i = text.indexOf(name); i !== -1; i = text.indexOf(name, i + 1)) {
      const begin = Array.from(text.slice(0, i)).length;
      entities.push({ type: 'NAME', beginOffset: begin, endOffset: begin + name.length, score });
    }
  }
  return entities;
}

type Behaviour = (text: string, language: DetectorLanguage, call: number) => readonly PiiEntity[] | Promise<readonly PiiEntity[]>;

/** A hand-written detector that records calls and how many ran at once. */
class FakeDetector implements PiiEntityDetector {
  readonly name = 'fake';
  readonly calls: { text: string; language: DetectorLanguage }[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly behaviour: Behaviour = (text) => findNames(text),
    readonly maxTextBytes = 100_000,
  ) {}

  async detect(text: string, language: DetectorLanguage): Promise<readonly PiiEntity[]> {
    this.calls.push({ text, language });
    const call = this.calls.length;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // Yield a few times so that concurrent calls really overlap.
      for (let k = 0; k < 3; k += 1) await new Promise((resolve) => setImmediate(resolve));
      return await this.behaviour(text, language, call);
    } finally {
      this.inFlight -= 1;
    }
  }
}

const KO_ACCEPTANCE = { language: 'ko', acceptedBy: 'dpo-kr@example.com', reference: 'RISK-1', reason: 'test: pattern-only scanning of Korean' };

const config: PiiConfig = {
  comprehendLanguages: ['en', 'es'],
  entityDetectors: {},
  patternOnlyRiskAcceptances: [KO_ACCEPTANCE],
  undeclaredLanguage: 'en',
  minScore: 0.5,
  maxAttempts: 3,
  maxConcurrentCalls: 2,
};

const waits: number[] = [];
const sleep = async (ms: number): Promise<void> => {
  waits.push(ms);
};
beforeEach(() => {
  waits.length = 0;
});

function requests(traces: readonly Trace[]): PiiScanRequest[] {
  return traces.map((trace, i) => ({ key: `rec-${i}`, trace }));
}

function masked(outcome: PiiScanOutcome | undefined): Extract<PiiScanOutcome, { status: 'masked' }> {
  if (outcome?.status !== 'masked') throw new Error(`expected a masked outcome, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function englishTrace(text = 'My name is Jane Doe.'): Trace {
  return makeTrace({ language: 'en', input_messages: [{ role: 'user', content: text }], output: 'Hello Jane Doe!', retrieved_contexts: [] });
}

describe('scanAndMaskTraces: routing by language', () => {
  it('sends en/es to the detector per language, scans pattern-only languages locally, discards the rest', async () => {
    const detector = new FakeDetector();
    const traces = [
      englishTrace(),
      makeTrace({ language: 'es-MX', input_messages: [{ role: 'user', content: 'Me llamo Carlos Ruiz' }], output: 'Hola Carlos Ruiz', retrieved_contexts: [] }),
      makeTrace({ language: 'ko', input_messages: [{ role: 'user', content: '제 전화번호는 010-1234-5678, 주민번호 900101-1234568' }], output: '확인했습니다', retrieved_contexts: [] }),
      makeTrace({ language: 'ja', output: '承知しました' }),
    ];
    const outcomes = await scanAndMaskTraces(requests(traces), { detector, config, sleep });

    expect(outcomes.map((o) => o.key)).toEqual(['rec-0', 'rec-1', 'rec-2', 'rec-3']);
    const en = masked(outcomes[0]);
    expect(en).toMatchObject({ language: 'en', scanner: 'comprehend', entitiesMasked: 2 });
    expect(en.trace.input_messages[0]?.content).toBe('My name is [NAME].');
    expect(en.trace.output).toBe('Hello [NAME]!');
    expect(masked(outcomes[1])).toMatchObject({ language: 'es', scanner: 'comprehend' });
    expect(masked(outcomes[1]).trace.output).toBe('Hola [NAME]');

    const ko = masked(outcomes[2]);
    expect(ko).toMatchObject({ language: 'ko', scanner: 'pattern', entitiesMasked: 2 });
    expect(ko.trace.input_messages[0]?.content).toBe('제 전화번호는 [PHONE], 주민번호 [KR_RRN]');

    expect(outcomes[3]).toEqual({ key: 'rec-3', status: 'discarded', reason: 'unsupported_language: ja' });

    // One call per language; the Korean and Japanese text never left the process.
    expect(detector.calls.map((c) => c.language).sort()).toEqual(['en', 'es']);
    expect(detector.calls.some((c) => c.text.includes('010-1234-5678') || c.text.includes('承知'))).toBe(false);
  });

  it('discards a language with neither an entity detector nor a pattern-only acceptance, even if patterns could scan it', async () => {
    const trace = makeTrace({ language: 'ko', output: '010-1234-5678' });
    const [outcome] = await scanAndMaskTraces(requests([trace]), { detector: new FakeDetector(), config: { ...config, patternOnlyRiskAcceptances: [] }, sleep });
    expect(outcome).toEqual({ key: 'rec-0', status: 'discarded', reason: 'unsupported_language: ko' });
  });

  it('treats undeclared Latin text as the stage default and undeclared Hangul as Korean', async () => {
    const latin = englishTrace();
    delete latin.language;
    const hangul = makeTrace({ input_messages: [{ role: 'user', content: '환불 규정이 궁금합니다' }], output: '30일 이내입니다', retrieved_contexts: [] });
    delete hangul.language;
    const outcomes = await scanAndMaskTraces(requests([latin, hangul]), { detector: new FakeDetector(), config, sleep });
    expect(masked(outcomes[0])).toMatchObject({ language: 'en', scanner: 'comprehend' });
    expect(masked(outcomes[1])).toMatchObject({ language: 'ko', scanner: 'pattern' });
  });

  it('discards undeclared German by its words instead of scanning it as the English default; its text never reaches the detector', async () => {
    const german = makeTrace({
      input_messages: [{ role: 'user', content: 'Hallo, ich bin Jana Schmidt und meine Bestellung ist noch nicht da. Können Sie mir bitte sagen, wie der Status ist?' }],
      output: 'Die Bestellung ist unterwegs und kommt morgen an.',
      retrieved_contexts: [],
    });
    delete german.language;
    const detector = new FakeDetector();
    const [outcome] = await scanAndMaskTraces(requests([german]), { detector, config, sleep });
    expect(outcome).toEqual({ key: 'rec-0', status: 'discarded', reason: 'unsupported_language: de' });
    expect(detector.calls).toEqual([]);
  });
});

describe('scanAndMaskTraces: what is masked', () => {
  it('masks every free-text field and leaves the rest of the trace, and the input, untouched', async () => {
    const trace = makeTrace({
      language: 'en',
      input_messages: [
        { role: 'system', content: 'Assist Jane Doe.' },
        { role: 'user', content: 'I am Jane Doe' },
      ],
      retrieved_contexts: ['Customer: Jane Doe', 'no pii here'],
      output: 'Done, Jane Doe.',
      tool_calls: [
        { name: 'crm', arguments: '{"customer":"Jane Doe"}', result: '{"email":"jane@example.com"}', status: 'ok' },
        { name: 'noop', arguments: '{}', status: 'ok' },
      ],
    });
    const before = JSON.stringify(trace);
    const [outcome] = await scanAndMaskTraces(requests([trace]), { detector: new FakeDetector(), config, sleep });
    const result = masked(outcome).trace;
    expect(result.input_messages.map((m) => m.content)).toEqual(['Assist [NAME].', 'I am [NAME]']);
    expect(result.retrieved_contexts).toEqual(['Customer: [NAME]', 'no pii here']);
    expect(result.output).toBe('Done, [NAME].');
    expect(result.tool_calls).toEqual([
      { name: 'crm', arguments: '{"customer":"[NAME]"}', result: '{"email":"[EMAIL]"}', status: 'ok' },
      { name: 'noop', arguments: '{}', status: 'ok' },
    ]);
    expect(masked(outcome).entitiesMasked).toBe(6);
    expect({ ...result, input_messages: [], retrieved_contexts: [], output: '', tool_calls: [] }).toEqual({
      ...trace,
      input_messages: [],
      retrieved_contexts: [],
      output: '',
      tool_calls: [],
    });
    expect(JSON.stringify(trace)).toBe(before);
  });

  it('unions Comprehend entities with the pattern detector (Comprehend has no KR RRN)', async () => {
    const trace = englishTrace('I am Jane Doe, RRN 900101-1234568, card 4111 1111 1111 1111');
    const [outcome] = await scanAndMaskTraces(requests([trace]), { detector: new FakeDetector(), config, sleep });
    expect(masked(outcome).trace.input_messages[0]?.content).toBe('I am [NAME], RRN [KR_RRN], card [CREDIT_DEBIT_NUMBER]');
  });

  it('ignores Comprehend entities under minScore and keeps those at or above it', async () => {
    const trace = makeTrace({ language: 'en', input_messages: [{ role: 'user', content: 'Jane Doe, Carlos Ruiz' }], output: '', retrieved_contexts: [] });
    const scoreBy = (jane: number, carlos: number) =>
      new FakeDetector((text) => findNames(text).map((e) => ({ ...e, score: e.beginOffset === 0 ? jane : carlos })));
    const [mixed] = await scanAndMaskTraces(requests([trace]), { detector: scoreBy(0.3, 0.8), config, sleep });
    expect(masked(mixed).trace.input_messages[0]?.content).toBe('Jane Doe, [NAME]');
    const [boundary] = await scanAndMaskTraces(requests([trace]), { detector: scoreBy(0.5, 0.49), config, sleep });
    expect(masked(boundary).trace.input_messages[0]?.content).toBe('[NAME], Carlos Ruiz');
  });

  it('maps offsets exactly across fields and traces with emoji and Hangul', async () => {
    const traces = [
      makeTrace({ language: 'en', input_messages: [{ role: 'user', content: '😀👍🏽 call Jane Doe 🍕' }], output: '김민수 and Jane Doe', retrieved_contexts: [] }),
      makeTrace({ language: 'en', input_messages: [{ role: 'user', content: '👩🏽‍💻 Carlos Ruiz' }], output: 'ok', retrieved_contexts: ['🎉🎉 Jane Doe'] }),
    ];
    const detector = new FakeDetector();
    const outcomes = await scanAndMaskTraces(requests(traces), { detector, config, sleep });
    expect(detector.calls).toHaveLength(1);
    expect(masked(outcomes[0]).trace.input_messages[0]?.content).toBe('😀👍🏽 call [NAME] 🍕');
    expect(masked(outcomes[0]).trace.output).toBe('김민수 and [NAME]');
    expect(masked(outcomes[1]).trace.input_messages[0]?.content).toBe('👩🏽‍💻 [NAME]');
    expect(masked(outcomes[1]).trace.retrieved_contexts).toEqual(['🎉🎉 [NAME]']);
  });

  it('masks a trace larger than one call, split across several', async () => {
    const big = Array.from({ length: 200 }, (_, i) => `line ${i}: Jane Doe called.`).join('\n');
    const detector = new FakeDetector(undefined, 1_000);
    const [outcome] = await scanAndMaskTraces(requests([englishTrace(big)]), { detector, config, sleep });
    const text = masked(outcome).trace.input_messages[0]?.content ?? '';
    expect(detector.calls.length).toBeGreaterThan(5);
    expect(detector.calls.every((c) => Buffer.byteLength(c.text) <= 1_000)).toBe(true);
    expect(text).not.toContain('Jane');
    expect(text.match(/\[NAME\]/g)).toHaveLength(200);
  });
});

describe('scanAndMaskTraces: failures are fail-closed', () => {
  it('retries a throttled call with backoff and masks once it succeeds', async () => {
    const detector = new FakeDetector((text, _language, call) => {
      if (call <= 2) throw new TransientDetectorError('ThrottlingException: Rate exceeded');
      return findNames(text);
    });
    const outcomes = await scanAndMaskTraces(requests([englishTrace(), englishTrace()]), { detector, config, sleep, random: () => 0.5 });
    expect(detector.calls).toHaveLength(3);
    expect(waits).toEqual([100, 200]); // full jitter with random 0.5: 0.5 x 200, 0.5 x 400
    expect(outcomes.map((o) => o.status)).toEqual(['masked', 'masked']);
  });

  it('discards every trace of a pack that keeps failing, and returns nothing unmasked', async () => {
    const detector = new FakeDetector(() => {
      throw new TransientDetectorError('ThrottlingException: Rate exceeded');
    });
    const korean = makeTrace({ language: 'ko', input_messages: [{ role: 'user', content: '전화번호요' }], retrieved_contexts: [], output: '010-1234-5678' });
    const traces = [englishTrace(), englishTrace('Carlos Ruiz here'), korean];
    const outcomes = await scanAndMaskTraces(requests(traces), { detector, config, sleep });
    expect(detector.calls).toHaveLength(config.maxAttempts);
    expect(outcomes[0]).toEqual({ key: 'rec-0', status: 'discarded', reason: 'pii_scan_failed: TransientDetectorError' });
    expect(outcomes[1]).toMatchObject({ status: 'discarded' });
    // The pattern-only trace without Latin-script text did not depend on the detector.
    expect(masked(outcomes[2]).trace.output).toBe('[PHONE]');
    const serialised = JSON.stringify(outcomes);
    expect(serialised).not.toContain('Jane Doe');
    expect(serialised).not.toContain('Carlos Ruiz');
  });

  it('does not retry a non-transient error', async () => {
    const detector = new FakeDetector(() => {
      const error = new Error('Input text size exceeds limit');
      error.name = 'TextSizeLimitExceededException';
      throw error;
    });
    const [outcome] = await scanAndMaskTraces(requests([englishTrace()]), { detector, config, sleep });
    expect(detector.calls).toHaveLength(1);
    expect(outcome).toEqual({ key: 'rec-0', status: 'discarded', reason: 'pii_scan_failed: TextSizeLimitExceededException' });
  });

  it('discards only the traces in the failed pack', async () => {
    const detector = new FakeDetector((text) => {
      if (text.includes('POISON')) throw new Error('boom');
      return findNames(text);
    });
    const traces = [englishTrace(), englishTrace('POISON Jane Doe'), englishTrace()];
    const perTrace = await scanAndMaskTraces(requests(traces), { detector, config, sleep, packing: 'per-trace' });
    expect(perTrace.map((o) => o.status)).toEqual(['masked', 'discarded', 'masked']);
    // Packed, all three share the pack, so all three are discarded.
    const packed = await scanAndMaskTraces(requests(traces), { detector, config, sleep });
    expect(packed.map((o) => o.status)).toEqual(['discarded', 'discarded', 'discarded']);
  });

  it('discards the traces of a pack whose entity offsets cannot be placed', async () => {
    const detector = new FakeDetector((text) => [{ type: 'NAME', beginOffset: 0, endOffset: Array.from(text).length + 5, score: 0.9 }]);
    const [outcome] = await scanAndMaskTraces(requests([englishTrace()]), { detector, config, sleep });
    expect(outcome).toMatchObject({ status: 'discarded', reason: expect.stringMatching(/^pii_scan_failed: RangeError$/) });
  });

  it('discards when the detector returns something that is not a list', async () => {
    const detector = new FakeDetector(() => undefined as unknown as PiiEntity[]);
    const [outcome] = await scanAndMaskTraces(requests([englishTrace()]), { detector, config, sleep });
    expect(outcome).toMatchObject({ status: 'discarded', reason: expect.stringMatching(/^pii_scan_failed: /) });
  });
});

describe('scanAndMaskTraces: calls and concurrency', () => {
  it('never has more than maxConcurrentCalls calls in flight (and does use them)', async () => {
    const detector = new FakeDetector();
    const traces = Array.from({ length: 20 }, () => englishTrace());
    await scanAndMaskTraces(requests(traces), { detector, config: { ...config, maxConcurrentCalls: 3 }, sleep, packing: 'per-trace' });
    expect(detector.calls).toHaveLength(20);
    expect(detector.maxInFlight).toBe(3);
  });

  it('still scans (one call at a time) if the concurrency limit is not a usable number', async () => {
    const detector = new FakeDetector();
    const [outcome] = await scanAndMaskTraces(requests([englishTrace()]), { detector, config: { ...config, maxConcurrentCalls: Number.NaN }, sleep });
    expect(detector.calls).toHaveLength(1);
    expect(masked(outcome).trace.output).toBe('Hello [NAME]!');
  });

  it('makes one call per trace per-trace, and one for the whole batch packed, with the same result', async () => {
    const traces = Array.from({ length: 50 }, (_, i) => englishTrace(`Ticket ${i}: Jane Doe asked about refunds. ${'Some context. '.repeat(100)}`));
    const perTraceDetector = new FakeDetector();
    const perTrace = await scanAndMaskTraces(requests(traces), { detector: perTraceDetector, config, sleep, packing: 'per-trace' });
    const packedDetector = new FakeDetector();
    const packed = await scanAndMaskTraces(requests(traces), { detector: packedDetector, config, sleep });
    expect(perTraceDetector.calls).toHaveLength(50);
    expect(packedDetector.calls).toHaveLength(1);
    expect(packed).toEqual(perTrace);
  });

  it('returns one outcome per request, in order, for an empty batch too', async () => {
    expect(await scanAndMaskTraces([], { detector: new FakeDetector(), config, sleep })).toEqual([]);
    const traces = [makeTrace({ language: 'fr' }), englishTrace(), makeTrace({ language: 'ko', output: 'x' }), makeTrace({ language: 'de' })];
    const outcomes = await scanAndMaskTraces(requests(traces), { detector: new FakeDetector(), config, sleep });
    expect(outcomes.map((o) => [o.key, o.status])).toEqual([
      ['rec-0', 'discarded'],
      ['rec-1', 'masked'],
      ['rec-2', 'masked'],
      ['rec-3', 'discarded'],
    ]);
  });
});

describe('scanAndMaskTraces with the simulated Comprehend', () => {
  it('rides out the TPS quota with backoff, on a simulated clock', async () => {
    let nowMs = 0;
    const detector = new SimulatedComprehendDetector({ tps: 2, now: () => nowMs });
    const advance = async (ms: number): Promise<void> => {
      nowMs += Math.max(ms, 1_000); // each wait moves into a fresh one-second window
    };
    const traces = Array.from({ length: 5 }, () => englishTrace('Hi, my name is Jane Doe, mail jane@example.com'));
    const outcomes = await scanAndMaskTraces(requests(traces), {
      detector,
      config: { ...config, maxAttempts: 5, maxConcurrentCalls: 5 },
      sleep: advance,
      packing: 'per-trace',
    });
    expect(detector.throttled).toBeGreaterThan(0);
    expect(outcomes.every((o) => o.status === 'masked')).toBe(true);
    expect(masked(outcomes[0]).trace.input_messages[0]?.content).toBe('Hi, my name is [NAME], mail [EMAIL]');
  });

  it('is rejected like Comprehend beyond 100 KB, and labelled as simulated', async () => {
    const detector = new SimulatedComprehendDetector();
    expect(detector.name).toContain('simulated');
    await expect(detector.detect('a'.repeat(100_001), 'en')).rejects.toMatchObject({ name: 'TextSizeLimitExceededException' });
    await expect(detector.detect('a'.repeat(100_000), 'en')).resolves.toEqual([]);
    expect(detector.calls).toBe(2);
  });
});
