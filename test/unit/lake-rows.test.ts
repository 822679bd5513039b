import policyJson from '../../config/reward-policies/v1.json';
import { auditRow, traceRow } from '../../lambdas/gate-score/lake-rows';
import { rewardPolicySchema } from '../../lambdas/gate-score/reward/policy';
import { scoreTrace } from '../../lambdas/gate-score/reward/score';
import { feedbackRow } from '../../lambdas/feedback/feedback-event';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, TRACES_TABLE, type LakeTableDefinition } from '../../lambdas/shared/lake-tables';
import { makeTrace } from '../helpers/trace-factory';

const policy = rewardPolicySchema.parse(policyJson);
const now = new Date('2026-11-21T12:00:00.000Z');

function columns(table: LakeTableDefinition): string[] {
  return table.fields.map((f) => f.name).sort();
}

describe('lake rows match the Iceberg table definitions', () => {
  const trace = makeTrace({ route: { tier: 'small', misrouted: false }, feedback: { outcome: 'success', quality: 9 } });
  const row = traceRow(
    {
      masked: trace,
      session: null,
      subject: null,
      format: 'native',
      boundary: 'US',
      confidentiality: 'internal',
      scope: 'all-models',
      language: 'en',
      scanner: 'comprehend',
      entitiesMasked: 2,
      reward: scoreTrace(trace, policy, 2000),
    },
    now,
  );

  it('writes every traces column and no other', () => {
    expect(Object.keys(row).sort()).toEqual(columns(TRACES_TABLE));
  });

  it('fills every required traces column', () => {
    for (const field of TRACES_TABLE.fields.filter((f) => f.required)) {
      expect([field.name, (row as unknown as Record<string, unknown>)[field.name]]).not.toEqual([field.name, null]);
    }
  });

  it('writes timestamps as epoch microseconds and partitions by model name', () => {
    expect(row.ts).toBe(Date.parse('2026-11-20T10:00:00.000Z') * 1000);
    expect(row.gated_at).toBe(now.getTime() * 1000);
    expect(row.model).toBe('qwen3-4b');
    expect(row.consent).toBe(true);
    expect(row.reward_policy_version).toBe('v1');
  });

  it('keeps the reward components struct in step with the table', () => {
    const struct = TRACES_TABLE.fields.find((f) => f.name === 'reward_components')!.type;
    expect(typeof struct === 'object' && struct.type === 'struct' && struct.fields.map((f) => f.name).sort()).toEqual(
      Object.keys(row.reward_components).sort(),
    );
  });

  it('writes content-free audit rows with every gate_audit column', () => {
    const audit = auditRow(makeTrace({ output: 'my email is jane@example.com' }), { gate: 'consent', reason: 'consent_withheld: consent=false' }, 'US', now);
    expect(Object.keys(audit).sort()).toEqual(columns(GATE_AUDIT_TABLE));
    expect(JSON.stringify(audit)).not.toContain('jane');
  });

  it('writes every feedback column', () => {
    const feedback = feedbackRow('agent-1', { request_id: 'req-1', outcome: 'success' }, now);
    expect(Object.keys(feedback).sort()).toEqual(columns(FEEDBACK_TABLE));
  });
});

describe('table definitions', () => {
  it.each([TRACES_TABLE, GATE_AUDIT_TABLE, FEEDBACK_TABLE])('$name has unique field ids and partitions on existing columns', (table) => {
    const ids: number[] = [];
    const collect = (fields: LakeTableDefinition['fields']): void => {
      for (const f of fields) {
        ids.push(f.id);
        if (typeof f.type === 'object' && f.type.type === 'list') {
          ids.push(f.type.elementId);
          if (typeof f.type.element === 'object') collect(f.type.element.fields);
        } else if (typeof f.type === 'object' && f.type.type === 'struct') collect(f.type.fields);
      }
    };
    collect(table.fields);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of table.partitions) expect(table.fields.map((f) => f.name)).toContain(p.sourceName);
  });

  it('partitions traces by day(ts), model and consent', () => {
    expect(TRACES_TABLE.partitions.map((p) => [p.sourceName, p.transform])).toEqual([
      ['ts', 'day'],
      ['model', 'identity'],
      ['consent', 'identity'],
    ]);
  });
});
