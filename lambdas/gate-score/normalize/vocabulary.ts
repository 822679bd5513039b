/**
 * The names the normalisers read: Trace fields, Langfuse and OTLP fields, metadata keys and attribute
 * keys. A reason may quote a key only when it is one of these. Any other key came from the producer
 * and may be anything (an e-mail address, a customer's name, a phone number used as a map key), and
 * reasons end up in logs, metric dimensions and the audit trail, so such a key is counted or shown as
 * `?`, never quoted.
 */
import { TRACE_KEYS } from '../trace';

export { TRACE_KEYS };

/** Attribute keys of our own governance namespace (not part of any OTel convention). */
export const SIAL_ATTRIBUTES = {
  consent: 'sial.consent',
  dataRegion: 'sial.data_region',
  confidentiality: 'sial.confidentiality',
  agentId: 'sial.agent.id',
  requestId: 'sial.request.id',
  modelFamily: 'sial.model.family',
  modelVersion: 'sial.model.version',
  modelVariant: 'sial.model.variant',
  language: 'sial.language',
  routeTier: 'sial.route.tier',
  routeMisrouted: 'sial.route.misrouted',
  feedbackOutcome: 'sial.feedback.outcome',
  feedbackQuality: 'sial.feedback.quality',
  costUsd: 'sial.usage.cost_usd',
  retrievedContexts: 'sial.retrieved_contexts',
} as const;

/** Langfuse `metadata` keys read (snake_case; the camelCase spelling of each is accepted too). */
export const LANGFUSE_METADATA_KEYS = [
  'consent',
  'user_consent',
  'data_region',
  'confidentiality',
  'agent_id',
  'request_id',
  'model_family',
  'model_version',
  'model_variant',
  'language',
  'route_tier',
  'misrouted',
] as const;

/** The camelCase spelling of a snake_case key (`data_region` -> `dataRegion`). */
export function camelCase(snake: string): string {
  return snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

const LANGFUSE_FIELDS = [
  // trace (TraceWithFullDetails), including fields deliberately not carried
  'id', 'timestamp', 'name', 'input', 'output', 'sessionId', 'userId', 'metadata', 'tags', 'latency', 'totalCost',
  'observations', 'scores', 'release', 'version', 'environment', 'public', 'htmlPath', 'bookmarked', 'projectId', 'createdAt', 'updatedAt',
  // observation
  'type', 'startTime', 'endTime', 'completionStartTime', 'model', 'modelParameters', 'level', 'statusMessage', 'usageDetails', 'usage',
  'costDetails', 'calculatedTotalCost', 'calculatedInputCost', 'calculatedOutputCost', 'parentObservationId', 'traceId', 'timeToFirstToken',
  'input', 'output', 'total', 'unit', 'promptTokens', 'completionTokens', 'totalTokens',
  // score
  'source', 'value', 'stringValue', 'dataType', 'comment', 'observationId', 'configId', 'authorUserId',
];

const OTLP_FIELDS = [
  'resourceSpans', 'resource', 'attributes', 'scopeSpans', 'scope', 'spans', 'traceId', 'spanId', 'parentSpanId', 'name', 'kind',
  'startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano', 'status', 'code', 'message', 'events', 'links', 'flags', 'traceState',
  'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount', 'schemaUrl', 'version', 'key', 'value', 'values',
  'stringValue', 'boolValue', 'intValue', 'doubleValue', 'bytesValue', 'arrayValue', 'kvlistValue',
];

/** OpenTelemetry attribute keys and span-event names read (GenAI semantic conventions and a few general ones). */
export const OTEL_NAMES = [
  'gen_ai.operation.name', 'gen_ai.request.model', 'gen_ai.response.model', 'gen_ai.input.messages', 'gen_ai.output.messages',
  'gen_ai.system_instructions', 'gen_ai.agent.id', 'gen_ai.agent.name', 'gen_ai.conversation.id', 'gen_ai.tool.name',
  'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result', 'gen_ai.retrieval.documents', 'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens', 'gen_ai.usage.prompt_tokens', 'gen_ai.usage.completion_tokens', 'gen_ai.event.content',
  'gen_ai.prompt', 'gen_ai.completion', 'gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.assistant.message',
  'gen_ai.tool.message', 'gen_ai.choice', 'gen_ai.content.prompt', 'gen_ai.content.completion', 'gen_ai.provider.name',
  'gen_ai.system', 'error.type', 'session.id', 'service.name',
];

/** Chat message, content part and document fields (messages.ts). */
const MESSAGE_FIELDS = [
  'role', 'content', 'parts', 'tool_calls', 'messages', 'type', 'text', 'response', 'result', 'documents', 'page_content',
  'pageContent', 'index', 'message', 'finish_reason', 'data', 'meta',
];

const KNOWN: ReadonlySet<string> = new Set([
  ...TRACE_KEYS,
  ...Object.values(SIAL_ATTRIBUTES),
  ...LANGFUSE_METADATA_KEYS,
  ...LANGFUSE_METADATA_KEYS.map(camelCase),
  ...LANGFUSE_FIELDS,
  ...OTLP_FIELDS,
  ...OTEL_NAMES,
  ...MESSAGE_FIELDS,
]);

/** True when the key is one of the names the project itself reads, and so may be quoted in a reason. */
export function isKnownKey(key: PropertyKey): key is string {
  return typeof key === 'string' && KNOWN.has(key);
}

/** A key as a reason may show it: itself when it is ours, `?` otherwise. */
export function keyForReason(key: PropertyKey): string {
  return isKnownKey(key) ? key : '?';
}

/** Optimal string alignment distance (edits and adjacent swaps), giving up above `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_v, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, (previous2[j - 2] ?? 0) + 1);
      current.push(value);
      best = Math.min(best, value);
    }
    if (best > max) return max + 1;
    previous2 = previous;
    previous = current;
  }
  return previous[b.length] ?? max + 1;
}

/**
 * The Trace key an unrecognised key most likely misspells (`consnet` -> `consent`), or undefined. The
 * answer is our own word, never the producer's: it says which field to check without echoing the key.
 */
export function likelyMisspelling(key: string): string | undefined {
  if (key.length < 4 || key.length > 64) return undefined;
  const lower = key.toLowerCase();
  const max = lower.length >= 8 ? 2 : 1;
  let best: { key: string; distance: number } | undefined;
  for (const known of TRACE_KEYS) {
    const distance = lower === known ? 0 : editDistance(lower, known, max);
    if (distance <= max && (best === undefined || distance < best.distance)) best = { key: known, distance };
  }
  return best?.key;
}

/**
 * Describes keys the contract does not accept: ours by name (`data_region` inside `model`), the others
 * by count only, with the Trace fields they seem to misspell.
 */
export function describeUnrecognisedKeys(keys: readonly PropertyKey[]): string {
  const known = [...new Set(keys.filter(isKnownKey))];
  const others = keys.filter((key) => !isKnownKey(key));
  const parts: string[] = [];
  if (known.length > 0) parts.push(`unrecognised key(s) ${known.slice(0, 5).join(', ')}${known.length > 5 ? ', ...' : ''}`);
  if (others.length > 0) {
    const count = `${others.length} unrecognised key${others.length === 1 ? '' : 's'}`;
    parts.push(known.length > 0 ? `and ${count} not quoted` : `${count} (not quoted: keys outside the trace contract may hold personal data)`);
    const hints = [...new Set(others.map((key) => (typeof key === 'string' ? likelyMisspelling(key) : undefined)).filter((k) => k !== undefined))];
    if (hints.length > 0) parts.push(`; did you mean ${hints.slice(0, 3).join(', ')}?`);
  }
  return parts.join(' ').replace(' ;', ';');
}
