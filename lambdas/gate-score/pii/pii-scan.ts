/**
 * The PII gate: scans every free-text field of a batch of traces and masks what it finds, fail-closed.
 * Domain orchestration over ports only (no AWS SDK): the detectors are injected.
 *
 * Routing by the trace's resolved language (language.ts, language-route.ts):
 * - a Comprehend language (`config.comprehendLanguages`): Comprehend reads every text;
 * - a language with an entity detector (`config.entityDetectors`, wired in the detector's
 *   `languageDetectors`): that detector reads every text, with its own minimum score;
 * - a language with a pattern-only risk acceptance (`config.patternOnlyRiskAcceptances`): no model
 *   reads its own script;
 * - any other language: discarded (`unsupported_language: <lang>`), since nothing can find names
 *   and addresses in it.
 * In the last two kept cases Comprehend also reads the Latin-script runs of every text
 * (latin-runs.ts), in the language their words point to (restricted to Comprehend's): English names
 * and addresses inside Korean traces and their tool payloads. Its findings are placed back at the
 * run's offset in the field. The pattern detector's findings are added to every kept trace (union):
 * Comprehend has no type for KR RRNs, and a second opinion on structured numbers costs microseconds.
 *
 * Calls: all texts one detector reads in one language, across traces, are packed into as few inputs
 * as its size limit allows (packer.ts); a detector that takes a list (`detectBatch`) gets several
 * inputs per call, within its `batchLimits`. At most `config.maxConcurrentCalls` calls are in flight,
 * all detectors together. Entities under the route's minimum score are ignored.
 *
 * Every detector reads each text's skeleton (skeleton.ts), never the raw text, and findings are mapped
 * back to the original characters before masking.
 *
 * Failure: a call that fails with TransientDetectorError is retried with full-jitter backoff up to
 * `config.maxAttempts` attempts; a call that still fails, fails with another error, or answers with
 * entity offsets that cannot be placed discards every trace that has text in it
 * (`pii_scan_failed: <error name>`), and only those. A trace is only ever returned masked after every
 * call covering it succeeded; there is no path that returns a trace unmasked.
 */
import type { PiiConfig } from '../../../config/schema';
import { retryWithBackoff } from '../../shared/retry';
import { TransientDetectorError, type PiiEntity, type PiiEntityDetector, type Sleep } from '../../shared/ports';
import type { Trace } from '../trace';
import { resolveTraceLanguage } from './language';
import { latinRunLanguage, routeLanguage } from './language-route';
import { WORD_SAMPLE_CHARS } from './latin-language';
import { latinRuns, type LatinRun } from './latin-runs';
import { maskText } from './masker';
import { mapPackEntities, packSegments, type Pack } from './packer';
import { findPatternPii } from './pattern-detector';
import { buildSkeleton, entitiesInOriginal, type Skeleton } from './skeleton';
import { traceTexts, withTraceTexts } from './trace-text';

/** One trace to scan; `key` comes back on its outcome (e.g. the Firehose record id). */
export interface PiiScanRequest {
  readonly key: string;
  readonly trace: Trace;
}

/**
 * The result for one request: the masked trace, or why it was discarded. `scanner` is `comprehend`
 * for a Comprehend language (the caller knows the detector's own name), otherwise what read the
 * trace's own language (`pattern`, or the entity detector's name), plus `+<Comprehend's name>` when
 * Comprehend read its Latin-script runs.
 */
export type PiiScanOutcome =
  | { key: string; status: 'masked'; trace: Trace; language: string; scanner: string; entitiesMasked: number }
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
  /** Comprehend; the entity detectors of other languages ride in its `languageDetectors`. */
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
  readonly scanner: string;
  readonly texts: string[];
  /** What the detectors read of each text (skeleton.ts): normalised, with a map back to the original. */
  readonly skeletons: Skeleton[];
  /** The detectors' findings per text, in code points of that text's skeleton. */
  readonly spans: PiiEntity[][];
  failure?: string;
}

/** Which trace and field a packed segment came from, and where in the field it starts. */
interface Owner {
  readonly work: Work;
  readonly field: number;
  /** Code points from the start of the field's skeleton to the segment's: 0 for a whole text, a run's start. */
  readonly offset: number;
}

/** Everything one detector reads in one language: segments in request order, and their owners. */
interface Group {
  readonly detector: PiiEntityDetector<string>;
  readonly language: string;
  readonly minScore: number;
  readonly segments: string[];
  readonly owners: Owner[];
}

/** One detector call: its packs (one input each), the owner of each segment index, and the traces it touches. */
interface Call {
  readonly detector: PiiEntityDetector<string>;
  readonly language: string;
  readonly minScore: number;
  readonly packs: readonly Pack[];
  /** Indexed by the segment indices of `packs` (shared by every pack of one packing batch). */
  readonly owners: readonly Owner[];
  /** The distinct traces with text in this call: the ones a failed call discards. */
  readonly works: readonly Work[];
}

/**
 * Scans and masks the traces; returns exactly one outcome per request, in request order. Never
 * rejects: an unexpected error discards the traces it concerns.
 */
export async function scanAndMaskTraces(requests: readonly PiiScanRequest[], deps: PiiScanDependencies): Promise<PiiScanOutcome[]> {
  const { detector, config } = deps;
  const outcomes: (PiiScanOutcome | undefined)[] = new Array<PiiScanOutcome | undefined>(requests.length).fill(undefined);
  const languageDetectors = detector.languageDetectors ?? {};

  const works: Work[] = [];
  const groups = new Map<string, Group>();
  const groupOf = (reader: PiiEntityDetector<string>, language: string, minScore: number): Group => {
    const id = `${reader === detector ? 'comprehend' : 'entity'}:${language}`;
    let group = groups.get(id);
    if (group === undefined) {
      group = { detector: reader, language, minScore, segments: [], owners: [] };
      groups.set(id, group);
    }
    return group;
  };
  const addTexts = (group: Group, work: Work): void => {
    work.skeletons.forEach((skeleton, field) => {
      group.segments.push(skeleton.text);
      group.owners.push({ work, field, offset: 0 });
    });
  };

  requests.forEach((request, index) => {
    try {
      const language = resolveTraceLanguage(request.trace, config);
      const route = routeLanguage(language, config, languageDetectors);
      if (route.kind === 'discard') {
        outcomes[index] = { key: request.key, status: 'discarded', reason: route.reason };
        return;
      }
      const texts = traceTexts(request.trace);
      const skeletons = texts.map(buildSkeleton);
      const spans = texts.map((): PiiEntity[] => []);
      // One object literal per Work: spreading a shared base object cost more than the rest of this
      // loop's own work per trace.
      const workOf = (scanner: string): Work => ({ index, key: request.key, trace: request.trace, language, scanner, texts, skeletons, spans });
      if (route.kind === 'comprehend') {
        const work = workOf('comprehend');
        works.push(work);
        addTexts(groupOf(detector, route.language, config.minScore), work);
        return;
      }
      // Not Comprehend's language: its own reader, and Comprehend on the Latin-script runs.
      const runs = skeletons.map((skeleton) => latinRuns(skeleton.text));
      const own = route.kind === 'entity-detector' ? route.detector.name : 'pattern';
      const hasRuns = runs.some((fieldRuns) => fieldRuns.length > 0);
      const work = workOf(hasRuns ? `${own}+${detector.name}` : own);
      works.push(work);
      if (route.kind === 'entity-detector') addTexts(groupOf(route.detector, language, route.minScore), work);
      if (hasRuns) {
        const group = groupOf(detector, latinRunLanguage(runSample(runs), config), config.minScore);
        runs.forEach((fieldRuns, field) => {
          for (const run of fieldRuns) {
            group.segments.push(run.text);
            group.owners.push({ work, field, offset: run.start });
          }
        });
      }
    } catch (error) {
      outcomes[index] = { key: request.key, status: 'discarded', reason: failureReason(error) };
    }
  });

  const calls: Call[] = [];
  for (const group of groups.values()) {
    try {
      calls.push(...planCalls(group, deps.packing ?? 'packed'));
    } catch (error) {
      // A detector whose limit the packer cannot work with fails its traces, never skips the scan.
      for (const owner of group.owners) owner.work.failure ??= failureReason(error);
    }
  }

  const backoff = deps.backoff ?? DEFAULT_PII_BACKOFF;
  const sleep = deps.sleep ?? defaultSleep;
  const settled = new Set<Call>();
  await runWithConcurrency(calls, config.maxConcurrentCalls, async (call) => {
    // Every trace in this call already failed elsewhere: the call could not save any of them.
    if (call.works.every((work) => work.failure !== undefined)) {
      settled.add(call);
      return;
    }
    try {
      const results = await retryWithBackoff(() => detectCall(call), {
        maxAttempts: config.maxAttempts,
        baseDelayMs: backoff.baseDelayMs,
        maxDelayMs: backoff.maxDelayMs,
        isRetryable: (error) => error instanceof TransientDetectorError,
        sleep,
        ...(deps.random ? { random: deps.random } : {}),
      });
      call.packs.forEach((pack, input) => {
        const entities = results[input];
        if (!Array.isArray(entities)) throw new TypeError(`${call.detector.name} returned no entity list for input ${input}`);
        const kept = entities.filter((entity: PiiEntity) => entity.score >= call.minScore);
        for (const found of mapPackEntities(pack, kept)) {
          const owner = call.owners[found.segment];
          const spans = owner?.work.spans[owner.field];
          if (owner === undefined || spans === undefined) throw new Error(`pack segment ${found.segment} has no owner`);
          spans.push({ type: found.type, beginOffset: owner.offset + found.beginOffset, endOffset: owner.offset + found.endOffset, score: found.score });
        }
      });
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
 * Packs one group. In `packed` mode all its segments share packs; in `per-trace` mode each trace's
 * get their own. Packs become calls one by one, or several per call for a detector that takes a list.
 * Either way `owners[i]` tells where pack segment `i` came from.
 */
function planCalls(group: Group, packing: 'packed' | 'per-trace'): Call[] {
  const { detector, language, minScore } = group;
  const batches = packing === 'per-trace' ? splitByTrace(group) : [group];
  const calls: Call[] = [];
  for (const batch of batches) {
    const packs = packSegments(batch.segments, { maxBytes: detector.maxTextBytes });
    for (const chunk of callsOf(packs, detector)) {
      const works = new Set(chunk.flatMap((pack) => pack.segments.map((segment) => ownerOf(batch.owners, segment).work)));
      calls.push({ detector, language, minScore, packs: chunk, owners: batch.owners, works: [...works] });
    }
  }
  return calls;
}

/** A group's segments split by trace, in order (the `per-trace` baseline). */
function splitByTrace(group: Group): Pick<Group, 'segments' | 'owners'>[] {
  const byWork = new Map<Work, { segments: string[]; owners: Owner[] }>();
  group.segments.forEach((segment, i) => {
    const owner = ownerOf(group.owners, i);
    let batch = byWork.get(owner.work);
    if (batch === undefined) {
      batch = { segments: [], owners: [] };
      byWork.set(owner.work, batch);
    }
    batch.segments.push(segment);
    batch.owners.push(owner);
  });
  return [...byWork.values()];
}

/**
 * Groups packs into calls: one per call for a single-text detector; next-fit up to the batch limits
 * (texts and bytes) for one that takes a list, so neighbouring traces share a call as they share a pack.
 */
function callsOf(packs: readonly Pack[], detector: PiiEntityDetector<string>): Pack[][] {
  const limits = detector.batchLimits;
  if (detector.detectBatch === undefined || limits === undefined) return packs.map((pack) => [pack]);
  const calls: Pack[][] = [];
  let current: Pack[] = [];
  let bytes = 0;
  for (const pack of packs) {
    if (current.length > 0 && (current.length >= limits.maxTexts || bytes + pack.bytes > limits.maxBytes)) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(pack);
    bytes += pack.bytes;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/** Runs one call: the list form when the detector has one, else its single text. One entity list per pack. */
async function detectCall(call: Call): Promise<ReadonlyArray<readonly PiiEntity[]>> {
  const { detector, language } = call;
  const texts = call.packs.map((pack) => pack.text);
  if (detector.detectBatch !== undefined && detector.batchLimits !== undefined) {
    const results = await detector.detectBatch(texts, language);
    if (!Array.isArray(results) || results.length !== texts.length) {
      throw new TypeError(`${detector.name} returned ${Array.isArray(results) ? results.length : 'no'} entity lists for ${texts.length} inputs`);
    }
    return results;
  }
  if (texts.length !== 1) throw new Error(`${detector.name} takes one text per call; ${texts.length} were planned`);
  return [await detector.detect(texts[0] ?? '', language)];
}

/** The beginning of a trace's Latin-script runs, enough for the function-word guess. */
function runSample(runs: readonly (readonly LatinRun[])[]): string {
  const parts: string[] = [];
  let length = 0;
  for (const fieldRuns of runs) {
    for (const run of fieldRuns) {
      if (length >= WORD_SAMPLE_CHARS) return parts.join('\n');
      parts.push(run.text);
      length += run.text.length + 1;
    }
  }
  return parts.join('\n');
}

/** The owner of a segment index; a missing one is a programming error, reported as a scan failure. */
function ownerOf(owners: readonly Owner[], segment: number): Owner {
  const owner = owners[segment];
  if (owner === undefined) throw new Error(`segment ${segment} has no owner`);
  return owner;
}

/**
 * Masks a scanned trace (detector spans plus pattern findings, both found in the skeleton and mapped
 * back to the original text), or reports its failure.
 */
function finish(work: Work): PiiScanOutcome {
  if (work.failure !== undefined) return { key: work.key, status: 'discarded', reason: work.failure };
  try {
    let entitiesMasked = 0;
    const masked = work.texts.map((text, field) => {
      const skeleton = work.skeletons[field];
      if (skeleton === undefined) throw new Error(`text ${field} has no skeleton`);
      const detected = entitiesInOriginal(skeleton, work.spans[field] ?? [], 'codePoints');
      const patterns = entitiesInOriginal(skeleton, findPatternPii(skeleton.text), 'utf16');
      // Most texts have no finding: the text stays as it is (maskText's answer for no spans), and
      // no joined list or result is allocated for it.
      if (detected.length === 0 && patterns.length === 0) return text;
      const spans = patterns.length === 0 ? detected : detected.length === 0 ? patterns : [...detected, ...patterns];
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
