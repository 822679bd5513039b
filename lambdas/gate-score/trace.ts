/**
 * The internal `Trace`: what every accepted input format (native JSON, Langfuse export, OTLP GenAI
 * spans) is normalised to before the gates run. The single source of truth for the trace contract.
 *
 * Governance fields (consent, data_region, confidentiality) are optional *here* on purpose: a trace
 * that lacks them is well-formed but is discarded by its gate with an explained reason
 * (e.g. `missing_consent`), which the audit table and the metrics count separately from malformed input.
 */
import { z } from 'zod';
import { CONFIDENTIALITY_LEVELS } from '../../config/schema';

/** Longest text accepted in one field; bigger fields are a schema failure, not a silent truncation. */
export const MAX_FIELD_CHARS = 200_000;

const text = z.string().max(MAX_FIELD_CHARS);
/** Identifiers (trace, agent, request ids): bounded, and safe to log, partition on and put in a path. */
export const idSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._:/@-]+$/, 'may contain only letters, digits and . _ : / @ -');

export const FEEDBACK_OUTCOMES = ['success', 'fallback', 'timeout', 'error', 'user_rejected'] as const;
export type FeedbackOutcome = (typeof FEEDBACK_OUTCOMES)[number];

export const messageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: text,
});

export const toolCallSchema = z.strictObject({
  name: z.string().min(1).max(256),
  arguments: text,
  result: text.optional(),
  status: z.enum(['ok', 'error']),
});

export const feedbackSchema = z.strictObject({
  outcome: z.enum(FEEDBACK_OUTCOMES).optional(),
  /** Explicit quality rating, 0-10 (seed 002). */
  quality: z.number().min(0).max(10).optional(),
});

export const modelRefSchema = z.strictObject({
  family: z.string().min(1).max(64),
  name: z.string().min(1).max(128),
  version: z.string().min(1).max(128),
  /** Serving variant, e.g. `current` or `candidate`: the canary alarms compare variants. */
  variant: z.string().min(1).max(64),
});

export const traceSchema = z.strictObject({
  trace_id: idSchema,
  /** ISO-8601 instant, normalised to UTC with milliseconds. */
  timestamp: z.iso.datetime({ offset: true }),
  agent_id: idSchema,
  request_id: idSchema.optional(),
  /** Producers' conversation ids are free-form (Langfuse sessionId, gen_ai.conversation.id); only control characters are refused. */
  session_id: z.string().min(1).max(256).regex(/^\P{Cc}+$/u, 'must not contain control characters').optional(),
  model: modelRefSchema,
  consent: z.boolean().optional(),
  data_region: z.string().min(1).max(64).optional(),
  confidentiality: z.enum(CONFIDENTIALITY_LEVELS).optional(),
  /** ISO 639 language of the conversation, when the producer declares it. */
  language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/).optional(),
  input_messages: z.array(messageSchema).max(500),
  retrieved_contexts: z.array(text).max(200),
  output: text,
  tool_calls: z.array(toolCallSchema).max(200),
  feedback: feedbackSchema.optional(),
  /** True when the request ended in an error (the producer's own status, not a tool failure). */
  error: z.boolean(),
  latency_ms: z.number().nonnegative().max(86_400_000).optional(),
  usage: z.strictObject({
    input_tokens: z.number().int().nonnegative().optional(),
    output_tokens: z.number().int().nonnegative().optional(),
    cost_usd: z.number().nonnegative().optional(),
  }),
  /** Cascade-routing tier that served the request, and whether the router later judged it misrouted. */
  route: z
    .strictObject({
      tier: z.string().min(1).max(64).optional(),
      misrouted: z.boolean().optional(),
    })
    .optional(),
});

export type Trace = z.infer<typeof traceSchema>;
export type Message = z.infer<typeof messageSchema>;
export type ToolCall = z.infer<typeof toolCallSchema>;

/** Which input format a record arrived in; stamped on the lake row for lineage. */
export type TraceFormat = 'native' | 'langfuse' | 'otlp';
