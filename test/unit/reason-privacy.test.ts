/**
 * Reasons are logged, stored as metric dimensions and written to the audit trail, so they must never
 * carry text from the record. Keys are the producer's text too: a reason quotes a key only when it is
 * one of the project's own names, and describes any other by count or position.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord } from '../../lambdas/gate-score/firehose-records';
import { normalizeRecord } from '../../lambdas/gate-score/normalize';
import { describeUnrecognisedKeys, isKnownKey, OTEL_NAMES, SIAL_ATTRIBUTES, TRACE_KEYS } from '../../lambdas/gate-score/normalize/vocabulary';
import { makeTrace } from '../helpers/trace-factory';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach deep into fixtures to change one field at a time
type FixtureJson = Record<string, any>;

const fixture = (format: string, name: string): FixtureJson =>
  JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', format, name), 'utf8')) as FixtureJson;

/** Keys a producer could plant: personal data used as a map key. */
const PLANTED = ['jane.doe@example.com', '+49 30 1234 5678', '010-1234-5678', 'Jane Doe', '김민준', 'consent=jane@x.io', 'Ja ne'];
/** Fragments that must never appear in a reason. */
const TELLTALES = /jane|1234|5678|김민준|x\.io|Ja ne/i;

/** The reason the schema gate gives a record, through decoding when given text. */
function reasonFor(record: unknown): string {
  const decoded = typeof record === 'string' ? decodeRecord(Buffer.from(record).toString('base64')) : { ok: true as const, value: record };
  if (!decoded.ok) return decoded.reason;
  const result = normalizeRecord(decoded.value);
  if (result.ok) throw new Error('expected a refusal, got a trace');
  return result.reason;
}

describe('reasons never quote a key from the record', () => {
  it.each(PLANTED)('native: an unrecognised key %j at the top, in model and in a message is counted, not quoted', (key) => {
    const top = { ...makeTrace(), [key]: 1 };
    expect(reasonFor(top)).toBe('invalid_field: (root): 1 unrecognised key (not quoted: keys outside the trace contract may hold personal data)');
    const inModel = makeTrace();
    (inModel.model as Record<string, unknown>)[key] = 1;
    expect(reasonFor(inModel)).toMatch(/^invalid_field: model: 1 unrecognised key/);
    const inMessage = makeTrace();
    (inMessage.input_messages[0] as Record<string, unknown>)[key] = 1;
    expect(reasonFor(inMessage)).toMatch(/^invalid_field: input_messages\[0\]: 1 unrecognised key/);
  });

  it('native: quotes misplaced keys that are ours and counts the rest', () => {
    const record = { ...makeTrace(), 'sial.consent': true, 'jane.doe@example.com': 1, 'Jane Doe': 2 };
    const reason = reasonFor(record);
    expect(reason).toBe('invalid_field: (root): unrecognised key(s) sial.consent and 2 unrecognised keys not quoted');
  });

  it('native: offers the field a key seems to misspell, in our words only', () => {
    expect(reasonFor({ ...makeTrace({ consent: undefined }), Consent: true })).toContain('did you mean consent?');
    expect(reasonFor({ ...makeTrace({ data_region: undefined }), dataregion: 'us-east-1' })).toContain('did you mean data_region?');
  });

  it('decoding: a repeated key that is not ours is not quoted, at any depth', () => {
    for (const key of PLANTED) {
      const name = JSON.stringify(key);
      const text = JSON.stringify(makeTrace()).replace('"usage":{', `"usage":{${name}:{${name}:1,${name}:2},`);
      const reason = reasonFor(text);
      expect(reason).toMatch(/^duplicate_key: the record gives a member name twice in usage\.\?;/);
      expect(reason).not.toMatch(TELLTALES);
    }
  });

  it('Langfuse: JSON text in a field with a planted key is not quoted', () => {
    for (const key of PLANTED) {
      const record = fixture('langfuse', 'rag-answer.json');
      record.metadata = `{"consent": true, ${JSON.stringify(key)}: {"a": 1, "a": 2}}`;
      const reason = reasonFor(record);
      expect(reason).toBe('duplicate_key: metadata: its JSON text gives a member name twice in ?; a JSON object must not repeat a member name');
    }
  });

  it('OTLP: attribute keys that are not ours are located by position', () => {
    for (const key of PLANTED) {
      const record = fixture('otlp', 'rag-answer.json');
      const attributes = record.resourceSpans[0].resource.attributes as unknown[];
      attributes.push({ key, value: { intValue: '12.5' } });
      expect(reasonFor(record)).toBe(`invalid_field: resourceSpans[0].resource.attributes[${attributes.length - 1}].value.intValue: expected an integer or a decimal integer string`);
      attributes.pop();
      attributes.push({ key, value: { stringValue: 'x' } }, { key, value: { stringValue: 'y' } });
      expect(reasonFor(record)).not.toMatch(TELLTALES);
      attributes.pop();
      attributes.pop();
      attributes.push({ key: 'sial.extra', value: { kvlistValue: { values: [{ key, value: { boolValue: true } }, { key, value: { boolValue: false } }] } } });
      expect(reasonFor(record)).not.toMatch(TELLTALES);
      attributes.pop();
      let deep: unknown = { stringValue: 'x' };
      for (let i = 0; i < 40; i += 1) deep = { kvlistValue: { values: [{ key, value: deep }] } };
      attributes.push({ key, value: deep });
      const nested = reasonFor(record);
      expect(nested).toMatch(/attributes\[\d+\]\.value: nests deeper than 32 levels/);
      expect(nested).not.toMatch(TELLTALES);
    }
  });

  it('never quotes a planted key wherever it lands in a native record (property)', () => {
    const places = ['', 'model', 'usage', 'route', 'feedback', 'input_messages.0', 'tool_calls.0'];
    fc.assert(
      fc.property(fc.constantFrom(...PLANTED), fc.constantFrom(...places), fc.boolean(), (key, place, duplicate) => {
        const record = JSON.parse(
          JSON.stringify(makeTrace({ route: { tier: 'small' }, feedback: { quality: 5 }, tool_calls: [{ name: 't', arguments: '{}', status: 'ok' }] })),
        ) as FixtureJson;
        let target: FixtureJson = record;
        for (const step of place.split('.').filter((s) => s !== '')) target = target[step] as FixtureJson;
        target[key] = { [key]: 'jane.doe@example.com' };
        let text = JSON.stringify(record);
        if (duplicate) text = text.replace(`${JSON.stringify(key)}:{`, `${JSON.stringify(key)}:{${JSON.stringify(key)}:0,`);
        const reason = reasonFor(text);
        expect(reason).not.toMatch(TELLTALES);
      }),
    );
  });
});

describe('the vocabulary', () => {
  it('holds every Trace key and every attribute key the normalisers name', () => {
    for (const key of ['trace_id', 'consent', 'data_region', 'confidentiality', 'input_tokens', 'misrouted', 'role', 'content']) expect(TRACE_KEYS.has(key)).toBe(true);
    for (const key of Object.values(SIAL_ATTRIBUTES)) expect(isKnownKey(key)).toBe(true);
    // Every gen_ai.* / sial.* name written in the normalisers' source is one we may quote.
    const dir = join(__dirname, '..', '..', 'lambdas', 'gate-score', 'normalize');
    for (const file of ['otlp.ts', 'otlp-attributes.ts', 'messages.ts', 'langfuse.ts']) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const [, name] of source.matchAll(/'((?:gen_ai|sial|error|session)\.[a-z_.]+)'/g)) expect([file, name, isKnownKey(name!)]).toEqual([file, name, true]);
    }
    expect(OTEL_NAMES).toContain('gen_ai.input.messages');
  });

  it('describes unknown keys by count only', () => {
    expect(describeUnrecognisedKeys(['jane.doe@example.com'])).toBe('1 unrecognised key (not quoted: keys outside the trace contract may hold personal data)');
    expect(describeUnrecognisedKeys(['model', 'a', 'b'])).toBe('unrecognised key(s) model and 2 unrecognised keys not quoted');
    expect(describeUnrecognisedKeys(['consnet'])).toContain('did you mean consent?');
  });
});
