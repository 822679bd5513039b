/**
 * A reward-policy backtest over the lake, through the SQL port (DuckDB locally, Athena in AWS; the same
 * query files). The dataset build's own queries do the heavy part: candidates.sql (de-duplication, late
 * feedback, scopes) once, then, for each policy, its view of the candidates (sql/backtest-candidates.sql)
 * read by the build's members.sql and agent-eligibility.sql, so pairs and eligibility follow the
 * build's rules exactly. What comes back: two rewards per trace (no ids, no content), the pairs and
 * reviews by trace id, per-agent figures, and the content of at most the judge budget's traces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../shared/zod-mini';
import type { StageConfig } from '../../config/schema';
import type { RewardPolicy } from '../gate-score/reward/policy';
import { judgeBatch, type JudgeCostControls, type SkipReason } from '../judge/judge-batch';
import type { JudgeModel } from '../judge/judge-model';
import { judgePromptHash } from '../judge/judge-policy';
import { judgeComponent, type JudgeInput } from '../judge/judge-trace';
import { REWARD_GAP_TOLERANCE } from '../pipeline/dataset/build-dataset';
import { candidatesParams, queryAgentEligibility, selectionParams, type TraceSelection } from '../pipeline/dataset/dataset-queries';
import type { SqlEngine, SqlParam, SqlQuery, SqlRow } from '../pipeline/dataset/sql-engine';
import { loadSql, withInline, withTables } from '../pipeline/dataset/sql-files';
import { quoteIdentifier } from '../pipeline/dataset/sql-template';
import { sqlTimestamp } from '../pipeline/dataset/sql-values';
import { rewardScoringOf } from '../pipeline/settings';
import { compareEligibility, comparePairs, compareScores, humanAgreement, type AgentEligibilityChange, type DpoPair, type HumanAgreement, type PairComparison, type ScoreComparison } from './backtest-report';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Athena takes a query of at most 256 KB; the re-judged scores travel inside one, so they stay well under. */
const MAX_REJUDGED_LITERAL = 200_000;

/**
 * The lake table this backtest reads beyond the dataset build's (a Glue name, or the local lake's view);
 * `judgments` is one of the build's own ({{judgments}}, each engine's dialect).
 */
export interface BacktestTableNames {
  readonly reviews: string;
}

/** Re-judging for the candidate, when its prompts have no stored judgments. */
export interface BacktestJudge {
  readonly model: JudgeModel;
  /** True for the simulated judge of local mode: the report labels every re-judged score so. */
  readonly simulated: boolean;
  /** The judge-batch cost controls; `maxTracesPerDay` and `maxTokensPerDay` are this backtest's budget. */
  readonly controls: JudgeCostControls;
  readonly routeTiers: readonly string[];
}

export interface BacktestInput {
  readonly sql: SqlEngine;
  readonly tables: BacktestTableNames;
  readonly stage: Pick<StageConfig, 'stage' | 'dataBoundary' | 'eligibility' | 'dataset'>;
  /** The stage's policy (its rewardPolicyVersion) and the candidate, with their hashes. */
  readonly current: { readonly policy: RewardPolicy; readonly hash: string };
  readonly candidate: { readonly policy: RewardPolicy; readonly hash: string };
  readonly days: number;
  readonly now: Date;
  /** Without it nothing is re-judged: traces without a stored judgment have no judge component. */
  readonly judge?: BacktestJudge;
  /** Shown in the report: which lake (a local directory, a Glue database). */
  readonly lakeSource: string;
  /** Where Athena keeps the backtest's CTAS tables (an s3:// prefix of its own); DuckDB ignores it. */
  readonly workPrefix: string;
}

export interface PolicyIdentity {
  readonly version: string;
  readonly hash: string;
  readonly owner: string;
  readonly description: string;
  readonly weights: RewardPolicy['weights'];
  /** judgePromptHash of its judge section; null when it defines none. */
  readonly judgePromptHash: string | null;
}

export interface JudgeCoverage {
  readonly judgePromptHash: string | null;
  /**
   * Where the judge component came from: `stored component` (no judge section: what the trace carried),
   * `replayed` (stored judgments under this prompt hash), `re-judged` (judged for this backtest),
   * `replayed and re-judged`, or `not judged`.
   */
  readonly mode: string;
  /** Traces per source: stored-component, replayed, rejudged, no-judgment, none. */
  readonly sources: Readonly<Record<string, number>>;
  readonly rejudge?: {
    readonly judge: string;
    readonly simulated: boolean;
    readonly withoutStoredJudgment: number;
    /** Fetched and offered to the judge (at most the trace budget). */
    readonly offered: number;
    readonly judged: number;
    readonly skipped: Readonly<Partial<Record<SkipReason, number>>>;
    /** Never offered: beyond the trace budget. */
    readonly overBudget: number;
    readonly tokens: number;
    readonly budget: { readonly maxTraces: number; readonly maxTokens: number };
  };
}

export interface BacktestReport {
  readonly kind: 'sial-reward-policy-backtest';
  readonly formatVersion: 1;
  readonly generatedAt: string;
  readonly stage: string;
  readonly lake: { readonly engine: string; readonly source: string };
  readonly window: { readonly from: string; readonly to: string; readonly days: number };
  readonly current: PolicyIdentity;
  readonly candidate: PolicyIdentity;
  readonly scores: ScoreComparison;
  readonly judge: { readonly current: JudgeCoverage; readonly candidate: JudgeCoverage };
  readonly dpoPairs: PairComparison & { readonly minMargin: number };
  readonly eligibility: readonly AgentEligibilityChange[];
  readonly humanAgreement: HumanAgreement;
  readonly notes: readonly string[];
}

function identity(policy: RewardPolicy, hash: string): PolicyIdentity {
  return {
    version: policy.version,
    hash,
    owner: policy.owner,
    description: policy.description,
    weights: { ...policy.weights },
    judgePromptHash: policy.judge === undefined ? null : judgePromptHash(policy.judge),
  };
}

const cache = new Map<string, string>();

/** A backtest query file, with the reviews table it may name put in as a quoted identifier. */
export function backtestSql(name: string, tables: BacktestTableNames): SqlQuery {
  const path = join(__dirname, 'sql', `${name}.sql`);
  let template = cache.get(path);
  if (template === undefined) {
    template = readFileSync(path, 'utf8');
    cache.set(path, template);
  }
  return { name, template: template.replaceAll('{{reviews}}', quoteIdentifier(tables.reviews)) };
}

function parseRows<T>(schema: z.ZodMiniType<T>, rows: readonly SqlRow[], queryName: string): T[] {
  return rows.map((row, index) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) throw new Error(`${queryName}: row ${index} does not have the expected shape: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  });
}

const unit = z.number().check(z.gte(0), z.lte(1));
const scoreRow = z.object({ current_reward: unit, candidate_reward: unit });
const sourceRow = z.object({ judge_source: z.string(), traces: z.number().check(z.int(), z.nonnegative()) });
const pairRow = z.object({ agent_id: z.string(), group_id: z.string(), chosen_trace_id: z.string(), rejected_trace_id: z.string() });
const reviewRow = z.object({ trace_id: z.string(), faithfulness: z.nullable(unit), answer_relevance: z.nullable(unit), current_reward: unit, candidate_reward: unit });
const inputRow = z.object({ trace_id: z.string(), messages_json: z.string(), output: z.string(), contexts_json: z.string() });
const missingRow = z.object({ missing: z.number().check(z.int(), z.nonnegative()) });

/** The policy's parameters for sql/backtest-candidates.sql, in its order. */
export function policyViewParams(policy: RewardPolicy, from: Date, to: Date): SqlParam[] {
  const w = policy.weights;
  const combine = policy.judge?.combine ?? { faithfulness: 0, answerRelevance: 0 };
  return [
    w.feedback,
    w.errors,
    w.latency,
    w.groundedness,
    w.judge,
    policy.judge === undefined ? '' : judgePromptHash(policy.judge),
    combine.faithfulness,
    combine.answerRelevance,
    sqlTimestamp(from),
    sqlTimestamp(to),
  ];
}

/** What the judge reads of a lake row: the last user message is the question. */
export function judgeInputOf(row: z.infer<typeof inputRow>): JudgeInput {
  const messages = z.array(z.tuple([z.string(), z.string()])).parse(JSON.parse(row.messages_json));
  const question = [...messages].reverse().find(([role]) => role === 'user')?.[1] ?? '';
  return { traceId: row.trace_id, question, answer: row.output, contexts: z.array(z.string()).parse(JSON.parse(row.contexts_json)) };
}

/** `|trace_id=score|...` for {{inline:rejudged}}; an id holding either delimiter is refused, not mangled. */
export function rejudgedLiteral(scores: ReadonlyMap<string, number>): string {
  const parts: string[] = [];
  for (const [traceId, score] of scores) {
    if (/[|=]/.test(traceId)) throw new Error(`trace id "${traceId}" holds "|" or "=", which the re-judged score list uses as delimiters`);
    parts.push(`${traceId}=${score}`);
  }
  return parts.length === 0 ? '' : `|${parts.join('|')}|`;
}

function modeOf(sources: Readonly<Record<string, number>>, hasJudge: boolean): string {
  if (!hasJudge) return 'stored component';
  const replayed = (sources['replayed'] ?? 0) > 0;
  const rejudged = (sources['rejudged'] ?? 0) > 0;
  if (replayed && rejudged) return 'replayed and re-judged';
  if (replayed) return 'replayed';
  if (rejudged) return 're-judged';
  return 'not judged';
}

/** Runs the backtest; the engine's temporary tables are released whatever happens. */
export async function runBacktest(input: BacktestInput): Promise<BacktestReport> {
  const { sql, tables, stage, current, candidate } = input;
  if (!Number.isInteger(input.days) || input.days < 1) throw new Error(`days must be a whole number of at least 1; received ${input.days}`);
  const to = input.now;
  const from = new Date(to.getTime() - input.days * DAY_MS);
  const dpoMinMargin = stage.dataset.dpoMinRewardMargin - REWARD_GAP_TOLERANCE;
  const selection: TraceSelection = {
    boundary: stage.dataBoundary,
    // Every kept trace, whichever models it may train: the backtest judges the reward, not one target's dataset.
    internalOnly: true,
    from,
    to,
    scoring: rewardScoringOf(current.policy),
    dataset: stage.dataset,
    eligibility: stage.eligibility,
    dpoMinMargin,
    // No golden set: decontamination removes the same rows under both policies.
    goldenNgrams: '',
  };
  const notes: string[] = [
    'Both policies are scored by the same rule from the same stored components (feedback with late events folded in, errors, latency, groundedness); only the weights and the judge component differ.',
    'Pairs and eligibility come from the dataset build\'s own selection over every kept trace of the boundary in the window (both training scopes), without golden-set decontamination.',
  ];
  try {
    const base = await sql.materialize('backtest_candidates', withInline(loadSql('candidates'), { golden_ngrams: '' }), candidatesParams(selection), `${input.workPrefix}candidates/`);

    let rejudged = new Map<string, number>();
    let rejudge: JudgeCoverage['rejudge'];
    const candidateJudge = candidate.policy.judge;
    if (candidateJudge !== undefined) {
      const promptHash = judgePromptHash(candidateJudge);
      const window = [promptHash, sqlTimestamp(from), sqlTimestamp(to)];
      const [missing] = parseRows(missingRow, await sql.query(withTables(backtestSql('backtest-missing-judgments', tables), { candidates: base }), window), 'backtest-missing-judgments');
      const withoutStored = missing?.missing ?? 0;
      if (withoutStored > 0 && input.judge === undefined) {
        notes.push(`${withoutStored} traces have no stored judgment under the candidate's judge prompts and no judge was given to judge them: they are scored without a judge component.`);
      }
      if (withoutStored > 0 && input.judge !== undefined) {
        const { controls, model } = input.judge;
        const rows = parseRows(inputRow, await sql.query(withTables(backtestSql('backtest-judge-inputs', tables), { candidates: base }), [...window, controls.maxTracesPerDay]), 'backtest-judge-inputs');
        const batch = await judgeBatch(rows.map(judgeInputOf), {
          model,
          policy: candidateJudge,
          routeTiers: input.judge.routeTiers,
          controls,
          usedToday: { traces: 0, tokens: 0 },
          sampleSalt: promptHash,
        });
        rejudged = new Map();
        let noJudgment = 0;
        for (const judgment of batch.judgments) {
          const score = judgeComponent(judgment, candidateJudge.combine);
          if (score === null) noJudgment += 1;
          else rejudged.set(judgment.traceId, score);
        }
        const skipped: Partial<Record<SkipReason, number>> = {};
        for (const s of batch.skipped) skipped[s.reason] = (skipped[s.reason] ?? 0) + 1;
        rejudge = {
          judge: model.name,
          simulated: input.judge.simulated,
          withoutStoredJudgment: withoutStored,
          offered: rows.length,
          judged: batch.judgments.length - noJudgment,
          skipped,
          overBudget: withoutStored - rows.length,
          tokens: batch.usageToday.tokens,
          budget: { maxTraces: controls.maxTracesPerDay, maxTokens: controls.maxTokensPerDay },
        };
        if (input.judge.simulated) notes.push(`Re-judged scores come from the SIMULATED judge (${model.name}): they show the mechanics, not what a real judge would say.`);
        if (rejudge.overBudget > 0 || Object.keys(skipped).length > 0) {
          notes.push(`The judge budget covered ${rejudge.judged} of ${withoutStored} traces without a stored judgment; the rest are scored without a judge component.`);
        }
      }
    }
    const literal = rejudgedLiteral(rejudged);
    if (literal.length > MAX_REJUDGED_LITERAL) throw new Error(`the re-judged scores (${rejudged.size} traces) are too many to pass in one query; lower the judge trace budget`);

    const views: Record<'current' | 'candidate', string> = { current: '', candidate: '' };
    const perPolicy = {} as Record<'current' | 'candidate', { pairs: DpoPair[]; eligibility: Awaited<ReturnType<typeof queryAgentEligibility>>; sources: Record<string, number> }>;
    for (const tag of ['current', 'candidate'] as const) {
      const policy = tag === 'current' ? current.policy : candidate.policy;
      // Only the candidate is re-judged; the current policy's judge component is what is stored.
      const view = withInline(withTables(backtestSql('backtest-candidates', tables), { candidates: base }), { rejudged: tag === 'candidate' ? literal : '' });
      const table = await sql.materialize(`backtest_${tag}`, view, policyViewParams(policy, from, to), `${input.workPrefix}${tag}/`);
      const members = await sql.materialize(`backtest_${tag}_members`, withTables(loadSql('members'), { candidates: table }), selectionParams(selection), `${input.workPrefix}${tag}-members/`);
      const buildTables = { candidates: table, members };
      const pairs = parseRows(pairRow, await sql.query(withTables(backtestSql('backtest-pairs', tables), buildTables), []), 'backtest-pairs').map((r) => ({
        agentId: r.agent_id,
        groupId: r.group_id,
        chosenTraceId: r.chosen_trace_id,
        rejectedTraceId: r.rejected_trace_id,
      }));
      const eligibility = await queryAgentEligibility(sql, selection, buildTables);
      const sources: Record<string, number> = {};
      for (const r of parseRows(sourceRow, await sql.query(withTables(backtestSql('backtest-judge-sources', tables), { policy: table }), []), 'backtest-judge-sources')) sources[r.judge_source] = r.traces;
      views[tag] = table;
      perPolicy[tag] = { pairs, eligibility, sources };
    }

    const viewTables = { current: views.current, candidate: views.candidate };
    const scores = parseRows(scoreRow, await sql.query(withTables(backtestSql('backtest-scores', tables), viewTables), []), 'backtest-scores').map((r) => ({ current: r.current_reward, candidate: r.candidate_reward }));
    const reviews = parseRows(reviewRow, await sql.query(withTables(backtestSql('backtest-reviews', tables), viewTables), [sqlTimestamp(from)]), 'backtest-reviews').map((r) => ({
      traceId: r.trace_id,
      faithfulness: r.faithfulness,
      answerRelevance: r.answer_relevance,
      current: r.current_reward,
      candidate: r.candidate_reward,
    }));

    return {
      kind: 'sial-reward-policy-backtest',
      formatVersion: 1,
      generatedAt: input.now.toISOString(),
      stage: stage.stage,
      lake: { engine: sql.name, source: input.lakeSource },
      window: { from: from.toISOString(), to: to.toISOString(), days: input.days },
      current: identity(current.policy, current.hash),
      candidate: identity(candidate.policy, candidate.hash),
      scores: compareScores(scores, stage.eligibility.highQualityReward),
      judge: {
        current: { judgePromptHash: identity(current.policy, current.hash).judgePromptHash, mode: modeOf(perPolicy.current.sources, current.policy.judge !== undefined), sources: perPolicy.current.sources },
        candidate: {
          judgePromptHash: identity(candidate.policy, candidate.hash).judgePromptHash,
          mode: modeOf(perPolicy.candidate.sources, candidateJudge !== undefined),
          sources: perPolicy.candidate.sources,
          ...(rejudge === undefined ? {} : { rejudge }),
        },
      },
      dpoPairs: { ...comparePairs(perPolicy.current.pairs, perPolicy.candidate.pairs), minMargin: stage.dataset.dpoMinRewardMargin },
      eligibility: compareEligibility(perPolicy.current.eligibility, perPolicy.candidate.eligibility),
      humanAgreement: humanAgreement(reviews, stage.eligibility.highQualityReward, candidate.policy.judge?.combine ?? current.policy.judge?.combine),
      notes,
    };
  } finally {
    await sql.release();
  }
}
