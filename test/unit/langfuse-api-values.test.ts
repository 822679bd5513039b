/**
 * Values Langfuse's public API really returns: `-1` for metrics it did not compute (a request whose
 * `fields` leave out `metrics`), and score data types that carry no rating (TEXT comments, CORRECTION
 * edits). These are read as unknown instead of failing the export.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeRecord, type NormalizeResult } from '../../lambdas/gate-score/normalize';
import type { Trace } from '../../lambdas/gate-score/trace';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach deep into fixtures to change one field at a time
type FixtureJson = Record<string, any>;

const fixture = (name: string): FixtureJson => JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'langfuse', name), 'utf8')) as FixtureJson;

function trace(result: NormalizeResult): Trace {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}`);
  return result.trace;
}

function failure(result: NormalizeResult): string {
  if (result.ok) throw new Error('expected a failure, got a trace');
  return result.reason;
}

const score = (fields: Record<string, unknown>) => ({ id: 's', name: 'user_feedback', source: 'API', timestamp: '2026-11-20T09:20:00Z', ...fields });

describe('Langfuse metrics the API did not compute (-1)', () => {
  it('reads latency -1 as unknown and falls back to the observations', () => {
    const record = fixture('rag-answer.json');
    record.latency = -1;
    const result = trace(normalizeRecord(record));
    expect(result.latency_ms).toBeGreaterThan(0);
    // The observations span 09:15:02.130 to 09:15:03.960.
    expect(result.latency_ms).toBe(1830);
  });

  it('reads totalCost -1 as unknown and falls back to the observations, or leaves the cost absent', () => {
    const record = fixture('rag-answer.json');
    record.totalCost = -1;
    expect(trace(normalizeRecord(record)).usage.cost_usd).toBe(0.00041); // the generation's costDetails.total
    for (const o of record.observations as FixtureJson[]) delete o.costDetails;
    expect(trace(normalizeRecord(record)).usage.cost_usd).toBeUndefined();
  });

  it('accepts an export with every metric left out (latency and totalCost -1, observation costs -1)', () => {
    const record = fixture('tool-calls-failed-tool.json');
    record.latency = -1;
    record.totalCost = -1;
    for (const o of record.observations as FixtureJson[]) {
      o.costDetails = { total: -1 };
      o.calculatedTotalCost = -1;
      if (o.type === 'GENERATION') {
        o.usageDetails = { input: -1, output: -1 };
        delete o.usage;
      }
    }
    const result = trace(normalizeRecord(record));
    expect(result.usage).toEqual({});
    expect(result.latency_ms).toBeGreaterThan(0);
  });

  it.each([
    ['latency', (r: FixtureJson) => (r.latency = -2), 'invalid_field: latency: expected a non-negative number (-1 is read as not computed)'],
    ['totalCost', (r: FixtureJson) => (r.totalCost = -0.5), 'invalid_field: totalCost: expected a non-negative number (-1 is read as not computed)'],
    ['a token count', (r: FixtureJson) => ((r.observations as FixtureJson[])[1]!.usageDetails.input = -3), 'invalid_field: observations[1].usageDetails.input: expected a non-negative number'],
  ])('still refuses any other negative %s', (_label, mutate, reason) => {
    const record = fixture('rag-answer.json');
    mutate(record);
    expect(failure(normalizeRecord(record))).toContain(reason);
  });
});

describe('Langfuse scores that carry no rating', () => {
  it.each(['TEXT', 'CORRECTION', 'SOMETHING_NEW'])('ignores a user_feedback score of dataType %s instead of failing the trace', (dataType) => {
    const record = fixture('rag-answer.json');
    record.scores = [score({ dataType, stringValue: 'The answer was fine but slow; call me at +1 415 555 0134', value: 0 })];
    expect(trace(normalizeRecord(record)).feedback).toBeUndefined();
  });

  it('keeps the thumbs rating when a later TEXT comment follows it', () => {
    const record = fixture('rag-answer.json');
    record.scores = [
      score({ dataType: 'BOOLEAN', value: 1, stringValue: 'True', timestamp: '2026-11-20T09:20:00Z' }),
      score({ dataType: 'TEXT', stringValue: 'thanks!', timestamp: '2026-11-20T09:21:00Z' }),
    ];
    expect(trace(normalizeRecord(record)).feedback).toEqual({ outcome: 'success' });
  });

  it('ignores a TEXT quality score', () => {
    const record = fixture('rag-answer.json');
    record.scores = [{ name: 'quality', source: 'ANNOTATION', dataType: 'TEXT', stringValue: 'good' }];
    expect(trace(normalizeRecord(record)).feedback).toBeUndefined();
  });

  it('still reads scores without a dataType (older exports) by their value', () => {
    const record = fixture('rag-answer.json');
    record.scores = [{ name: 'user_feedback', source: 'API', value: 0 }];
    expect(trace(normalizeRecord(record)).feedback).toEqual({ outcome: 'user_rejected' });
  });
});
