/**
 * A generated corpus of adversarial trace records for the gate: personal data planted where the PII
 * gate has to find it, in disguises that defeat naive patterns, and governance tricks that try to
 * get a trace kept with a permissive value. Each class is one entry of `CLASSES`; each of its
 * variants is rendered in the three input formats (native, Langfuse export, OTLP/JSON) and carries
 * what was planted, so a test can prove that nothing planted reaches a written row or a log line.
 *
 * Free-text plants rotate over the system prompt, the user message, the retrieved context, the tool
 * arguments, the tool result and the output, so every class covers every free-text field in every
 * format. Values (names, card numbers, IBANs, phones, RRNs, SSNs) are generated from a seeded PRNG
 * with valid checksums: in their canonical form the pattern detector finds every one of them, so a
 * leak is the disguise's doing. The corpus is deterministic: the same seed gives the same bytes.
 */
import type { PlantedValue } from './planted-value-matcher';

export const CORPUS_FORMATS = ['native', 'langfuse', 'otlp'] as const;
export type CorpusFormat = (typeof CORPUS_FORMATS)[number];

export const TEXT_FIELDS = ['system', 'user', 'context', 'tool_arguments', 'tool_result', 'output'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

/** Which gate configuration a record is sent to: `dev` (US boundary) or `prod-kr` (KR, Korean pattern-only). */
export type CorpusStage = 'dev' | 'prod-kr';

/** A record's result: delivered to `traces`, `ProcessingFailed`, or written to `gate_audit` by a gate. */
export type Outcome = 'traces' | 'failed' | `audit:${'region' | 'consent' | 'confidentiality' | 'pii'}`;

/** A rule about a column of a delivered row. */
export interface RowRule {
  readonly column: string;
  readonly is: 'null' | 'null-or-non-negative';
}

/** What the gate must do with a record, where the rule is clear. */
export interface Expectation {
  /** The outcomes that satisfy the rule; absent when the rule leaves the verdict open. */
  readonly oneOf?: readonly Outcome[];
  /** The rule in words, printed with a failure. */
  readonly rule: string;
  /** Column rules checked when the record is delivered to `traces`. */
  readonly row?: readonly RowRule[];
}

export interface AdversarialRecord {
  /** `<class> <format> <field> #<serial> <variant>`: what a failure message names. */
  readonly name: string;
  readonly classId: string;
  readonly format: CorpusFormat;
  /** Where the planted values sit (a free-text field, or an identifier and the free-text field of its copy). */
  readonly field: string;
  readonly variant: string;
  readonly stage: CorpusStage;
  readonly data: Buffer;
  readonly planted: readonly PlantedValue[];
  readonly expected: Expectation;
}

// --- deterministic values ------------------------------------------------------------------------

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST_NAMES = [
  'Evelyn', 'Theodore', 'Marguerite', 'Cornelius', 'Rosalind', 'Augustin', 'Philippa', 'Leopold', 'Isadora', 'Bartholomew',
  'Genevieve', 'Ignatius', 'Wilhelmina', 'Percival', 'Ottoline', 'Lysander', 'Clementine', 'Barnaby', 'Seraphina', 'Ambrose',
] as const;
const LAST_NAMES = [
  'Hartwell', 'Quillfeather', 'Ashdown', 'Pemberton', 'Whitlock', 'Fairweather', 'Blackwood', 'Thornbury', 'Ravensworth',
  'Kingsley', 'Merriweather', 'Holloway', 'Cavendish', 'Winterbourne', 'Lockhart', 'Bramwell',
] as const;

/** Luhn check digit for a number without it. */
function luhnCheckDigit(body: string): string {
  let sum = 0;
  let double = true;
  for (let k = body.length - 1; k >= 0; k -= 1) {
    let d = body.charCodeAt(k) - 0x30;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return String((10 - (sum % 10)) % 10);
}

/** ISO 13616 check digits of an IBAN. */
function ibanCheckDigits(country: string, bban: string): string {
  let remainder = 0;
  for (const ch of `${bban}${country}00`) {
    const unit = ch.charCodeAt(0);
    remainder = unit >= 0x41 ? (remainder * 100 + (unit - 55)) % 97 : (remainder * 10 + (unit - 0x30)) % 97;
  }
  return String(98 - remainder).padStart(2, '0');
}

/** Pre-2020 KR RRN check digit over the first twelve digits. */
function rrnCheckDigit(first12: string): string {
  const weights = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
  let sum = 0;
  weights.forEach((w, k) => {
    sum += (first12.charCodeAt(k) - 0x30) * w;
  });
  return String((11 - (sum % 11)) % 10);
}

/** Generates personal data from a seeded PRNG; values used as identifiers are unique in the corpus. */
export class Values {
  private readonly used = new Set<string>();

  constructor(private readonly random: () => number) {}

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  pick<T>(list: readonly T[]): T {
    const item = list[this.int(0, list.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  digits(count: number): string {
    let out = '';
    for (let k = 0; k < count; k += 1) out += String(this.int(0, 9));
    return out;
  }

  /** A value not drawn before (so identifiers never collide into in-batch duplicates). */
  unique(make: () => string): string {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const value = make();
      if (!this.used.has(value)) {
        this.used.add(value);
        return value;
      }
    }
    throw new Error('could not draw a unique value');
  }

  person(): { first: string; last: string } {
    return { first: this.pick(FIRST_NAMES), last: this.pick(LAST_NAMES) };
  }

  /** `first.last[.n]@example.com`, unique. */
  email(domain = 'example.com'): string {
    return this.unique(() => {
      const { first, last } = this.person();
      const suffix = this.random() < 0.5 ? '' : `.${String.fromCharCode(0x61 + this.int(0, 25))}${String.fromCharCode(0x61 + this.int(0, 25))}`;
      return `${first}.${last}${suffix}@${domain}`.toLowerCase();
    });
  }

  // Every number is unique in the corpus: batch-level output (logs, report) is shared by all records,
  // so a value planted twice could be attributed to the wrong record.

  /** 16 digits, Luhn-valid, first digit 2-6. */
  card(): string {
    return this.unique(() => {
      const body = `${this.pick(['4539', '4916', '5425', '5105', '2221', '3714', '6011'])}${this.digits(11)}`;
      return `${body}${luhnCheckDigit(body)}`;
    });
  }

  /** A German IBAN (22 characters) with valid check digits. */
  iban(): string {
    return this.unique(() => {
      const bban = `${this.pick(['37040044', '50010517', '10020030', '70020270'])}${this.digits(10)}`;
      return `DE${ibanCheckDigits('DE', bban)}${bban}`;
    });
  }

  /** Nine digits an SSA could have issued. */
  ssn(): string {
    return this.unique(() => `${this.int(100, 665)}${this.int(10, 99)}${this.int(1000, 9999)}`);
  }

  /** Thirteen digits: a real date, G in 1-2, the old check digit. */
  rrn(): string {
    return this.unique(() => {
      const first12 = `${this.int(50, 99)}${String(this.int(1, 12)).padStart(2, '0')}${String(this.int(1, 28)).padStart(2, '0')}${this.int(1, 2)}${this.digits(5)}`;
      return `${first12}${rrnCheckDigit(first12)}`;
    });
  }

  /** A fictional NANP number: area, 555, 01xx (10 digits). */
  usPhone(): string {
    return this.unique(() => `${this.pick(['415', '212', '312', '617', '206', '303'])}55501${this.digits(2)}`);
  }

  /** A fictional London number without the trunk 0: 20 7946 0xxx (10 digits). */
  ukPhone(): string {
    return this.unique(() => `2079460${this.digits(3)}`);
  }

  /** A KR mobile number: 010, then 8 digits starting 2-9 (11 digits). */
  krMobile(): string {
    return this.unique(() => `010${this.int(2, 9)}${this.digits(7)}`);
  }

  /** A Seoul landline: 02, 4 digits starting 2-9, 4 digits (10 digits). */
  krSeoul(): string {
    return this.unique(() => `02${this.int(2, 9)}${this.digits(7)}`);
  }

  /** A person's name not drawn before, as first and last name. */
  uniquePerson(): { first: string; last: string } {
    const [first = '', last = ''] = this.unique(() => {
      const { first: f, last: l } = this.person();
      return `${f} ${l}`;
    }).split(' ');
    return { first, last };
  }
}

// --- text shapes ---------------------------------------------------------------------------------

/** ASCII digits to full-width digits. */
export function fullWidthDigits(text: string): string {
  return text.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
}

/** Printable ASCII to its full-width form. */
export function fullWidthAscii(text: string): string {
  return text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

/** Splits digits into groups of the given sizes (the last group takes the rest) joined by `separator`. */
export function group(digits: string, sizes: readonly number[], separator: string): string {
  const parts: string[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= digits.length) break;
    parts.push(digits.slice(at, at + size));
    at += size;
  }
  if (at < digits.length) parts.push(digits.slice(at));
  return parts.join(separator);
}

const card4 = (card: string, separator: string) => group(card, [4, 4, 4, 4], separator);
const iban4 = (iban: string, separator: string) => group(iban, [4, 4, 4, 4, 4, 4], separator);
const ukSpaced = (uk: string, separator = ' ') => group(uk, [2, 4, 4], separator);
const krDashed = (mobile: string, separator = '-') => group(mobile, [3, 4, 4], separator);
const rrnDashed = (rrn: string, separator: string) => `${rrn.slice(0, 6)}${separator}${rrn.slice(6)}`;
const ssnGrouped = (ssn: string, separator: string) => group(ssn, [3, 2, 4], separator);
const usGrouped = (us: string) => `(${us.slice(0, 3)}) ${us.slice(3, 6)}-${us.slice(6)}`;

/** A planted number. */
const number = (label: string, digits: string): PlantedValue => ({ label, text: [], digits });
/** A planted text (e-mail, name, ...). */
const text = (label: string, ...forms: string[]): PlantedValue => ({ label, text: forms });

/** A canonical value the pattern detector finds as written, to plant next to a governance trick. */
function canonicalPii(v: Values, k: number): { surface: string; planted: PlantedValue } {
  switch (k % 4) {
    case 0: {
      const email = v.email();
      return { surface: email, planted: text('e-mail', email) };
    }
    case 1: {
      const us = v.usPhone();
      return { surface: usGrouped(us), planted: number('US phone', us) };
    }
    case 2: {
      const card = v.card();
      return { surface: card4(card, ' '), planted: number('card', card) };
    }
    default: {
      const uk = v.ukPhone();
      return { surface: `+44 ${ukSpaced(uk)}`, planted: number('UK phone', `44${uk}`) };
    }
  }
}

// --- one neutral trace, rendered in three formats -------------------------------------------------

// Rendered records are plain JSON trees that variants edit in place before encoding.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- hand-built JSON trees, edited by path
type Json = Record<string, any>;

/** Where a format offers several places for one identifier, which one a record uses. */
interface Placement {
  langfuseAgent: 'name' | 'metadata.agent_id';
  otlpAgent: 'sial.agent.id' | 'gen_ai.agent.id' | 'gen_ai.agent.name';
  otlpSession: 'gen_ai.conversation.id' | 'session.id';
  otlpTool: 'gen_ai.tool.name' | 'span name';
  otlpModel: 'gen_ai.request.model' | 'gen_ai.response.model';
}

/** The format-neutral content of one trace. */
export interface TraceSpec {
  traceId: string;
  otlpTraceId: string;
  startMs: number;
  agentId: string;
  requestId?: string;
  sessionId?: string;
  model: { family: string; name: string; version: string; variant: string };
  consent?: boolean;
  dataRegion?: string;
  confidentiality?: string;
  language: string;
  texts: Record<TextField, string>;
  toolName: string;
  placement: Placement;
}

const EN_TEXTS: Readonly<Record<TextField, string>> = {
  system: 'You are the account support assistant. Answer briefly and politely.',
  user: 'Can you help me change my account settings?',
  context: 'Account settings can be changed from the profile page.',
  tool_arguments: 'account settings',
  tool_result: 'profile page',
  output: 'You can change them from the profile page.',
};

const KO_TEXTS: Readonly<Record<TextField, string>> = {
  system: '당신은 계정 지원 상담원입니다. 간단하고 정중하게 답하세요.',
  user: '계정 설정을 바꾸고 싶어요. 도와주실 수 있나요?',
  context: '계정 설정은 프로필 페이지에서 변경할 수 있습니다.',
  tool_arguments: '계정 설정',
  tool_result: '프로필 페이지',
  output: '프로필 페이지에서 변경하실 수 있습니다.',
};

const BASE_MS = Date.parse('2026-11-20T10:00:00.000Z');

function baseSpec(stage: CorpusStage, traceId: string, otlpTraceId: string, serial: number): TraceSpec {
  const kr = stage === 'prod-kr';
  return {
    traceId,
    otlpTraceId,
    startMs: BASE_MS + serial * 1000,
    agentId: 'rag-qa-agent',
    model: { family: 'qwen3', name: kr ? 'qwen3-4b-ko' : 'qwen3-4b', version: '2026-11-01', variant: 'current' },
    consent: true,
    dataRegion: kr ? 'ap-northeast-2' : 'us-east-1',
    confidentiality: 'internal',
    language: kr ? 'ko' : 'en',
    texts: { ...(kr ? KO_TEXTS : EN_TEXTS) },
    toolName: 'account_lookup',
    placement: { langfuseAgent: 'name', otlpAgent: 'gen_ai.agent.id', otlpSession: 'gen_ai.conversation.id', otlpTool: 'gen_ai.tool.name', otlpModel: 'gen_ai.request.model' },
  };
}

const optional = <T>(key: string, value: T | undefined): Json => (value === undefined ? {} : { [key]: value });

function renderNative(s: TraceSpec): Json {
  return {
    trace_id: s.traceId,
    timestamp: new Date(s.startMs).toISOString(),
    agent_id: s.agentId,
    ...optional('request_id', s.requestId),
    ...optional('session_id', s.sessionId),
    model: { ...s.model },
    ...optional('consent', s.consent),
    ...optional('data_region', s.dataRegion),
    ...optional('confidentiality', s.confidentiality),
    language: s.language,
    input_messages: [
      { role: 'system', content: s.texts.system },
      { role: 'user', content: s.texts.user },
    ],
    retrieved_contexts: [s.texts.context],
    output: s.texts.output,
    tool_calls: [
      {
        name: s.toolName,
        arguments: JSON.stringify({ query: s.texts.tool_arguments }),
        result: JSON.stringify({ status: 'found', note: s.texts.tool_result }),
        status: 'ok',
      },
    ],
    error: false,
    latency_ms: 850,
    usage: { input_tokens: 120, output_tokens: 30 },
  };
}

function renderLangfuse(s: TraceSpec): Json {
  const at = (ms: number) => new Date(s.startMs + ms).toISOString();
  return {
    id: s.traceId,
    timestamp: at(0),
    name: s.placement.langfuseAgent === 'name' ? s.agentId : 'support-flow',
    input: null,
    output: null,
    sessionId: s.sessionId ?? null,
    release: null,
    version: null,
    userId: null,
    metadata: {
      ...optional('consent', s.consent),
      ...optional('data_region', s.dataRegion),
      ...optional('confidentiality', s.confidentiality),
      model_family: s.model.family,
      model_version: s.model.version,
      model_variant: s.model.variant,
      language: s.language,
      ...optional('request_id', s.requestId),
      ...(s.placement.langfuseAgent === 'metadata.agent_id' ? { agent_id: s.agentId } : {}),
    },
    tags: [],
    public: false,
    latency: 0.85,
    totalCost: 0,
    observations: [
      {
        id: 'obs-retriever',
        type: 'RETRIEVER',
        name: 'kb-search',
        startTime: at(10),
        endTime: at(200),
        input: { query: 'account settings' },
        output: [{ page_content: s.texts.context, metadata: {} }],
        level: 'DEFAULT',
        statusMessage: null,
      },
      {
        id: 'obs-tool',
        type: 'TOOL',
        name: s.toolName,
        startTime: at(210),
        endTime: at(300),
        input: { query: s.texts.tool_arguments },
        output: { status: 'found', note: s.texts.tool_result },
        level: 'DEFAULT',
        statusMessage: null,
      },
      {
        id: 'obs-generation',
        type: 'GENERATION',
        name: 'answer',
        startTime: at(310),
        endTime: at(840),
        model: s.model.name,
        input: [
          { role: 'system', content: s.texts.system },
          { role: 'user', content: s.texts.user },
        ],
        output: { role: 'assistant', content: s.texts.output },
        usageDetails: { input: 120, output: 30 },
        level: 'DEFAULT',
        statusMessage: null,
      },
    ],
    scores: [],
  };
}

const attr = (key: string, value: Json): Json => ({ key, value });
const str = (value: string): Json => ({ stringValue: value });
const textPart = (content: string): Json => ({ type: 'text', content });

function renderOtlp(s: TraceSpec): Json {
  const ns = (ms: number) => (BigInt(s.startMs + ms) * 1_000_000n).toString();
  const spanId = (k: number) => `${'b'.repeat(14)}${k.toString(16).padStart(2, '0')}`;
  const span = (k: number, name: string, from: number, to: number, attributes: Json[], parent?: number): Json => ({
    traceId: s.otlpTraceId,
    spanId: spanId(k),
    ...(parent === undefined ? {} : { parentSpanId: spanId(parent) }),
    name,
    kind: 1,
    startTimeUnixNano: ns(from),
    endTimeUnixNano: ns(to),
    attributes,
    status: { code: 'STATUS_CODE_OK' },
  });
  const p = s.placement;
  const resource = [
    ...(s.dataRegion === undefined ? [] : [attr('sial.data_region', str(s.dataRegion))]),
    ...(s.confidentiality === undefined ? [] : [attr('sial.confidentiality', str(s.confidentiality))]),
    attr('sial.model.family', str(s.model.family)),
    attr('sial.model.version', str(s.model.version)),
    attr('sial.model.variant', str(s.model.variant)),
    attr('sial.language', str(s.language)),
    ...(p.otlpAgent === 'sial.agent.id' ? [attr('sial.agent.id', str(s.agentId))] : []),
  ];
  const root = [
    attr('gen_ai.operation.name', str('invoke_agent')),
    ...(p.otlpAgent === 'sial.agent.id' ? [] : [attr(p.otlpAgent, str(s.agentId))]),
    ...(s.consent === undefined ? [] : [attr('sial.consent', { boolValue: s.consent })]),
    ...(s.sessionId === undefined ? [] : [attr(p.otlpSession, str(s.sessionId))]),
    ...(s.requestId === undefined ? [] : [attr('sial.request.id', str(s.requestId))]),
  ];
  const retrieval = [
    attr('gen_ai.operation.name', str('retrieval')),
    attr('gen_ai.retrieval.documents', str(JSON.stringify([{ id: 'doc-a', score: 0.9, content: s.texts.context }]))),
  ];
  const tool = [
    attr('gen_ai.operation.name', str('execute_tool')),
    ...(p.otlpTool === 'gen_ai.tool.name' ? [attr('gen_ai.tool.name', str(s.toolName))] : []),
    attr('gen_ai.tool.call.arguments', str(JSON.stringify({ query: s.texts.tool_arguments }))),
    attr('gen_ai.tool.call.result', str(JSON.stringify({ status: 'found', note: s.texts.tool_result }))),
  ];
  const chat = [
    attr('gen_ai.operation.name', str('chat')),
    ...(p.otlpModel === 'gen_ai.response.model' ? [attr('gen_ai.request.model', str('qwen3-4b')), attr('gen_ai.response.model', str(s.model.name))] : [attr('gen_ai.request.model', str(s.model.name))]),
    attr('gen_ai.usage.input_tokens', { intValue: '120' }),
    attr('gen_ai.usage.output_tokens', { intValue: '30' }),
    attr(
      'gen_ai.input.messages',
      str(
        JSON.stringify([
          { role: 'system', parts: [textPart(s.texts.system)] },
          { role: 'user', parts: [textPart(s.texts.user)] },
        ]),
      ),
    ),
    attr('gen_ai.output.messages', str(JSON.stringify([{ role: 'assistant', parts: [textPart(s.texts.output)], finish_reason: 'stop' }]))),
  ];
  return {
    resourceSpans: [
      {
        resource: { attributes: resource },
        scopeSpans: [
          {
            scope: { name: 'support-agent', version: '1.0.0' },
            spans: [
              span(1, 'invoke_agent support', 0, 850, root),
              span(2, 'retrieval kb-search', 10, 200, retrieval, 1),
              span(3, p.otlpTool === 'span name' ? `execute_tool ${s.toolName}` : 'execute_tool', 210, 300, tool, 1),
              span(4, 'chat qwen3', 310, 840, chat, 1),
            ],
          },
        ],
      },
    ],
  };
}

const RENDER: Readonly<Record<CorpusFormat, (spec: TraceSpec) => Json>> = { native: renderNative, langfuse: renderLangfuse, otlp: renderOtlp };

// OTLP spans by position in renderOtlp.
const OTLP_ROOT = 0;
const OTLP_TOOL = 2;
const OTLP_CHAT = 3;
const otlpResource = (o: Json): Json[] => o.resourceSpans[0].resource.attributes as Json[];
const otlpSpan = (o: Json, index: number): Json[] => o.resourceSpans[0].scopeSpans[0].spans[index].attributes as Json[];
const langfuseObservation = (o: Json, type: string): Json => (o.observations as Json[]).find((obs) => obs.type === type) as Json;

// --- variants and classes ------------------------------------------------------------------------

/** What a variant knows when it builds one record. */
export interface VariantContext {
  readonly values: Values;
  readonly format: CorpusFormat;
  readonly stage: CorpusStage;
  /** The free-text field this record plants in (rotates so every field is covered). */
  readonly field: TextField;
  /** A second free-text field, different from `field`, for a second plant. */
  readonly second: TextField;
  /** How many records of this class and format were built before this one. */
  readonly k: number;
}

/** One record's plants and edits. */
export interface Built {
  /** Appended to the neutral text of these fields. */
  readonly texts?: Partial<Record<TextField, string>>;
  readonly planted: readonly PlantedValue[];
  /** Edits to the format-neutral spec (identifiers, governance fields). */
  readonly spec?: (spec: TraceSpec) => void;
  /** Edits to the rendered record (format-specific structure). */
  readonly patch?: (record: Json) => void;
  /** Edits to the encoded JSON text (what a JSON tree cannot hold, e.g. a key given twice). */
  readonly raw?: (json: string) => string;
  /** The field label, when it is not the free-text field (identifiers). */
  readonly field?: string;
}

export interface Variant {
  readonly name: string;
  /** Formats this variant has (all three when absent). */
  readonly formats?: readonly CorpusFormat[];
  /** Records per format (the class's `samples` when absent). */
  readonly samples?: number;
  readonly expected?: Expectation;
  build(ctx: VariantContext): Built;
}

export interface CorpusClass {
  readonly id: string;
  readonly title: string;
  readonly stage: CorpusStage;
  /** Records per variant and format, each with fresh values and another field. */
  readonly samples: number;
  readonly expected: Expectation;
  readonly variants: readonly Variant[];
}

/** A variant that appends one disguised value to the record's free-text field. */
function freeText(name: string, make: (v: Values, ctx: VariantContext) => { surface: string; planted: PlantedValue }, lead = 'Contact details:'): Variant {
  return {
    name,
    build: (ctx) => {
      const { surface, planted } = make(ctx.values, ctx);
      return { texts: { [ctx.field]: `${lead} ${surface} thanks` }, planted: [planted] };
    },
  };
}

/** Free-text plant of a canonical value (found as written), next to a structural trick. */
function withCanonical(ctx: VariantContext): { texts: Partial<Record<TextField, string>>; planted: PlantedValue[] } {
  const { surface, planted } = canonicalPii(ctx.values, ctx.k);
  return { texts: { [ctx.field]: `Contact details: ${surface} thanks` }, planted: [planted] };
}

// Class 1: duplicate JSON member names, the restrictive value first and the permissive one last
// (JSON.parse keeps the last).

const DUP_MARK = '"__dup__":0';
const pair = (key: string, value: unknown) => `${JSON.stringify(key)}:${JSON.stringify(value)}`;
/** The key with its second character written as a \u escape: the same member name once parsed. */
const escapedKey = (key: string) => `"${key[0] ?? ''}\\u${key.charCodeAt(1).toString(16).padStart(4, '0')}${key.slice(2)}"`;
const camel = (snake: string) => snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

interface Governed {
  readonly field: 'consent' | 'data_region' | 'confidentiality';
  readonly otlpKey: string;
  readonly oneof: 'boolValue' | 'stringValue';
  readonly strict: boolean | string;
  readonly lenient: boolean | string;
  /** Where renderOtlp puts the attribute. */
  readonly onResource: boolean;
}

const GOVERNED: readonly Governed[] = [
  { field: 'consent', otlpKey: 'sial.consent', oneof: 'boolValue', strict: false, lenient: true, onResource: false },
  { field: 'data_region', otlpKey: 'sial.data_region', oneof: 'stringValue', strict: 'eu-central-1', lenient: 'us-east-1', onResource: true },
  { field: 'confidentiality', otlpKey: 'sial.confidentiality', oneof: 'stringValue', strict: 'restricted', lenient: 'internal', onResource: true },
];

/** Replaces the attribute `key` in a list (or appends) with `replacement`. */
function replaceAttribute(list: Json[], key: string, replacement: Json): void {
  const index = list.findIndex((a) => a.key === key);
  if (index === -1) list.push(replacement);
  else list.splice(index, 1, replacement);
}

const replaceMark = (replacement: string) => (json: string) => {
  if (json.split(DUP_MARK).length !== 2) throw new Error('the duplicate-key marker must occur exactly once');
  return json.replace(DUP_MARK, replacement);
};

function duplicateKeyVariants(): Variant[] {
  const variants: Variant[] = [];
  const add = (format: CorpusFormat, name: string, edit: (ctx: VariantContext) => Pick<Built, 'patch' | 'raw'>) =>
    variants.push({ name, formats: [format], build: (ctx) => ({ ...withCanonical(ctx), ...edit(ctx) }) });

  for (const g of GOVERNED) {
    const key = g.field;
    // Native: the top-level member twice.
    const nativeDup = (first: string, second: string) => () => ({
      patch: (o: Json) => {
        delete o[key];
        o.__dup__ = 0;
      },
      raw: replaceMark(`${first}:${JSON.stringify(g.strict)},${second}:${JSON.stringify(g.lenient)}`),
    });
    add('native', `${key} twice`, nativeDup(JSON.stringify(key), JSON.stringify(key)));
    add('native', `${key} twice, the first \\u-escaped`, nativeDup(escapedKey(key), JSON.stringify(key)));
    add('native', `${key} twice, the second \\u-escaped`, nativeDup(JSON.stringify(key), escapedKey(key)));

    // Langfuse: metadata as an object, or as a JSON string (unwrapped by the normaliser).
    const metaDup = (first: string, second: string, asString: boolean, drop = key) => () => ({
      patch: (o: Json) => {
        const meta = o.metadata as Json;
        delete meta[drop];
        meta.__dup__ = 0;
        if (asString) o.metadata = replaceMark(`${first}:${JSON.stringify(g.strict)},${second}:${JSON.stringify(g.lenient)}`)(JSON.stringify(meta));
      },
      ...(asString ? {} : { raw: replaceMark(`${first}:${JSON.stringify(g.strict)},${second}:${JSON.stringify(g.lenient)}`) }),
    });
    add('langfuse', `metadata.${key} twice`, metaDup(JSON.stringify(key), JSON.stringify(key), false));
    add('langfuse', `metadata.${key} twice, \\u-escaped`, metaDup(escapedKey(key), JSON.stringify(key), false));
    add('langfuse', `metadata (a JSON string) with ${key} twice`, metaDup(JSON.stringify(key), JSON.stringify(key), true));
    add('langfuse', `metadata (a JSON string) with ${key} twice, \\u-escaped`, metaDup(JSON.stringify(key), escapedKey(key), true));
    // The other spelling of the key (there is none for confidentiality).
    const alias = key === 'consent' ? 'userConsent' : camel(key);
    if (alias !== key) add('langfuse', `metadata.${alias} twice`, metaDup(JSON.stringify(alias), JSON.stringify(alias), false));

    // OTLP: the attribute's `value` twice, the AnyValue's oneof field twice, `key` twice, the attribute listed twice.
    const container = (o: Json) => (g.onResource ? otlpResource(o) : otlpSpan(o, OTLP_ROOT));
    const valueOf = (v: boolean | string) => JSON.stringify({ [g.oneof]: v });
    add('otlp', `${g.otlpKey}: value twice`, () => ({
      patch: (o) => replaceAttribute(container(o), g.otlpKey, { key: g.otlpKey, __dup__: 0 }),
      raw: replaceMark(`"value":${valueOf(g.strict)},"value":${valueOf(g.lenient)}`),
    }));
    add('otlp', `${g.otlpKey}: value twice, \\u-escaped`, () => ({
      patch: (o) => replaceAttribute(container(o), g.otlpKey, { key: g.otlpKey, __dup__: 0 }),
      raw: replaceMark(`"value":${valueOf(g.strict)},${escapedKey('value')}:${valueOf(g.lenient)}`),
    }));
    add('otlp', `${g.otlpKey}: ${g.oneof} twice`, () => ({
      patch: (o) => replaceAttribute(container(o), g.otlpKey, { key: g.otlpKey, value: { __dup__: 0 } }),
      raw: replaceMark(`${pair(g.oneof, g.strict)},${pair(g.oneof, g.lenient)}`),
    }));
    add('otlp', `${g.otlpKey}: ${g.oneof} twice, \\u-escaped`, () => ({
      patch: (o) => replaceAttribute(container(o), g.otlpKey, { key: g.otlpKey, value: { __dup__: 0 } }),
      raw: replaceMark(`${pair(g.oneof, g.strict)},${escapedKey(g.oneof)}:${JSON.stringify(g.lenient)}`),
    }));
    add('otlp', `${g.otlpKey}: key twice hides the restrictive span value`, () => ({
      patch: (o) => {
        // The permissive value on the resource; on the root span the restrictive one, renamed away by a second `key`.
        replaceAttribute(otlpResource(o), g.otlpKey, { key: g.otlpKey, value: { [g.oneof]: g.lenient } });
        const root = otlpSpan(o, OTLP_ROOT);
        const index = root.findIndex((a) => a.key === g.otlpKey);
        if (index !== -1) root.splice(index, 1);
        root.push({ __dup__: 0 });
      },
      raw: replaceMark(`"key":${JSON.stringify(g.otlpKey)},"value":${valueOf(g.strict)},"key":"sial.annotation"`),
    }));
    add('otlp', `${g.otlpKey}: the attribute listed twice`, () => ({
      patch: (o) => {
        const list = container(o);
        replaceAttribute(list, g.otlpKey, { key: g.otlpKey, value: { [g.oneof]: g.strict } });
        list.push({ key: g.otlpKey, value: { [g.oneof]: g.lenient } });
      },
    }));
    add('otlp', `${g.otlpKey}: the attribute listed twice, the second key \\u-escaped`, () => ({
      patch: (o) => {
        const list = container(o);
        replaceAttribute(list, g.otlpKey, { key: g.otlpKey, value: { [g.oneof]: g.strict } });
        list.push({ __dup__: 0 });
      },
      raw: replaceMark(`"key":${escapedKey(g.otlpKey)},"value":${valueOf(g.lenient)}`),
    }));
  }
  return variants;
}

// Class 2: personal data as identifiers (plus a copy in free text).

interface IdentifierValue {
  readonly name: string;
  make(v: Values): { value: string; planted: PlantedValue };
}

const IDENTIFIER_VALUES: readonly IdentifierValue[] = [
  {
    name: 'e-mail',
    make: (v) => {
      const email = v.email();
      return { value: email, planted: text('e-mail', email) };
    },
  },
  {
    name: 'phone',
    make: (v) => {
      const us = v.usPhone();
      return { value: group(us, [3, 3, 4], '-'), planted: number('phone', us) };
    },
  },
  {
    name: 'whatsapp phone',
    make: (v) => {
      const digits = v.unique(() => `1555${v.digits(7)}`);
      return { value: `whatsapp:+${digits}`, planted: number('whatsapp phone', digits) };
    },
  },
  {
    name: 'E.164 phone',
    make: (v) => {
      const digits = v.unique(() => `44${v.ukPhone()}`);
      return { value: `+${digits}`, planted: number('E.164 phone', digits) };
    },
  },
];

const IDENTIFIER_FIELDS: Readonly<Record<CorpusFormat, ReadonlyArray<{ field: string; set: (spec: TraceSpec, value: string) => void }>>> = {
  native: [
    { field: 'trace_id', set: (s, v) => (s.traceId = v) },
    { field: 'session_id', set: (s, v) => (s.sessionId = v) },
    { field: 'agent_id', set: (s, v) => (s.agentId = v) },
    { field: 'request_id', set: (s, v) => (s.requestId = v) },
    { field: 'tool_calls[].name', set: (s, v) => (s.toolName = v) },
    { field: 'model.name', set: (s, v) => (s.model.name = v) },
    { field: 'model.variant', set: (s, v) => (s.model.variant = v) },
  ],
  langfuse: [
    { field: 'id', set: (s, v) => (s.traceId = v) },
    { field: 'sessionId', set: (s, v) => (s.sessionId = v) },
    { field: 'name (agent id)', set: (s, v) => (s.agentId = v) },
    {
      field: 'metadata.agent_id',
      set: (s, v) => {
        s.agentId = v;
        s.placement.langfuseAgent = 'metadata.agent_id';
      },
    },
    { field: 'metadata.request_id', set: (s, v) => (s.requestId = v) },
    { field: 'TOOL observation name', set: (s, v) => (s.toolName = v) },
    { field: 'GENERATION model', set: (s, v) => (s.model.name = v) },
    { field: 'metadata.model_variant', set: (s, v) => (s.model.variant = v) },
  ],
  otlp: [
    { field: 'gen_ai.conversation.id', set: (s, v) => (s.sessionId = v) },
    {
      field: 'session.id',
      set: (s, v) => {
        s.sessionId = v;
        s.placement.otlpSession = 'session.id';
      },
    },
    {
      field: 'sial.agent.id',
      set: (s, v) => {
        s.agentId = v;
        s.placement.otlpAgent = 'sial.agent.id';
      },
    },
    { field: 'gen_ai.agent.id', set: (s, v) => (s.agentId = v) },
    {
      field: 'gen_ai.agent.name',
      set: (s, v) => {
        s.agentId = v;
        s.placement.otlpAgent = 'gen_ai.agent.name';
      },
    },
    { field: 'sial.request.id', set: (s, v) => (s.requestId = v) },
    { field: 'gen_ai.tool.name', set: (s, v) => (s.toolName = v) },
    {
      field: 'execute_tool span name',
      set: (s, v) => {
        s.toolName = v;
        s.placement.otlpTool = 'span name';
      },
    },
    { field: 'gen_ai.request.model', set: (s, v) => (s.model.name = v) },
    {
      field: 'gen_ai.response.model',
      set: (s, v) => {
        s.model.name = v;
        s.placement.otlpModel = 'gen_ai.response.model';
      },
    },
    { field: 'sial.model.variant', set: (s, v) => (s.model.variant = v) },
  ],
};

function identifierVariants(): Variant[] {
  return CORPUS_FORMATS.flatMap((format) =>
    IDENTIFIER_FIELDS[format].flatMap(({ field, set }) =>
      IDENTIFIER_VALUES.map(
        (idValue): Variant => ({
          name: `${idValue.name} as ${field}`,
          formats: [format],
          build: (ctx) => {
            const { value, planted } = idValue.make(ctx.values);
            return {
              field: `${field}+${ctx.field}`,
              spec: (spec) => set(spec, value),
              texts: { [ctx.field]: `Reference: ${value} thanks` },
              planted: [planted],
            };
          },
        }),
      ),
    ),
  );
}

// Class 3: structured PII written in variants the canonical patterns miss.

const DASHES: ReadonlyArray<[string, string]> = [
  ['U+2010 hyphen', '\u2010'],
  ['U+2011 non-breaking hyphen', '\u2011'],
  ['U+2012 figure dash', '\u2012'],
  ['U+2013 en dash', '\u2013'],
  ['U+2014 em dash', '\u2014'],
  ['U+2015 horizontal bar', '\u2015'],
  ['U+2212 minus sign', '\u2212'],
  ['U+FF0D full-width hyphen', '\uff0d'],
];

function structuredVariants(): Variant[] {
  return [
    freeText('full-width KR mobile', (v) => {
      const m = v.krMobile();
      return { surface: fullWidthDigits(krDashed(m)), planted: number('KR mobile', m) };
    }),
    freeText('full-width card', (v) => {
      const c = v.card();
      return { surface: fullWidthDigits(card4(c, ' ')), planted: number('card', c) };
    }),
    freeText('full-width US phone', (v) => {
      const us = v.usPhone();
      return { surface: fullWidthDigits(usGrouped(us)), planted: number('US phone', us) };
    }),
    freeText('international phone with U+00A0 separators', (v) => {
      const uk = v.ukPhone();
      return { surface: `+44\u00a0${ukSpaced(uk, '\u00a0')}`, planted: number('UK phone', `44${uk}`) };
    }),
    freeText('US phone with U+00A0 and U+202F separators', (v) => {
      const us = v.usPhone();
      return { surface: `(${us.slice(0, 3)})\u00a0${us.slice(3, 6)}\u202f${us.slice(6)}`, planted: number('US phone', us) };
    }),
    freeText('card grouped with U+202F', (v) => {
      const c = v.card();
      return { surface: card4(c, '\u202f'), planted: number('card', c) };
    }),
    freeText('SSN grouped with U+00A0', (v) => {
      const s = v.ssn();
      return { surface: ssnGrouped(s, '\u00a0'), planted: number('SSN', s) };
    }),
    freeText('IBAN grouped with U+00A0', (v) => {
      const i = v.iban();
      return { surface: iban4(i, '\u00a0'), planted: number('IBAN', i.slice(2)) };
    }),
    freeText('card grouped with dots', (v) => {
      const c = v.card();
      return { surface: card4(c, '.'), planted: number('card', c) };
    }),
    freeText('lower-case IBAN in groups', (v) => {
      const i = v.iban();
      return { surface: iban4(i, ' ').toLowerCase(), planted: number('IBAN', i.slice(2)) };
    }),
    freeText('lower-case IBAN, compact', (v) => {
      const i = v.iban();
      return { surface: i.toLowerCase(), planted: number('IBAN', i.slice(2)) };
    }),
    freeText('IBAN grouped with dashes', (v) => {
      const i = v.iban();
      return { surface: iban4(i, '-'), planted: number('IBAN', i.slice(2)) };
    }),
    freeText(
      'US phone without separators',
      (v) => {
        const us = v.usPhone();
        return { surface: us, planted: number('US phone', us) };
      },
      'Call me back on',
    ),
    freeText('UK phone in 0044 form', (v) => {
      const uk = v.ukPhone();
      return { surface: `0044 ${ukSpaced(uk)}`, planted: number('UK phone', `44${uk}`) };
    }),
    freeText('UK phone in 0044 form, compact', (v) => {
      const uk = v.ukPhone();
      return { surface: `0044${uk}`, planted: number('UK phone', `44${uk}`) };
    }),
    freeText('UK phone in national 020 form', (v) => {
      const uk = v.ukPhone();
      return { surface: `0${ukSpaced(uk)}`, planted: number('UK phone', uk) };
    }),
    freeText('UK phone in national form, compact', (v) => {
      const uk = v.ukPhone();
      return { surface: `0${uk}`, planted: number('UK phone', uk) };
    }),
    freeText('SSN with dots', (v) => {
      const s = v.ssn();
      return { surface: ssnGrouped(s, '.'), planted: number('SSN', s) };
    }),
    freeText('KR RRN with spaces around the dash', (v) => {
      const r = v.rrn();
      return { surface: rrnDashed(r, ' - '), planted: number('KR RRN', r) };
    }),
    freeText('KR RRN with two spaces', (v) => {
      const r = v.rrn();
      return { surface: rrnDashed(r, '  '), planted: number('KR RRN', r) };
    }),
    ...DASHES.map(([name, dash]) =>
      freeText(`KR RRN with ${name}`, (v) => {
        const r = v.rrn();
        return { surface: rrnDashed(r, dash), planted: number('KR RRN', r) };
      }),
    ),
    freeText('URL-encoded e-mail in a query string', (v) => {
      const email = v.email();
      return { surface: `https://crm.example.net/lookup?email=${email.replace('@', '%40')}&src=chat`, planted: text('e-mail', email) };
    }),
    freeText('URL-encoded international phone in a query string', (v) => {
      const uk = v.ukPhone();
      return { surface: `https://crm.example.net/callback?phone=%2B44${uk}&lang=en`, planted: number('UK phone', `44${uk}`) };
    }),
    freeText('URL-encoded spaced phone in a query string', (v) => {
      const uk = v.ukPhone();
      return { surface: `https://crm.example.net/callback?tel=%2B44%20${ukSpaced(uk, '%20')}`, planted: number('UK phone', `44${uk}`) };
    }),
    freeText('e-mail with an internationalised Latin domain', (v) => {
      const email = v.email('bücher.de');
      return { surface: email, planted: text('e-mail', email) };
    }),
    freeText('e-mail with an internationalised local part', (v) => {
      const { first, last } = v.uniquePerson();
      const email = `${first.toLowerCase()}.${last.toLowerCase()}ü@münchen.example`;
      return { surface: email, planted: text('e-mail', email) };
    }),
    freeText('e-mail in CJK script', (v) => {
      const email = v.unique(() => `${v.pick(['用户', '王秀英', '李明', '陈静', '张伟', '刘洋', '赵磊', '孙丽', '周敏', '吴军'])}@例子.广告`);
      return { surface: email, planted: text('e-mail', email) };
    }),
  ];
}

// Class 4: deliberate evasions.

const ZERO_WIDTH: ReadonlyArray<[string, string]> = [
  ['U+200B zero-width space', '\u200b'],
  ['U+200C zero-width non-joiner', '\u200c'],
  ['U+200D zero-width joiner', '\u200d'],
  ['U+2060 word joiner', '\u2060'],
  ['U+FEFF zero-width no-break space', '\ufeff'],
  ['U+00AD soft hyphen', '\u00ad'],
];

/** An e-mail split at a position chosen by the PRNG: inside the local part, either side of `@`, or inside the domain. */
function splitEmail(v: Values, email: string, insert: string): string {
  const at = email.indexOf('@');
  const positions = [Math.max(1, Math.floor(at / 2)), at, at + 1, at + 3];
  const position = v.pick(positions);
  return `${email.slice(0, position)}${insert}${email.slice(position)}`;
}

const CYRILLIC_LOOK_ALIKE: Readonly<Record<string, string>> = { a: '\u0430', e: '\u0435', o: '\u043e' };

function evasionVariants(): Variant[] {
  const emailWith = (name: string, disguise: (email: string, v: Values) => string) =>
    freeText(name, (v) => {
      const email = v.email();
      return { surface: disguise(email, v), planted: text('e-mail', email) };
    });
  const local = (email: string) => email.slice(0, email.indexOf('@'));
  const domain = (email: string) => email.slice(email.indexOf('@') + 1);
  return [
    ...ZERO_WIDTH.map(([name, char]) => emailWith(`${name} inside an e-mail`, (email, v) => splitEmail(v, email, char))),
    freeText('U+200B inside a card number', (v) => {
      const c = v.card();
      return { surface: `${c.slice(0, 6)}\u200b${c.slice(6)}`, planted: number('card', c) };
    }),
    freeText('soft hyphens between card groups', (v) => {
      const c = v.card();
      return { surface: card4(c, '\u00ad'), planted: number('card', c) };
    }),
    freeText('U+FEFF inside a grouped card number', (v) => {
      const c = v.card();
      return { surface: card4(c, ' ').replace(' ', ' \ufeff'), planted: number('card', c) };
    }),
    freeText('U+2060 inside an IBAN', (v) => {
      const i = v.iban();
      return { surface: `${i.slice(0, 8)}\u2060${i.slice(8)}`, planted: number('IBAN', i.slice(2)) };
    }),
    emailWith('Cyrillic а in the domain', (email) => `${local(email)}@ex\u0430mple.com`),
    emailWith('Greek ο in the top-level domain', (email) => `${local(email)}@example.c\u03bfm`),
    emailWith('Cyrillic look-alike in the local part', (email) => `${local(email).replace(/[aeo]/, (c) => CYRILLIC_LOOK_ALIKE[c] ?? c)}@${domain(email)}`),
    emailWith('full-width ＠', (email) => `${local(email)}\uff20${domain(email)}`),
    emailWith('the whole e-mail in full-width forms', (email) => fullWidthAscii(email)),
    emailWith('&#64; for @', (email) => `${local(email)}&#64;${domain(email)}`),
    emailWith('&#x40; for @', (email) => `${local(email)}&#x40;${domain(email)}`),
    emailWith('&commat; for @', (email) => `${local(email)}&commat;${domain(email)}`),
    emailWith('a literal \\u0040 for @', (email) => `${local(email)}\\u0040${domain(email)}`),
    emailWith('"dot" and "at" spelled out', (email) => `${local(email).split('.').join(' dot ')} at ${domain(email).split('.').join(' dot ')}`),
    emailWith('[at] and [dot]', (email) => `${local(email)}[at]${domain(email).split('.').join('[dot]')}`),
    emailWith('(at) and (dot) with spaces', (email) => `${local(email)} (at) ${domain(email).split('.').join(' (dot) ')}`),
    emailWith('spaces around @', (email) => `${local(email)} @ ${domain(email)}`),
    emailWith('a newline after @', (email) => `${local(email)}@\n${domain(email)}`),
    emailWith('a newline before @', (email) => `${local(email)}\n@${domain(email)}`),
    freeText('a card number split over two lines', (v) => {
      const c = v.card();
      return { surface: `${c.slice(0, 4)} ${c.slice(4, 8)}\n${c.slice(8, 12)} ${c.slice(12)}`, planted: number('card', c) };
    }),
    freeText('a phone number split over two lines', (v) => {
      const uk = v.ukPhone();
      return { surface: `+44 ${uk.slice(0, 2)}\n${uk.slice(2, 6)} ${uk.slice(6)}`, planted: number('UK phone', `44${uk}`) };
    }),
    freeText('an IBAN split over two lines', (v) => {
      const i = v.iban();
      return { surface: `${iban4(i, ' ').slice(0, 14)}\n${iban4(i, ' ').slice(15)}`, planted: number('IBAN', i.slice(2)) };
    }),
    emailWith('a lone high surrogate before @', (email) => `${local(email)}\ud800@${domain(email)}`),
    emailWith('a lone low surrogate after @', (email) => `${local(email)}@\udc00${domain(email)}`),
    emailWith('NUL before @', (email) => `${local(email)}\u0000@${domain(email)}`),
    emailWith('NUL after @', (email) => `${local(email)}@\u0000${domain(email)}`),
  ];
}

// Class 5: Korean traces with English names and structured PII (prod-kr).

const NAME_CUES = ['My name is', 'I am', 'This is', "I'm"] as const;

function koreanVariants(): Variant[] {
  const korean = (name: string, make: (v: Values) => { surface: string; planted: PlantedValue }): Variant => ({
    name,
    build: (ctx) => {
      const { surface, planted } = make(ctx.values);
      const { first, last } = ctx.values.uniquePerson();
      const cue = NAME_CUES[ctx.k % NAME_CUES.length] ?? 'My name is';
      return {
        field: `${ctx.field}+name:${ctx.second}`,
        texts: {
          [ctx.field]: `고객 연락처: ${surface} 입니다.`,
          [ctx.second]: `고객 메모: ${cue} ${first} ${last}, I live at Baker Street, London. 감사합니다.`,
        },
        planted: [planted, text('English name', `${first} ${last}`)],
      };
    },
  });
  return [
    korean('KR mobile', (v) => {
      const m = v.krMobile();
      return { surface: krDashed(m), planted: number('KR mobile', m) };
    }),
    korean('KR mobile without separators', (v) => {
      const m = v.krMobile();
      return { surface: m, planted: number('KR mobile', m) };
    }),
    korean('full-width KR mobile', (v) => {
      const m = v.krMobile();
      return { surface: fullWidthDigits(krDashed(m)), planted: number('KR mobile', m) };
    }),
    korean('KR mobile in +82 form', (v) => {
      const m = v.krMobile();
      return { surface: `+82 ${m.slice(1, 3)}-${m.slice(3, 7)}-${m.slice(7)}`, planted: number('KR mobile', `82${m.slice(1)}`) };
    }),
    korean('Seoul landline', (v) => {
      const s = v.krSeoul();
      return { surface: group(s, [2, 4, 4], '-'), planted: number('Seoul landline', s) };
    }),
    korean('KR RRN', (v) => {
      const r = v.rrn();
      return { surface: rrnDashed(r, '-'), planted: number('KR RRN', r) };
    }),
    korean('KR RRN with an en dash', (v) => {
      const r = v.rrn();
      return { surface: rrnDashed(r, '\u2013'), planted: number('KR RRN', r) };
    }),
    korean('KR RRN with a full-width hyphen', (v) => {
      const r = v.rrn();
      return { surface: rrnDashed(r, '\uff0d'), planted: number('KR RRN', r) };
    }),
    korean('KR RRN with a minus sign', (v) => {
      const r = v.rrn();
      return { surface: rrnDashed(r, '\u2212'), planted: number('KR RRN', r) };
    }),
    korean('e-mail', (v) => {
      const email = v.email();
      return { surface: email, planted: text('e-mail', email) };
    }),
    korean('card number', (v) => {
      const c = v.card();
      return { surface: card4(c, '-'), planted: number('card', c) };
    }),
    korean('card grouped with dots', (v) => {
      const c = v.card();
      return { surface: card4(c, '.'), planted: number('card', c) };
    }),
    korean('e-mail with a zero-width space', (v) => {
      const email = v.email();
      return { surface: splitEmail(v, email, '\u200b'), planted: text('e-mail', email) };
    }),
    korean('URL-encoded e-mail', (v) => {
      const email = v.email();
      return { surface: `https://crm.example.net/lookup?email=${email.replace('@', '%40')}`, planted: text('e-mail', email) };
    }),
  ];
}

// Class 6: what real Langfuse exports carry, and consent withheld below the trace level.

function exportQuirkVariants(): Variant[] {
  const delivered = (rule: string, row: readonly RowRule[]): Expectation => ({ oneOf: ['traces'], rule, row });
  const consentWithheld: Expectation = { oneOf: ['audit:consent'], rule: 'consent withheld on any observation discards the trace (audited)' };
  const quirk = (name: string, formats: readonly CorpusFormat[], expected: Expectation, patch: (o: Json, ctx: VariantContext) => PlantedValue[] | void, samples?: number): Variant => ({
    name,
    formats,
    expected,
    ...(samples === undefined ? {} : { samples }),
    build: (ctx) => {
      const base = withCanonical(ctx);
      const extra: PlantedValue[] = [];
      return {
        ...base,
        patch: (o) => {
          extra.push(...(patch(o, ctx) ?? []));
        },
        get planted() {
          return [...base.planted, ...extra];
        },
      };
    },
  });
  const textScore = (o: Json, ctx: VariantContext, value: number | null): PlantedValue[] => {
    const email = ctx.values.email();
    o.scores = [
      {
        id: 'score-1',
        traceId: o.id,
        name: 'user_feedback',
        source: 'API',
        dataType: 'TEXT',
        value,
        stringValue: `Great help, thanks! Write to me at ${email} if anything changes.`,
        comment: null,
        observationId: null,
        timestamp: new Date(BASE_MS + 3_600_000).toISOString(),
      },
    ];
    return [text('e-mail in a TEXT score', email)];
  };
  const observationConsent = (type: string, metadata: unknown) => (o: Json) => {
    langfuseObservation(o, type).metadata = metadata;
  };
  // A cost the producer did not send (or sent as Langfuse's -1) is unknown: never kept as sent; the gate
  // may price the trace's tokens from the stage's price table instead, so it is empty or a real cost.
  const unknown = 'an unknown value is read as unknown: the trace is delivered';
  return [
    quirk('latency -1', ['langfuse'], delivered(unknown, [{ column: 'latency_ms', is: 'null-or-non-negative' }]), (o) => {
      o.latency = -1;
    }),
    quirk('totalCost -1', ['langfuse'], delivered(unknown, [{ column: 'cost_usd', is: 'null-or-non-negative' }]), (o) => {
      o.totalCost = -1;
    }),
    quirk('latency -1 and totalCost -1', ['langfuse'], delivered(unknown, [{ column: 'latency_ms', is: 'null-or-non-negative' }, { column: 'cost_usd', is: 'null-or-non-negative' }]), (o) => {
      o.latency = -1;
      o.totalCost = -1;
    }),
    quirk('user_feedback score of dataType TEXT (value null)', ['langfuse'], delivered(unknown, [{ column: 'feedback_outcome', is: 'null' }]), (o, ctx) => textScore(o, ctx, null)),
    quirk('user_feedback score of dataType TEXT (value 0)', ['langfuse'], delivered(unknown, [{ column: 'feedback_outcome', is: 'null' }]), (o, ctx) => textScore(o, ctx, 0)),
    quirk(
      'latency -1, totalCost -1 and a TEXT user_feedback score',
      ['langfuse'],
      delivered(unknown, [
        { column: 'latency_ms', is: 'null-or-non-negative' },
        { column: 'cost_usd', is: 'null-or-non-negative' },
        { column: 'feedback_outcome', is: 'null' },
      ]),
      (o, ctx) => {
        o.latency = -1;
        o.totalCost = -1;
        return textScore(o, ctx, null);
      },
    ),
    quirk('GENERATION metadata.consent false under trace consent true', ['langfuse'], consentWithheld, observationConsent('GENERATION', { consent: false })),
    quirk('TOOL metadata.consent "false" under trace consent true', ['langfuse'], consentWithheld, observationConsent('TOOL', { consent: 'false' })),
    quirk('RETRIEVER metadata.consent false under trace consent true', ['langfuse'], consentWithheld, observationConsent('RETRIEVER', { consent: false, source: 'kb' })),
    quirk('GENERATION metadata (a JSON string) with consent false', ['langfuse'], consentWithheld, observationConsent('GENERATION', JSON.stringify({ consent: false }))),
    quirk('SPAN observation metadata.consent false', ['langfuse'], consentWithheld, (o) => {
      (o.observations as Json[]).unshift({
        id: 'obs-span',
        type: 'SPAN',
        name: 'handle-request',
        startTime: new Date(Date.parse(o.timestamp as string) + 1).toISOString(),
        endTime: new Date(Date.parse(o.timestamp as string) + 845).toISOString(),
        metadata: { consent: false },
        level: 'DEFAULT',
        statusMessage: null,
      });
    }),
    quirk(
      'tool span sial.consent false under resource consent true',
      ['otlp'],
      { oneOf: ['failed', 'audit:consent'], rule: 'consent withheld on any span is never overridden by a permissive value elsewhere' },
      (o) => {
        const root = otlpSpan(o, OTLP_ROOT);
        root.splice(
          root.findIndex((a) => a.key === 'sial.consent'),
          1,
        );
        otlpResource(o).push(attr('sial.consent', { boolValue: true }));
        otlpSpan(o, OTLP_TOOL).push(attr('sial.consent', { boolValue: false }));
      },
      2,
    ),
    quirk(
      'chat span sial.consent "false" under root span consent true',
      ['otlp'],
      { oneOf: ['failed', 'audit:consent'], rule: 'consent withheld on any span is never overridden by a permissive value elsewhere' },
      (o) => {
        otlpSpan(o, OTLP_CHAT).push(attr('sial.consent', str('false')));
      },
      2,
    ),
    quirk('no cost and no feedback', ['otlp'], delivered(unknown, [{ column: 'cost_usd', is: 'null-or-non-negative' }, { column: 'feedback_outcome', is: 'null' }]), () => undefined, 2),
    quirk(
      'no latency, cost or feedback',
      ['native'],
      delivered(unknown, [
        { column: 'latency_ms', is: 'null' },
        { column: 'cost_usd', is: 'null' },
        { column: 'feedback_outcome', is: 'null' },
      ]),
      (o) => {
        delete o.latency_ms;
        o.usage = {};
      },
      3,
    ),
    quirk('no token counts', ['native'], delivered(unknown, [{ column: 'input_tokens', is: 'null' }]), (o) => {
      o.usage = { cost_usd: 0.0004 };
    }, 3),
  ];
}

/** The classes of the corpus: adding a class is adding one entry. */
export const CLASSES: readonly CorpusClass[] = [
  {
    id: 'C1',
    title: 'duplicate JSON member names (restrictive value first, permissive last)',
    stage: 'dev',
    samples: 1,
    expected: { oneOf: ['failed'], rule: 'any duplicate member name is a schema failure (ProcessingFailed), never read as the last value' },
    variants: duplicateKeyVariants(),
  },
  {
    id: 'C2',
    title: 'personal data used as an identifier',
    stage: 'dev',
    samples: 1,
    expected: { oneOf: ['failed', 'traces'], rule: 'an identifier holding personal data is refused, or kept only hashed' },
    variants: identifierVariants(),
  },
  {
    id: 'C3',
    title: 'structured PII written in variant forms',
    stage: 'dev',
    samples: 2,
    expected: { rule: 'masked or discarded, never written in clear' },
    variants: structuredVariants(),
  },
  {
    id: 'C4',
    title: 'deliberate evasions of the e-mail and number patterns',
    stage: 'dev',
    samples: 2,
    expected: { rule: 'masked or discarded, never written in clear' },
    variants: evasionVariants(),
  },
  {
    id: 'C5',
    title: 'Korean traces with English names and structured PII (prod-kr)',
    stage: 'prod-kr',
    samples: 2,
    expected: { rule: 'structured values and recognisable Latin-script names never written in clear' },
    variants: koreanVariants(),
  },
  {
    id: 'C6',
    title: 'real Langfuse export quirks and consent withheld below the trace',
    stage: 'dev',
    samples: 1,
    expected: { rule: 'see each variant' },
    variants: exportQuirkVariants(),
  },
];

/** The seed of the corpus: another seed draws other values, and a corpus of the same shape. */
export const CORPUS_SEED = 20261120;

function encode(format: CorpusFormat, spec: TraceSpec, built?: Built): Buffer {
  const record = RENDER[format](spec);
  built?.patch?.(record);
  let json = JSON.stringify(record);
  if (built?.raw) json = built.raw(json);
  return Buffer.from(json, 'utf8');
}

/** Builds the corpus: every class, variant, format and sample, in a stable order. */
export function adversarialPiiCorpus(seed = CORPUS_SEED): AdversarialRecord[] {
  const values = new Values(seededRandom(seed));
  const records: AdversarialRecord[] = [];
  for (const cls of CLASSES) {
    CORPUS_FORMATS.forEach((format, formatIndex) => {
      let k = 0;
      for (const variant of cls.variants) {
        if (variant.formats !== undefined && !variant.formats.includes(format)) continue;
        const samples = variant.samples ?? cls.samples;
        for (let sample = 0; sample < samples; sample += 1, k += 1) {
          const serial = records.length;
          const field = TEXT_FIELDS[(k + formatIndex) % TEXT_FIELDS.length] ?? 'user';
          const second = TEXT_FIELDS[(k + formatIndex + 3) % TEXT_FIELDS.length] ?? 'output';
          const ctx: VariantContext = { values, format, stage: cls.stage, field, second, k };
          const built = variant.build(ctx);
          const spec = baseSpec(cls.stage, `adv-${cls.id.toLowerCase()}-${serial}`, `ad${serial.toString(16).padStart(30, '0')}`, serial);
          built.spec?.(spec);
          for (const [name, plant] of Object.entries(built.texts ?? {}) as Array<[TextField, string]>) spec.texts[name] = `${spec.texts[name]}\n${plant}`;
          const data = encode(format, spec, built);
          const fieldLabel = built.field ?? field;
          records.push({
            name: `${cls.id} ${format} ${fieldLabel} #${serial} ${variant.name}`,
            classId: cls.id,
            format,
            field: fieldLabel,
            variant: variant.name,
            stage: cls.stage,
            data,
            planted: built.planted,
            expected: variant.expected ?? cls.expected,
          });
        }
      }
    });
  }
  return records;
}

/** A good neighbour: a clean trace of the stage in the given format, with a benign session id. */
export function goodNeighbour(stage: CorpusStage, format: CorpusFormat, index: number): Buffer {
  return plainRecord(stage, format, `nb-${stage}-${index}`, index);
}

/** A valid trace of the stage in the given format whose free-text fields get `plants` appended. */
export function plainRecord(stage: CorpusStage, format: CorpusFormat, id: string, index: number, plants: Partial<Record<TextField, string>> = {}): Buffer {
  const spec = baseSpec(stage, id, `ee${index.toString(16).padStart(30, '0')}`, index);
  spec.sessionId = `conv-neighbour-${stage}`;
  for (const [name, plant] of Object.entries(plants) as Array<[TextField, string]>) spec.texts[name] = `${spec.texts[name]}\n${plant}`;
  return encode(format, spec);
}

/** One value of every structured kind in its canonical form, which the pattern detector finds as written. */
export function canonicalSamples(values: Values): Array<{ surface: string; planted: PlantedValue }> {
  const email = values.email();
  const us = values.usPhone();
  const uk = values.ukPhone();
  const card = values.card();
  const iban = values.iban();
  const ssn = values.ssn();
  const rrn = values.rrn();
  const kr = values.krMobile();
  return [
    { surface: email, planted: text('e-mail', email) },
    { surface: usGrouped(us), planted: number('US phone', us) },
    { surface: `+44 ${ukSpaced(uk)}`, planted: number('UK phone', `44${uk}`) },
    { surface: card4(card, ' '), planted: number('card', card) },
    { surface: iban4(iban, ' '), planted: number('IBAN', iban.slice(2)) },
    { surface: ssnGrouped(ssn, '-'), planted: number('SSN', ssn) },
    { surface: rrnDashed(rrn, '-'), planted: number('KR RRN', rrn) },
    { surface: krDashed(kr), planted: number('KR mobile', kr) },
  ];
}
