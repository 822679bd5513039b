/**
 * Judging many traces within the stage's cost controls: a deterministic sample (the same traces are
 * chosen however often a day is re-run), daily ceilings on traces and tokens, and bounded concurrency
 * (a self-hosted judge such as vLLM batches concurrent requests on the GPU, so requests in flight are
 * the batching that matters).
 *
 * The token ceiling is kept by reservation: before a trace starts, its worst case (`worstCaseTokens`)
 * is reserved; once judged, the reservation becomes what it really
 * used. A trace that no longer fits is skipped with its reason, so the ceiling holds even with many
 * traces in flight.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { JudgePolicy } from './judge-policy';
import { judgeTrace, type JudgeDependencies, type JudgeInput, type TraceJudgment } from './judge-trace';

export interface JudgeCostControls {
  /** Share of eligible traces judged, 0..1. */
  readonly samplingRate: number;
  readonly maxTracesPerDay: number;
  readonly maxTokensPerDay: number;
  /**
   * Traces judged at once (per running batch). Each has up to three requests in flight (its
   * faithfulness chain, relevance, misroute), so the endpoint sees at most three times this.
   */
  readonly maxConcurrency: number;
}

/** What the stage already spent today (earlier runs of the day). */
export interface JudgeUsageToday {
  readonly traces: number;
  readonly tokens: number;
}

export type SkipReason = 'not_sampled' | 'daily_trace_ceiling' | 'daily_token_ceiling';

export interface JudgeBatchResult {
  readonly judgments: TraceJudgment[];
  readonly skipped: Array<{ readonly traceId: string; readonly reason: SkipReason }>;
  /** Totals including earlier runs of the day. */
  readonly usageToday: JudgeUsageToday;
}

/**
 * Whether a trace is in the sample: a hash of the salt (the policy's judge prompt hash, so a new policy
 * draws a new sample) and the trace id, read as a number in [0, 1), below the rate.
 */
export function isSampled(traceId: string, rate: number, salt: string): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const digest = createHash('sha256').update(salt).update('\u0000').update(traceId).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < rate;
}

/** Calls a trace can take at most: claims, verdicts, relevance, misroute. */
const MAX_CALLS_PER_TRACE = 4;
/** Chat-template tokens around each message, generously. */
const TEMPLATE_TOKENS_PER_CALL = 64;

/**
 * The most tokens judging `input` can use under `policy` (what is reserved before it starts). Prompt
 * size is bounded by UTF-8 bytes, since no byte-level tokenizer makes more than one token of a byte;
 * every step is assumed to carry all the evidence, and the claims fed back into the verdicts prompt are
 * at most the claims call's output limit.
 */
export function worstCaseTokens(input: JudgeInput, policy: JudgePolicy): number {
  const evidence = [input.question, input.answer, ...input.contexts].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  const prompts = Object.values(policy.prompts).reduce((sum, p) => sum + Buffer.byteLength(p.system) + Buffer.byteLength(p.user), 0);
  const promptTokens = prompts + MAX_CALLS_PER_TRACE * (evidence + TEMPLATE_TOKENS_PER_CALL) + policy.maxOutputTokens;
  return promptTokens + MAX_CALLS_PER_TRACE * policy.maxOutputTokens;
}

/** Judges the sampled traces within the ceilings; one judgment or one skip per input, in input order. */
export async function judgeBatch(
  inputs: readonly JudgeInput[],
  deps: JudgeDependencies & { readonly controls: JudgeCostControls; readonly usedToday: JudgeUsageToday; readonly sampleSalt: string },
): Promise<JudgeBatchResult> {
  const { controls } = deps;
  const judgments: (TraceJudgment | undefined)[] = new Array<TraceJudgment | undefined>(inputs.length).fill(undefined);
  const skipped: Array<{ traceId: string; reason: SkipReason; index: number }> = [];
  let traces = deps.usedToday.traces;
  let tokens = deps.usedToday.tokens; // used and reserved

  const queue: number[] = [];
  inputs.forEach((input, index) => {
    if (!isSampled(input.traceId, controls.samplingRate, deps.sampleSalt)) skipped.push({ traceId: input.traceId, reason: 'not_sampled', index });
    else queue.push(index);
  });

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length) {
      const index = queue[next] as number;
      next += 1;
      const input = inputs[index] as JudgeInput;
      if (traces >= controls.maxTracesPerDay) {
        skipped.push({ traceId: input.traceId, reason: 'daily_trace_ceiling', index });
        continue;
      }
      const reserved = worstCaseTokens(input, deps.policy);
      if (tokens + reserved > controls.maxTokensPerDay) {
        skipped.push({ traceId: input.traceId, reason: 'daily_token_ceiling', index });
        continue;
      }
      traces += 1;
      tokens += reserved;
      const judgment = await judgeTrace(input, deps);
      tokens += judgment.inputTokens + judgment.outputTokens - reserved;
      judgments[index] = judgment;
    }
  };
  const width = Math.max(1, Math.min(Math.floor(controls.maxConcurrency), queue.length));
  await Promise.all(Array.from({ length: width }, worker));

  skipped.sort((a, b) => a.index - b.index);
  return {
    judgments: judgments.filter((j): j is TraceJudgment => j !== undefined),
    skipped: skipped.map(({ traceId, reason }) => ({ traceId, reason })),
    usageToday: { traces, tokens },
  };
}
