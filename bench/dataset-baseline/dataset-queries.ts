/**
 * BENCHMARK BASELINE ONLY: the in-memory dataset build as it was before the engine wrote the files
 * (rows read back into the process and assembled in JavaScript). `npm run bench -- dataset` times it
 * beside the current build on the same lake. Nothing in the product imports it.
 *
 * The dataset build's queries as typed functions: each binds its file's parameters in the file's order
 * and validates the rows it gets back, so a drift between a file and its caller fails loudly.
 */
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataBoundary } from '../../config/boundaries';
import type { TrainingScope } from '../../lambdas/gate-score/gates/confidentiality-gate';
import type { SqlEngine, SqlParam, SqlQuery, SqlRow } from '../../lambdas/pipeline/dataset/sql-engine';
import { sqlTimestamp } from '../../lambdas/pipeline/dataset/sql-values';

/** The query files as they were before the build moved into the engine (kept here for the benchmark). */
function loadSql(name: 'training-completions' | 'eligibility-figures' | 'gate-discards'): SqlQuery {
  return { name, template: readFileSync(join(__dirname, 'sql', `${name}.sql`), 'utf8') };
}

/** Which traces a dataset reads: the stage's boundary, the current reward policy, the target's scopes, a window. */
export interface TraceSelection {
  readonly boundary: DataBoundary;
  readonly rewardPolicyVersion: string;
  /** Whether the target model is internal-only (it may then read internal-only rows too). */
  readonly internalOnly: boolean;
  /** Inclusive bounds on the trace timestamp `ts` (and on feedback and audit times). */
  readonly from: Date;
  readonly to: Date;
}

/**
 * The training scopes a target may read, as the two values of `training_scope IN (?, ?)`: a general
 * model reads only `all-models` rows (the value twice); an internal-only model reads both. Fail-closed:
 * a scope value this list does not know is read by nobody.
 */
export function readableScopes(internalOnly: boolean): readonly [TrainingScope, TrainingScope] {
  return internalOnly ? ['all-models', 'internal-only-models'] : ['all-models', 'all-models'];
}

function selectionParams(s: TraceSelection): SqlParam[] {
  const [scopeA, scopeB] = readableScopes(s.internalOnly);
  return [s.boundary, s.rewardPolicyVersion, scopeA, scopeB, sqlTimestamp(s.from), sqlTimestamp(s.to)];
}

function parseRows<T>(schema: z.ZodType<T>, rows: readonly SqlRow[], queryName: string): T[] {
  return rows.map((row, index) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) throw new Error(`${queryName}: row ${index} does not have the expected shape: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  });
}

/** A conversation as the query returns it: `[role, content]` pairs, in order. */
const promptSchema = z
  .array(z.tuple([z.enum(['system', 'user', 'assistant', 'tool']), z.string()]))
  .min(1)
  .refine((messages) => messages.some(([role]) => role === 'user'), 'must contain a user message');
const contextsSchema = z.array(z.string());

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const completionRowSchema = z
  .object({
    agent_id: z.string(),
    prompt_json: z.string(),
    contexts_json: z.string(),
    trace_id: z.string(),
    output: z.string(),
    reward: z.number().min(0).max(1),
    group_size: z.number().int().min(2),
    dpo_role: z.enum(['chosen', 'rejected']).nullable(),
  })
  .transform((r, ctx) => {
    const parsed = promptSchema.safeParse(parseJson(r.prompt_json));
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', path: ['prompt_json'], message: 'must be a JSON array of [role, content] pairs with a user message' });
      return z.NEVER;
    }
    const contexts = contextsSchema.safeParse(parseJson(r.contexts_json));
    if (!contexts.success) {
      ctx.addIssue({ code: 'custom', path: ['contexts_json'], message: 'must be a JSON array of strings' });
      return z.NEVER;
    }
    return {
      agentId: r.agent_id,
      prompt: parsed.data.map(([role, content]) => ({ role, content })),
      contexts: contexts.data,
      /** The engine's JSON text of the prompt and contexts: equal prompts have equal keys within one result. */
      promptKey: `${r.prompt_json}\n${r.contexts_json}`,
      traceId: r.trace_id,
      output: r.output,
      reward: r.reward,
      groupSize: r.group_size,
      dpoRole: r.dpo_role,
    };
  });

/** One completion of a GRPO prompt group, with its DPO role when its group yields a pair. */
export type CompletionRow = z.output<typeof completionRowSchema>;

/**
 * Every completion of every prompt group (same agent, same conversation, same retrieved contexts) with at least two completions
 * in the selection; the best and worst of a group whose rewards differ by at least `minRewardGap` carry
 * `dpoRole` chosen / rejected.
 */
export async function queryCompletions(sql: SqlEngine, selection: TraceSelection, minRewardGap: number): Promise<CompletionRow[]> {
  const query = loadSql('training-completions');
  const rows = await sql.query(query, [...selectionParams(selection), minRewardGap]);
  return parseRows(completionRowSchema, rows, query.name);
}

const eligibilityRowSchema = z.object({
  positive_feedback_events: z.number().int().nonnegative(),
  positive_trace_feedback: z.number().int().nonnegative(),
  high_quality_traces: z.number().int().nonnegative(),
});

/** The raw eligibility counts of a selection (see eligibility-figures.sql for the double-counting rule). */
export interface EligibilityCounts {
  /** Distinct `success` feedback events in the window. */
  readonly positiveFeedbackEvents: number;
  /** Selected traces whose own feedback is success and whose request has no success event. */
  readonly positiveTraceFeedback: number;
  /** Selected traces with reward >= the threshold. */
  readonly highQualityTraces: number;
}

/** Counts positive feedback and high-quality traces for a selection. */
export async function queryEligibilityCounts(sql: SqlEngine, selection: TraceSelection, highQualityReward: number): Promise<EligibilityCounts> {
  const query = loadSql('eligibility-figures');
  const rows = await sql.query(query, [...selectionParams(selection), sqlTimestamp(selection.from), sqlTimestamp(selection.to), highQualityReward]);
  const [row] = parseRows(eligibilityRowSchema, rows, query.name);
  if (row === undefined || rows.length !== 1) throw new Error(`${query.name}: expected exactly one row, got ${rows.length}`);
  return { positiveFeedbackEvents: row.positive_feedback_events, positiveTraceFeedback: row.positive_trace_feedback, highQualityTraces: row.high_quality_traces };
}

const discardRowSchema = z.object({ gate: z.string(), discarded: z.number().int().nonnegative() });

/** gate_audit rows of the boundary in the window, per gate (gates with none are absent). */
export async function queryDiscardsByGate(sql: SqlEngine, selection: Pick<TraceSelection, 'boundary' | 'from' | 'to'>): Promise<Record<string, number>> {
  const query = loadSql('gate-discards');
  const rows = await sql.query(query, [selection.boundary, sqlTimestamp(selection.from), sqlTimestamp(selection.to)]);
  const counts: Record<string, number> = {};
  // Sorted by gate so the manifest reads the same whatever order the engine returned.
  for (const row of parseRows(discardRowSchema, rows, query.name).sort((a, b) => (a.gate < b.gate ? -1 : a.gate > b.gate ? 1 : 0))) {
    counts[row.gate] = row.discarded;
  }
  return counts;
}
