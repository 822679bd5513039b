/**
 * Records of all three input formats with a personal value planted into one identifier-bearing field
 * each: every field that becomes a Trace identifier (trace, request, agent and session ids, model
 * family, name, version and variant, data region, language, route tier, tool names) and a few that
 * the normalisers read but do not keep (Langfuse userId, OTLP enduser.id). Used to prove that a
 * planted value reaches no row and no log line, whatever field it came in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTrace } from './trace-factory';

/** A personal value and the fragments of it that must not appear anywhere either. */
export interface PlantedValue {
  readonly label: string;
  readonly value: string;
  readonly needles: readonly string[];
}

export const PLANTED_VALUES: readonly PlantedValue[] = [
  { label: 'e-mail', value: 'jane.roe@example.org', needles: ['jane.roe@example.org', 'jane.roe', 'example.org'] },
  { label: 'E.164 phone', value: '+14155550199', needles: ['+14155550199', '4155550199'] },
  { label: 'WhatsApp id', value: 'whatsapp:+14155550188', needles: ['whatsapp:+14155550188', '4155550188', 'whatsapp'] },
  { label: 'NANP phone', value: '415-555-0177', needles: ['415-555-0177', '4155550177'] },
  { label: 'KR mobile', value: '010-9876-5432', needles: ['010-9876-5432', '9876-5432', '01098765432'] },
  { label: 'name', value: 'Janet Roe-Smith', needles: ['Janet Roe-Smith', 'Janet'] },
];

/** Which Trace field a planted input field feeds; `none` for fields that are read but not kept. */
export type PlantTarget =
  | 'trace_id'
  | 'request_id'
  | 'agent_id'
  | 'session_id'
  | 'model.family'
  | 'model.name'
  | 'model.version'
  | 'model.variant'
  | 'data_region'
  | 'language'
  | 'route.tier'
  | 'tool_calls.name'
  | 'none';

/** One record with a planted value: its format, the input field and the Trace field it feeds. */
export interface PlantedRecord {
  readonly format: 'native' | 'langfuse' | 'otlp';
  readonly field: string;
  readonly target: PlantTarget;
  readonly planted: PlantedValue;
  /** Whether the trace would be kept (consent, region) were it not for the planted value. */
  readonly keepable: boolean;
  readonly data: Buffer;
}

type Json = Record<string, unknown>;
type Mutator = (record: Json, value: string) => void;

interface Plant {
  readonly field: string;
  readonly target: PlantTarget;
  readonly mutate: Mutator;
}

const FIXTURES = join(__dirname, '..', 'fixtures');

function fixture(path: string): Json {
  return JSON.parse(readFileSync(join(FIXTURES, path), 'utf8')) as Json;
}

function obj(value: unknown): Json {
  return value as Json;
}

function list(value: unknown): Json[] {
  return value as Json[];
}

// --- native ---------------------------------------------------------------------------------------

const NATIVE_PLANTS: readonly Plant[] = [
  { field: 'trace_id', target: 'trace_id', mutate: (r, v) => (r.trace_id = v) },
  { field: 'request_id', target: 'request_id', mutate: (r, v) => (r.request_id = v) },
  { field: 'agent_id', target: 'agent_id', mutate: (r, v) => (r.agent_id = v) },
  { field: 'session_id', target: 'session_id', mutate: (r, v) => (r.session_id = v) },
  { field: 'model.family', target: 'model.family', mutate: (r, v) => (obj(r.model).family = v) },
  { field: 'model.name', target: 'model.name', mutate: (r, v) => (obj(r.model).name = v) },
  { field: 'model.version', target: 'model.version', mutate: (r, v) => (obj(r.model).version = v) },
  { field: 'model.variant', target: 'model.variant', mutate: (r, v) => (obj(r.model).variant = v) },
  { field: 'data_region', target: 'data_region', mutate: (r, v) => (r.data_region = v) },
  { field: 'language', target: 'language', mutate: (r, v) => (r.language = v) },
  { field: 'route.tier', target: 'route.tier', mutate: (r, v) => (r.route = { tier: v, misrouted: false }) },
  { field: 'tool_calls[].name', target: 'tool_calls.name', mutate: (r, v) => (r.tool_calls = [{ name: v, arguments: '{}', result: 'ok', status: 'ok' }]) },
];

function nativeBase(traceId: string, consent: boolean): Json {
  return JSON.parse(JSON.stringify(makeTrace({ trace_id: traceId, consent, session_id: 'sess-base' }))) as Json;
}

// --- Langfuse -------------------------------------------------------------------------------------

function langfuseObservations(r: Json, type: string): Json[] {
  return list(r.observations).filter((o) => o.type === type);
}

const LANGFUSE_PLANTS: readonly Plant[] = [
  { field: 'id', target: 'trace_id', mutate: (r, v) => (r.id = v) },
  // The fixture has no metadata.agent_id, so the trace name is the agent id.
  { field: 'name', target: 'agent_id', mutate: (r, v) => (r.name = v) },
  { field: 'metadata.agent_id', target: 'agent_id', mutate: (r, v) => (obj(r.metadata).agent_id = v) },
  { field: 'metadata.request_id', target: 'request_id', mutate: (r, v) => (obj(r.metadata).request_id = v) },
  { field: 'sessionId', target: 'session_id', mutate: (r, v) => (r.sessionId = v) },
  { field: 'userId', target: 'none', mutate: (r, v) => (r.userId = v) },
  { field: 'observations[GENERATION].model', target: 'model.name', mutate: (r, v) => langfuseObservations(r, 'GENERATION').forEach((o) => (o.model = v)) },
  { field: 'metadata.model_family', target: 'model.family', mutate: (r, v) => (obj(r.metadata).model_family = v) },
  { field: 'metadata.model_version', target: 'model.version', mutate: (r, v) => (obj(r.metadata).model_version = v) },
  { field: 'metadata.model_variant', target: 'model.variant', mutate: (r, v) => (obj(r.metadata).model_variant = v) },
  { field: 'metadata.dataRegion', target: 'data_region', mutate: (r, v) => (obj(r.metadata).dataRegion = v) },
  { field: 'metadata.language', target: 'language', mutate: (r, v) => (obj(r.metadata).language = v) },
  { field: 'metadata.route_tier', target: 'route.tier', mutate: (r, v) => (obj(r.metadata).route_tier = v) },
  { field: 'observations[TOOL].name', target: 'tool_calls.name', mutate: (r, v) => ((langfuseObservations(r, 'TOOL')[0] as Json).name = v) },
];

function langfuseBase(traceId: string, consent: boolean): Json {
  const record = fixture('langfuse/tool-calls-failed-tool.json');
  record.id = traceId;
  record.sessionId = 'sess-base';
  const metadata = obj(record.metadata);
  metadata.consent = consent ? 'true' : 'false';
  record.tags = [];
  return record;
}

// --- OTLP -----------------------------------------------------------------------------------------

function otlpSpans(r: Json): Json[] {
  return list(r.resourceSpans).flatMap((rs) => list(obj(rs).scopeSpans).flatMap((ss) => list(obj(ss).spans)));
}

function otlpResourceAttributes(r: Json): Json[] {
  return list(obj(list(r.resourceSpans)[0]).resource === undefined ? [] : obj(obj(list(r.resourceSpans)[0]).resource).attributes);
}

function setAttribute(attributes: Json[], key: string, value: string): void {
  const existing = attributes.find((a) => a.key === key);
  if (existing === undefined) attributes.push({ key, value: { stringValue: value } });
  else existing.value = { stringValue: value };
}

function setResource(key: string): Mutator {
  return (r, v) => setAttribute(otlpResourceAttributes(r), key, v);
}

function spanAttributes(span: Json): Json[] {
  span.attributes ??= [];
  return list(span.attributes);
}

function operation(span: Json): string | undefined {
  const attribute = spanAttributes(span).find((a) => a.key === 'gen_ai.operation.name');
  return attribute === undefined ? undefined : (obj(attribute.value).stringValue as string);
}

function setOnSpans(which: (op: string | undefined) => boolean, key: string): Mutator {
  return (r, v) => otlpSpans(r).filter((s) => which(operation(s))).forEach((s) => setAttribute(spanAttributes(s), key, v));
}

function removeFromSpans(r: Json, key: string): void {
  for (const span of otlpSpans(r)) {
    const attributes = spanAttributes(span);
    const at = attributes.findIndex((a) => a.key === key);
    if (at !== -1) attributes.splice(at, 1);
  }
}

const OTLP_PLANTS: readonly Plant[] = [
  { field: 'spans[].traceId', target: 'trace_id', mutate: (r, v) => otlpSpans(r).forEach((s) => (s.traceId = v)) },
  { field: 'resource sial.agent.id', target: 'agent_id', mutate: setResource('sial.agent.id') },
  {
    field: 'gen_ai.agent.name (no sial.agent.id)',
    target: 'agent_id',
    mutate: (r, v) => {
      const attributes = otlpResourceAttributes(r);
      attributes.splice(attributes.findIndex((a) => a.key === 'sial.agent.id'), 1);
      setOnSpans((op) => op === 'invoke_agent', 'gen_ai.agent.name')(r, v);
    },
  },
  { field: 'resource sial.request.id', target: 'request_id', mutate: setResource('sial.request.id') },
  { field: 'gen_ai.conversation.id', target: 'session_id', mutate: setOnSpans((op) => op === 'invoke_agent', 'gen_ai.conversation.id') },
  {
    field: 'resource session.id (no gen_ai.conversation.id)',
    target: 'session_id',
    mutate: (r, v) => {
      removeFromSpans(r, 'gen_ai.conversation.id');
      setResource('session.id')(r, v);
    },
  },
  { field: 'resource enduser.id', target: 'none', mutate: setResource('enduser.id') },
  {
    field: 'gen_ai.request.model (no response model)',
    target: 'model.name',
    mutate: (r, v) => {
      removeFromSpans(r, 'gen_ai.response.model');
      setOnSpans((op) => op === 'chat', 'gen_ai.request.model')(r, v);
    },
  },
  // The response model names the model that answered and wins over the requested one, which is then not kept.
  { field: 'gen_ai.request.model (with a response model)', target: 'none', mutate: setOnSpans((op) => op === 'chat', 'gen_ai.request.model') },
  { field: 'gen_ai.response.model', target: 'model.name', mutate: setOnSpans((op) => op === 'chat', 'gen_ai.response.model') },
  { field: 'resource sial.model.family', target: 'model.family', mutate: setResource('sial.model.family') },
  { field: 'resource sial.model.version', target: 'model.version', mutate: setResource('sial.model.version') },
  { field: 'resource sial.model.variant', target: 'model.variant', mutate: setResource('sial.model.variant') },
  { field: 'resource sial.data_region', target: 'data_region', mutate: setResource('sial.data_region') },
  { field: 'span sial.language', target: 'language', mutate: setOnSpans((op) => op === 'invoke_agent', 'sial.language') },
  { field: 'resource sial.route.tier', target: 'route.tier', mutate: setResource('sial.route.tier') },
  { field: 'gen_ai.tool.name', target: 'tool_calls.name', mutate: setOnSpans((op) => op === 'execute_tool', 'gen_ai.tool.name') },
  {
    field: 'execute_tool span name',
    target: 'tool_calls.name',
    mutate: (r, v) => {
      for (const span of otlpSpans(r).filter((s) => operation(s) === 'execute_tool')) {
        span.name = `execute_tool ${v}`;
        const attributes = spanAttributes(span);
        const at = attributes.findIndex((a) => a.key === 'gen_ai.tool.name');
        if (at !== -1) attributes.splice(at, 1);
      }
    },
  },
];

function otlpBase(traceId: string, consent: boolean): Json {
  const record = fixture('otlp/tool-calls-failed-tool.json');
  otlpSpans(record).forEach((s) => (s.traceId = traceId));
  setOnSpans((op) => op === 'invoke_agent', 'gen_ai.conversation.id')(record, 'sess-base');
  for (const span of otlpSpans(record)) {
    const consentAttribute = spanAttributes(span).find((a) => a.key === 'sial.consent');
    if (consentAttribute !== undefined) consentAttribute.value = { boolValue: consent };
  }
  return record;
}

// --- the corpus -----------------------------------------------------------------------------------

/** A 32-hex-digit trace id (OTLP's form, valid for every format), unique per record. */
function traceIdFor(n: number): string {
  return `5eed${n.toString(16).padStart(28, '0')}`;
}

/**
 * Every planted value in every identifier-bearing field of every format, once with consent (a
 * record that would be kept) and once without (one that would be audited).
 */
export function plantedRecords(): PlantedRecord[] {
  const formats = [
    { format: 'native' as const, plants: NATIVE_PLANTS, base: nativeBase },
    { format: 'langfuse' as const, plants: LANGFUSE_PLANTS, base: langfuseBase },
    { format: 'otlp' as const, plants: OTLP_PLANTS, base: otlpBase },
  ];
  const records: PlantedRecord[] = [];
  let n = 0;
  for (const { format, plants, base } of formats) {
    for (const plant of plants) {
      for (const planted of PLANTED_VALUES) {
        for (const consent of [true, false]) {
          n += 1;
          const record = base(traceIdFor(n), consent);
          plant.mutate(record, planted.value);
          records.push({ format, field: plant.field, target: plant.target, planted, keepable: consent, data: Buffer.from(JSON.stringify(record)) });
        }
      }
    }
  }
  return records;
}
