/**
 * Request handling for the feedback endpoint, apart from Lambda wiring: validates the path and body,
 * writes the row, and answers 202, 400 (naming the wrong field) or 413.
 */
import type { FeedbackSink } from '../shared/ports';
import { agentIdSchema, feedbackRow, parseFeedbackBody } from './feedback-event';

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

export async function handleFeedback(request: FeedbackRequest, sink: FeedbackSink, now: Date): Promise<FeedbackResponse> {
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
  const row = feedbackRow(agent.data, parsed.body, now);
  await sink.put(row);
  return { statusCode: 202, body: { feedback_id: row.feedback_id } };
}
