/**
 * A corpus of malformed and hostile Firehose records, each with the outcome it must get:
 * `failed` (ProcessingFailed, a schema-level problem), or `audit:<gate>` (well-formed but discarded by
 * that gate, written as a content-free audit row). Every entry is interleaved with good neighbours by
 * the tests, which must all be delivered.
 */
import { makeTrace } from './trace-factory';

export type Expected = 'failed' | 'audit:region' | 'audit:consent' | 'audit:confidentiality' | 'audit:pii';

export interface HostileRecord {
  readonly name: string;
  readonly data: Buffer;
  readonly expected: Expected;
  /** Machine code the reason must start with, where it is ours to fix (not the normaliser's detail). */
  readonly reasonCode?: string;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const raw = (text: string): Buffer => Buffer.from(text, 'utf8');

function validTraceJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(JSON.parse(JSON.stringify(makeTrace())) as Record<string, unknown>), ...overrides };
}

function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

export function hostileCorpus(): HostileRecord[] {
  const corpus: HostileRecord[] = [];
  const add = (name: string, data: Buffer, expected: Expected, reasonCode?: string) =>
    corpus.push({ name, data, expected, ...(reasonCode ? { reasonCode } : {}) });

  // Broken JSON.
  const broken = [
    '{',
    '{"trace_id": "x"',
    '{"trace_id": "x",}',
    "{'trace_id': 'x'}",
    '{"a": NaN}',
    '{"a": undefined}',
    '{"a": 1} // comment',
    '{"a": 1}{"b": 2}',
    '[1, 2,]',
    '   ',
    'not json at all',
    '{"a": "unterminated}',
    '{"a": 01}',
    '{"a": .5}',
    '\u0000{"a": 1}',
    '{"a":\u0001 1}',
    '{"a": "\\x41"}',
    '{"a": "\\u12"}',
    ']',
    '{"a" 1}',
  ];
  broken.forEach((text, i) => add(`broken JSON #${i + 1}`, raw(text), 'failed', i === 9 ? undefined : 'invalid_json'));

  // Invalid UTF-8.
  const badBytes = [
    [0x80],
    [0xc3, 0x28],
    [0xa0, 0xa1],
    [0xe2, 0x28, 0xa1],
    [0xe2, 0x82, 0x28],
    [0xf0, 0x28, 0x8c, 0xbc],
    [0xf8, 0xa1, 0xa1, 0xa1, 0xa1],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xff, 0xfe],
  ];
  badBytes.forEach((bytes, i) =>
    add(`invalid UTF-8 #${i + 1}`, Buffer.concat([raw('{"trace_id":"'), Buffer.from(bytes), raw('"}')]), 'failed', 'invalid_utf8'),
  );

  // Not JSON objects, or not any known format.
  for (const value of [null, 42, 'a string', true, [], [validTraceJson()], {}, { hello: 'world' }, { resourceSpans: 'nope' }, { observations: 7 }]) {
    add(`not a trace: ${JSON.stringify(value).slice(0, 30)}`, json(value), 'failed');
  }

  // Wrong types and invalid values in an otherwise valid native trace.
  const wrong: Array<[string, Record<string, unknown>]> = [
    ['trace_id is a number', { trace_id: 12345 }],
    ['trace_id is empty', { trace_id: '' }],
    ['trace_id has spaces', { trace_id: 'a b' }],
    ['trace_id has a newline', { trace_id: 'a\nb' }],
    ["trace_id is SQL", { trace_id: "x'; DROP TABLE traces;--" }],
    ['trace_id too long', { trace_id: 'x'.repeat(300) }],
    ['timestamp is a boolean', { timestamp: true }],
    ['timestamp is garbage', { timestamp: 'yesterday' }],
    ['timestamp month 13', { timestamp: '2026-13-01T00:00:00Z' }],
    ['agent_id is an array', { agent_id: ['a'] }],
    ['model is a string', { model: 'qwen3' }],
    ['model without name', { model: { family: 'qwen3', version: '1', variant: 'current' } }],
    ['consent is a string', { consent: 'yes' }],
    ['consent is 1', { consent: 1 }],
    ['input_messages is an object', { input_messages: { role: 'user' } }],
    ['message role unknown', { input_messages: [{ role: 'hacker', content: 'x' }] }],
    ['message content a number', { input_messages: [{ role: 'user', content: 5 }] }],
    ['latency negative', { latency_ms: -1 }],
    ['tokens fractional', { usage: { input_tokens: 1.5 } }],
    ['feedback quality 11', { feedback: { quality: 11 } }],
    ['feedback outcome unknown', { feedback: { outcome: 'meh' } }],
    ['tool call status unknown', { tool_calls: [{ name: 't', arguments: '{}', status: 'maybe' }] }],
    ['confidentiality unknown', { confidentiality: 'top-secret' }],
    ['error is a string', { error: 'false' }],
    ['output is null', { output: null }],
    ['tool_calls not an array', { tool_calls: 'search' }],
    ['context is a number', { retrieved_contexts: [42] }],
    ['usage is an array', { usage: [1, 2] }],
    ['misrouted is a string', { route: { tier: 'small', misrouted: 'no' } }],
    ['language is not a code', { language: 'English!' }],
    ['request_id empty', { request_id: '' }],
    ['session_id is an object', { session_id: { id: 1 } }],
    ['feedback is a string', { feedback: 'great' }],
  ];
  for (const [name, overrides] of wrong) add(name, json(validTraceJson(overrides)), 'failed');

  // Huge fields and oversized records.
  add('output over the field limit', json(validTraceJson({ output: 'a'.repeat(210_000) })), 'failed');
  add('record over 1,000 KiB', json(validTraceJson({ output: 'b'.repeat(1_100_000) })), 'failed', 'record_too_large');
  add('600 messages', json(validTraceJson({ input_messages: Array.from({ length: 600 }, () => ({ role: 'user', content: 'hi' })) })), 'failed');
  add('300 contexts', json(validTraceJson({ retrieved_contexts: Array.from({ length: 300 }, () => 'ctx') })), 'failed');
  add('huge number', raw(JSON.stringify(validTraceJson()).replace('"latency_ms":800', '"latency_ms":1e400')), 'failed');

  // Deep nesting.
  add('nesting 100', raw(nested(100)), 'failed', 'too_deeply_nested');
  add('nesting 100,000 arrays', raw('['.repeat(100_000) + ']'.repeat(100_000)), 'failed', 'too_deeply_nested');
  add('nesting 70 inside a trace', raw(JSON.stringify(validTraceJson()).replace('"usage":{', `"extra":${nested(70)},"usage":{`)), 'failed', 'too_deeply_nested');
  add('nested junk field', json(validTraceJson({ extra: { a: { b: { c: 1 } } } })), 'failed');
  add('nesting 64 exactly but not a trace', raw(nested(63)), 'failed');

  // Prototype pollution attempts: must be refused (or ignored) and must never pollute Object.prototype.
  add('__proto__ at top level', raw(JSON.stringify(validTraceJson()).replace('{', '{"__proto__":{"polluted":true},')), 'failed');
  add('__proto__ in model', raw(JSON.stringify(validTraceJson()).replace('"model":{', '"model":{"__proto__":{"polluted":true},')), 'failed');
  add('constructor.prototype', raw(JSON.stringify(validTraceJson()).replace('{', '{"constructor":{"prototype":{"polluted":true}},')), 'failed');
  add('__proto__ only', raw('{"__proto__":{"polluted":true}}'), 'failed');
  add('__proto__ in usage', raw(JSON.stringify(validTraceJson()).replace('"usage":{', '"usage":{"__proto__":{"polluted":true},')), 'failed');
  add('prototype key', json(validTraceJson({ prototype: { polluted: true } })), 'failed');
  add('__proto__ in langfuse metadata', json({ id: 'lf-x', timestamp: '2026-11-20T10:00:00Z', observations: [], metadata: JSON.parse('{"__proto__":{"polluted":true}}') }), 'failed');
  add('__proto__ in otlp attributes', json({ resourceSpans: [{ resource: { attributes: [{ key: '__proto__', value: { stringValue: 'x' } }] }, scopeSpans: [] }] }), 'failed');

  // Repeated member names: JSON.parse keeps the last value, so each must fail rather than be read.
  const validText = (): string => JSON.stringify(validTraceJson());
  const repeat = (anchor: string, extra: string): Buffer => raw(validText().replace(anchor, `${extra}${anchor}`));
  add('consent given twice (false, then true)', repeat('"consent":true', '"consent":false,'), 'failed', 'duplicate_key');
  add('consent given twice, the second escaped', repeat('"consent":true', '"cons\\u0065nt":false,'), 'failed', 'duplicate_key');
  add('data_region given twice', repeat('"data_region":', '"data_region":"eu-west-1",'), 'failed', 'duplicate_key');
  add('confidentiality given twice', repeat('"confidentiality":', '"confidentiality":"restricted",'), 'failed', 'duplicate_key');
  add('a key repeated deep in a message', repeat('"role":"user"', '"role":"system",'), 'failed', 'duplicate_key');
  add('__proto__ given twice', raw(validText().replace('{', '{"__proto__":{"polluted":1},"__proto__":{"polluted":2},')), 'failed', 'duplicate_key');
  add('an e-mail key repeated', raw(validText().replace('{', '{"x":{"jane.doe@example.com":1,"jane.doe@example.com":2},')), 'failed', 'duplicate_key');
  add('an e-mail as an unknown key', json(validTraceJson({ 'jane.doe@example.com': true } as Record<string, unknown>)), 'failed', 'invalid_field');
  add(
    'consent given twice in Langfuse metadata sent as JSON text',
    json({ id: 'lf-dup', timestamp: '2026-11-20T10:00:00Z', observations: [], metadata: '{"consent": false, "consent": true}' }),
    'failed',
    'duplicate_key',
  );
  add(
    'an OTLP attribute giving its value twice',
    raw('{"resourceSpans":[{"resource":{"attributes":[{"key":"sial.consent","value":{"boolValue":false},"value":{"boolValue":true}}]},"scopeSpans":[]}]}'),
    'failed',
    'duplicate_key',
  );

  // Well-formed but governed out: content-free audit rows.
  add('missing consent', json(validTraceJson({ consent: undefined })), 'audit:consent', 'missing_consent');
  add('consent false', json(validTraceJson({ consent: false })), 'audit:consent', 'consent_withheld');
  add('consent false, EU boundary label', json(validTraceJson({ consent: false, data_region: 'US' })), 'audit:consent', 'consent_withheld');
  add('unknown region', json(validTraceJson({ data_region: 'mars-north-1' })), 'audit:region', 'unknown_region');
  add('missing region', json(validTraceJson({ data_region: undefined })), 'audit:region', 'missing_region');
  add('EU region in the US stage', json(validTraceJson({ data_region: 'eu-central-1' })), 'audit:region', 'outside_boundary');
  add('KR region in the US stage', json(validTraceJson({ data_region: 'ap-northeast-2' })), 'audit:region', 'outside_boundary');
  add('region checked before consent', json(validTraceJson({ data_region: 'eu-west-1', consent: false })), 'audit:region', 'outside_boundary');
  add('restricted', json(validTraceJson({ confidentiality: 'restricted' })), 'audit:confidentiality', 'restricted');
  add('German text (no Comprehend, no pattern-only allowance)', json(validTraceJson({ language: 'de', output: 'Die Rückerstattung ist möglich.' })), 'audit:pii', 'unsupported_language');
  add('Korean text in a stage without pattern-only Korean', json(validTraceJson({ language: 'ko', output: '환불 가능합니다.' })), 'audit:pii', 'unsupported_language');
  add('French', json(validTraceJson({ language: 'fr' })), 'audit:pii', 'unsupported_language');

  return corpus;
}
