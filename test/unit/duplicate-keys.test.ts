/**
 * A member name given twice in one JSON object is a schema failure, in every format and at every
 * depth: in the record itself, and in JSON text that a field carries (Langfuse metadata and messages
 * sent as strings, OTel attributes holding JSON), and in OTLP's own maps (attribute lists, kvlists).
 * JSON.parse would keep the last value, so `{"consent": false, ..., "consent": true}` would otherwise
 * be kept as consented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dev } from '../../config/stages/dev';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { decodeRecord } from '../../lambdas/gate-score/firehose-records';
import { gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import { MAX_REASON_CHARS, normalizeRecord } from '../../lambdas/gate-score/normalize';
import { processBatch } from '../../lambdas/gate-score/process-batch';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import { makeTrace } from '../helpers/trace-factory';
import { testPseudonymiser } from '../helpers/pseudonymiser';

const FIXTURES = join(__dirname, '..', 'fixtures');
const fixtureText = (format: string, name: string): string => JSON.stringify(JSON.parse(readFileSync(join(FIXTURES, format, name), 'utf8')));

/** The schema gate as the Lambda runs it: decode the record's text, then normalise. */
function gate(text: string): { ok: true } | { ok: false; reason: string } {
  const decoded = decodeRecord(Buffer.from(text).toString('base64'));
  if (!decoded.ok) return decoded;
  const result = normalizeRecord(decoded.value);
  return result.ok ? { ok: true } : { ok: false, reason: result.reason };
}

function refused(text: string): string {
  const result = gate(text);
  if (result.ok) throw new Error('expected a duplicate_key failure, got a trace');
  expect(result.reason).toMatch(/^duplicate_key: /);
  expect(result.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
  return result.reason;
}

/** Replaces the first occurrence of `anchor`, which must be there (a silent no-op would make a test vacuous). */
function swap(text: string, anchor: string, replacement: string): string {
  if (!text.includes(anchor)) throw new Error(`anchor not found: ${anchor}`);
  return text.replace(anchor, replacement);
}

/** Inserts `extra` right after the first occurrence of `anchor` in `text`. */
function after(text: string, anchor: string, extra: string): string {
  const at = text.indexOf(anchor);
  if (at < 0) throw new Error(`anchor not found: ${anchor}`);
  return text.slice(0, at + anchor.length) + extra + text.slice(at + anchor.length);
}

const nativeText = (): string => JSON.stringify(makeTrace({ consent: true }));

describe('duplicate member names: native records', () => {
  it('accepts the record before anything is repeated', () => {
    expect(gate(nativeText())).toEqual({ ok: true });
  });

  it.each([
    ['consent (false, then true)', '"consent":true', '"consent":false,'],
    ['data_region', '"data_region":"us-east-1"', '"data_region":"eu-west-1",'],
    ['confidentiality', '"confidentiality":"internal"', '"confidentiality":"restricted",'],
  ])('refuses %s given twice, whichever value comes last', (_label, field, earlier) => {
    const text = swap(nativeText(), field, `${earlier}${field}`);
    expect(refused(text)).toMatch(/the record gives the member name (consent|data_region|confidentiality) twice/);
  });

  it('refuses a repeat spelled with escapes (cons\\u0065nt is consent)', () => {
    const text = swap(nativeText(), '"consent":true', '"consent":false,"cons\\u0065nt":true');
    expect(refused(text)).toContain('the member name consent twice');
  });

  it('refuses a repeat deep inside the record and says where', () => {
    const text = swap(nativeText(), '"role":"user"', '"role":"user","role":"system"');
    expect(refused(text)).toContain('the member name role twice in input_messages[0]');
    const inModel = swap(nativeText(), '"family":"qwen3"', '"family":"llama4","family":"qwen3"');
    expect(refused(inModel)).toContain('twice in model');
  });

  it('refuses a repeated __proto__ and never touches Object.prototype', () => {
    const text = after(nativeText(), '{', '"__proto__":{"polluted":1},"__proto__":{"polluted":2},');
    const reason = refused(text);
    expect(reason).not.toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a repeated key that is not ours without quoting it', () => {
    const text = after(nativeText(), '{', '"extra":{"jane.doe@example.com":1,"jane.doe@example.com":2},');
    const reason = refused(text);
    expect(reason).toContain('gives a member name twice in ?');
    expect(reason).not.toContain('jane');
  });
});

describe('duplicate member names: Langfuse exports', () => {
  const text = (): string => fixtureText('langfuse', 'rag-answer.json');

  it('refuses consent given twice in metadata', () => {
    expect(refused(swap(text(), '"consent":true', '"consent":false,"consent":true'))).toContain('the member name consent twice in metadata');
  });

  it('refuses data_region and confidentiality given twice in metadata', () => {
    expect(refused(swap(text(), '"data_region":"eu-central-1"', '"data_region":"us-east-1","data_region":"eu-central-1"'))).toContain('data_region twice in metadata');
    expect(refused(swap(text(), '"confidentiality":"internal"', '"confidentiality":"restricted","confidentiality":"internal"'))).toContain('confidentiality twice in metadata');
  });

  it('refuses a repeat inside metadata sent as a JSON string (how the OTel endpoint stores it)', () => {
    const record = JSON.parse(text()) as Record<string, unknown>;
    record.metadata = '{"consent": false, "data_region": "eu-central-1", "confidentiality": "internal", "model_version": "2026-11-01", "model_variant": "current", "cons\\u0065nt": true}';
    expect(refused(JSON.stringify(record))).toBe(
      'duplicate_key: metadata: its JSON text gives the member name consent twice; a JSON object must not repeat a member name',
    );
  });

  it('refuses a repeat inside an observation metadata string and inside a generation input string', () => {
    const record = JSON.parse(text()) as { observations: Array<Record<string, unknown>> };
    const base = JSON.stringify(record);
    record.observations[1]!.metadata = '{"consent": true, "consent": false}';
    expect(refused(JSON.stringify(record))).toContain('observations[1].metadata: its JSON text gives the member name consent twice');
    const again = JSON.parse(base) as { observations: Array<Record<string, unknown>> };
    again.observations[1]!.input = '[{"role": "user", "content": "hi", "content": "hello"}]';
    expect(refused(JSON.stringify(again))).toContain('observations[1].input: its JSON text gives the member name content twice in [0]');
  });

  it('refuses a repeat nested in an observation', () => {
    expect(refused(swap(text(), '"usageDetails":{"input":412', '"usageDetails":{"input":1,"input":412'))).toMatch(/the member name input twice in observations\[\d\]\.usageDetails/);
  });
});

describe('duplicate member names: OTLP exports', () => {
  const text = (): string => fixtureText('otlp', 'rag-answer.json');

  it('accepts the real SDK output before anything is repeated', () => {
    expect(gate(text())).toEqual({ ok: true });
  });

  it('refuses an attribute that gives `value` twice', () => {
    const hostile = swap(
      text(),
      '{"key":"sial.data_region","value":{"stringValue":"eu-central-1"}}',
      '{"key":"sial.data_region","value":{"stringValue":"us-east-1"},"value":{"stringValue":"eu-central-1"}}',
    );
    expect(refused(hostile)).toContain('the member name value twice in resourceSpans[0].resource.attributes[2]');
  });

  it('refuses a value object that sets its oneof twice', () => {
    const hostile = after(text(), '"value":{"stringValue":"eu-central-1"', ',"stringValue":"us-east-1"');
    expect(refused(hostile)).toContain('the member name stringValue twice');
  });

  it('refuses the same attribute key twice in one list', () => {
    const record = JSON.parse(text()) as { resourceSpans: Array<{ resource: { attributes: unknown[] } }> };
    record.resourceSpans[0]!.resource.attributes.push({ key: 'sial.consent', value: { boolValue: false } }, { key: 'sial.consent', value: { boolValue: true } });
    expect(refused(JSON.stringify(record))).toContain('resourceSpans[0].resource.attributes[8]: repeats the key sial.consent of an earlier attribute');
  });

  it('refuses a repeated attribute key that is not ours, located by position, not by name', () => {
    const record = JSON.parse(text()) as { resourceSpans: Array<{ resource: { attributes: unknown[] } }> };
    const planted = { key: 'user.email=jane.doe@example.com', value: { stringValue: 'x' } };
    record.resourceSpans[0]!.resource.attributes.push(planted, planted);
    const reason = refused(JSON.stringify(record));
    expect(reason).toContain('attributes[8]: repeats the key of an earlier attribute');
    expect(reason).not.toContain('jane');
  });

  it('refuses a kvlist that repeats a key', () => {
    const record = JSON.parse(text()) as { resourceSpans: Array<{ resource: { attributes: unknown[] } }> };
    const entry = { key: 'consent', value: { boolValue: true } };
    record.resourceSpans[0]!.resource.attributes.push({ key: 'sial.extra', value: { kvlistValue: { values: [entry, { ...entry, value: { boolValue: false } }] } } });
    expect(refused(JSON.stringify(record))).toContain('kvlistValue.values[1]: repeats the key consent of an earlier entry');
  });

  it('refuses a repeat inside a JSON string attribute (gen_ai.input.messages)', () => {
    const record = JSON.parse(text()) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ attributes: Array<{ key: string; value: { stringValue?: string } }> }> }> }> };
    const spans = record.resourceSpans[0]!.scopeSpans[0]!.spans;
    const attribute = spans.flatMap((s) => s.attributes).find((a) => a.key === 'gen_ai.input.messages');
    if (attribute?.value.stringValue === undefined) throw new Error('fixture changed');
    attribute.value.stringValue = '[{"role":"user","parts":[{"type":"text","content":"a","content":"b"}]}]';
    expect(refused(JSON.stringify(record))).toContain('.attributes[gen_ai.input.messages]: its JSON text gives the member name content twice in [0].parts[0]');
  });
});

describe('duplicate member names in a batch', () => {
  it('gives every record exactly one result: repeats fail alone, their neighbours are delivered', async () => {
    const good = (i: number) => JSON.stringify(makeTrace({ trace_id: `good-${i}` }));
    const hostile = [
      swap(good(100), '"consent":true', '"consent":false,"consent":true'),
      swap(good(101), '"consent":true', '"consent":true,"c\\u006fnsent":false'),
      swap(good(102), '"data_region":"us-east-1"', '"data_region":"eu-west-1","data_region":"us-east-1"'),
    ];
    const texts = [good(1), hostile[0]!, good(2), hostile[1]!, good(3), hostile[2]!, good(4)];
    const config = gateConfigFromStage(dev, readRewardPolicy('v1'), { databaseName: 'db', tracesTable: 'traces', auditTable: 'gate_audit' });
    const outcome = await processBatch(
      texts.map((t, i) => ({ recordId: `r${i}`, data: Buffer.from(t).toString('base64') })),
      { config, detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now: () => new Date('2026-11-21T12:00:00.000Z') },
    );
    expect(outcome.records.map((r) => [r.recordId, r.result])).toEqual([
      ['r0', 'Ok'],
      ['r1', 'ProcessingFailed'],
      ['r2', 'Ok'],
      ['r3', 'ProcessingFailed'],
      ['r4', 'Ok'],
      ['r5', 'ProcessingFailed'],
      ['r6', 'Ok'],
    ]);
    expect(outcome.report.failuresByReason.get('duplicate_key')).toBe(3);
    expect(outcome.report.delivered).toBe(4);
  });
});
