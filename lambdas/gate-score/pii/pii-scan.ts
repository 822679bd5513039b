/**
 * The PII gate: scans every free-text field of a batch of traces and masks what it finds, fail-closed.
 * Domain orchestration over ports only (no AWS SDK): the detector is injected.
 *
 * Routing by the trace's resolved language (language.ts):
 * - a Comprehend language (`config.comprehendLanguages`): the texts of all such traces are packed
 *   into as few detector calls as the size limit allows (packer.ts), one language per call, with at
 *   most `config.maxConcurrentCalls` in flight. Entities under `config.minScore` are ignored. The
 *   pattern detector's findings are added (union): Comprehend has no type for KR RRNs, and a second
 *   opinion on structured numbers costs microseconds;
 * - a pattern-only language (`config.patternOnlyLanguages`): the pattern detector alone;
 * - any other language: discarded (`unsupported_language: <lang>`), since nothing can find names
 *   and addresses in it.
 *
 * Failure: a call that fails with TransientDetectorError is retried with full-jitter backoff up to
 * `config.maxAttempts` attempts; a call that still fails, fails with another error, or answers with
 * entity offsets that cannot be placed discards every trace that has text in its pack
 * (`pii_scan_failed: <error name>`). A trace is only ever returned masked after every call covering it
 * succeeded; there is no path that returns a trace unmasked.
 */
import type { PiiConfig } from '../../../config/schema';
import { retryWithBackoff } from '../../shared/retry';
import { TransientDetectorError, type DetectorLanguage, type PiiEntityDetector, type Sleep } from '../../shared/ports';
import type { Trace } from '../trace';
import { resolveTraceLanguage } from './language';
import { maskText, type MaskSpan } from './masker';
import { mapPackEntities, packSegments, type Pack } from './packer';
import { detectPatternPii } from './pattern-detector';
import { traceTexts, withTraceTexts } from './trace-text';

/** One trace to scan; `key` comes back on its outcome (e.g. the Firehose record id). */
export interface PiiScanRequest {
  readonly key: string;
  readonly trace: Trace;
}

/** The result for one request: the masked trace, or why it was discarded. */
export type PiiScanOutcome =
  | { key: string; status: 'masked'; trace: Trace; language: string; scanner: 'comprehend' | 'pattern'; entitiesMasked: number }
  | { key: string; status: 'discarded'; reason: string };

/** Backoff between attempts of one detector call. */
export interface PiiScanBackoff {
  /** Cap of the first wait, ms. */
  readonly baseDelayMs: number;
  /** Largest wait, ms. */
  readonly maxDelayMs: number;
}

/** What `scanAndMaskTraces` needs. */
export interface PiiScanDependencies {
  readonly detector: PiiEntityDetector;
  readonly config: PiiConfig;
  /** @default a setTimeout-based sleep */
  readonly sleep?: Sleep;
  /** @default Math.random */
  readonly random?: () => number;
  /**
   * `packed` fills each call up to the detector's size limit; `per-trace` makes one call per trace
   * (more if a trace exceeds the limit), the naive baseline the benchmark compares against.
   * @default 'packed'
   */
  readonly packing?: 'packed' | 'per-trace';
  /**
   * Backoff between attempts. The defaults keep a fully throttled call (5 attempts) under ~3 s on
   * average, well inside the Firehose processor's invocation timeout.
   * @default DEFAULT_PII_BACKOFF
   */
  readonly backoff?: PiiScanBackoff;
}

/** Default backoff: first wait up to 200 ms, doubling, capped at 3 s. */
export const DEFAULT_PII_BACKOFF: PiiScanBackoff = { baseDelayMs: 200, maxDelayMs: 3_000 };

const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A trace being scanned: its texts and the spans found in each so far. */
interface Work {
  readonly index: number;
  readonly key: string;
  readonly trace: Trace;
  readonly language: string;
  readonly scanner: 'comprehend' | 'pattern';
  readonly texts: string[];
  readonly spans: MaskSpan[][];
  failure?: string;
}

/** Which trace and field a packed segment came from. */
interface Owner {
  readonly work: Work;
  readonly field: number;
}

/** One detector call: a pack, the owner of each segment index it uses, and the traces it touches. */
interface Call {
  readonly language: DetectorLanguage;
  readonly pack: Pack;
  /** Indexed by the segment indices of `pack` (shared by every pack of one packing batch). */
  readonly owners: readonly Owner[];
  /** The distinct traces with text in this pack: the ones a failed call discards. */
  readonly works: readonly Work[];
}

/**
 * Scans and masks the traces; returns exactly one outcome per request, in request order. Never
 * rejects: an unexpected error discards the traces it concerns.
 */
export async function scanAndMaskTraces(requests: readonly PiiScanRequest[], deps: PiiScanDependencies): Promise<PiiScanOutcome[]> {
  const { detector, config } = deps;
  const outcomes: (PiiScanOutcome | undefined)[] = new Array<PiiScanOutcome | undefined>(requests.length).fill(undefined);
  const comprehendLanguages = new Set<string>(config.comprehendLanguages);
  const patternOnlyLanguages = new Set<string>(config.patternOnlyLanguages);

  const works: Work[] = [];
  const byLanguage = new Map<DetectorLanguage, Work[]>();
  requests.forEach((request, index) => {
    try {
      const language = resolveTraceLanguage(request.trace, config);
      let scanner: Work['scanner'];
      if (comprehendLanguages.has(language)) scanner = 'comprehend';
      else if (patternOnlyLanguages.has(language)) scanner = 'pattern';
      else {
        outcomes[index] = { key: request.key, status: 'discarded', reason: `unsupported_language: ${language}` };
        return;
      }
      const texts = traceTexts(request.trace);
      const work: Work = { index, key: request.key, trace: request.trace, language, scanner, texts, spans: texts.map(() => []) };
      works.push(work);
      if (scanner === 'comprehend') {
        const group = byLanguage.get(language as DetectorLanguage) ?? [];
        group.push(work);
        byLanguage.set(language as DetectorLanguage, group);
      }
    } catch (error) {
      outcomes[index] = { key: request.key, status: 'discarded', reason: failureReason(error) };
    }
  });

  const calls: Call[] = [];
  for (const [language, group] of byLanguage) {
    try {
      calls.push(...planCalls(language, group, detector.maxTextBytes, deps.packing ?? 'packed'));
    } catch (error) {
      // A detector whose limit the packer cannot work with fails its traces, never skips the scan.
      for (const work of group) work.failure ??= failureReason(error);
    }
  }

  const backoff = deps.backoff ?? DEFAULT_PII_BACKOFF;
  const sleep = deps.sleep ?? defaultSleep;
  const settled = new Set<Call>();
  await runWithConcurrency(calls, config.maxConcurrentCalls, async (call) => {
    // Every trace in this pack already failed elsewhere: the call could not save any of them.
    if (call.works.every((work) => work.failure !== undefined)) {
      settled.add(call);
      return;
    }
    try {
      const entities = await retryWithBackoff(() => detector.detect(call.pack.text, call.language), {
        maxAttempts: config.maxAttempts,
        baseDelayMs: backoff.baseDelayMs,
        maxDelayMs: backoff.maxDelayMs,
        isRetryable: (error) => error instanceof TransientDetectorError,
        sleep,
        ...(deps.random ? { random: deps.random } : {}),
      });
      const kept = entities.filter((entity) => entity.score >= config.minScore);
      for (const found of mapPackEntities(call.pack, kept)) {
        const owner = call.owners[found.segment];
        const spans = owner?.work.spans[owner.field];
        if (spans === undefined) throw new Error(`pack segment ${found.segment} has no owner`);
        spans.push({ type: found.type, beginOffset: found.beginOffset, endOffset: found.endOffset });
      }
    } catch (error) {
      const reason = failureReason(error);
      for (const work of call.works) work.failure ??= reason;
    } finally {
      settled.add(call);
    }
  });
  // Defence in depth: a trace whose call never ran to an answer must not pass on patterns alone.
  for (const call of calls) {
    if (!settled.has(call)) for (const work of call.works) work.failure ??= 'pii_scan_failed: detector call did not run';
  }

  for (const work of works) outcomes[work.index] = finish(work);
  return requests.map(
    (request, index) =>
      outcomes[index] ?? { key: request.key, status: 'discarded', reason: 'pii_scan_failed: no outcome was produced' },
  );
}

/**
 * Packs one language's traces. In `packed` mode all their texts share packs; in `per-trace` mode
 * each trace gets its own. Either way `owners[i]` tells where pack segment `i` came from.
 */
function planCalls(language: DetectorLanguage, group: readonly Work[], maxBytes: number, packing: 'packed' | 'per-trace'): Call[] {
  const batches = packing === 'per-trace' ? group.map((work) => [work]) : [group];
  const calls: Call[] = [];
  for (const batch of batches) {
    const segments: string[] = [];
    const owners: Owner[] = [];
    for (const work of batch) {
      work.texts.forEach((text, field) => {
        segments.push(text);
        owners.push({ work, field });
      });
    }
    for (const pack of packSegments(segments, { maxBytes })) {
      const works = new Set(pack.segments.map((segment) => ownerOf(owners, segment).work));
      calls.push({ language, pack, owners, works: [...works] });
    }
  }
  return calls;
}

/** The owner of a segment index; a missing one is a programming error, reported as a scan failure. */
function ownerOf(owners: readonly Owner[], segment: number): Owner {
  const owner = owners[segment];
  if (owner === undefined) throw new Error(`segment ${segment} has no owner`);
  return owner;
}

/** Masks a scanned trace (Comprehend spans plus pattern findings), or reports its failure. */
function finish(work: Work): PiiScanOutcome {
  if (work.failure !== undefined) return { key: work.key, status: 'discarded', reason: work.failure };
  try {
    let entitiesMasked = 0;
    const masked = work.texts.map((text, field) => {
      const spans: MaskSpan[] = [...(work.spans[field] ?? []), ...detectPatternPii(text)];
      const result = maskText(text, spans);
      entitiesMasked += result.masked;
      return result.text;
    });
    return {
      key: work.key,
      status: 'masked',
      trace: withTraceTexts(work.trace, masked),
      language: work.language,
      scanner: work.scanner,
      entitiesMasked,
    };
  } catch (error) {
    return { key: work.key, status: 'discarded', reason: failureReason(error) };
  }
}

/** An error's name when it is a plain identifier (an SDK exception class, RangeError, ...). */
const ERROR_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function errorName(error: unknown): string | undefined {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && ERROR_NAME.test(name) ? name : undefined;
}

/**
 * `pii_scan_failed: <ErrorName>` (and the name of its cause, for a wrapped SDK error): names only,
 * never the message. An SDK validation error can quote the text it was sent, and reasons are stored,
 * counted and logged.
 */
function failureReason(error: unknown): string {
  const name = errorName(error) ?? 'UnnamedError';
  const cause = errorName(typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined);
  return `pii_scan_failed: ${name}${cause === undefined ? '' : ` (${cause})`}`;
}

/** Runs `task` over the items with at most `limit` in flight; `task` must not reject. */
async function runWithConcurrency<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      if (item !== undefined) await task(item);
    }
  };
  // A limit that is not a positive number (config is validated, but this guards the guard) means 1.
  const width = Math.min(items.length, Number.isFinite(limit) && limit >= 1 ? Math.floor(limit) : 1);
  await Promise.all(Array.from({ length: width }, worker));
}
