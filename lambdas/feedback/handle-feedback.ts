/**
 * Request handling for the feedback endpoint, apart from Lambda wiring: validates the path and body,
 * writes the row, and answers 202, 400 (naming the wrong field) or 413.
 */
import type { FeedbackSink } from '../shared/ports';
import { agentIdSchema, feedbackRow, parseFeedbackBody } from './feedback-event';

/** The feedback function's environment beyond the stream name. */
export const FEEDBACK_ENV = {
  /** Set only for a stage with `lake.hashAgentIds`: the stage's pseudonymisation key secret. */
  pseudonymisationKeySecretArn: 'FEEDBACK_PSEUDONYMISATION_KEY_SECRET_ARN',
} as const;

/** Feedback events are small; anything larger is a client bug or abuse. */
export const MAX_FEEDBACK_BODY_BYTES = 16 * 1024;

export interface FeedbackRequest {
  readonly agentId: string | undefined;
  readonly body: string | null | undefined;
  readonly isBase64Encoded?: boolean;
}

export interface FeedbackResponse {
  readonly statusCode: number;
  readonly body: Record<string, unknown>;
}

/** How the row stores the agent id of the path. */
export interface FeedbackOptions {
  /**
   * The stored form of an agent id (`lake.hashAgentIds`: its keyed pseudonym, as the gate writes it in
   * the trace rows the feedback joins). Absent: the id as the path names it.
   */
  readonly storedAgentId?: (agentId: string) => string;
}

/**
 * The path keeps the agent's own id (producers know their agent's name, not its pseudonym); it is
 * validated as it is, then stored as `options.storedAgentId` says.
 */
export async function handleFeedback(request: FeedbackRequest, sink: FeedbackSink, now: Date, options: FeedbackOptions = {}): Promise<FeedbackResponse> {
  const agent = agentIdSchema.safeParse(request.agentId);
  if (!agent.success) {
    return { statusCode: 400, body: { error: 'invalid_request', field: 'agent-id', message: agent.error.issues[0]?.message ?? 'invalid agent id' } };
  }
  const text = request.isBase64Encoded && request.body ? Buffer.from(request.body, 'base64').toString('utf8') : request.body;
  if (text && Buffer.byteLength(text) > MAX_FEEDBACK_BODY_BYTES) {
    return { statusCode: 413, body: { error: 'body_too_large', message: `the body exceeds ${MAX_FEEDBACK_BODY_BYTES} bytes` } };
  }
  const parsed = parseFeedbackBody(text);
  if (!parsed.ok) {
    return { statusCode: 400, body: { error: 'invalid_body', field: parsed.error.field, message: parsed.error.message } };
  }
  const row = feedbackRow(options.storedAgentId?.(agent.data) ?? agent.data, parsed.body, now);
  await sink.put(row);
  return { statusCode: 202, body: { feedback_id: row.feedback_id } };
}
