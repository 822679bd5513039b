/**
 * The internal `Trace`: what every accepted input format (native JSON, Langfuse export, OTLP GenAI
 * spans) is normalised to before the gates run, and the contract that checks it. The single definition
 * of the trace contract: the `Trace` type below states it for the compiler, {@link checkTrace} for
 * the records (a hand-written walk, no schema library: every record takes it, and a library would
 * weigh more in the gate's bundle than the contract itself), and {@link TRACE_KEYS} lists its keys for
 * the reasons that may quote them. test/unit/trace-contract.test.ts holds the three to each other.
 *
 * Governance fields (consent, data_region, confidentiality) are optional *here* on purpose: a trace
 * that lacks them is well-formed but is discarded by its gate with an explained reason
 * (e.g. `missing_consent`), which the audit table and the metrics count separately from malformed input.
 *
 * A rejection is a list of {@link TraceIssue}s: where (a path of the contract's own keys and array
 * indexes) and what was expected, in fixed words of ours. An issue never holds a value; the only
 * producer-controlled text it can hold is the keys of an `unrecognised_keys` issue, which the reason
 * builder (normalize/errors.ts) counts or quotes only when they are the project's own names.
 */
import { CONFIDENTIALITY_LEVELS, type ConfidentialityLevel } from '../../config/confidentiality';
import type { IdentifierRuleName } from '../shared/lake-tables';
import { IDENTIFIER_RULES, identifierViolation } from './identifiers';
import { isIsoDateTimeWithOffset } from './iso-instant';

/** Longest text accepted in one field; bigger fields are a schema failure, not a silent truncation. */
export const MAX_FIELD_CHARS = 200_000;

/** Longest producer session or user id accepted; each is stored only as a keyed pseudonym. */
export const MAX_SESSION_ID_CHARS = 256;

export const FEEDBACK_OUTCOMES = ['success', 'fallback', 'timeout', 'error', 'user_rejected'] as const;
export type FeedbackOutcome = (typeof FEEDBACK_OUTCOMES)[number];

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export const TOOL_CALL_STATUSES = ['ok', 'error'] as const;

/** Longest lists accepted. */
const MAX_MESSAGES = 500;
const MAX_CONTEXTS = 200;
const MAX_TOOL_CALLS = 200;
/** Longest latency accepted: a day, in milliseconds. */
const MAX_LATENCY_MS = 86_400_000;

/*
 * Identifier fields (trace, request and agent ids, model names, tool names, tiers, regions, language)
 * are written, partitioned on and logged as they are, so each has a strict rule (identifiers.ts):
 * allowed characters, a length bound, and no structured personal data in it.
 */

export type Message = {
  role: (typeof MESSAGE_ROLES)[number];
  /** At most MAX_FIELD_CHARS characters. */
  content: string;
};

export type ToolCall = {
  /** Identifier (`tool-name`). */
  name: string;
  /** At most MAX_FIELD_CHARS characters, as every text below. */
  arguments: string;
  result?: string;
  status: (typeof TOOL_CALL_STATUSES)[number];
};

export type Feedback = {
  outcome?: FeedbackOutcome;
  /** Explicit quality rating, 0-10. */
  quality?: number;
};

export type ModelRef = {
  /** Identifiers (`model-family`, `model-name`, `model-version`, `model-variant`). */
  family: string;
  name: string;
  version: string;
  /** Serving variant, e.g. `current` or `candidate`: the canary alarms compare variants. */
  variant: string;
};

export type Usage = {
  /** Non-negative safe integers. */
  input_tokens?: number;
  output_tokens?: number;
  /** Non-negative. */
  cost_usd?: number;
};

/**
 * Cascade-routing tier that served the request, and whether the router later judged it misrouted; with
 * a trained router (a `kind: 'router'` target), which router chose the tier (its target id) and which of
 * its versions (`current` or `candidate`, as model.variant): the router's canary reads these.
 */
export type Route = {
  /** Identifier (`route-tier`). */
  tier?: string;
  misrouted?: boolean;
  /** Identifiers (`model-name`, `model-variant`). */
  router?: string;
  router_variant?: string;
};

export type Trace = {
  /** Identifier (`trace-id`). */
  trace_id: string;
  /** ISO-8601 instant with an explicit offset; the normalisers write it in UTC with milliseconds. */
  timestamp: string;
  /** Identifier (`agent-id`). */
  agent_id: string;
  /** Identifier (`request-id`). */
  request_id?: string;
  /**
   * Producers' conversation ids are free-form (Langfuse sessionId, gen_ai.conversation.id) and often
   * personal (a phone number, a user handle): only control characters are refused here (and an empty
   * value, and more than MAX_SESSION_ID_CHARS characters), and the gate replaces the value with its
   * keyed pseudonym before anything is scanned, written or logged.
   */
  session_id?: string;
  /**
   * The end user the trace is about (Langfuse userId, OTLP user.id / enduser.id): personal by
   * definition, so the gate keeps only its keyed pseudonym, the row's `subject_key`, by which an
   * erasure request finds every row of the person. Same rule as session_id.
   */
  user_id?: string;
  model: ModelRef;
  consent?: boolean;
  /** Identifier (`data-region`). */
  data_region?: string;
  confidentiality?: ConfidentialityLevel;
  /** BCP 47 language of the conversation (language, script, region at most), when the producer declares it. */
  language?: string;
  /** At most 500 messages. */
  input_messages: Message[];
  /** At most 200 texts. */
  retrieved_contexts: string[];
  output: string;
  /** At most 200 calls. */
  tool_calls: ToolCall[];
  feedback?: Feedback;
  /** True when the request ended in an error (the producer's own status, not a tool failure). */
  error: boolean;
  /** Between 0 and a day. */
  latency_ms?: number;
  usage: Usage;
  route?: Route;
};

/** Which input format a record arrived in; stamped on the lake row for lineage. */
export type TraceFormat = 'native' | 'langfuse' | 'otlp';

/** Where an issue is: the contract's keys and array indexes, from the trace's root. */
export type TracePath = readonly (string | number)[];

/**
 * Why a candidate breaks the contract at one place. `missing`: a required field is absent; `invalid`:
 * present with the wrong type, range or shape (`expected` says what was expected, in fixed words that
 * never quote the value); `unrecognised_keys`: the object at `path` has keys the contract does not
 * know (the keys themselves are the producer's).
 */
export type TraceIssue =
  | { readonly code: 'missing'; readonly path: TracePath; readonly expected: string }
  | { readonly code: 'invalid'; readonly path: TracePath; readonly expected: string }
  | { readonly code: 'unrecognised_keys'; readonly path: TracePath; readonly keys: readonly string[] };

/** The outcome of {@link checkTrace}. */
export type TraceCheck = { readonly ok: true; readonly trace: Trace } | { readonly ok: false; readonly issues: readonly TraceIssue[] };

/**
 * Where a value is, from the root: a chain of keys, built only for the objects and arrays the walk
 * enters (a well-formed trace allocates no path for its scalar fields) and turned into a path only
 * for an issue.
 */
interface Place {
  readonly up: Place | undefined;
  readonly key: string | number;
}

/** The path of `key` under `place` (`place` undefined: the root; `key` undefined: `place` itself). */
function pathOf(place: Place | undefined, key: string | number | undefined): TracePath {
  const path: (string | number)[] = key === undefined ? [] : [key];
  for (let at = place; at !== undefined; at = at.up) path.unshift(at.key);
  return path;
}

/** Checks the value at `key` under `place`, adding what is wrong with it to `issues`. */
interface Rule {
  (value: unknown, place: Place | undefined, key: string | number | undefined, issues: TraceIssue[]): void;
  /** Every key of the objects the rule checks, nested ones included (for TRACE_KEYS). */
  readonly keys?: readonly string[];
}

/** A field of an object: its rule, and whether it may be absent. */
interface Field {
  readonly rule: Rule;
  readonly optional: boolean;
}

const required = (rule: Rule): Field => ({ rule, optional: false });
const optional = (rule: Rule): Field => ({ rule, optional: true });

function invalid(issues: TraceIssue[], place: Place | undefined, key: string | number | undefined, expected: string): void {
  issues.push({ code: 'invalid', path: pathOf(place, key), expected });
}

/** Something of the wrong type: `missing` when there is nothing at all. */
function wrongType(issues: TraceIssue[], place: Place | undefined, key: string | number | undefined, value: unknown, expected: string): void {
  issues.push({ code: value === undefined ? 'missing' : 'invalid', path: pathOf(place, key), expected: `expected ${expected}` });
}

/** The place of `key` under `place`, for a walk into the value there. */
const enter = (place: Place | undefined, key: string | number | undefined): Place | undefined => (key === undefined ? place : { up: place, key });

function isPlainRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/**
 * A strict object: every required field present, every present field passing its rule (in the order
 * of the definition), then one `unrecognised_keys` issue for any key the definition does not have.
 */
function strictObject(shape: Readonly<Record<string, Field>>): Rule {
  const names = Object.keys(shape);
  const rule: Rule = (value, place, key, issues) => {
    if (!isPlainRecord(value)) return wrongType(issues, place, key, value, 'object');
    const here = enter(place, key);
    for (const name of names) {
      const field = shape[name] as Field;
      const present = hasOwn(value, name);
      if (field.optional && (!present || value[name] === undefined)) continue;
      field.rule(present ? value[name] : undefined, here, name, issues);
    }
    let unknown: string[] | undefined;
    for (const name of Object.keys(value)) if (!hasOwn(shape, name)) (unknown ??= []).push(name);
    if (unknown !== undefined) issues.push({ code: 'unrecognised_keys', path: pathOf(here, undefined), keys: unknown });
  };
  const keys = [...names, ...names.flatMap((name) => (shape[name] as Field).rule.keys ?? [])];
  return Object.assign(rule, { keys });
}

/** An array of at most `maxItems` items; a longer one is refused as a whole, its items unread. */
function arrayOf(item: Rule, maxItems: number): Rule {
  const rule: Rule = (value, place, key, issues) => {
    if (!Array.isArray(value)) return wrongType(issues, place, key, value, 'array');
    if (value.length > maxItems) return invalid(issues, place, key, `expected at most ${maxItems} items`);
    const here = enter(place, key);
    for (let i = 0; i < value.length; i += 1) item(value[i], here, i, issues);
  };
  return item.keys === undefined ? rule : Object.assign(rule, { keys: item.keys });
}

/** A string of at most `maxChars` characters. */
const text =
  (maxChars: number): Rule =>
  (value, place, key, issues) => {
    if (typeof value !== 'string') return wrongType(issues, place, key, value, 'string');
    if (value.length > maxChars) invalid(issues, place, key, `expected at most ${maxChars} characters`);
  };

const boolean: Rule = (value, place, key, issues) => {
  if (typeof value !== 'boolean') wrongType(issues, place, key, value, 'boolean');
};

/** One of a fixed list of words; anything else, absence included, is `invalid`. */
const oneOf =
  (allowed: readonly string[]): Rule =>
  (value, place, key, issues) => {
    if (typeof value !== 'string' || !allowed.includes(value)) invalid(issues, place, key, `expected one of ${allowed.join(', ')}`);
  };

/** An identifier: the first rule it breaks (identifiers.ts). */
const identifier =
  (name: IdentifierRuleName): Rule =>
  (value, place, key, issues) => {
    if (typeof value !== 'string') return wrongType(issues, place, key, value, 'string');
    if (value === '') return invalid(issues, place, key, 'expected at least 1 characters');
    const violation = identifierViolation(IDENTIFIER_RULES[name], value);
    if (violation !== undefined) invalid(issues, place, key, violation);
  };

/** A finite number in [min, max]; with `integer`, an integer (a bound of MAX_SAFE_INTEGER makes it a safe one). */
const number =
  (min: number, max: number, integer = false): Rule =>
  (value, place, key, issues) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return wrongType(issues, place, key, value, 'number');
    if (integer && !Number.isInteger(value)) return invalid(issues, place, key, 'expected int');
    if (value < min) invalid(issues, place, key, `expected at least ${min}`);
    if (value > max) invalid(issues, place, key, `expected at most ${max}`);
  };

const instant: Rule = (value, place, key, issues) => {
  if (typeof value !== 'string') return wrongType(issues, place, key, value, 'string');
  if (!isIsoDateTimeWithOffset(value)) invalid(issues, place, key, 'expected an ISO-8601 date-time with an explicit offset, e.g. 2026-04-19T10:00:00.000Z');
};

const NO_CONTROL_CHARACTERS = /^\P{Cc}+$/u;
/** A session or user id: 1 to MAX_SESSION_ID_CHARS characters, none of them a control character. */
const sessionId: Rule = (value, place, key, issues) => {
  if (typeof value !== 'string') return wrongType(issues, place, key, value, 'string');
  if (value.length < 1) invalid(issues, place, key, 'expected at least 1 characters');
  if (value.length > MAX_SESSION_ID_CHARS) invalid(issues, place, key, `expected at most ${MAX_SESSION_ID_CHARS} characters`);
  if (!NO_CONTROL_CHARACTERS.test(value)) invalid(issues, place, key, 'must not contain control characters');
};

const field = text(MAX_FIELD_CHARS);

const message = strictObject({ role: required(oneOf(MESSAGE_ROLES)), content: required(field) });

const toolCall = strictObject({
  name: required(identifier('tool-name')),
  arguments: required(field),
  result: optional(field),
  status: required(oneOf(TOOL_CALL_STATUSES)),
});

const feedback = strictObject({ outcome: optional(oneOf(FEEDBACK_OUTCOMES)), quality: optional(number(0, 10)) });

const model = strictObject({
  family: required(identifier('model-family')),
  name: required(identifier('model-name')),
  version: required(identifier('model-version')),
  variant: required(identifier('model-variant')),
});

const usage = strictObject({
  input_tokens: optional(number(0, Number.MAX_SAFE_INTEGER, true)),
  output_tokens: optional(number(0, Number.MAX_SAFE_INTEGER, true)),
  cost_usd: optional(number(0, Number.MAX_VALUE)),
});

const route = strictObject({
  tier: optional(identifier('route-tier')),
  misrouted: optional(boolean),
  router: optional(identifier('model-name')),
  router_variant: optional(identifier('model-variant')),
});

/** The contract, field by field, in the order of the `Trace` type (and of the issues it reports). */
const trace = strictObject({
  trace_id: required(identifier('trace-id')),
  timestamp: required(instant),
  agent_id: required(identifier('agent-id')),
  request_id: optional(identifier('request-id')),
  session_id: optional(sessionId),
  user_id: optional(sessionId),
  model: required(model),
  consent: optional(boolean),
  data_region: optional(identifier('data-region')),
  confidentiality: optional(oneOf(CONFIDENTIALITY_LEVELS)),
  language: optional(identifier('language')),
  input_messages: required(arrayOf(message, MAX_MESSAGES)),
  retrieved_contexts: required(arrayOf(field, MAX_CONTEXTS)),
  output: required(field),
  tool_calls: required(arrayOf(toolCall, MAX_TOOL_CALLS)),
  feedback: optional(feedback),
  error: required(boolean),
  latency_ms: optional(number(0, MAX_LATENCY_MS)),
  usage: required(usage),
  route: optional(route),
});

/** The contract's own keys, at every level: the only keys a reason may quote besides the formats' own. */
export const TRACE_KEYS: ReadonlySet<string> = new Set(trace.keys);

/**
 * Checks a candidate against the trace contract. Accepted, it is the Trace as it is (not a copy);
 * refused, the issues say where and why, every one of them (in the order of the contract's fields).
 * Never throws on any JSON value.
 */
export function checkTrace(candidate: unknown): TraceCheck {
  const issues: TraceIssue[] = [];
  trace(candidate, undefined, undefined, issues);
  return issues.length === 0 ? { ok: true, trace: candidate as Trace } : { ok: false, issues };
}

/** True when the candidate fits the trace contract. */
export function isTrace(candidate: unknown): candidate is Trace {
  return checkTrace(candidate).ok;
}
