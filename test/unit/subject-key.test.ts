/**
 * The data-subject key: every accepted format's user id becomes the row's `subject_key` (the keyed
 * pseudonym under the stage key), on kept and on discarded traces, and the raw id reaches no row,
 * diagnostic or metric.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dev } from '../../config/stages/dev';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import { normalizeRecord } from '../../lambdas/gate-score/normalize';
import { processBatch } from '../../lambdas/gate-score/process-batch';
import { AGGREGATE_TABLES, LAKE_TABLES, SUBJECT_TABLES } from '../../lambdas/shared/lake-tables';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import { makeTrace } from '../helpers/trace-factory';
import { testPseudonymiser } from '../helpers/pseudonymiser';

const FIXTURES = join(__dirname, '..', 'fixtures');
const fixture = (format: string, name: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, format, name), 'utf8')) as Record<string, unknown>;

function userIdOf(record: unknown): string | undefined {
  const result = normalizeRecord(record);
  if (!result.ok) throw new Error(result.reason);
  return result.trace.user_id;
}

describe('the user id of each format', () => {
  it('reads Langfuse userId', () => {
    expect(userIdOf(fixture('langfuse', 'rag-answer.json'))).toBe('u-91827');
    expect(userIdOf(fixture('langfuse', 'tool-calls-failed-tool.json'))).toBeUndefined(); // userId: null
  });

  it('reads OTLP user.id, else enduser.id, from spans or the resource', () => {
    const withAttribute = (key: string): Record<string, unknown> => {
      const record = fixture('otlp', 'rag-answer.json') as { resourceSpans: Array<{ resource: { attributes: unknown[] } }> };
      record.resourceSpans[0]!.resource.attributes.push({ key, value: { stringValue: 'u-31' } });
      return record;
    };
    expect(userIdOf(withAttribute('user.id'))).toBe('u-31');
    expect(userIdOf(withAttribute('enduser.id'))).toBe('u-31');
    expect(userIdOf(fixture('otlp', 'rag-answer.json'))).toBeUndefined();
  });

  it('reads the native user_id and refuses control characters in it', () => {
    expect(userIdOf({ ...fixture('native', 'rag-answer.json'), user_id: 'alice@example.com' })).toBe('alice@example.com');
    const refused = normalizeRecord({ ...fixture('native', 'rag-answer.json'), user_id: 'a\u0007b' });
    expect(refused.ok).toBe(false);
  });
});

describe('subject_key on lake rows', () => {
  const config = gateConfigFromStage(dev, readRewardPolicy('v1'), { databaseName: 'db', tracesTable: 'traces', auditTable: 'gate_audit' });
  const now = () => new Date('2026-11-21T12:00:00.000Z');
  const userId = 'alice@example.com';
  const key = testPseudonymiser.pseudonymise('subject', userId);

  it('writes the keyed pseudonym of the user id on kept and discarded rows, never the id', async () => {
    const kept = makeTrace({ user_id: userId, session_id: userId });
    const discarded = makeTrace({ user_id: userId, consent: false });
    const anonymous = makeTrace();
    const input = [kept, discarded, anonymous].map((t, i) => ({ recordId: `r${i}`, data: Buffer.from(JSON.stringify(t)).toString('base64') }));
    const outcome = await processBatch(input, { config, detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now });
    const rows = outcome.records.map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')) as Record<string, unknown>);
    expect(outcome.records.map((r) => r.result)).toEqual(['Ok', 'Ok', 'Ok']);
    expect(rows.map((r) => [r.trace_id, r.subject_key])).toEqual([
      [kept.trace_id, key],
      [discarded.trace_id, key],
      [anonymous.trace_id, null],
    ]);
    expect(rows[1]!.gate).toBe('consent');
    // Domain separation: the same text as a session id has another pseudonym.
    expect(rows[0]!.session_id).not.toBe(key);
    const everything = JSON.stringify(rows) + JSON.stringify(outcome.diagnostics);
    expect(everything).not.toContain(userId);
  });

  it('says for every lake table how erasure finds the subject, or that it holds no data about a person', () => {
    expect([...SUBJECT_TABLES, ...AGGREGATE_TABLES].map((s) => s.table.name).sort()).toEqual(LAKE_TABLES.map((t) => t.name).sort());
    // An aggregate table has no column a person could be reached by.
    for (const { table } of AGGREGATE_TABLES) {
      expect([table.name, table.fields.map((f) => f.name).filter((n) => ['subject_key', 'trace_id', 'request_id', 'session_id', 'reviewer'].includes(n))]).toEqual([table.name, []]);
      expect([table.name, table.fields.filter((f) => f.content?.kind === 'pseudonym' || f.content?.kind === 'masked-text').map((f) => f.name)]).toEqual([table.name, []]);
    }
    const needs = { subject_key: ['subject_key', 'trace_id'], trace_id: ['trace_id'], trace_or_request_id: ['trace_id', 'agent_id', 'request_id'] } as const;
    for (const { table, by } of SUBJECT_TABLES) {
      const names = table.fields.map((f) => f.name);
      expect([table.name, needs[by].filter((column) => !names.includes(column))]).toEqual([table.name, []]);
    }
  });
});
