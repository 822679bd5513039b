/**
 * A small local lake for the calibration tests: masked traces with contexts and answers the lexical
 * rules can score, and judgments of them (scored by the simulated reviewer's honest rules, so a
 * reviewer with no disagreement agrees with the "judge" exactly).
 */
import type { TraceLakeRow } from '../../lambdas/gate-score/lake-rows';
import type { MaskedTrace } from '../../lambdas/judge/calibration/calibration-queries';
import { reviewItemId, type ReviewItem } from '../../lambdas/judge/calibration/review-item';
import { LocalReviewQueue } from '../../local/calibration/local-review-queue';
import { SimulatedReviewer } from '../../local/calibration/simulated-reviewer';
import { LocalLake } from '../../local/local-lake';
import { lakeTraceRow } from './lake-trace-row';

export const micros = (iso: string, deltaMs = 0): number => (Date.parse(iso) + deltaMs) * 1000;

export const PROMPT_HASH = `sha256:${'a'.repeat(64)}`;

export interface CalibrationTraceSpec {
  readonly id: string;
  readonly agent: string;
  readonly at: string;
  readonly question: string;
  readonly contexts: readonly string[];
  readonly answer: string;
  readonly routeTier?: string | null;
}

export function calibrationTrace(spec: CalibrationTraceSpec): TraceLakeRow {
  return lakeTraceRow(spec.id, spec.at, {
    agent_id: spec.agent,
    input_messages: [{ role: 'user', content: spec.question }],
    retrieved_contexts: [...spec.contexts],
    output: spec.answer,
    tool_calls: [{ name: 'search', arguments: '{"q":"refund"}', result: 'found 2', status: 'ok' }],
    route_tier: spec.routeTier ?? null,
  });
}

/** The masked trace the page and the reviewer see of a spec (what loadMaskedTrace should return). */
export function maskedTraceOf(spec: CalibrationTraceSpec): MaskedTrace {
  return {
    traceId: spec.id,
    agentId: spec.agent,
    routeTier: spec.routeTier ?? null,
    messages: [{ role: 'user', content: spec.question }],
    contexts: [...spec.contexts],
    answer: spec.answer,
    toolCalls: [{ name: 'search', arguments: '{"q":"refund"}', result: 'found 2', status: 'ok' }],
  };
}

/** A judgments row scored like the honest simulated reviewer, unless scores are given. */
export function judgmentOf(spec: CalibrationTraceSpec, judgedAt: string, scores?: { faithfulness: number | null; answerRelevance: number | null; misrouted: boolean | null }): Record<string, unknown> {
  const honest = new SimulatedReviewer().review(maskedTraceOf(spec));
  const s = scores ?? { faithfulness: honest.faithfulness, answerRelevance: honest.answerRelevance, misrouted: honest.misrouted === 'na' ? null : honest.misrouted === 'yes' };
  return {
    trace_id: spec.id,
    trace_ts: micros(spec.at),
    agent_id: spec.agent,
    model: 'qwen3-4b',
    model_variant: 'current',
    route_tier: spec.routeTier ?? null,
    reward_policy_version: 'v1',
    judge_model: 'simulated-judge',
    judge_endpoint: 'simulated',
    judge_prompt_hash: PROMPT_HASH,
    faithfulness: s.faithfulness,
    answer_relevance: s.answerRelevance,
    misrouted: s.misrouted,
    claims: 2,
    judge_score: s.faithfulness,
    no_judgment: s.faithfulness === null ? 'faithfulness: no_contexts' : null,
    input_tokens: 100,
    output_tokens: 20,
    judged_at: micros(judgedAt),
  };
}

const CONTEXTS = ['Refunds are issued within fourteen days of purchase when the receipt is shown.', 'Store credit is offered after fourteen days.'];
const TOPICS = ['refund', 'receipt', 'credit', 'purchase', 'store'];

/**
 * `count` traces over the week before `weekMonday`, two agents, a mix of supported and unsupported
 * answers (so both pass and fail verdicts exist), every tenth routed.
 */
export function weekOfTraces(count: number, weekMonday: string): CalibrationTraceSpec[] {
  const monday = Date.parse(weekMonday);
  return Array.from({ length: count }, (_, i) => {
    const topic = TOPICS[i % TOPICS.length] as string;
    const supported = i % 3 !== 0;
    return {
      id: `trace-${String(i).padStart(4, '0')}`,
      agent: i % 4 === 0 ? 'code-reviewer' : 'rag-qa-agent',
      at: new Date(monday - 7 * 86_400_000 + ((i * 3_600_000 * 7) % (7 * 86_400_000)) + 60_000).toISOString(),
      question: `What is the ${topic} policy after fourteen days?`,
      contexts: CONTEXTS,
      answer: supported ? `Refunds are issued within fourteen days of purchase when the receipt is shown. The ${topic} policy offers store credit after fourteen days.` : `Our ${topic} team flies to Mars every weekend with purple elephants.`,
      routeTier: i % 10 === 0 ? 'small' : null,
    };
  });
}

/** Writes the traces and their judgments (judged the day after each trace). */
export async function writeCalibrationLake(lake: LocalLake, specs: readonly CalibrationTraceSpec[]): Promise<void> {
  await lake.append('traces', specs.map(calibrationTrace));
  await lake.append('judgments', specs.map((s) => judgmentOf(s, new Date(Date.parse(s.at) + 86_400_000).toISOString())));
}

/** Writes `specs` to the lake and queues each as an open item of `week` (sampled at `sampledAt`); returns the items. */
export async function queueReviewItems(
  lakeDir: string,
  specs: readonly CalibrationTraceSpec[],
  week: string,
  sampledAt: string,
): Promise<ReviewItem[]> {
  const lake = await LocalLake.open(lakeDir);
  try {
    await writeCalibrationLake(lake, specs);
  } finally {
    lake.close();
  }
  const items = specs.map((s) => ({ itemId: reviewItemId(week, s.id, PROMPT_HASH), traceId: s.id, agentId: s.agent, week, band: 'band-2', judgePromptHash: PROMPT_HASH, sampledAt, status: 'open' as const }));
  await new LocalReviewQueue(lakeDir).add(items);
  return items;
}
