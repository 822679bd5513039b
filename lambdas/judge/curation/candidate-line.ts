/**
 * One line of the curation's candidate files (sql/curation-candidates.sql, written by the engine) as
 * what the judge reads and the ids its judgment row keeps. The question is the last user message (the
 * request the answer answers); earlier turns and the system prompt are not judged.
 */
import * as z from '../../shared/zod-mini';
import { sqlTimestampToIso } from '../../pipeline/dataset/sql-values';
import type { JudgeInput } from '../judge-trace';
import type { JudgedTrace } from '../judgment-row';

const candidateLineSchema = z.object({
  trace_id: z.string().check(z.minLength(1)),
  ts: z.string().check(z.minLength(1)),
  agent_id: z.string().check(z.minLength(1)),
  model: z.string().check(z.minLength(1)),
  model_variant: z.string().check(z.minLength(1)),
  route_tier: z.optional(z.nullable(z.string().check(z.minLength(1)))),
  input_messages: z.array(z.object({ role: z.string(), content: z.string() })),
  retrieved_contexts: z.optional(z.nullable(z.array(z.string()))),
  output: z.string(),
});

export interface CurationCandidate {
  readonly input: JudgeInput;
  readonly trace: JudgedTrace;
}

/**
 * Parses one line; `routeTiers` empty means the stage declared no tiers, and misroute is then not asked.
 *
 * @throws Error naming the line and the first problem (never its text): the query wrote it, so a bad
 *   line is a defect to stop on, not input to skip
 */
export function parseCandidateLine(line: string, where: string, routeTiers: readonly string[]): CurationCandidate {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new Error(`${where}: not JSON`);
  }
  const parsed = candidateLineSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${where}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const row = parsed.data;
  const question = row.input_messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  const routeTier = routeTiers.length > 0 && row.route_tier !== null && row.route_tier !== undefined ? row.route_tier : undefined;
  return {
    input: { traceId: row.trace_id, question, answer: row.output, contexts: row.retrieved_contexts ?? [], ...(routeTier === undefined ? {} : { routeTier }) },
    trace: {
      traceId: row.trace_id,
      ts: new Date(sqlTimestampToIso(row.ts, 'ts')),
      agentId: row.agent_id,
      model: row.model,
      modelVariant: row.model_variant,
      routeTier: row.route_tier ?? null,
    },
  };
}
