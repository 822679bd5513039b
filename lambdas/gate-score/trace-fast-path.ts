/**
 * A fast acceptance check for the schema gate: true only for a candidate that `traceSchema` (trace.ts)
 * accepts as it is. `traceSchema` stays the single definition of the contract and the only source of
 * rejection reasons; this check exists because every record takes the schema gate, and a hand-written
 * walk over a well-formed trace costs a fraction of a zod parse (which also copies every object).
 *
 * The contract between the two: whenever this returns true, `traceSchema.safeParse(candidate)`
 * succeeds with data equal to the candidate. A test runs both over every corpus record and over
 * random mutations of them (test/unit/trace-fast-path.test.ts). Where this check is unsure (a
 * timestamp not in the normalised form, a number that is not finite), it answers false and zod decides:
 * false is always safe, only a wrong true would be a defect.
 */
import { CONFIDENTIALITY_LEVELS } from '../../config/confidentiality';
import type { IdentifierRuleName } from '../shared/lake-tables';
import { IDENTIFIER_RULES, identifierViolation } from './identifiers';
import { canonicalUtcMs } from './normalize/values';
import { FEEDBACK_OUTCOMES, MAX_FIELD_CHARS, MAX_SESSION_ID_CHARS, type Trace } from './trace';

type Shape = Readonly<Record<string, (value: unknown) => boolean>>;

function isPlainRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A strict object: only the shape's keys (each own and enumerable), each value passing its check. */
function strictObject(shape: Shape, required: readonly string[]): (value: unknown) => boolean {
  return (value) => {
    if (!isPlainRecord(value)) return false;
    const keys = Object.keys(value);
    for (const key of keys) {
      const check = Object.prototype.hasOwnProperty.call(shape, key) ? shape[key] : undefined;
      if (check === undefined || !check(value[key])) return false;
    }
    // Every required key is present (its value was checked above). Keys are distinct, so counting
    // the required ones seen is enough.
    let seen = 0;
    for (const key of required) if (Object.prototype.hasOwnProperty.call(value, key)) seen += 1;
    return seen === required.length;
  };
}

const optional =
  (check: (value: unknown) => boolean) =>
  (value: unknown): boolean =>
    value === undefined || check(value);

const text = (value: unknown): boolean => typeof value === 'string' && value.length <= MAX_FIELD_CHARS;
const boolean = (value: unknown): boolean => typeof value === 'boolean';
const oneOf =
  (allowed: readonly string[]) =>
  (value: unknown): boolean =>
    typeof value === 'string' && allowed.includes(value);
const identifier =
  (name: IdentifierRuleName) =>
  (value: unknown): boolean =>
    typeof value === 'string' && identifierViolation(IDENTIFIER_RULES[name], value) === undefined;
const number =
  (min: number, max: number, integer = false) =>
  (value: unknown): boolean =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isSafeInteger(value));
const arrayOf =
  (item: (value: unknown) => boolean, maxItems: number) =>
  (value: unknown): boolean => {
    if (!Array.isArray(value) || value.length > maxItems) return false;
    for (let i = 0; i < value.length; i += 1) if (!(i in value) || !item(value[i])) return false;
    return true;
  };

/** The normalised timestamp form (UTC, milliseconds) that names a real instant. */
const instant = (value: unknown): boolean => typeof value === 'string' && canonicalUtcMs(value) !== undefined;

const NO_CONTROL_CHARACTERS = /^\P{Cc}+$/u;
const sessionId = (value: unknown): boolean =>
  typeof value === 'string' && value.length >= 1 && value.length <= MAX_SESSION_ID_CHARS && NO_CONTROL_CHARACTERS.test(value);

const message = strictObject({ role: oneOf(['system', 'user', 'assistant', 'tool']), content: text }, ['role', 'content']);
const toolCall = strictObject(
  { name: identifier('tool-name'), arguments: text, result: optional(text), status: oneOf(['ok', 'error']) },
  ['name', 'arguments', 'status'],
);
const feedback = strictObject({ outcome: optional(oneOf(FEEDBACK_OUTCOMES)), quality: optional(number(0, 10)) }, []);
const model = strictObject(
  { family: identifier('model-family'), name: identifier('model-name'), version: identifier('model-version'), variant: identifier('model-variant') },
  ['family', 'name', 'version', 'variant'],
);
const usage = strictObject(
  {
    input_tokens: optional(number(0, Number.MAX_SAFE_INTEGER, true)),
    output_tokens: optional(number(0, Number.MAX_SAFE_INTEGER, true)),
    cost_usd: optional(number(0, Number.MAX_VALUE)),
  },
  [],
);
const route = strictObject(
  { tier: optional(identifier('route-tier')), misrouted: optional(boolean), router: optional(identifier('model-name')), router_variant: optional(identifier('model-variant')) },
  [],
);

const trace = strictObject(
  {
    trace_id: identifier('trace-id'),
    timestamp: instant,
    agent_id: identifier('agent-id'),
    request_id: optional(identifier('request-id')),
    session_id: optional(sessionId),
    user_id: optional(sessionId),
    model,
    consent: optional(boolean),
    data_region: optional(identifier('data-region')),
    confidentiality: optional(oneOf(CONFIDENTIALITY_LEVELS)),
    language: optional(identifier('language')),
    input_messages: arrayOf(message, 500),
    retrieved_contexts: arrayOf(text, 200),
    output: text,
    tool_calls: arrayOf(toolCall, 200),
    feedback: optional(feedback),
    error: boolean,
    latency_ms: optional(number(0, 86_400_000)),
    usage,
    route: optional(route),
  },
  ['trace_id', 'timestamp', 'agent_id', 'model', 'input_messages', 'retrieved_contexts', 'output', 'tool_calls', 'error', 'usage'],
);

/** True only when `traceSchema` accepts the candidate unchanged (see the module comment). */
export function isWellFormedTrace(candidate: unknown): candidate is Trace {
  return trace(candidate);
}
