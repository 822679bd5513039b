/**
 * A judgment as a row of the `judgments` lake table (lambdas/shared/lake-tables.ts): the scores, the
 * reward's judge component, why a dimension has none, what it cost, and under which policy and prompts;
 * ids of the trace it judged, never its text. Checked against the table definition before it leaves.
 */
import { toEpochMicros } from '../gate-score/lake-rows';
import { guardRow } from '../gate-score/row-guard';
import { JUDGMENTS_TABLE } from '../shared/lake-tables';
import type { JudgePolicy } from './judge-policy';
import { JUDGED_DIMENSIONS, judgeComponent, type TraceJudgment } from './judge-trace';

/** Where a judge runs (the stage's endpoint kind), or the simulated judge of local mode. */
export type JudgeEndpointKind = 'openai-compatible' | 'sagemaker' | 'bedrock' | 'simulated';

export interface JudgmentLakeRow {
  trace_id: string;
  /** Epoch microseconds, like every timestamp Firehose writes. */
  trace_ts: number;
  agent_id: string;
  model: string;
  model_variant: string;
  route_tier: string | null;
  reward_policy_version: string;
  judge_model: string;
  judge_endpoint: JudgeEndpointKind;
  judge_prompt_hash: string;
  faithfulness: number | null;
  answer_relevance: number | null;
  misrouted: boolean | null;
  claims: number | null;
  judge_score: number | null;
  no_judgment: string | null;
  input_tokens: number;
  output_tokens: number;
  judged_at: number;
}

/** The lake ids of the trace a judgment is about (what the curation selected with its text). */
export interface JudgedTrace {
  readonly traceId: string;
  readonly ts: Date;
  readonly agentId: string;
  readonly model: string;
  readonly modelVariant: string;
  readonly routeTier: string | null;
}

/** `faithfulness: malformed_answer: schema; misroute: ...`, in dimension order; null when every dimension was judged. */
function noJudgmentText(judgment: TraceJudgment): string | null {
  const parts = JUDGED_DIMENSIONS.flatMap((d) => (judgment.noJudgment[d] === undefined ? [] : [`${d}: ${judgment.noJudgment[d]}`]));
  return parts.length === 0 ? null : parts.join('; ');
}

/**
 * The row of one judgment.
 *
 * @throws RowGuardError when a column would hold what its definition does not allow
 */
export function judgmentRow(
  judgment: TraceJudgment,
  trace: JudgedTrace,
  context: { readonly policy: JudgePolicy; readonly rewardPolicyVersion: string; readonly endpoint: JudgeEndpointKind; readonly judgedAt: Date },
): JudgmentLakeRow {
  if (judgment.traceId !== trace.traceId) throw new Error(`judgment of ${judgment.traceId} paired with trace ${trace.traceId}`);
  const row: JudgmentLakeRow = {
    trace_id: trace.traceId,
    trace_ts: toEpochMicros(trace.ts),
    agent_id: trace.agentId,
    model: trace.model,
    model_variant: trace.modelVariant,
    route_tier: trace.routeTier,
    reward_policy_version: context.rewardPolicyVersion,
    judge_model: judgment.judgeModel,
    judge_endpoint: context.endpoint,
    judge_prompt_hash: judgment.promptHash,
    faithfulness: judgment.faithfulness,
    answer_relevance: judgment.answerRelevance,
    misrouted: judgment.misrouted,
    claims: judgment.claims,
    judge_score: judgeComponent(judgment, context.policy.combine),
    no_judgment: noJudgmentText(judgment),
    input_tokens: judgment.inputTokens,
    output_tokens: judgment.outputTokens,
    judged_at: toEpochMicros(context.judgedAt),
  };
  guardRow(JUDGMENTS_TABLE, row);
  return row;
}
