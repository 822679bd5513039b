import policyJson from '../../config/reward-policies/v1.json';
import { auditRow, traceRow, type KeptTrace } from '../../lambdas/gate-score/lake-rows';
import { rewardPolicySchema } from '../../lambdas/gate-score/reward/policy';
import { scoreTrace } from '../../lambdas/gate-score/reward/score';
import { RowGuardError, guardRow } from '../../lambdas/gate-score/row-guard';
import { feedbackRow } from '../../lambdas/feedback/feedback-event';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, LAKE_TABLES, TRACES_TABLE, type IcebergField, type IcebergType } from '../../lambdas/shared/lake-tables';
import { makeTrace } from '../helpers/trace-factory';
import { testPseudonymiser } from '../helpers/pseudonymiser';

const policy = rewardPolicySchema.parse(policyJson);
const now = new Date('2026-11-21T12:00:00.000Z');

/** Every column path whose values are strings (directly, in a list, or in a struct), with its field. */
function stringColumns(fields: readonly IcebergField[], prefix = ''): Array<{ path: string; field: IcebergField }> {
  const out: Array<{ path: string; field: IcebergField }> = [];
  const visit = (field: IcebergField, type: IcebergType, path: string): void => {
    if (type === 'string') out.push({ path, field });
    else if (typeof type === 'object' && type.type === 'list') visit(field, type.element, `${path}[]`);
    else if (typeof type === 'object' && type.type === 'struct') out.push(...stringColumns(type.fields, `${path}.`));
  };
  for (const field of fields) visit(field, field.type, `${prefix}${field.name}`);
  return out;
}

function kept(overrides: Partial<KeptTrace> = {}): KeptTrace {
  const trace = makeTrace({ session_id: 'whatsapp:+14155550123', route: { tier: 'small' }, tool_calls: [{ name: 'kb_search', arguments: '{}', status: 'ok' }] });
  return {
    masked: trace,
    session: testPseudonymiser.pseudonymise('session', 'whatsapp:+14155550123'),
    subject: testPseudonymiser.pseudonymise('subject', 'user-4711'),
    format: 'native',
    boundary: 'US',
    confidentiality: 'internal',
    scope: 'all-models',
    language: 'en',
    scanner: 'comprehend',
    entitiesMasked: 0,
    reward: scoreTrace(trace, policy, 2000),
    ...overrides,
  };
}

describe('lake table definitions classify every string column', () => {
  it.each(LAKE_TABLES.map((t) => [t.name, t] as const))('%s: each string column says what it may hold', (_name, table) => {
    for (const { path, field } of stringColumns(table.fields)) expect([path, field.content?.kind]).toEqual([path, expect.any(String)]);
  });

  it('keeps free text out of the audit and feedback tables', () => {
    for (const table of [GATE_AUDIT_TABLE, FEEDBACK_TABLE]) {
      for (const { path, field } of stringColumns(table.fields)) expect([table.name, path, field.content?.kind]).not.toEqual([table.name, path, 'masked-text']);
    }
  });

  it('stores session ids as pseudonyms only', () => {
    expect(TRACES_TABLE.fields.find((f) => f.name === 'session_id')?.content).toEqual({ kind: 'pseudonym' });
  });
});

describe('row guard', () => {
  it('passes the rows the gate and the feedback API build', () => {
    expect(() => traceRow(kept(), now)).not.toThrow();
    expect(() => auditRow(makeTrace(), { gate: 'consent', reason: 'consent_withheld: consent=false' }, 'US', now)).not.toThrow();
    expect(() => feedbackRow('rag-qa-agent', { request_id: 'req-1', trace_id: 'tr-1', outcome: 'success' }, now)).not.toThrow();
  });

  it('writes the pseudonym, never the session id the masked trace still carries', () => {
    const row = traceRow(kept(), now);
    expect(row.session_id).toBe(testPseudonymiser.pseudonymise('session', 'whatsapp:+14155550123'));
    expect(JSON.stringify(row)).not.toContain('4155550123');
    expect(traceRow(kept({ session: null }), now).session_id).toBeNull();
  });

  it.each([
    ['an identifier holding a phone number', { agent_id: '415-555-0123' }, 'traces.agent_id', 'identifier agent-id'],
    ['an identifier holding an e-mail address', { model: { family: 'qwen3', name: 'jane@example.com', version: 'v1', variant: 'current' } }, 'traces.model', 'identifier model-name'],
    ['a tool name holding a phone number', { tool_calls: [{ name: '+14155550123', arguments: '{}', status: 'ok' as const }] }, 'traces.tool_calls[].name', 'identifier tool-name'],
    ['a route tier holding a name', { route: { tier: 'Jane Doe' } }, 'traces.route_tier', 'identifier route-tier'],
  ])('refuses %s, naming the column and the rule', (_what, overrides, column, rule) => {
    const trace = makeTrace(overrides);
    expect(() => traceRow(kept({ masked: trace }), now)).toThrow(RowGuardError);
    try {
      traceRow(kept({ masked: trace }), now);
    } catch (error) {
      const guard = error as RowGuardError;
      expect(`${guard.table}.${guard.column}`).toBe(column);
      expect(guard.rule).toBe(rule);
      expect(guard.reason).toMatch(/^unsafe_column: /);
      expect(guard.reason).not.toMatch(/415|@|Jane/);
    }
  });

  it('refuses a session column that is not a pseudonym', () => {
    expect(() => traceRow(kept({ session: 'whatsapp:+14155550123' as never }), now)).toThrow(/traces\.session_id .*\(pseudonym\)/);
  });

  it('refuses an audit row whose reason did not pass the reason check', () => {
    expect(() => auditRow(makeTrace(), { gate: 'pii', reason: 'pii_scan_failed: Value jane@example.com is invalid' }, 'US', now)).toThrow(/gate_audit\.reason .*\(reason\)/);
  });

  it('refuses a vocabulary column holding something else', () => {
    expect(() => traceRow(kept({ scanner: 'scanner for jane@example.com' }), now)).toThrow(/traces\.pii_scanner/);
  });

  it('refuses a string column without a classification', () => {
    const table = { ...GATE_AUDIT_TABLE, fields: [...GATE_AUDIT_TABLE.fields, { id: 99, name: 'note', type: 'string' as const, required: false }] };
    expect(() => guardRow(table, { ...auditRow(makeTrace(), { gate: 'consent', reason: 'missing_consent: x' }, 'US', now), note: 'hi' })).toThrow(/gate_audit\.note .*\(classification\)/);
  });
});
