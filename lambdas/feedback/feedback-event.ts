/**
 * The feedback contract: `POST /agents/{agent-id}/feedback` with
 * `{ request_id, outcome, trace_id?, metadata?: { completion_quality?, latency_ms?, token_count? } }`.
 * Validated strictly so that nothing free-form (and so no personal data) reaches the lake.
 */
import { createHash } from 'node:crypto';
import * as z from '../shared/zod-mini';
import { guardRow } from '../gate-score/row-guard';
import { agentIdSchema, requestIdSchema, traceIdSchema } from '../gate-score/identifier-schemas';
import { FEEDBACK_OUTCOMES } from '../gate-score/trace';
import { FEEDBACK_TABLE } from '../shared/lake-tables';

/** The agent id of the path: the same rule as a trace's agent id, so feedback joins traces. */
export { agentIdSchema };

export const feedbackBodySchema = z.strictObject({
  request_id: requestIdSchema,
  /** Optional: lets the dataset build join by trace id when the producer knows it. */
  trace_id: z.optional(traceIdSchema),
  outcome: z.enum(FEEDBACK_OUTCOMES),
  metadata: z.optional(z.strictObject({
      completion_quality: z.optional(z.number().check(z.gte(0), z.lte(10))),
      latency_ms: z.optional(z.number().check(z.nonnegative(), z.lte(86_400_000))),
      token_count: z.optional(z.number().check(z.int(), z.nonnegative())),
    })),
});

export type FeedbackBody = z.infer<typeof feedbackBodySchema>;

export interface FeedbackRow {
  feedback_id: string;
  agent_id: string;
  request_id: string;
  trace_id: string | null;
  outcome: string;
  quality: number | null;
  latency_ms: number | null;
  token_count: number | null;
  received_at: number;
}

/** A validation failure, naming the first wrong field and what was expected. */
export interface FeedbackValidationError {
  readonly field: string;
  readonly message: string;
}

export type FeedbackParse = { ok: true; body: FeedbackBody } | { ok: false; error: FeedbackValidationError };

/** Parses a request body (text). Never throws. */
export function parseFeedbackBody(text: string | null | undefined): FeedbackParse {
  if (text === null || text === undefined || text.trim() === '') {
    return { ok: false, error: { field: '(body)', message: 'a JSON body is required' } };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: { field: '(body)', message: 'the body is not valid JSON' } };
  }
  const result = feedbackBodySchema.safeParse(json);
  if (result.success) return { ok: true, body: result.data };
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? '(body)' : issue.path.map(String).join('.');
  const unknownKeys = issue?.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
  return { ok: false, error: { field, message: `${issue?.message ?? 'invalid body'}${unknownKeys}` } };
}

/**
 * The lake row, checked column by column against the table definition (throws RowGuardError, a
 * defect, if a validated body could still produce a column it must not). `feedback_id` is a hash of the event's content, so a client that retries a POST
 * produces the same id and the dataset build keeps one row per id, without a dedup table on the hot path.
 */
export function feedbackRow(agentId: string, body: FeedbackBody, receivedAt: Date): FeedbackRow {
  const quality = body.metadata?.completion_quality ?? null;
  const feedbackId = createHash('sha256')
    .update(JSON.stringify([agentId, body.request_id, body.trace_id ?? null, body.outcome, quality]))
    .digest('hex')
    .slice(0, 32);
  const row: FeedbackRow = {
    feedback_id: feedbackId,
    agent_id: agentId,
    request_id: body.request_id,
    trace_id: body.trace_id ?? null,
    outcome: body.outcome,
    quality,
    latency_ms: body.metadata?.latency_ms ?? null,
    token_count: body.metadata?.token_count ?? null,
    received_at: receivedAt.getTime() * 1000,
  };
  guardRow(FEEDBACK_TABLE, row);
  return row;
}
