/**
 * Langfuse trace exports: one trace object as Langfuse's public API returns it from
 * `GET /api/public/traces/{traceId}` (TraceWithFullDetails: id, timestamp, name, input, output,
 * sessionId, userId, metadata, tags, latency in seconds, totalCost, observations[], scores[]).
 *
 * Langfuse standardises the conversation but not our governance fields, so those come from the
 * trace's `metadata` (docs/trace-formats.md has the full mapping table); consent, data region and
 * confidentiality are also read from each observation's `metadata`, and combined with the trace's as
 * governance.ts describes. The API returns `null` for unset fields; null is treated as absent
 * throughout, and `-1` for a metric it did not compute (a request whose `fields` leave out `metrics`).
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
import { documentTexts, isMessageLike, messageText, normaliseMessages } from './messages';
import {
  isObject,
  isoInstant,
  optional,
  optionalArray,
  optionalInstantMs,
  optionalNumber,
  optionalString,
  own,
  parseJsonText,
  roundMs,
  stringifyValue,
  type JsonObject,
} from './values';
import { camelCase } from './vocabulary';

/** Most observations read from one trace; a 1 MiB Firehose record cannot meaningfully hold more. */
const MAX_OBSERVATIONS = 10_000;
const MAX_SCORES = 1_000;
const MAX_TAGS = 1_000;

/**
 * Observation types that describe the request itself; an ERROR level on one of them means the request
 * failed. Tool, retriever, guardrail, evaluator and embedding failures are the agent's business (a
 * failed tool is scored separately) and do not make the request an error.
 */
const REQUEST_LEVEL_TYPES = new Set(['GENERATION', 'AGENT', 'CHAIN', 'SPAN']);

/** Score data types that carry a rating; TEXT (a comment) and CORRECTION (an edited output) do not. */
const RATING_DATA_TYPES = new Set(['NUMERIC', 'BOOLEAN', 'CATEGORICAL']);

/** Score names read as user feedback; see docs/trace-formats.md. */
export const LANGFUSE_FEEDBACK_SCORE = 'user_feedback';
export const LANGFUSE_QUALITY_SCORE = 'quality';

interface Observation {
  readonly index: number;
  readonly path: string;
  readonly type: string;
  readonly name: string | undefined;
  readonly startMs: number | undefined;
  readonly endMs: number | undefined;
  readonly raw: JsonObject;
  readonly level: string | undefined;
  /** The observation's metadata when it is an object (or JSON text holding one); governance keys may be there. */
  readonly metadata: JsonObject;
}

/** True when the record has Langfuse's trace markers: an `id` and an `observations` list. */
export function isLangfuseTrace(record: JsonObject): boolean {
  return Object.prototype.hasOwnProperty.call(record, 'id') && Object.prototype.hasOwnProperty.call(record, 'observations');
}

/** Metadata is any JSON in Langfuse; we need an object. A JSON string holding an object is unwrapped. */
function readMetadata(record: JsonObject): JsonObject {
  const value = own(record, 'metadata');
  if (value === undefined || value === null) return {};
  if (isObject(value)) return value;
  if (typeof value === 'string') {
    const parsed = parseJsonText(value, 'metadata');
    if (isObject(parsed)) return parsed;
  }
  throw new NormalizeFailure('invalid_field', 'metadata: expected an object (our governance keys live there)');
}

/**
 * An observation's metadata, for its governance keys only. Langfuse metadata "can be any JSON" and SDKs
 * put anything there, so a list or a number is no error here; it simply states no governance field.
 */
function observationMetadata(item: JsonObject, path: string): JsonObject {
  const value = own(item, 'metadata');
  if (isObject(value)) return value;
  if (typeof value === 'string') {
    const parsed = parseJsonText(value, `${path}.metadata`);
    if (isObject(parsed)) return parsed;
  }
  return {};
}

/** snake_case and camelCase spellings of a metadata key: the same name, so accepting both is unambiguous. */
const spellingCache = new Map<string, readonly string[]>();
function spellings(snake: string): readonly string[] {
  let cached = spellingCache.get(snake);
  if (cached === undefined) {
    const camel = camelCase(snake);
    cached = camel === snake ? [snake] : [snake, camel];
    spellingCache.set(snake, cached);
  }
  return cached;
}

function fromMetadata(metadata: JsonObject, ...names: string[]): Found[] {
  return fromMetadataAt(metadata, 'metadata', names);
}

function fromMetadataAt(metadata: JsonObject, prefix: string, names: readonly string[]): Found[] {
  return names.flatMap(spellings).map((key) => ({ value: own(metadata, key), source: `${prefix}.${key}` }));
}

/** A governance field as stated by the trace's metadata and by every observation's metadata. */
function atEveryLevel(metadata: JsonObject, observations: readonly Observation[], ...names: string[]): Found[] {
  return [...fromMetadata(metadata, ...names), ...observations.flatMap((o) => fromMetadataAt(o.metadata, `${o.path}.metadata`, names))];
}

/**
 * A metric Langfuse computes (latency, costs, token counts). `-1` is the public API's "not computed"
 * (what it returns when a request's `fields` leave out `metrics`): unknown, like an absent value. Any
 * other negative number is refused.
 */
function metric(object: JsonObject, key: string, path: string): number | undefined {
  const value = optionalNumber(object, key, path);
  if (value === -1) return undefined;
  if (value !== undefined && value < 0) throw new NormalizeFailure('invalid_field', `${path}: expected a non-negative number (-1 is read as not computed)`);
  return value;
}

function metadataValue<T>(metadata: JsonObject, field: string, parse: FieldParser<T>, ...names: string[]): T | undefined {
  return agreedValue(field, fromMetadata(metadata, ...names), parse)?.value;
}

/** `consent=true` / `consent:false` tags: producers mark consent with a tag as often as with metadata. */
function consentFromTags(record: JsonObject): Found[] {
  const tags = optionalArray(record, 'tags', 'tags', MAX_TAGS) ?? [];
  const found: Found[] = [];
  tags.forEach((tag, i) => {
    if (typeof tag !== 'string') throw new NormalizeFailure('invalid_field', `tags[${i}]: expected a string`);
    const match = /^\s*consent\s*[=:]\s*(\S+)\s*$/i.exec(tag);
    if (match !== null) found.push({ value: match[1], source: `tags[${i}]` });
  });
  return found;
}

function readObservations(record: JsonObject): Observation[] {
  const list = optionalArray(record, 'observations', 'observations', MAX_OBSERVATIONS) ?? [];
  return list.map((item, index) => {
    const path = `observations[${index}]`;
    if (!isObject(item)) {
      // The list endpoint (GET /api/public/traces) returns observation ids only.
      throw new NormalizeFailure('invalid_field', `${path}: expected an observation object (export the trace with GET /api/public/traces/{id})`);
    }
    const type = optionalString(item, 'type', `${path}.type`);
    if (type === undefined) throw new NormalizeFailure('missing_field', `${path}.type: required (GENERATION, SPAN, EVENT, TOOL, ...)`);
    const startMs = optionalInstantMs(own(item, 'startTime'), `${path}.startTime`);
    const endMs = optionalInstantMs(own(item, 'endTime'), `${path}.endTime`);
    if (startMs !== undefined && endMs !== undefined && endMs < startMs) {
      throw new NormalizeFailure('invalid_field', `${path}.endTime: expected an instant at or after startTime`);
    }
    return {
      index,
      path,
      type: type.toUpperCase(),
      name: optionalString(item, 'name', `${path}.name`),
      startMs,
      endMs,
      raw: item,
      level: optionalString(item, 'level', `${path}.level`)?.toUpperCase(),
      metadata: observationMetadata(item, path),
    };
  });
}

/** Chronological order; observations without a start time keep their export order after timed ones. */
function byStart(a: Observation, b: Observation): number {
  const sa = a.startMs ?? Number.POSITIVE_INFINITY;
  const sb = b.startMs ?? Number.POSITIVE_INFINITY;
  if (sa !== sb) return sa - sb;
  const ea = a.endMs ?? Number.POSITIVE_INFINITY;
  const eb = b.endMs ?? Number.POSITIVE_INFINITY;
  if (ea !== eb) return ea - eb;
  return a.index - b.index;
}

/**
 * Chat messages from a generation's or trace's input: a message list, `{messages: [...]}`, one message,
 * or a plain prompt string (a user message). A string holding JSON (as Langfuse stores input that
 * arrived through its OTel endpoint) is unwrapped first. Langfuse input "can be any JSON": any other
 * shape (function arguments, a form) is kept as one user message holding its JSON, which is what the
 * application sent; it is scanned for PII like any other text.
 */
function inputMessages(value: unknown, path: string, unwrapped = false): Message[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    const parsed = unwrapped ? undefined : parseJsonText(value, path);
    return parsed === undefined ? [{ role: 'user', content: value }] : inputMessages(parsed, path, true);
  }
  if (Array.isArray(value) && value.length > 0 && value.every(isMessageLike)) return normaliseMessages(value, path);
  if (isObject(value)) {
    const messages = own(value, 'messages');
    if (Array.isArray(messages) && messages.every(isMessageLike)) return normaliseMessages(messages, `${path}.messages`);
    if (isMessageLike(value)) return normaliseMessages([value], path);
  }
  return [{ role: 'user', content: stringifyValue(value, path) ?? '' }];
}

/**
 * The answer text from a generation's or trace's output: a string, an assistant message, a list of
 * messages (the last assistant one), or an object with `content` / `text` / `output`. Any other JSON
 * (structured output) is kept as its JSON text, which is what the model produced.
 */
function outputText(value: unknown, path: string, unwrapped = false): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    // Only unwrap JSON that is a message; a model may legitimately answer with JSON.
    const parsed = unwrapped ? undefined : parseJsonText(value, path);
    return parsed !== undefined && (isMessageLike(parsed) || (Array.isArray(parsed) && parsed.length > 0 && parsed.every(isMessageLike))) ? outputText(parsed, path, true) : value;
  }
  if (Array.isArray(value) && value.length > 0 && value.every(isMessageLike)) {
    const last = normaliseMessages(value, path)
      .reverse()
      .find((m) => m.role === 'assistant');
    if (last !== undefined) return last.content;
  }
  if (isObject(value)) {
    // An assistant message that only requested tools has no text: the answer is empty, not its JSON.
    if (isMessageLike(value)) return messageText(value, path) ?? '';
    const content = own(value, 'content');
    if (typeof content === 'string' || Array.isArray(content)) {
      const text = messageText(value, path);
      if (text !== undefined) return text;
    }
    for (const key of ['text', 'output']) {
      const candidate = own(value, key);
      if (typeof candidate === 'string') return candidate;
    }
  }
  return stringifyValue(value, path);
}

function toolCall(obs: Observation): ToolCall {
  if (obs.name === undefined || obs.name.trim() === '') throw new NormalizeFailure('missing_field', `${obs.path}.name: required (the tool name)`);
  const failed = obs.level === 'ERROR';
  const result = stringifyValue(own(obs.raw, 'output'), `${obs.path}.output`) ?? (failed ? optionalString(obs.raw, 'statusMessage', `${obs.path}.statusMessage`) : undefined);
  return {
    name: obs.name,
    arguments: stringifyValue(own(obs.raw, 'input'), `${obs.path}.input`) ?? '',
    ...(result !== undefined ? { result } : {}),
    status: failed ? 'error' : 'ok',
  };
}

/** Token count of one generation: `usageDetails` (Langfuse v3) first, then the legacy `usage`. */
function tokens(obs: Observation, key: 'input' | 'output'): number | undefined {
  for (const field of ['usageDetails', 'usage']) {
    const container = own(obs.raw, field);
    if (container === undefined || container === null) continue;
    if (!isObject(container)) throw new NormalizeFailure('invalid_field', `${obs.path}.${field}: expected an object`);
    const value = metric(container, key, `${obs.path}.${field}.${key}`);
    if (value !== undefined) return value;
  }
  return undefined;
}

function sum(values: ReadonlyArray<number | undefined>): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? undefined : present.reduce((a, b) => a + b, 0);
}

/** Cost of one observation: costDetails.total (v3), else the deprecated calculatedTotalCost. */
function observationCost(obs: Observation): number | undefined {
  const details = own(obs.raw, 'costDetails');
  if (isObject(details)) {
    const total = metric(details, 'total', `${obs.path}.costDetails.total`);
    if (total !== undefined) return total;
  }
  return metric(obs.raw, 'calculatedTotalCost', `${obs.path}.calculatedTotalCost`);
}

interface ScoreValue {
  readonly value: unknown;
  readonly stringValue: unknown;
  readonly dataType: unknown;
  readonly path: string;
}

/**
 * The latest user-given score of each feedback name. EVAL scores are an LLM judge's, not the user's:
 * the reward computes its own judgement, so they are not read as feedback.
 */
function latestScores(record: JsonObject): Map<string, ScoreValue> {
  const list = optionalArray(record, 'scores', 'scores', MAX_SCORES) ?? [];
  const latest = new Map<string, ScoreValue & { at: number; index: number }>();
  list.forEach((item, index) => {
    const path = `scores[${index}]`;
    // The list endpoint returns score ids only; those carry nothing to read.
    if (!isObject(item)) throw new NormalizeFailure('invalid_field', `${path}: expected a score object`);
    const name = optionalString(item, 'name', `${path}.name`);
    if (name !== LANGFUSE_FEEDBACK_SCORE && name !== LANGFUSE_QUALITY_SCORE) return;
    if (optionalString(item, 'source', `${path}.source`)?.toUpperCase() === 'EVAL') return;
    // A TEXT score is a comment and a CORRECTION an edited output: neither is a rating, so neither is
    // read, nor replaces an earlier rating as the latest one. No dataType (older exports) is read by value.
    const dataType = own(item, 'dataType');
    if (dataType !== undefined && dataType !== null && !(typeof dataType === 'string' && RATING_DATA_TYPES.has(dataType.toUpperCase()))) return;
    const at = optionalInstantMs(own(item, 'timestamp'), `${path}.timestamp`) ?? Number.NEGATIVE_INFINITY;
    const previous = latest.get(name);
    if (previous === undefined || at >= previous.at) {
      latest.set(name, { value: own(item, 'value'), stringValue: own(item, 'stringValue'), dataType: own(item, 'dataType'), path, at, index });
    }
  });
  return latest;
}

/**
 * `user_feedback`: a thumbs rating (BOOLEAN or NUMERIC: 1 up -> success, 0 or -1 down -> user_rejected)
 * or a CATEGORICAL feedback outcome. `quality`: NUMERIC 0-10 (the schema checks the range).
 */
function feedback(record: JsonObject): { outcome?: string; quality?: number } | undefined {
  const scores = latestScores(record);
  const result: { outcome?: string; quality?: number } = {};
  const thumbs = scores.get(LANGFUSE_FEEDBACK_SCORE);
  if (thumbs !== undefined) {
    const source = `${thumbs.path} (${LANGFUSE_FEEDBACK_SCORE})`;
    if (thumbs.dataType !== 'CATEGORICAL' && typeof thumbs.value === 'number') {
      if (thumbs.value === 1) result.outcome = 'success';
      else if (thumbs.value === 0 || thumbs.value === -1) result.outcome = 'user_rejected';
      else throw new NormalizeFailure('invalid_field', `${source}.value: expected 1 (thumbs up), 0 or -1 (thumbs down)`);
    } else {
      result.outcome = parseOutcome(thumbs.stringValue, `${source}.stringValue`);
    }
  }
  const quality = scores.get(LANGFUSE_QUALITY_SCORE);
  if (quality !== undefined) result.quality = parseNumber(quality.value, `${quality.path} (${LANGFUSE_QUALITY_SCORE}).value`);
  return result.outcome === undefined && result.quality === undefined ? undefined : result;
}

/** Normalises one Langfuse trace export to a Trace candidate for the schema gate. */
export function normaliseLangfuse(record: JsonObject): Candidate {
  const traceId = optionalString(record, 'id', 'id');
  const timestamp = isoInstant(own(record, 'timestamp'), 'timestamp');
  const metadata = readMetadata(record);
  const observations = readObservations(record).sort(byStart);

  // The answer is the last generation: after tool calls, it is the one that wrote the final reply.
  const generations = observations.filter((o) => o.type === 'GENERATION');
  const answer = generations[generations.length - 1];
  const modelName = answer === undefined ? undefined : optionalString(answer.raw, 'model', `${answer.path}.model`);

  const consent = combinedConsent([...atEveryLevel(metadata, observations, 'consent', 'user_consent'), ...consentFromTags(record)]);
  const dataRegion = agreedValue('data_region', atEveryLevel(metadata, observations, 'data_region'), parseText);
  const confidentiality = strictestConfidentiality(atEveryLevel(metadata, observations, 'confidentiality'));
  const family = metadataValue(metadata, 'model.family', parseFamily, 'model_family') ?? (modelName === undefined ? undefined : inferModelFamily(modelName));
  const tier = metadataValue(metadata, 'route.tier', parseText, 'route_tier');
  const misrouted = metadataValue(metadata, 'route.misrouted', parseBoolean, 'misrouted');

  const messages =
    (answer === undefined ? undefined : inputMessages(own(answer.raw, 'input'), `${answer.path}.input`)) ?? inputMessages(own(record, 'input'), 'input') ?? [];

  const error = observations.some((o) => o.level === 'ERROR' && REQUEST_LEVEL_TYPES.has(o.type));
  const output = (answer === undefined ? undefined : outputText(own(answer.raw, 'output'), `${answer.path}.output`)) ?? outputText(own(record, 'output'), 'output');

  const contexts = observations.filter((o) => o.type === 'RETRIEVER').flatMap((o) => documentTexts(own(o.raw, 'output'), `${o.path}.output`));
  const toolCalls = observations.filter((o) => o.type === 'TOOL').map(toolCall);

  const latencySeconds = metric(record, 'latency', 'latency');
  const starts = observations.map((o) => o.startMs).filter((v): v is number => v !== undefined);
  const ends = observations.map((o) => o.endMs).filter((v): v is number => v !== undefined);
  // Older API versions omit `latency` on the single-trace view; the observations still bound it.
  const latencyMs =
    latencySeconds !== undefined ? roundMs(latencySeconds * 1000) : starts.length > 0 && ends.length > 0 ? ends.reduce((a, b) => Math.max(a, b)) - starts.reduce((a, b) => Math.min(a, b)) : undefined;

  const inputTokens = sum(generations.map((g) => tokens(g, 'input')));
  const outputTokens = sum(generations.map((g) => tokens(g, 'output')));
  // Langfuse reports 0 when it has no price for the model (usual for self-hosted ones): unknown, not free.
  const positive = (value: number | undefined): number | undefined => (value !== undefined && value > 0 ? value : undefined);
  const cost = positive(metric(record, 'totalCost', 'totalCost')) ?? positive(sum(observations.map(observationCost)));
  const userFeedback = feedback(record);

  const candidate: Record<string, unknown> = {
    trace_id: traceId,
    timestamp,
    agent_id: metadataValue(metadata, 'agent_id', parseText, 'agent_id') ?? optionalString(record, 'name', 'name'),
    ...optional('request_id', metadataValue(metadata, 'request_id', parseText, 'request_id')),
    ...optional('session_id', optionalString(record, 'sessionId', 'sessionId')),
    ...optional('user_id', optionalString(record, 'userId', 'userId')),
    model: {
      family,
      name: modelName,
      version: metadataValue(metadata, 'model.version', parseText, 'model_version'),
      variant: metadataValue(metadata, 'model.variant', parseText, 'model_variant'),
    },
    ...optional('consent', consent?.value),
    ...optional('data_region', dataRegion?.value),
    ...optional('confidentiality', confidentiality?.value),
    ...optional('language', metadataValue(metadata, 'language', parseLanguage, 'language')),
    input_messages: messages,
    retrieved_contexts: contexts,
    // A failed request may have produced nothing; a successful one without output is a schema failure.
    output: output ?? (error ? '' : undefined),
    tool_calls: toolCalls,
    ...optional('feedback', userFeedback),
    error,
    ...optional('latency_ms', latencyMs),
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
      trace_id: 'id',
      agent_id: 'metadata.agent_id, else name',
      request_id: 'metadata.request_id',
      session_id: 'sessionId',
      user_id: 'userId',
      'model.name': 'the last GENERATION observation model',
      'model.family': 'metadata.model_family, else inferred from the model name',
      'model.version': 'metadata.model_version',
      'model.variant': 'metadata.model_variant',
      consent: consent?.source ?? 'metadata.consent',
      data_region: dataRegion?.source ?? 'metadata.data_region',
      confidentiality: confidentiality?.source ?? 'metadata.confidentiality',
      language: 'metadata.language',
      input_messages: 'the last GENERATION input, else input',
      retrieved_contexts: 'RETRIEVER observation outputs',
      output: 'the last GENERATION output, else output; only a failed request may have none',
      tool_calls: 'TOOL observations',
      feedback: 'scores user_feedback / quality',
      latency_ms: 'latency (seconds)',
      'usage.input_tokens': 'GENERATION usageDetails.input',
      'usage.output_tokens': 'GENERATION usageDetails.output',
      'usage.cost_usd': 'totalCost',
      route: 'metadata.route_tier / metadata.misrouted',
    },
  };
}
