/**
 * SIMULATED Amazon Comprehend DetectPiiEntities, for the local runner and the benchmark. It is not
 * Comprehend and finds far less: the structured patterns of the gate's own pattern detector, plus
 * capitalised names right after cues such as "my name is" / "me llamo". Enough to demo masking and
 * to measure call counts and throttling behaviour; not a statement about Comprehend's accuracy.
 *
 * What it does reproduce: the 100 KB (100,000 UTF-8 bytes) limit with Comprehend's error name, the
 * en/es-only language support, code-point offsets with an exclusive end, a configurable latency per
 * call and a transactions-per-second quota (calls beyond it in the current one-second window throw
 * TransientDetectorError "ThrottlingException (simulated)", as the real adapter maps throttling).
 */
import { detectPatternPii } from '../lambdas/gate-score/pii/pattern-detector';
import { utf16OffsetsToCodePoints } from '../lambdas/gate-score/pii/unicode';
import { TransientDetectorError, type DetectorLanguage, type PiiEntity, type PiiEntityDetector, type Sleep } from '../lambdas/shared/ports';

/** How the simulation behaves. */
export interface SimulatedComprehendOptions {
  /**
   * Latency of every call, in milliseconds.
   * @default 0
   */
  readonly latencyMs?: number;
  /**
   * Calls accepted per one-second window; further calls in that window are throttled.
   * @default Infinity (no quota)
   */
  readonly tps?: number;
  /**
   * Largest text accepted, in UTF-8 bytes.
   * @default 100_000
   */
  readonly maxTextBytes?: number;
  /**
   * Clock in milliseconds, for the TPS windows.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * How latency is waited for.
   * @default a setTimeout-based sleep
   */
  readonly sleep?: Sleep;
}

/** Error names Comprehend uses for the client errors this simulation reproduces. */
export class SimulatedComprehendClientError extends Error {
  constructor(name: string, message: string) {
    super(`${message} (simulated)`);
    this.name = name;
  }
}

/** Score the simulation gives a name found after a cue (below a pattern match, above typical minScores). */
export const SIMULATED_NAME_SCORE = 0.9;

/**
 * "my name is Jane Doe", "I'm Jane", "this is Jane Doe", "me llamo Ana García", "mi nombre es Ana":
 * the cue is matched without regard to case (spelled out, since Node 20 lacks inline modifiers), the
 * name must be 1-3 capitalised words. Bounded quantifiers keep it linear.
 */
const NAME_AFTER_CUE =
  /(?<![\p{L}\p{N}])(?:[Mm]y [Nn]ame [Ii]s|[Ii] [Aa]m|[Ii]'[Mm]|[Tt]his [Ii]s|[Mm]e [Ll]lamo|[Mm]i [Nn]ombre [Ee]s|[Ss]oy)[ \t]{1,3}(\p{Lu}[\p{Ll}'-]{1,30}(?:[ \t]\p{Lu}[\p{Ll}'-]{1,30}){0,2})/gu;

/** Capitalised words after these cues that are not names ("I am Happy" is not a person). */
const NOT_NAMES: ReadonlySet<string> = new Set(['Happy', 'Sorry', 'Here', 'Not', 'The', 'A', 'An', 'So', 'Very', 'Just', 'Going', 'Looking', 'Trying']);

const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A stand-in for Amazon Comprehend DetectPiiEntities; see the module comment for what it simulates. */
export class SimulatedComprehendDetector implements PiiEntityDetector {
  readonly name = 'comprehend-simulated';
  readonly maxTextBytes: number;
  /** Calls received, throttled ones included. */
  calls = 0;
  /** Calls rejected by the TPS quota. */
  throttled = 0;
  /** UTF-8 bytes of all texts accepted. */
  bytesScanned = 0;

  private readonly latencyMs: number;
  private readonly tps: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private windowSecond = Number.NaN;
  private windowCalls = 0;

  constructor(options: SimulatedComprehendOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.tps = options.tps ?? Number.POSITIVE_INFINITY;
    this.maxTextBytes = options.maxTextBytes ?? 100_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    if (!(this.latencyMs >= 0)) throw new RangeError(`latencyMs must be >= 0; received ${String(options.latencyMs)}`);
    if (!(this.tps > 0)) throw new RangeError(`tps must be > 0; received ${String(options.tps)}`);
  }

  /** Resets the counters (not the quota window). */
  resetCounters(): void {
    this.calls = 0;
    this.throttled = 0;
    this.bytesScanned = 0;
  }

  async detect(text: string, language: DetectorLanguage): Promise<readonly PiiEntity[]> {
    this.calls += 1;
    // The quota is charged when a call arrives, as a service-side rate limiter does.
    const second = Math.floor(this.now() / 1000);
    if (second !== this.windowSecond) {
      this.windowSecond = second;
      this.windowCalls = 0;
    }
    this.windowCalls += 1;
    if (this.windowCalls > this.tps) {
      this.throttled += 1;
      throw new TransientDetectorError('ThrottlingException (simulated): rate exceeded');
    }
    if ((language as string) !== 'en' && (language as string) !== 'es') {
      throw new SimulatedComprehendClientError('UnsupportedLanguageException', `DetectPiiEntities does not support language ${String(language)}`);
    }
    if (text.length === 0) throw new SimulatedComprehendClientError('InvalidRequestException', 'Text must be at least 1 character');
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.maxTextBytes) {
      throw new SimulatedComprehendClientError('TextSizeLimitExceededException', `Input text size ${bytes} exceeds the limit of ${this.maxTextBytes} bytes`);
    }
    if (this.latencyMs > 0) await this.sleep(this.latencyMs);
    this.bytesScanned += bytes;
    return [...detectPatternPii(text), ...findCuedNames(text)].sort((a, b) => a.beginOffset - b.beginOffset);
  }
}

/** Names after a cue, in code-point offsets. */
export function findCuedNames(text: string): PiiEntity[] {
  const raw: { start: number; end: number }[] = [];
  NAME_AFTER_CUE.lastIndex = 0;
  for (let m = NAME_AFTER_CUE.exec(text); m !== null; m = NAME_AFTER_CUE.exec(text)) {
    const name = m[1] ?? '';
    const firstWord = name.split(/[ \t]/)[0] ?? '';
    if (name.length === 0 || NOT_NAMES.has(firstWord)) continue;
    const end = m.index + m[0].length;
    raw.push({ start: end - name.length, end });
  }
  if (raw.length === 0) return [];
  const offsets = utf16OffsetsToCodePoints(text, raw.flatMap((r) => [r.start, r.end]));
  return raw.map((_, k) => ({
    type: 'NAME',
    beginOffset: offsets[2 * k] ?? 0,
    endOffset: offsets[2 * k + 1] ?? 0,
    score: SIMULATED_NAME_SCORE,
  }));
}
