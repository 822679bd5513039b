/**
 * The input-format normalisers (lambdas/gate-score/normalize): every fixture under test/fixtures maps to
 * the expected Trace, and malformed or hostile records get an explained, content-free reason instead of
 * an exception.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_REASON_CHARS, NORMALIZE_ERROR_CODES, detectFormat, normalizeRecord, type NormalizeResult } from '../../lambdas/gate-score/normalize';
import { MAX_FIELD_CHARS, checkTrace, type Trace } from '../../lambdas/gate-score/trace';

const FIXTURES = join(__dirname, '..', 'fixtures');

/** Parsed fixture JSON. Tests reach deep into it to break one field at a time, so it is loosely typed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above; the normaliser under test takes `unknown` anyway
type FixtureJson = Record<string, any>;

/** A fresh parsed copy of a fixture, safe to mutate. */
function fixture(format: 'native' | 'langfuse' | 'otlp', name: string): FixtureJson {
  return JSON.parse(readFileSync(join(FIXTURES, format, name), 'utf8')) as FixtureJson;
}

function expectOk(result: NormalizeResult): Trace {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}`);
  return result.trace;
}

function expectFailure(result: NormalizeResult, code: (typeof NORMALIZE_ERROR_CODES)[number]): string {
  if (result.ok) throw new Error(`expected ${code}, got a trace`);
  expect(result.reason.startsWith(`${code}: `)).toBe(true);
  expect(result.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
  return result.reason;
}

describe('fixtures', () => {
  const all = (['native', 'langfuse', 'otlp'] as const).flatMap((format) =>
    readdirSync(join(FIXTURES, format))
      .filter((f) => f.endsWith('.json'))
      .map((name) => [format, name] as const),
  );

  it('has at least three fixtures per format', () => {
    for (const format of ['native', 'langfuse', 'otlp']) expect(all.filter(([f]) => f === format).length).toBeGreaterThanOrEqual(3);
  });

  it.each(all)('%s/%s normalises to a valid Trace in its own format', (format, name) => {
    const result = normalizeRecord(fixture(format, name));
    expect(result.ok && result.format).toBe(format);
    const trace = expectOk(result);
    expect(checkTrace(trace).ok).toBe(true);
    expect(trace.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Every fixture sets the governance fields the format's way.
    expect(trace.consent).toBe(true);
    expect(trace.data_region).toBeDefined();
    expect(trace.confidentiality).toBeDefined();
  });
});

describe('docs/trace-formats.md', () => {
  it('has examples of all three formats, and each one normalises', () => {
    const markdown = readFileSync(join(__dirname, '..', '..', 'docs', 'trace-formats.md'), 'utf8');
    const examples = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] ?? '') as unknown);
    const formats = examples.map((example) => {
      const result = normalizeRecord(example);
      expectOk(result);
      return result.format;
    });
    expect(formats.sort()).toEqual(['langfuse', 'native', 'otlp']);
  });
});

describe('native records', () => {
  it('maps the RAG answer, converting the +01:00 timestamp to UTC milliseconds', () => {
    const trace = expectOk(normalizeRecord(fixture('native', 'rag-answer.json')));
    expect(trace.trace_id).toBe('tr-2026-11-20-0001');
    expect(trace.timestamp).toBe('2026-11-20T09:15:02.125Z');
    expect(trace.model).toEqual({ family: 'qwen3', name: 'qwen3-4b-instruct', version: '2026-11-01', variant: 'current' });
    expect(trace.retrieved_contexts).toHaveLength(2);
    expect(trace.input_messages[1]?.content).toContain('jane.doe@example.com');
    expect(trace.usage).toEqual({ input_tokens: 412, output_tokens: 38, cost_usd: 0.00021 });
  });

  it('keeps a failed tool call as status error without marking the request an error', () => {
    const trace = expectOk(normalizeRecord(fixture('native', 'tool-calls-failed-tool.json')));
    expect(trace.tool_calls.map((t) => [t.name, t.status])).toEqual([
      ['get_order_status', 'ok'],
      ['cancel_order', 'error'],
    ]);
    expect(trace.error).toBe(false);
    expect(trace.route).toEqual({ tier: 'large', misrouted: false });
  });

  it('applies the documented defaults for omitted tool_calls and error, and keeps Korean text intact', () => {
    const trace = expectOk(normalizeRecord(fixture('native', 'feedback-ko.json')));
    expect(trace.tool_calls).toEqual([]);
    expect(trace.error).toBe(false);
    expect(trace.language).toBe('ko');
    expect(trace.feedback).toEqual({ outcome: 'success', quality: 9 });
    expect(trace.timestamp).toBe('2026-11-21T00:30:00.000Z');
    expect(trace.input_messages[0]?.content).toContain('010-1234-5678');
  });

  it('defaults retrieved_contexts and usage when absent', () => {
    const record = fixture('native', 'rag-answer.json');
    delete record.retrieved_contexts;
    delete record.usage;
    const trace = expectOk(normalizeRecord(record));
    expect(trace.retrieved_contexts).toEqual([]);
    expect(trace.usage).toEqual({});
  });

  it('refuses a record without a model, naming each missing model field', () => {
    const record = fixture('native', 'rag-answer.json');
    delete record.model;
    expect(expectFailure(normalizeRecord(record), 'missing_field')).toContain('model');
  });

  it('refuses wrong types with the field path and the expectation', () => {
    const record = fixture('native', 'rag-answer.json');
    record.consent = 'yes';
    record.input_messages[1].content = 42;
    const reason = expectFailure(normalizeRecord(record), 'invalid_field');
    expect(reason).toContain('consent: expected boolean');
    expect(reason).toContain('input_messages[1].content: expected string');
  });

  it('reports a misspelled governance key instead of ignoring it, naming the field it resembles but not the key', () => {
    const record = fixture('native', 'rag-answer.json');
    record.consnet = record.consent;
    delete record.consent;
    const reason = expectFailure(normalizeRecord(record), 'invalid_field');
    expect(reason).toContain('(root): 1 unrecognised key');
    expect(reason).toContain('did you mean consent?');
    expect(reason).not.toContain('consnet');
  });

  it.each([
    ['a word', 'yesterday'],
    ['a date without a time zone', '2026-11-20T10:00:00'],
    ['an impossible date', '2026-02-30T10:00:00Z'],
    ['a number', 1795166102125],
    ['null', null],
  ])('refuses %s as timestamp', (_label, timestamp) => {
    const record = fixture('native', 'rag-answer.json');
    record.timestamp = timestamp;
    const reason = normalizeRecord(record);
    expect(reason.ok).toBe(false);
    if (!reason.ok) {
      expect(reason.reason).toMatch(/^(invalid_field|missing_field): timestamp/);
      expect(reason.reason).not.toContain('yesterday');
    }
  });

  it('applies a default only when the key is absent: an explicit null is refused', () => {
    const record = fixture('native', 'rag-answer.json');
    record.tool_calls = null;
    expect(expectFailure(normalizeRecord(record), 'invalid_field')).toContain('tool_calls: expected array');
  });

  it('never quotes field content in a reason', () => {
    const record = fixture('native', 'rag-answer.json');
    record.agent_id = 'call jane.doe@example.com or +49 30 1234 5678';
    record.output = { secret: 'jane.doe@example.com' };
    const reason = expectFailure(normalizeRecord(record), 'invalid_field');
    expect(reason).toContain('agent_id');
    expect(reason).not.toContain('jane.doe');
    expect(reason).not.toContain('1234');
  });

  it('refuses a field over the size limit without quoting it', () => {
    const record = fixture('native', 'rag-answer.json');
    record.output = 'x'.repeat(MAX_FIELD_CHARS + 1);
    const reason = expectFailure(normalizeRecord(record), 'invalid_field');
    expect(reason).toContain(`output: expected at most ${MAX_FIELD_CHARS} characters`);
    expect(reason).not.toContain('xxxx');
  });
});

describe('Langfuse trace exports', () => {
  it('maps the RAG trace: metadata governance, retriever documents, the last generation, seconds to ms', () => {
    const trace = expectOk(normalizeRecord(fixture('langfuse', 'rag-answer.json')));
    expect(trace.trace_id).toBe('5f2c8a1e9b7d4c3a8e6f1d2b3c4a5e6f');
    expect(trace.agent_id).toBe('rag-qa-agent'); // from `name`: no metadata.agent_id
    expect(trace.session_id).toBe('sess-4411');
    expect(trace.request_id).toBe('req-7f3a9c01');
    expect(trace.model).toEqual({ family: 'qwen3', name: 'Qwen/Qwen3-4B-Instruct-2507', version: '2026-11-01', variant: 'current' });
    expect(trace.data_region).toBe('eu-central-1');
    expect(trace.confidentiality).toBe('internal');
    expect(trace.retrieved_contexts).toEqual([
      'Refund policy 4.2: Annual plans can be refunded in full within 30 days of purchase.',
      'Refund policy 4.3: Monthly plans are not refundable; cancellation stops the next renewal.',
    ]);
    expect(trace.input_messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(trace.input_messages[1]?.content).toContain('jane.doe@example.com');
    expect(trace.output).toMatch(/^Yes\. Annual plans/);
    expect(trace.latency_ms).toBe(1842);
    expect(trace.usage).toEqual({ input_tokens: 412, output_tokens: 38, cost_usd: 0.00041 });
    expect(trace.feedback).toBeUndefined();
  });

  it('maps TOOL observations (a failed one as error), sums generation tokens and infers the family', () => {
    const trace = expectOk(normalizeRecord(fixture('langfuse', 'tool-calls-failed-tool.json')));
    expect(trace.tool_calls).toEqual([
      { name: 'get_order_status', arguments: '{"order_id":"88-1204"}', result: '{"status":"packing","carrier":null}', status: 'ok' },
      { name: 'cancel_order', arguments: '{"order_id":"88-1204","reason":"customer_request"}', result: 'upstream timeout after 10s', status: 'error' },
    ]);
    expect(trace.error).toBe(false);
    expect(trace.model.family).toBe('llama4');
    expect(trace.consent).toBe(true); // metadata "true" (a string) and the consent=true tag agree
    expect(trace.data_region).toBe('us-east-1'); // camelCase metadata.dataRegion
    expect(trace.confidentiality).toBe('customer-confidential'); // CUSTOMER_CONFIDENTIAL
    expect(trace.route).toEqual({ tier: 'large', misrouted: false });
    expect(trace.usage).toEqual({ input_tokens: 1310, output_tokens: 96 }); // totalCost 0 = no price known
    expect(trace.feedback).toBeUndefined(); // the only score is an EVAL judge's
    expect(trace.input_messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool']);
  });

  it('reads user feedback from the latest API score and quality from an annotation, ignoring EVAL scores', () => {
    const trace = expectOk(normalizeRecord(fixture('langfuse', 'feedback-ko.json')));
    expect(trace.feedback).toEqual({ outcome: 'success', quality: 8 });
    expect(trace.language).toBe('ko');
    // The generation has no captured input/output: the trace's (a JSON string of messages) is used.
    expect(trace.input_messages).toEqual([{ role: 'user', content: expect.stringContaining('minsu.kim@example.co.kr') }]);
    expect(trace.output).toContain('마이페이지');
  });

  it.each([
    [{ dataType: 'NUMERIC', value: -1 }, 'user_rejected'],
    [{ dataType: 'BOOLEAN', value: 0, stringValue: 'False' }, 'user_rejected'],
    [{ dataType: 'CATEGORICAL', stringValue: 'timeout' }, 'timeout'],
  ])('maps user_feedback %j to outcome %s', (score, outcome) => {
    const record = fixture('langfuse', 'rag-answer.json');
    record.scores = [{ id: 's', traceId: record.id, name: 'user_feedback', source: 'API', timestamp: '2026-11-20T09:20:00Z', ...score }];
    expect(expectOk(normalizeRecord(record)).feedback).toEqual({ outcome });
  });

  it('refuses a user_feedback value that is neither a thumb nor an outcome', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    record.scores = [{ name: 'user_feedback', source: 'API', dataType: 'NUMERIC', value: 5 }];
    expect(expectFailure(normalizeRecord(record), 'invalid_field')).toContain('scores[0] (user_feedback).value');
  });

  it('refuses a quality outside 0-10 through the schema gate, naming the score', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    record.scores = [{ name: 'quality', source: 'API', dataType: 'NUMERIC', value: 11 }];
    expect(expectFailure(normalizeRecord(record), 'invalid_field')).toContain('feedback.quality (from scores user_feedback / quality): expected at most 10');
  });

  it('reads consent as withheld when its sources disagree: a consent=false tag beats metadata.consent true', () => {
    const record = fixture('langfuse', 'tool-calls-failed-tool.json');
    record.tags = ['consent=false'];
    expect(expectOk(normalizeRecord(record)).consent).toBe(false);
  });

  it('refuses a consent value that is not a boolean', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    record.metadata.consent = 'yes';
    expect(expectFailure(normalizeRecord(record), 'invalid_field')).toBe('invalid_field: metadata.consent: expected true or false');
  });

  it('leaves consent absent (for the consent gate) when no source sets it', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    delete record.metadata.consent;
    expect(expectOk(normalizeRecord(record)).consent).toBeUndefined();
  });

  it('refuses a trace with no generation: the model is unknown', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    record.observations = record.observations.filter((o: { type: string }) => o.type !== 'GENERATION');
    const reason = expectFailure(normalizeRecord(record), 'missing_field');
    expect(reason).toContain('model.name (from the last GENERATION observation model)');
  });

  it('refuses an unknown model family rather than guessing', () => {
    const record = fixture('langfuse', 'tool-calls-failed-tool.json');
    for (const o of record.observations) if (o.type === 'GENERATION') o.model = 'mistral-7b-instruct';
    expect(expectFailure(normalizeRecord(record), 'missing_field')).toContain('model.family (from metadata.model_family, else inferred from the model name)');
  });

  it('explains that a list response carries observation ids only', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    record.observations = ['a1b2c3d4e5f60001', 'a1b2c3d4e5f60002'];
    expect(expectFailure(normalizeRecord(record), 'invalid_field')).toContain('observations[0]: expected an observation object');
  });

  it('marks the request an error when a generation failed, and then accepts an empty output', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    const generation = record.observations[1];
    generation.level = 'ERROR';
    generation.statusMessage = 'CUDA out of memory';
    generation.output = null;
    record.output = null;
    const trace = expectOk(normalizeRecord(record));
    expect(trace.error).toBe(true);
    expect(trace.output).toBe('');
  });

  it('keeps trace input of any other JSON shape as one user message holding its JSON', () => {
    const record = fixture('langfuse', 'feedback-ko.json');
    record.input = { kwargs: { question: 'Where is my parcel?', locale: 'ko-KR' } };
    expect(expectOk(normalizeRecord(record)).input_messages).toEqual([
      { role: 'user', content: '{"kwargs":{"question":"Where is my parcel?","locale":"ko-KR"}}' },
    ]);
  });

  it('refuses a message with a role outside system, user, assistant and tool', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    record.observations[1].input[0].role = 'narrator';
    expect(expectFailure(normalizeRecord(record), 'invalid_field')).toBe(
      'invalid_field: observations[1].input[0].role: expected a role of system, user, assistant or tool',
    );
  });

  it('refuses a successful trace without any output', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    record.observations[1].output = null;
    record.output = null;
    expect(expectFailure(normalizeRecord(record), 'missing_field')).toContain('output');
  });

  it('refuses invalid timestamps on the trace and on observations', () => {
    const trace = fixture('langfuse', 'rag-answer.json');
    trace.timestamp = '20/11/2026 09:15';
    expect(expectFailure(normalizeRecord(trace), 'invalid_field')).toContain('timestamp: expected an ISO-8601 date-time');
    const observation = fixture('langfuse', 'rag-answer.json');
    observation.observations[0].startTime = 'soon';
    expect(expectFailure(normalizeRecord(observation), 'invalid_field')).toContain('observations[0].startTime');
  });

  it('computes latency from the observations when the export has none', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    delete record.latency;
    expect(expectOk(normalizeRecord(record)).latency_ms).toBe(1830); // 09:15:02.130 -> 09:15:03.960
  });

  it('refuses wrongly typed token counts', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    record.observations[1].usageDetails.input = '412';
    expect(expectFailure(normalizeRecord(record), 'invalid_field')).toContain('observations[1].usageDetails.input: expected a finite number');
  });
});

/** A minimal one-span OTLP export, for failure cases. */
function otlpSpan(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    name: 'chat qwen3-4b',
    startTimeUnixNano: '1795166102125000000',
    endTimeUnixNano: '1795166102967000000',
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.request.model', value: { stringValue: 'qwen3-4b' } },
      { key: 'sial.agent.id', value: { stringValue: 'rag-qa-agent' } },
      { key: 'sial.model.version', value: { stringValue: '1' } },
      { key: 'sial.model.variant', value: { stringValue: 'current' } },
      { key: 'gen_ai.output.messages', value: { stringValue: '[{"role":"assistant","parts":[{"type":"text","content":"ok"}]}]' } },
    ],
    ...overrides,
  };
}

function otlp(spans: unknown[], resourceAttributes: unknown[] = []): Record<string, unknown> {
  return { resourceSpans: [{ resource: { attributes: resourceAttributes }, scopeSpans: [{ scope: { name: 't' }, spans }] }] };
}

describe('OTLP/JSON exports', () => {
  it('maps the RAG trace: invoke_agent, retrieval documents, system instructions, string intValues', () => {
    const trace = expectOk(normalizeRecord(fixture('otlp', 'rag-answer.json')));
    expect(trace.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(trace.timestamp).toBe('2026-11-20T09:15:02.125Z');
    expect(trace.agent_id).toBe('rag-qa-agent'); // gen_ai.agent.id
    expect(trace.session_id).toBe('sess-4411'); // gen_ai.conversation.id
    expect(trace.request_id).toBe('req-7f3a9c01');
    expect(trace.model).toEqual({ family: 'qwen3', name: 'Qwen/Qwen3-4B-Instruct-2507', version: '2026-11-01', variant: 'current' });
    expect(trace.input_messages).toEqual([
      { role: 'system', content: 'You answer billing questions using only the provided policy excerpts. Cite the excerpt you used.' },
      { role: 'user', content: expect.stringContaining('+49 30 1234 5678') },
    ]);
    expect(trace.retrieved_contexts).toHaveLength(2);
    expect(trace.latency_ms).toBe(842); // root span duration
    expect(trace.usage).toEqual({ input_tokens: 412, output_tokens: 38 });
    expect(trace.data_region).toBe('eu-central-1'); // a resource attribute
  });

  it('maps execute_tool spans (error.type and status ERROR make a failed tool) and structured attributes', () => {
    const trace = expectOk(normalizeRecord(fixture('otlp', 'tool-calls-failed-tool.json')));
    expect(trace.tool_calls).toEqual([
      { name: 'get_order_status', arguments: '{"order_id":"88-1204"}', result: '{"status":"packing","carrier":null}', status: 'ok' },
      { name: 'cancel_order', arguments: '{"order_id":"88-1204","reason":"customer_request"}', result: 'upstream timeout after 10s', status: 'error' },
    ]);
    expect(trace.error).toBe(false);
    expect(trace.model.family).toBe('llama4'); // inferred: no sial.model.family
    expect(trace.usage).toEqual({ input_tokens: 1310, output_tokens: 96 });
    expect(trace.output).toMatch(/^Order 88-1204 is still being packed/);
    // The last inference span's history, with the tool response as the tool message.
    expect(trace.input_messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(trace.input_messages[3]?.content).toBe('{"status":"packing","carrier":null}');
  });

  it('maps the older per-message span events and sial feedback attributes (Korean)', () => {
    const trace = expectOk(normalizeRecord(fixture('otlp', 'feedback-ko-span-events.json')));
    expect(trace.trace_id).toBe('8a3c60f7d188f8fa79d48a391a778fa6'); // upper-case hex normalised
    expect(trace.language).toBe('ko');
    expect(trace.input_messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(trace.output).toContain('배송지');
    expect(trace.feedback).toEqual({ outcome: 'success', quality: 9 });
    expect(trace.route).toEqual({ tier: 'small', misrouted: false });
    expect(trace.usage).toEqual({ input_tokens: 188, output_tokens: 41 }); // prompt_/completion_tokens
    expect(trace.retrieved_contexts).toHaveLength(1);
    expect(trace.session_id).toBe('sess-kr-77');
  });

  it('refuses a payload whose spans belong to more than one trace', () => {
    const record = fixture('otlp', 'rag-answer.json');
    record.resourceSpans[0].scopeSpans[0].spans[1].traceId = '5bf92f3577b34da6a3ce929d0e0e4736';
    expect(expectFailure(normalizeRecord(record), 'multiple_traces')).toBe(
      'multiple_traces: the spans belong to 2 different traceIds; send one trace per Firehose record',
    );
  });

  it('accepts the minimal span and reads the model from gen_ai.request.model', () => {
    const trace = expectOk(normalizeRecord(otlp([otlpSpan()])));
    expect(trace.model).toEqual({ family: 'qwen3', name: 'qwen3-4b', version: '1', variant: 'current' });
    expect(trace.consent).toBeUndefined();
    expect(trace.output).toBe('ok');
  });

  it('refuses a payload with no inference span: the model is unknown', () => {
    const span = otlpSpan();
    span.attributes = (span.attributes as Array<{ key: string }>).filter((a) => a.key !== 'gen_ai.request.model' && a.key !== 'gen_ai.operation.name');
    const reason = expectFailure(normalizeRecord(otlp([span])), 'missing_field');
    expect(reason).toContain('model.family');
    expect(reason).toContain('model.name (from gen_ai.response.model / gen_ai.request.model of the last inference span): required');
  });

  it.each([
    ['a base64 traceId', { traceId: 'S/kvNXezTaajzpKdDg5HNg==' }, 'traceId: expected 32 hex characters'],
    ['a non-numeric start time', { startTimeUnixNano: '2026-11-20T09:15:02Z' }, 'startTimeUnixNano: expected Unix nanoseconds'],
    ['a zero start time', { startTimeUnixNano: '0' }, 'startTimeUnixNano: expected an instant between 1970 and 9999'],
    ['an end before the start', { endTimeUnixNano: '1795166102000000000' }, 'endTimeUnixNano: expected an instant at or after startTimeUnixNano'],
    ['an unknown status code', { status: { code: 7 } }, 'status.code: expected 0 (unset), 1 (ok) or 2 (error)'],
    ['attributes that are an object', { attributes: { 'sial.consent': true } }, 'attributes: expected a list of {key, value}'],
  ])('refuses %s', (_label, overrides, detail) => {
    expect(expectFailure(normalizeRecord(otlp([otlpSpan(overrides)])), 'invalid_field')).toContain(detail);
  });

  it('refuses a payload without spans', () => {
    expect(expectFailure(normalizeRecord({ resourceSpans: [] }), 'missing_field')).toContain('expected at least one span');
  });

  it('refuses an intValue that is not an integer, and a oneof with two values', () => {
    const badInt = otlpSpan();
    (badInt.attributes as unknown[]).push({ key: 'gen_ai.usage.input_tokens', value: { intValue: '12.5' } });
    expect(expectFailure(normalizeRecord(otlp([badInt])), 'invalid_field')).toContain('[gen_ai.usage.input_tokens].value.intValue: expected an integer');
    const twoValues = otlpSpan();
    (twoValues.attributes as unknown[]).push({ key: 'sial.consent', value: { boolValue: true, stringValue: 'false' } });
    expect(expectFailure(normalizeRecord(otlp([twoValues])), 'invalid_field')).toContain('an AnyValue sets exactly one of');
  });

  it('refuses a repeated attribute key', () => {
    const span = otlpSpan();
    (span.attributes as unknown[]).push({ key: 'sial.agent.id', value: { stringValue: 'other-agent' } });
    expect(expectFailure(normalizeRecord(otlp([span])), 'duplicate_key')).toContain('attributes[6]: repeats the key sial.agent.id of an earlier attribute');
  });

  it('refuses a data region that disagrees between the resource and a span', () => {
    const span = otlpSpan();
    (span.attributes as unknown[]).push({ key: 'sial.data_region', value: { stringValue: 'us-east-1' } });
    const reason = expectFailure(normalizeRecord(otlp([span], [{ key: 'sial.data_region', value: { stringValue: 'eu-central-1' } }])), 'conflicting_field');
    expect(reason).toContain('data_region: resourceSpans[0].resource.attributes[sial.data_region]');
  });

  it('reads consent as withheld when the resource says false and a span says true', () => {
    const span = otlpSpan();
    (span.attributes as unknown[]).push({ key: 'sial.consent', value: { boolValue: true } });
    expect(expectOk(normalizeRecord(otlp([span], [{ key: 'sial.consent', value: { stringValue: 'false' } }]))).consent).toBe(false);
  });

  it('accepts the same governance value repeated on every span (baggage propagation)', () => {
    const consent = { key: 'sial.consent', value: { boolValue: true } };
    const root = otlpSpan({ spanId: '1111111111111111', name: 'root', attributes: [consent] });
    const child = otlpSpan({ parentSpanId: '1111111111111111' });
    (child.attributes as unknown[]).push(consent);
    expect(expectOk(normalizeRecord(otlp([root, child]))).consent).toBe(true);
  });

  it('refuses parent links that form a cycle', () => {
    const a = otlpSpan({ spanId: '1111111111111111', parentSpanId: '2222222222222222' });
    const b = otlpSpan({ spanId: '2222222222222222', parentSpanId: '1111111111111111' });
    expect(expectFailure(normalizeRecord(otlp([a, b])), 'invalid_field')).toContain('cycle');
  });

  it('marks the request an error from the inference span status, not from a failed tool', () => {
    const failedTool = fixture('otlp', 'tool-calls-failed-tool.json');
    expect(expectOk(normalizeRecord(failedTool)).error).toBe(false);
    const failedModel = otlpSpan({ status: { code: 'STATUS_CODE_ERROR', message: 'model overloaded' } });
    failedModel.attributes = (failedModel.attributes as Array<{ key: string }>).filter((a) => a.key !== 'gen_ai.output.messages');
    const trace = expectOk(normalizeRecord(otlp([failedModel])));
    expect(trace.error).toBe(true);
    expect(trace.output).toBe('');
  });
});

describe('format detection', () => {
  it.each([
    ['null', null, 'received null'],
    ['an array', [{ trace_id: 'x' }], 'received an array'],
    ['a number', 42, 'received a number'],
    ['a string', '{"trace_id":"x"}', 'received a string'],
    ['a boolean', true, 'received a boolean'],
  ])('refuses %s as unrecognised_format', (_label, raw, detail) => {
    const result = normalizeRecord(raw);
    expect(result.ok ? undefined : result.format).toBe('unknown');
    expect(expectFailure(result, 'unrecognised_format')).toContain(detail);
  });

  it('refuses an object of no known format, and names the paginated-list mistake', () => {
    expectFailure(normalizeRecord({ hello: 'world' }), 'unrecognised_format');
    expect(expectFailure(normalizeRecord({ data: [], meta: { page: 1 } }), 'unrecognised_format')).toContain('list response');
  });

  it('refuses a record carrying the markers of two formats instead of picking one', () => {
    const record = { ...fixture('native', 'rag-answer.json'), resourceSpans: [] };
    const result = normalizeRecord(record);
    expect(expectFailure(result, 'ambiguous_format')).toContain('otlp and native');
    expect(detectFormat(record).format).toBe('unknown');
  });

  it('does not read format markers through the prototype chain', () => {
    expect(detectFormat(Object.create({ trace_id: 'inherited' })).format).toBe('unknown');
  });
});

describe('hostile input', () => {
  afterEach(() => {
    // Belt and braces: a failing pollution test must not leak into the others.
    delete (Object.prototype as Record<string, unknown>).polluted;
    delete (Object.prototype as Record<string, unknown>).consent;
  });

  it('treats __proto__ keys as data in every format and never pollutes Object.prototype', () => {
    const native = JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(fixture('native', 'rag-answer.json')).slice(1)}`);
    const nativeReason = expectFailure(normalizeRecord(native), 'invalid_field');
    expect(nativeReason).toContain('(root): 1 unrecognised key');
    expect(nativeReason).not.toContain('__proto__');

    const langfuse = fixture('langfuse', 'rag-answer.json');
    delete langfuse.metadata.consent;
    langfuse.metadata = JSON.parse(
      `{"__proto__": {"consent": true, "polluted": true}, "constructor": {"prototype": {"polluted": true}}, ${JSON.stringify(langfuse.metadata).slice(1)}`,
    );
    const trace = expectOk(normalizeRecord(langfuse));
    expect(trace.consent).toBeUndefined(); // not read from the injected prototype

    const otlpRecord = otlp([
      otlpSpan({
        attributes: [
          ...(otlpSpan().attributes as unknown[]),
          {
            key: 'gen_ai.tool.call.arguments',
            value: { kvlistValue: { values: [{ key: '__proto__', value: { kvlistValue: { values: [{ key: 'polluted', value: { boolValue: true } }] } } }] } },
          },
          { key: '__proto__', value: { stringValue: 'x' } },
        ],
      }),
    ]);
    expectOk(normalizeRecord(otlpRecord));

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).consent).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  it('never reads a field through the prototype chain', () => {
    const record = fixture('langfuse', 'rag-answer.json');
    const { consent: _consent, ...rest } = record.metadata as Record<string, unknown>;
    record.metadata = Object.assign(Object.create({ consent: true }) as object, rest);
    expect(expectOk(normalizeRecord(record)).consent).toBeUndefined();
    // Names of Object.prototype members are data too, not functions to call or return.
    const roles = fixture('langfuse', 'rag-answer.json');
    roles.observations[1].input[0].role = 'constructor';
    expect(expectFailure(normalizeRecord(roles), 'invalid_field')).toContain('observations[1].input[0].role: expected a role');
  });

  it('fails deeply nested values with a reason instead of overflowing the stack', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    const langfuse = fixture('langfuse', 'tool-calls-failed-tool.json');
    langfuse.observations[2].input = deep;
    expect(expectFailure(normalizeRecord(langfuse), 'invalid_field')).toContain('observations[2].input: nests deeper than 64 levels');

    let anyValue: unknown = { stringValue: 'x' };
    for (let i = 0; i < 10_000; i += 1) anyValue = { arrayValue: { values: [anyValue] } };
    const span = otlpSpan();
    (span.attributes as unknown[]).push({ key: 'deep', value: anyValue });
    expect(expectFailure(normalizeRecord(otlp([span])), 'invalid_field')).toContain('nests deeper than 32 levels');

    const native = fixture('native', 'rag-answer.json');
    native.input_messages = deep;
    expectFailure(normalizeRecord(native), 'invalid_field');
  });

  it('answers every value of a small hostile corpus with a well-formed reason and never throws', () => {
    const langfuse = fixture('langfuse', 'rag-answer.json');
    const corpus: unknown[] = [
      undefined,
      0,
      Number.NaN,
      '',
      [],
      {},
      { trace_id: null },
      { trace_id: 1, timestamp: {} },
      { id: 'x', observations: null },
      { id: 'x', observations: 'all of them' },
      { id: 'x', timestamp: '2026-11-20T09:15:02Z', observations: [null] },
      { ...langfuse, metadata: [1, 2] },
      { ...langfuse, scores: [{ name: 'user_feedback', value: 'thumbs up' }] },
      { ...langfuse, tags: [1] },
      { resourceSpans: 'spans' },
      { resourceSpans: [null] },
      { resourceSpans: [{ scopeSpans: [{ spans: [null] }] }] },
      { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 7 }] }] }] },
      otlp([otlpSpan({ events: [{ name: 'gen_ai.user.message', attributes: [{ key: 'gen_ai.event.content', value: { stringValue: '{"content": {"nested": true}}' } }] }] })]),
      otlp([otlpSpan({ attributes: [{ key: 'gen_ai.input.messages', value: { stringValue: '[{"role":"wizard","content":"x"}]' } }] })]),
    ];
    for (const raw of corpus) {
      const result = normalizeRecord(raw);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        const code = result.reason.slice(0, result.reason.indexOf(':'));
        expect(NORMALIZE_ERROR_CODES).toContain(code);
        expect(code).not.toBe('internal_error');
        expect(result.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
      }
    }
  });

  it('truncates long reasons to MAX_REASON_CHARS', () => {
    const record = fixture('native', 'rag-answer.json');
    record.consent = 'yes';
    // Misplaced names of our own vocabulary are quoted, so they make a long reason.
    for (const key of ['gen_ai.usage.completion_tokens', 'gen_ai.tool.call.arguments', 'gen_ai.retrieval.documents', 'gen_ai.system_instructions', 'sial.retrieved_contexts']) {
      record[key] = 1;
      record.model[key] = 1;
    }
    const reason = expectFailure(normalizeRecord(record), 'invalid_field');
    expect(reason.length).toBe(MAX_REASON_CHARS);
    expect(reason.endsWith('...')).toBe(true);
  });
});
