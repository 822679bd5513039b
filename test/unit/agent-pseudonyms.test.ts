/**
 * Agent ids as keyed pseudonyms (`lake.hashAgentIds`): the pseudonym fits every column that holds an
 * agent id, is the agent's alone (not a session's or another stage's), and the stage's declared agents
 * keep their configured names in reports and metric dimensions. The stage schema accepts the option only
 * with the acknowledgement that it splits each agent's history (docs/decisions.md, "Agent ids as pseudonyms").
 */
import { ConfigError, HASH_AGENT_IDS_SPLITS_HISTORY, parseStageConfig } from '../../config/schema';
import { dev } from '../../config/stages/dev';
import { feedbackRow } from '../../lambdas/feedback/feedback-event';
import { IDENTIFIER_RULES } from '../../lambdas/gate-score/identifiers';
import { AgentIdentities, agentPseudonym } from '../../lambdas/shared/agent-pseudonyms';
import { LAKE_TABLES } from '../../lambdas/shared/lake-tables';
import { PSEUDONYM_PATTERN, createPseudonymiser } from '../../lambdas/shared/pseudonymisation';
import { testPseudonymiser } from '../helpers/pseudonymiser';

describe('agent pseudonyms', () => {
  const pseudonym = agentPseudonym(testPseudonymiser, 'support-bot');

  it('is HMAC-SHA-256 of the agent id under the stage key, kind agent: stable, and not the session pseudonym of the same text', () => {
    expect(pseudonym).toMatch(PSEUDONYM_PATTERN);
    expect(agentPseudonym(testPseudonymiser, 'support-bot')).toBe(pseudonym);
    expect(pseudonym).not.toBe(testPseudonymiser.pseudonymise('session', 'support-bot'));
    expect(pseudonym).not.toBe(testPseudonymiser.pseudonymise('subject', 'support-bot'));
    expect(agentPseudonym(testPseudonymiser, 'support-bot2')).not.toBe(pseudonym);
    // Another stage's key gives an unrelated pseudonym.
    expect(agentPseudonym(createPseudonymiser(Buffer.alloc(32, 0x01)), 'support-bot')).not.toBe(pseudonym);
    expect(pseudonym).not.toContain('support-bot');
  });

  it("passes the lake's agent-id rule, so every agent_id column, its partition and the feedback row guard take it", () => {
    const rule = IDENTIFIER_RULES['agent-id'];
    expect(rule.pattern.test(pseudonym)).toBe(true);
    expect(pseudonym.length).toBeLessThanOrEqual(rule.maxLength);
    expect(pseudonym).not.toContain('/');
    const agentColumns = LAKE_TABLES.flatMap((t) => t.fields.filter((f) => f.name === 'agent_id').map((f) => ({ table: t.name, content: f.content })));
    expect(agentColumns.length).toBeGreaterThanOrEqual(3);
    for (const column of agentColumns) expect(column).toEqual({ table: column.table, content: { kind: 'identifier', rule: 'agent-id' } });
    expect(feedbackRow(pseudonym, { request_id: 'req-1', trace_id: 'tr-1', outcome: 'success' }, new Date('2026-11-21T12:00:00.000Z')).agent_id).toBe(pseudonym);
  });
});

describe('AgentIdentities', () => {
  const declared = ['support-bot', 'rag-qa-agent'];
  const hashed = AgentIdentities.hashed(declared, testPseudonymiser);
  const plain = AgentIdentities.plain(declared);

  it('plain (the default): stored ids are the agent ids, names and dimensions unchanged', () => {
    expect(plain.hashed).toBe(false);
    expect(plain.stored('support-bot')).toBe('support-bot');
    expect(plain.stored('someone-else')).toBe('someone-else');
    expect(plain.declaredAgentOf('support-bot')).toBe('support-bot');
    expect(plain.displayName('someone-else')).toBe('someone-else');
  });

  it('hashed: stores pseudonyms; a declared agent is found and shown by its configured name, an undeclared one by its pseudonym', () => {
    const stored = hashed.stored('support-bot');
    expect(hashed.hashed).toBe(true);
    expect(stored).toBe(agentPseudonym(testPseudonymiser, 'support-bot'));
    expect(hashed.declaredAgentOf(stored)).toBe('support-bot');
    expect(hashed.displayName(stored)).toBe('support-bot');
    const undeclared = hashed.stored('acme-hr-assistant');
    expect(hashed.declaredAgentOf(undeclared)).toBeUndefined();
    expect(hashed.displayName(undeclared)).toBe(undeclared);
    // A raw id in a row is not a declared agent's stored id: the option would have hashed it.
    expect(hashed.declaredAgentOf('support-bot')).toBeUndefined();
  });

  it('hashed: a raw id (a row from before the option, the accepted history split) is shown apart from the agent\'s current name', () => {
    expect(hashed.displayName('support-bot')).toBe('unhashed:support-bot');
    expect(hashed.displayName(hashed.stored('support-bot'))).toBe('support-bot');
    // Plain: raw ids are the names.
    expect(AgentIdentities.plain(['support-bot']).displayName('support-bot')).toBe('support-bot');
  });

});

describe('lake.hashAgentIds in the stage schema', () => {
  const withOption = (value: unknown) => ({ ...dev, lake: { ...dev.lake, hashAgentIds: value } });

  it('is off when absent, and false is accepted: existing stages are unchanged', () => {
    expect(parseStageConfig(dev, 'test').lake.hashAgentIds).toBeUndefined();
    expect(parseStageConfig(withOption(false), 'test').lake.hashAgentIds).toBe(false);
  });

  it('refuses true without the acknowledgement that it splits each agent\'s history, saying so', () => {
    expect(() => parseStageConfig(withOption(true), 'test')).toThrow(ConfigError);
    expect(() => parseStageConfig(withOption(true), 'test')).toThrow(`lake.hashAgentIds: received true without lake.acceptAgentHistorySplit; ${HASH_AGENT_IDS_SPLITS_HISTORY}`);
    expect(() => parseStageConfig(withOption('yes'), 'test')).toThrow(/lake\.hashAgentIds: received "yes"/);
  });

  it('accepts true beside acceptAgentHistorySplit: true, and only true there', () => {
    const on = parseStageConfig({ ...dev, lake: { ...dev.lake, hashAgentIds: true, acceptAgentHistorySplit: true } }, 'test');
    expect(on.lake).toEqual(expect.objectContaining({ hashAgentIds: true, acceptAgentHistorySplit: true }));
    expect(() => parseStageConfig({ ...dev, lake: { ...dev.lake, hashAgentIds: true, acceptAgentHistorySplit: false } }, 'test')).toThrow(/acceptAgentHistorySplit/);
  });
});
