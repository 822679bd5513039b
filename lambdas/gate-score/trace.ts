/**
 * The internal `Trace`: what every accepted input format (native JSON, Langfuse export, OTLP GenAI
 * spans) is normalised to before the gates run. The single source of truth for the trace contract.
 *
 * Governance fields (consent, data_region, confidentiality) are optional *here* on purpose: a trace
 * that lacks them is well-formed but is discarded by its gate with an explained reason
 * (e.g. `missing_consent`), which the audit table and the metrics count separately from malformed input.
 */
import * as z from '../shared/zod-mini';
import { CONFIDENTIALITY_LEVELS } from '../../config/confidentiality';
import { identifierSchema } from './identifiers';

/** Longest text accepted in one field; bigger fields are a schema failure, not a silent truncation. */
export const MAX_FIELD_CHARS = 200_000;

const text = z.string().check(z.maxLength(MAX_FIELD_CHARS));
/**
 * Identifiers are written, partitioned on and logged as they are, so each has a strict rule
 * (identifiers.ts): allowed characters, a length bound, and no structured personal data in it.
 */
export const traceIdSchema = identifierSchema('trace-id');
export const requestIdSchema = identifierSchema('request-id');
export const agentIdSchema = identifierSchema('agent-id');

/** Longest producer session or user id accepted; each is stored only as a keyed pseudonym. */
export const MAX_SESSION_ID_CHARS = 256;

export const FEEDBACK_OUTCOMES = ['success', 'fallback', 'timeout', 'error', 'user_rejected'] as const;
export type FeedbackOutcome = (typeof FEEDBACK_OUTCOMES)[number];

export const messageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: text,
});

export const toolCallSchema = z.strictObject({
  name: identifierSchema('tool-name'),
  arguments: text,
  result: z.optional(text),
  status: z.enum(['ok', 'error']),
});

export const feedbackSchema = z.strictObject({
  outcome: z.optional(z.enum(FEEDBACK_OUTCOMES)),
  /** Explicit quality rating, 0-10. */
  quality: z.optional(z.number().check(z.gte(0), z.lte(10))),
});

export const modelRefSchema = z.strictObject({
  family: identifierSchema('model-family'),
  name: identifierSchema('model-name'),
  version: identifierSchema('model-version'),
  /** Serving variant, e.g. `current` or `candidate`: the canary alarms compare variants. */
  variant: identifierSchema('model-variant'),
});

export const traceSchema = z.strictObject({
  trace_id: traceIdSchema,
  /** ISO-8601 instant, normalised to UTC with milliseconds. */
  timestamp: z.iso.datetime({ offset: true }),
  agent_id: agentIdSchema,
  request_id: z.optional(requestIdSchema),
  /**
   * Producers' conversation ids are free-form (Langfuse sessionId, gen_ai.conversation.id) and often
   * personal (a phone number, a user handle): only control characters are refused here, and the gate
   * replaces the value with its keyed pseudonym before anything is scanned, written or logged.
   */
  session_id: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_SESSION_ID_CHARS), z.regex(/^\P{Cc}+$/u, 'must not contain control characters'))),
  /**
   * The end user the trace is about (Langfuse userId, OTLP user.id / enduser.id): personal by
   * definition, so the gate keeps only its keyed pseudonym, the row's `subject_key`, by which an
   * erasure request finds every row of the person.
   */
  user_id: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_SESSION_ID_CHARS), z.regex(/^\P{Cc}+$/u, 'must not contain control characters'))),
  model: modelRefSchema,
  consent: z.optional(z.boolean()),
  data_region: z.optional(identifierSchema('data-region')),
  confidentiality: z.optional(z.enum(CONFIDENTIALITY_LEVELS)),
  /** BCP 47 language of the conversation (language, script, region at most), when the producer declares it. */
  language: z.optional(identifierSchema('language')),
  input_messages: z.array(messageSchema).check(z.maxLength(500)),
  retrieved_contexts: z.array(text).check(z.maxLength(200)),
  output: text,
  tool_calls: z.array(toolCallSchema).check(z.maxLength(200)),
  feedback: z.optional(feedbackSchema),
  /** True when the request ended in an error (the producer's own status, not a tool failure). */
  error: z.boolean(),
  latency_ms: z.optional(z.number().check(z.nonnegative(), z.lte(86_400_000))),
  usage: z.strictObject({
    input_tokens: z.optional(z.number().check(z.int(), z.nonnegative())),
    output_tokens: z.optional(z.number().check(z.int(), z.nonnegative())),
    cost_usd: z.optional(z.number().check(z.nonnegative())),
  }),
  /**
   * Cascade-routing tier that served the request, and whether the router later judged it misrouted; with
   * a trained router (a `kind: 'router'` target), which router chose the tier (its target id) and which of
   * its versions (`current` or `candidate`, as model.variant): the router's canary reads these.
   */
  route: z.optional(z.strictObject({
      tier: z.optional(identifierSchema('route-tier')),
      misrouted: z.optional(z.boolean()),
      router: z.optional(identifierSchema('model-name')),
      router_variant: z.optional(identifierSchema('model-variant')),
    })),
});

export type Trace = z.infer<typeof traceSchema>;
export type Message = z.infer<typeof messageSchema>;
export type ToolCall = z.infer<typeof toolCallSchema>;

/** Which input format a record arrived in; stamped on the lake row for lineage. */
export type TraceFormat = 'native' | 'langfuse' | 'otlp';
