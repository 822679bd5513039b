/**
 * OTLP/JSON trace exports (an `ExportTraceServiceRequest`: resourceSpans -> scopeSpans -> spans) using
 * the OpenTelemetry GenAI semantic conventions (`gen_ai.*`). One Firehose record carries one trace, so
 * every span must share one traceId.
 *
 * What is read, newest convention first (docs/trace-formats.md has the full table):
 *   - inference spans (`gen_ai.operation.name` chat | text_completion | generate_content, or an older
 *     span without an operation name but with a `gen_ai.request.model`): model, tokens, and on the last
 *     one the conversation (`gen_ai.input.messages`, `gen_ai.system_instructions`,
 *     `gen_ai.output.messages`), falling back to the older per-message span events
 *     (`gen_ai.user.message`, ..., `gen_ai.choice`) and the oldest `gen_ai.content.prompt/completion`;
 *   - `execute_tool` spans: tool calls, failed when the span status is ERROR or `error.type` is set;
 *   - `retrieval` spans: `gen_ai.retrieval.documents` with content;
 *   - `invoke_agent` spans: `gen_ai.agent.id`, and the conversation when no inference span has one.
 * Governance fields come from `sial.*` attributes on the resource, the instrumentation scope, any span
 * or any span event; values found in several places are combined as governance.ts describes (consent:
 * any false wins; confidentiality: the most restrictive wins; anything else must agree).
 */
import type { Message, ToolCall } from '../trace';
import { NormalizeFailure, type Candidate } from './errors';
import {
  agreedValue,
  combinedConsent,
  inferModelFamily,
  parseBoolean,
  parseFamily,
  parseLanguage,
  parseNumber,
  parseOutcome,
  parseText,
  strictestConfidentiality,
  type FieldParser,
  type Found,
} from './governance';
import { documentTexts, messageText, normaliseMessages, normaliseRole, partsText } from './messages';
import { decodeAttributes, type AttributeValue } from './otlp-attributes';
import { isObject, optional, optionalArray, own, parseJsonText, roundMs, stringifyValue, type JsonObject } from './values';
import { SIAL_ATTRIBUTES } from './vocabulary';

/** Most spans read from one payload. */
const MAX_SPANS = 10_000;
const MAX_EVENTS = 10_000;
/** Latest instant a Trace timestamp can express (year 9999). */
const MAX_EPOCH_MS = 253_402_300_799_999;

export { SIAL_ATTRIBUTES } from './vocabulary';

const INFERENCE_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content']);
/** Span events of semconv <= 1.36 that each carry one message, and the role each implies. */
const MESSAGE_EVENTS: Readonly<Record<string, Message['role']>> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

interface SpanEvent {
  readonly name: string;
  readonly path: string;
  readonly attributes: Map<string, AttributeValue>;
}

interface Span {
  readonly index: number;
  readonly path: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Map<string, AttributeValue>;
  readonly events: readonly SpanEvent[];
  readonly failed: boolean;
  readonly statusMessage: string | undefined;
  readonly operation: string | undefined;
  depth: number;
}

/** A resource or an instrumentation scope: attributes that hold for every span under it. */
interface AttributeHolder {
  readonly path: string;
  readonly attributes: Map<string, AttributeValue>;
}

/** True when the record is an OTLP/JSON export (has `resourceSpans`). */
export function isOtlpExport(record: JsonObject): boolean {
  return Object.prototype.hasOwnProperty.call(record, 'resourceSpans');
}

/** Unix nanoseconds: a decimal string (the protobuf JSON mapping of fixed64) or a JSON number. */
function unixNanos(value: unknown, path: string): bigint {
  if (value === undefined || value === null) throw new NormalizeFailure('missing_field', `${path}: required (Unix nanoseconds)`);
  let nanos: bigint | undefined;
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) nanos = BigInt(value);
  else if (typeof value === 'number' && Number.isFinite(value) && value >= 0) nanos = BigInt(Math.trunc(value));
  if (nanos === undefined) throw new NormalizeFailure('invalid_field', `${path}: expected Unix nanoseconds as a decimal string`);
  const ms = Number(nanos / 1_000_000n);
  if (nanos === 0n || ms > MAX_EPOCH_MS) throw new NormalizeFailure('invalid_field', `${path}: expected an instant between 1970 and 9999`);
  return nanos;
}

/** OTLP/JSON ids are lower- or upper-case hex (not base64, unlike the generic protobuf JSON mapping). */
function hexId(value: unknown, path: string, length: number): string {
  if (typeof value !== 'string' || value === '') throw new NormalizeFailure('missing_field', `${path}: required (${length} hex characters)`);
  const lower = value.toLowerCase();
  if (lower.length !== length || !/^[0-9a-f]+$/.test(lower)) {
    throw new NormalizeFailure('invalid_field', `${path}: expected ${length} hex characters (OTLP/JSON encodes ids as hex, not base64)`);
  }
  if (/^0+$/.test(lower)) throw new NormalizeFailure('invalid_field', `${path}: an all-zero id is invalid`);
  return lower;
}

/** Span status: code 2 / STATUS_CODE_ERROR is an error; unset and OK are not. */
function statusOf(span: JsonObject, path: string): { failed: boolean; message: string | undefined } {
  const status = own(span, 'status');
  if (status === undefined || status === null) return { failed: false, message: undefined };
  if (!isObject(status)) throw new NormalizeFailure('invalid_field', `${path}.status: expected an object`);
  const code = own(status, 'code');
  const message = own(status, 'message');
  const text = typeof message === 'string' && message !== '' ? message : undefined;
  if (code === undefined || code === null || code === 0 || code === 1 || code === 'STATUS_CODE_UNSET' || code === 'STATUS_CODE_OK') {
    return { failed: false, message: text };
  }
  if (code === 2 || code === 'STATUS_CODE_ERROR') return { failed: true, message: text };
  throw new NormalizeFailure('invalid_field', `${path}.status.code: expected 0 (unset), 1 (ok) or 2 (error)`);
}

function readEvents(span: JsonObject, path: string): SpanEvent[] {
  const list = optionalArray(span, 'events', `${path}.events`, MAX_EVENTS) ?? [];
  return list.map((item, i) => {
    const eventPath = `${path}.events[${i}]`;
    if (!isObject(item)) throw new NormalizeFailure('invalid_field', `${eventPath}: expected an event object`);
    const name = own(item, 'name');
    return {
      name: typeof name === 'string' ? name : '',
      path: eventPath,
      attributes: decodeAttributes(own(item, 'attributes'), `${eventPath}.attributes`),
    };
  });
}

function readSpan(item: unknown, index: number, path: string): Span {
  if (!isObject(item)) throw new NormalizeFailure('invalid_field', `${path}: expected a span object`);
  const startNs = unixNanos(own(item, 'startTimeUnixNano'), `${path}.startTimeUnixNano`);
  const endNs = unixNanos(own(item, 'endTimeUnixNano'), `${path}.endTimeUnixNano`);
  if (endNs < startNs) throw new NormalizeFailure('invalid_field', `${path}.endTimeUnixNano: expected an instant at or after startTimeUnixNano`);
  const parent = own(item, 'parentSpanId');
  const attributes = decodeAttributes(own(item, 'attributes'), `${path}.attributes`);
  const operation = attributes.get('gen_ai.operation.name');
  const status = statusOf(item, path);
  const name = own(item, 'name');
  return {
    index,
    path,
    traceId: hexId(own(item, 'traceId'), `${path}.traceId`, 32),
    spanId: hexId(own(item, 'spanId'), `${path}.spanId`, 16),
    // An empty parentSpanId marks a root span.
    parentSpanId: parent === undefined || parent === null || parent === '' ? undefined : hexId(parent, `${path}.parentSpanId`, 16),
    name: typeof name === 'string' ? name : '',
    startNs,
    endNs,
    attributes,
    events: readEvents(item, path),
    failed: status.failed || attributes.has('error.type'),
    statusMessage: status.message,
    operation: typeof operation === 'string' ? operation : undefined,
    depth: 0,
  };
}

function readPayload(record: JsonObject): { spans: Span[]; resources: AttributeHolder[]; scopes: AttributeHolder[] } {
  const resourceSpans = optionalArray(record, 'resourceSpans', 'resourceSpans', MAX_SPANS) ?? [];
  const spans: Span[] = [];
  const resources: AttributeHolder[] = [];
  const scopes: AttributeHolder[] = [];
  resourceSpans.forEach((rs, r) => {
    const rsPath = `resourceSpans[${r}]`;
    if (!isObject(rs)) throw new NormalizeFailure('invalid_field', `${rsPath}: expected an object`);
    const resource = own(rs, 'resource');
    if (resource !== undefined && resource !== null && !isObject(resource)) throw new NormalizeFailure('invalid_field', `${rsPath}.resource: expected an object`);
    resources.push({
      path: `${rsPath}.resource`,
      attributes: isObject(resource) ? decodeAttributes(own(resource, 'attributes'), `${rsPath}.resource.attributes`) : new Map(),
    });
    const scopeSpans = optionalArray(rs, 'scopeSpans', `${rsPath}.scopeSpans`, MAX_SPANS) ?? [];
    scopeSpans.forEach((ss, s) => {
      const ssPath = `${rsPath}.scopeSpans[${s}]`;
      if (!isObject(ss)) throw new NormalizeFailure('invalid_field', `${ssPath}: expected an object`);
      const scope = own(ss, 'scope');
      if (scope !== undefined && scope !== null && !isObject(scope)) throw new NormalizeFailure('invalid_field', `${ssPath}.scope: expected an object`);
      if (isObject(scope)) scopes.push({ path: `${ssPath}.scope`, attributes: decodeAttributes(own(scope, 'attributes'), `${ssPath}.scope.attributes`) });
      const list = optionalArray(ss, 'spans', `${ssPath}.spans`, MAX_SPANS) ?? [];
      list.forEach((item, i) => {
        if (spans.length >= MAX_SPANS) throw new NormalizeFailure('invalid_field', `resourceSpans: expected at most ${MAX_SPANS} spans in one record`);
        spans.push(readSpan(item, spans.length, `${ssPath}.spans[${i}]`));
      });
    });
  });
  if (spans.length === 0) throw new NormalizeFailure('missing_field', 'resourceSpans[].scopeSpans[].spans: expected at least one span');
  return { spans, resources, scopes };
}

/** Depth of each span below its root, following parent links within the payload; cycles are refused. */
function assignDepths(spans: Span[]): void {
  const byId = new Map(spans.map((s) => [s.spanId, s] as const));
  for (const span of spans) {
    let depth = 0;
    let cursor = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
    while (cursor !== undefined) {
      depth += 1;
      if (depth > spans.length) throw new NormalizeFailure('invalid_field', `${span.path}.parentSpanId: the parent links form a cycle`);
      cursor = cursor.parentSpanId === undefined ? undefined : byId.get(cursor.parentSpanId);
    }
    span.depth = depth;
  }
}

function chronological(a: Span, b: Span): number {
  if (a.startNs !== b.startNs) return a.startNs < b.startNs ? -1 : 1;
  if (a.endNs !== b.endNs) return a.endNs < b.endNs ? -1 : 1;
  return a.index - b.index;
}

/** Outermost first (a supervisor agent before the sub-agent it invoked), then chronological. */
function outermostFirst(a: Span, b: Span): number {
  return a.depth !== b.depth ? a.depth - b.depth : chronological(a, b);
}

function isInference(span: Span): boolean {
  if (span.operation !== undefined) return INFERENCE_OPERATIONS.has(span.operation);
  // Instrumentations older than gen_ai.operation.name still set the model.
  return span.attributes.has('gen_ai.request.model') || span.attributes.has('gen_ai.response.model');
}

/** Attribute values recorded either structured (AnyValue arrays/kvlists) or as a JSON string. */
function structured(value: unknown, path: string): unknown {
  if (typeof value !== 'string') return value;
  return parseJsonText(value, path) ?? value;
}

function attributePath(span: Span, key: string): string {
  return `${span.path}.attributes[${key}]`;
}

/** The body of a per-message span event: its attributes, merged with a JSON `gen_ai.event.content`. */
function eventBody(event: SpanEvent): Record<string, unknown> {
  const body = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of event.attributes) body[key] = value;
  const content = event.attributes.get('gen_ai.event.content');
  if (typeof content === 'string') {
    const parsed = parseJsonText(content, `${event.path}.attributes[gen_ai.event.content]`);
    if (isObject(parsed)) for (const key of Object.keys(parsed)) body[key] = parsed[key];
    else body.content = content;
  }
  return body;
}

/** gen_ai.system_instructions: a list of parts (JSON or structured), or plain text. */
function systemInstructions(span: Span): string | undefined {
  const raw = span.attributes.get('gen_ai.system_instructions');
  if (raw === undefined || raw === null) return undefined;
  const path = attributePath(span, 'gen_ai.system_instructions');
  const value = structured(raw, path);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return partsText(value, path) ?? '';
  throw new NormalizeFailure('invalid_field', `${path}: expected a list of parts or text`);
}

/** The conversation sent to the model on one span, from the newest convention present. */
function spanInputMessages(span: Span): Message[] | undefined {
  const raw = span.attributes.get('gen_ai.input.messages');
  if (raw !== undefined && raw !== null) {
    const path = attributePath(span, 'gen_ai.input.messages');
    const value = structured(raw, path);
    if (!Array.isArray(value)) throw new NormalizeFailure('invalid_field', `${path}: expected a JSON list of {role, parts} messages`);
    const messages = normaliseMessages(value, path);
    const system = systemInstructions(span);
    // Instructions given apart from the history are the conversation's system message.
    return system !== undefined && messages[0]?.role !== 'system' ? [{ role: 'system', content: system }, ...messages] : messages;
  }
  const fromEvents: Message[] = [];
  for (const event of span.events) {
    const role = Object.prototype.hasOwnProperty.call(MESSAGE_EVENTS, event.name) ? MESSAGE_EVENTS[event.name] : undefined;
    if (role !== undefined) {
      const body = eventBody(event);
      const declared = body.role;
      fromEvents.push({
        role: declared === undefined || declared === null ? role : normaliseRole(declared, `${event.path}.role`),
        content: messageText(body, event.path) ?? '',
      });
    } else if (event.name === 'gen_ai.content.prompt') {
      const path = `${event.path}.attributes[gen_ai.prompt]`;
      const prompt = structured(event.attributes.get('gen_ai.prompt'), path);
      if (Array.isArray(prompt)) fromEvents.push(...normaliseMessages(prompt, path));
      else if (typeof prompt === 'string') fromEvents.push({ role: 'user', content: prompt });
      else throw new NormalizeFailure('invalid_field', `${path}: expected a JSON list of messages or text`);
    }
  }
  if (fromEvents.length > 0) return fromEvents;
  const system = systemInstructions(span);
  return system === undefined ? undefined : [{ role: 'system', content: system }];
}

function choiceIndex(body: Record<string, unknown>): number {
  return typeof body.index === 'number' && Number.isFinite(body.index) ? body.index : 0;
}

/** The model's answer on one span: the first choice's text, from the newest convention present. */
function spanOutputText(span: Span): string | undefined {
  const raw = span.attributes.get('gen_ai.output.messages');
  if (raw !== undefined && raw !== null) {
    const path = attributePath(span, 'gen_ai.output.messages');
    const value = structured(raw, path);
    if (!Array.isArray(value)) throw new NormalizeFailure('invalid_field', `${path}: expected a JSON list of {role, parts} messages`);
    const first: unknown = value[0];
    if (first === undefined) return undefined;
    if (!isObject(first)) throw new NormalizeFailure('invalid_field', `${path}[0]: expected a message object`);
    // Each output message is one choice; the first is the one the application used.
    return messageText(first, `${path}[0]`) ?? '';
  }
  const choices = span.events
    .filter((e) => e.name === 'gen_ai.choice')
    .map((event) => ({ event, body: eventBody(event) }))
    .sort((a, b) => choiceIndex(a.body) - choiceIndex(b.body));
  const choice = choices[0];
  if (choice !== undefined) {
    const message = structured(choice.body.message, `${choice.event.path}.message`);
    if (isObject(message)) return messageText(message, `${choice.event.path}.message`) ?? '';
    return messageText(choice.body, choice.event.path) ?? '';
  }
  const completion = span.events.find((e) => e.name === 'gen_ai.content.completion');
  if (completion !== undefined) {
    const path = `${completion.path}.attributes[gen_ai.completion]`;
    const value = structured(completion.attributes.get('gen_ai.completion'), path);
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return normaliseMessages(value, path).find((m) => m.role === 'assistant')?.content ?? '';
    throw new NormalizeFailure('invalid_field', `${path}: expected a JSON list of messages or text`);
  }
  return undefined;
}

function toolCall(span: Span): ToolCall {
  const declared = span.attributes.get('gen_ai.tool.name');
  const name = typeof declared === 'string' && declared.trim() !== '' ? declared : span.name.replace(/^execute_tool\s+/, '');
  if (name.trim() === '') throw new NormalizeFailure('missing_field', `${attributePath(span, 'gen_ai.tool.name')}: required on an execute_tool span`);
  const resultPath = attributePath(span, 'gen_ai.tool.call.result');
  const argumentsPath = attributePath(span, 'gen_ai.tool.call.arguments');
  const result = stringifyValue(structured(span.attributes.get('gen_ai.tool.call.result'), resultPath), resultPath) ?? (span.failed ? span.statusMessage : undefined);
  return {
    name,
    arguments: stringifyValue(structured(span.attributes.get('gen_ai.tool.call.arguments'), argumentsPath), argumentsPath) ?? '',
    ...(result !== undefined ? { result } : {}),
    status: span.failed ? 'error' : 'ok',
  };
}

function tokenSum(spans: readonly Span[], keys: readonly string[]): number | undefined {
  let total: number | undefined;
  for (const span of spans) {
    for (const key of keys) {
      const value = span.attributes.get(key);
      if (value === undefined || value === null) continue;
      if (typeof value !== 'number') throw new NormalizeFailure('invalid_field', `${attributePath(span, key)}: expected an integer (intValue)`);
      total = (total ?? 0) + value;
      break;
    }
  }
  return total;
}

/** Normalises one OTLP/JSON export to a Trace candidate for the schema gate. */
export function normaliseOtlp(record: JsonObject): Candidate {
  const { spans, resources, scopes } = readPayload(record);
  const traceIds = new Set(spans.map((s) => s.traceId));
  if (traceIds.size > 1) {
    throw new NormalizeFailure('multiple_traces', `the spans belong to ${traceIds.size} different traceIds; send one trace per Firehose record`);
  }
  assignDepths(spans);
  const ordered = [...spans].sort(chronological);
  const outer = [...spans].sort(outermostFirst);

  /** Every value of one of our attributes: on the resources, the scopes, every span and every span event. */
  const everywhere = (key: string): Found[] => {
    const found: Found[] = [];
    for (const holder of [...resources, ...scopes]) {
      const value = holder.attributes.get(key);
      if (value !== undefined && value !== null) found.push({ value, source: `${holder.path}.attributes[${key}]` });
    }
    for (const s of spans) {
      const value = s.attributes.get(key);
      if (value !== undefined && value !== null) found.push({ value, source: attributePath(s, key) });
      for (const event of s.events) {
        const onEvent = event.attributes.get(key);
        if (onEvent !== undefined && onEvent !== null) found.push({ value: onEvent, source: `${event.path}.attributes[${key}]` });
      }
    }
    return found;
  };
  const agreed = <T>(field: string, key: string, parse: FieldParser<T>): T | undefined => agreedValue(field, everywhere(key), parse)?.value;
  /** The outermost span's value of a standard attribute (sub-agents may legitimately differ), else the resource's. */
  const outermost = (key: string): string | undefined => {
    for (const span of outer) {
      const value = span.attributes.get(key);
      if (value !== undefined && value !== null) return parseText(value, attributePath(span, key));
    }
    for (const resource of resources) {
      const value = resource.attributes.get(key);
      if (value !== undefined && value !== null) return parseText(value, `${resource.path}.attributes[${key}]`);
    }
    return undefined;
  };

  const inference = ordered.filter(isInference);
  // The answer is the last inference: after tool calls, it is the one that wrote the final reply.
  const answer = inference[inference.length - 1];
  const agents = outer.filter((s) => s.operation === 'invoke_agent');
  const conversationSpans = [...(answer === undefined ? [] : [answer]), ...agents];
  const modelOf = (span: Span | undefined): string | undefined => {
    if (span === undefined) return undefined;
    for (const key of ['gen_ai.response.model', 'gen_ai.request.model']) {
      const value = span.attributes.get(key);
      if (value !== undefined && value !== null) return parseText(value, attributePath(span, key));
    }
    return undefined;
  };
  const modelName = modelOf(answer) ?? agents.map(modelOf).find((m) => m !== undefined);

  let messages: Message[] = [];
  for (const span of conversationSpans) {
    const found = spanInputMessages(span);
    if (found !== undefined) {
      messages = found;
      break;
    }
  }
  let output: string | undefined;
  for (const span of conversationSpans) {
    output = spanOutputText(span);
    if (output !== undefined) break;
  }

  const requestSpans = spans.filter((s) => s.depth === 0 || isInference(s) || s.operation === 'invoke_agent');
  const error = requestSpans.some((s) => s.failed);

  const contexts = [
    ...ordered
      .filter((s) => s.operation === 'retrieval')
      .flatMap((s) => {
        const path = attributePath(s, 'gen_ai.retrieval.documents');
        return documentTexts(structured(s.attributes.get('gen_ai.retrieval.documents'), path), path);
      }),
    ...ordered.flatMap((s) => {
      const path = attributePath(s, SIAL_ATTRIBUTES.retrievedContexts);
      return documentTexts(structured(s.attributes.get(SIAL_ATTRIBUTES.retrievedContexts), path), path);
    }),
  ];
  const toolCalls = ordered.filter((s) => s.operation === 'execute_tool').map(toolCall);

  const starts = spans.map((s) => s.startNs);
  const ends = spans.map((s) => s.endNs);
  const first = starts.reduce((a, b) => (b < a ? b : a));
  const roots = spans.filter((s) => s.depth === 0);
  const root = roots.length === 1 ? roots[0] : undefined;
  // One root: its duration is the request's. Several (a partial export): the envelope of all spans.
  const durationNs = root !== undefined ? root.endNs - root.startNs : ends.reduce((a, b) => (b > a ? b : a)) - first;

  const outcome = agreed('feedback.outcome', SIAL_ATTRIBUTES.feedbackOutcome, parseOutcome);
  const quality = agreed('feedback.quality', SIAL_ATTRIBUTES.feedbackQuality, parseNumber);
  const tier = agreed('route.tier', SIAL_ATTRIBUTES.routeTier, parseText);
  const misrouted = agreed('route.misrouted', SIAL_ATTRIBUTES.routeMisrouted, parseBoolean);
  const inputTokens = tokenSum(inference, ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens']);
  const outputTokens = tokenSum(inference, ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens']);
  const cost = agreed('usage.cost_usd', SIAL_ATTRIBUTES.costUsd, parseNumber);
  const consent = combinedConsent(everywhere(SIAL_ATTRIBUTES.consent));
  const dataRegion = agreedValue('data_region', everywhere(SIAL_ATTRIBUTES.dataRegion), parseText);
  const confidentiality = strictestConfidentiality(everywhere(SIAL_ATTRIBUTES.confidentiality));

  const candidate: Record<string, unknown> = {
    trace_id: [...traceIds][0],
    timestamp: new Date(Number(first / 1_000_000n)).toISOString(),
    agent_id: agreed('agent_id', SIAL_ATTRIBUTES.agentId, parseText) ?? outermost('gen_ai.agent.id') ?? outermost('gen_ai.agent.name'),
    ...optional('request_id', agreed('request_id', SIAL_ATTRIBUTES.requestId, parseText)),
    ...optional('session_id', outermost('gen_ai.conversation.id') ?? outermost('session.id')),
    ...optional('user_id', outermost('user.id') ?? outermost('enduser.id')),
    model: {
      family: agreed('model.family', SIAL_ATTRIBUTES.modelFamily, parseFamily) ?? (modelName === undefined ? undefined : inferModelFamily(modelName)),
      name: modelName,
      version: agreed('model.version', SIAL_ATTRIBUTES.modelVersion, parseText),
      variant: agreed('model.variant', SIAL_ATTRIBUTES.modelVariant, parseText),
    },
    ...optional('consent', consent?.value),
    ...optional('data_region', dataRegion?.value),
    ...optional('confidentiality', confidentiality?.value),
    ...optional('language', agreed('language', SIAL_ATTRIBUTES.language, parseLanguage)),
    input_messages: messages,
    retrieved_contexts: contexts,
    // A failed request may have produced nothing; a successful one without output is a schema failure.
    output: output ?? (error ? '' : undefined),
    tool_calls: toolCalls,
    ...(outcome !== undefined || quality !== undefined ? { feedback: { ...optional('outcome', outcome), ...optional('quality', quality) } } : {}),
    error,
    latency_ms: roundMs(Number(durationNs) / 1_000_000),
    usage: {
      ...optional('input_tokens', inputTokens),
      ...optional('output_tokens', outputTokens),
      ...optional('cost_usd', cost),
    },
    ...(tier !== undefined || misrouted !== undefined ? { route: { ...optional('tier', tier), ...optional('misrouted', misrouted) } } : {}),
  };

  return {
    candidate,
    sources: {
      trace_id: 'spans[].traceId',
      agent_id: `attribute ${SIAL_ATTRIBUTES.agentId}, gen_ai.agent.id or gen_ai.agent.name`,
      request_id: `attribute ${SIAL_ATTRIBUTES.requestId}`,
      session_id: 'attribute gen_ai.conversation.id or session.id',
      user_id: 'attribute user.id or enduser.id',
      'model.name': 'gen_ai.response.model / gen_ai.request.model of the last inference span',
      'model.family': `attribute ${SIAL_ATTRIBUTES.modelFamily}, else inferred from the model name`,
      'model.version': `attribute ${SIAL_ATTRIBUTES.modelVersion}`,
      'model.variant': `attribute ${SIAL_ATTRIBUTES.modelVariant}`,
      consent: consent?.source ?? `attribute ${SIAL_ATTRIBUTES.consent}`,
      data_region: dataRegion?.source ?? `attribute ${SIAL_ATTRIBUTES.dataRegion}`,
      confidentiality: confidentiality?.source ?? `attribute ${SIAL_ATTRIBUTES.confidentiality}`,
      language: `attribute ${SIAL_ATTRIBUTES.language}`,
      input_messages: 'gen_ai.input.messages of the last inference span',
      retrieved_contexts: 'gen_ai.retrieval.documents of retrieval spans',
      output: 'gen_ai.output.messages or gen_ai.choice of the last inference span; only a failed request may have none',
      tool_calls: 'execute_tool spans',
      feedback: `attributes ${SIAL_ATTRIBUTES.feedbackOutcome} / ${SIAL_ATTRIBUTES.feedbackQuality}`,
      latency_ms: 'root span start/end',
      'usage.input_tokens': 'gen_ai.usage.input_tokens',
      'usage.output_tokens': 'gen_ai.usage.output_tokens',
      'usage.cost_usd': `attribute ${SIAL_ATTRIBUTES.costUsd}`,
      route: `attributes ${SIAL_ATTRIBUTES.routeTier} / ${SIAL_ATTRIBUTES.routeMisrouted}`,
    },
  };
}
