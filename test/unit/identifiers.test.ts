import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { identifierSchema } from '../../lambdas/gate-score/identifier-schemas';
import { IDENTIFIER_RULES, PERSONAL_DATA_RULE, identifierViolation } from '../../lambdas/gate-score/identifiers';
import { normalizeRecord } from '../../lambdas/gate-score/normalize';
import type { IdentifierRuleName } from '../../lambdas/shared/lake-tables';
import { makeTrace } from '../helpers/trace-factory';

const RULES = Object.keys(IDENTIFIER_RULES) as IdentifierRuleName[];

describe('identifier rules', () => {
  it.each([
    ['trace-id', ['tr-2026-11-20-0001', '0af7651916cd43dd8448eb211c80319c', randomUUID(), '01HZX3Y8K2M4N6P8Q0R2S4T6V8', 'trace-order-88-1204']],
    ['request-id', ['req-7f3a9c01', 'chatcmpl-9aBcD3eFgH', 'req_01J8ZK']],
    ['agent-id', ['rag-qa-agent', 'kr-care-agent', 'support.bot:v2']],
    ['model-family', ['qwen3', 'llama4', 'glm5']],
    ['model-name', ['Qwen/Qwen3-4B-Instruct-2507', 'qwen3:8b', 'meta-llama/Llama-4-Scout-17B-16E-Instruct', 'glm-5-9b-chat']],
    ['model-version', ['2026-11-01', 'v7', '1.4.0', 'arn:aws:sagemaker:eu-central-1:123456789012:model-package/qwen3/3']],
    ['model-variant', ['current', 'candidate', 'shadow_b']],
    ['tool-name', ['get_order_status', 'kb.search', 'mcp-server/search_docs']],
    ['route-tier', ['small', 'large', 'tier-2']],
    ['data-region', ['eu-central-1', 'EU', 'ap-northeast-2']],
    ['language', ['en', 'ko', 'en-US', 'zh-Hant-TW', 'es-419', 'kor']],
  ] as Array<[IdentifierRuleName, string[]]>)('%s accepts what producers really send', (rule, values) => {
    for (const value of values) expect([value, identifierViolation(IDENTIFIER_RULES[rule], value)]).toEqual([value, undefined]);
  });

  it.each(RULES)('%s refuses e-mail addresses, phone numbers and names, and says why without quoting them', (rule) => {
    const personal = ['jane.doe@example.com', '+14155550123', 'whatsapp:+14155550123', '415-555-0123', '010-1234-5678', 'Jane Doe', 'jane%40example.com', '4111111111111111'];
    for (const value of personal) {
      const violation = identifierViolation(IDENTIFIER_RULES[rule], value);
      expect([value, typeof violation]).toEqual([value, 'string']);
      expect(violation).not.toContain(value);
    }
  });

  it('finds phone, card and RRN shapes that fit the character set with the pattern detector', () => {
    for (const value of ['415-555-0123', '010-1234-5678', '4111111111111111', '900101-1234568']) {
      expect(identifierViolation(IDENTIFIER_RULES['trace-id'], value)).toBe(PERSONAL_DATA_RULE);
    }
  });

  it('refuses any value with @, +, %, whitespace or a non-ASCII character, for every rule', () => {
    const forbidden = fc.constantFrom('@', '+', '%', ' ', '\t', '\n', 'é', '\u200b', '＠');
    fc.assert(
      fc.property(fc.constantFrom(...RULES), fc.string({ maxLength: 20 }), forbidden, fc.string({ maxLength: 20 }), (rule, before, bad, after) => {
        return identifierViolation(IDENTIFIER_RULES[rule], `${before}${bad}${after}`) !== undefined;
      }),
      { numRuns: 2_000 },
    );
  });

  it('enforces the length bound', () => {
    expect(identifierViolation(IDENTIFIER_RULES['trace-id'], 'a'.repeat(128))).toBeUndefined();
    expect(identifierViolation(IDENTIFIER_RULES['trace-id'], 'a'.repeat(129))).toBe('expected at most 128 characters');
    expect(identifierViolation(IDENTIFIER_RULES['model-variant'], 'a'.repeat(65))).toBe('expected at most 64 characters');
  });

  it('never refuses a random UUID or OTLP trace id (the detector finds nothing in them)', () => {
    for (let i = 0; i < 5_000; i++) {
      expect(identifierViolation(IDENTIFIER_RULES['trace-id'], randomUUID())).toBeUndefined();
      expect(identifierViolation(IDENTIFIER_RULES['trace-id'], randomBytes(16).toString('hex'))).toBeUndefined();
    }
  });

  it('keeps language tags to language, script and region: no variants, extensions or private use', () => {
    for (const tag of ['en-US-x-janedoe', 'de-DE-1901', 'en-u-ca-gregory', 'x-whatever', 'EN', 'english']) {
      expect([tag, identifierViolation(IDENTIFIER_RULES.language, tag)]).toEqual([tag, IDENTIFIER_RULES.language.expectation]);
    }
  });

  it('gives the schema the same rule, with one issue per value and the rule as its message', () => {
    const schema = identifierSchema('agent-id');
    expect(schema.safeParse('rag-qa-agent').success).toBe(true);
    const phone = schema.safeParse('415-555-0123');
    expect(phone.success).toBe(false);
    expect(phone.error?.issues.map((i) => i.message)).toEqual([PERSONAL_DATA_RULE]);
    const email = schema.safeParse('jane@example.com');
    expect(email.error?.issues.map((i) => i.message)).toEqual([IDENTIFIER_RULES['agent-id'].expectation]);
    expect(schema.safeParse('x'.repeat(10_000)).error?.issues).toHaveLength(1);
  });
});

describe('identifier rules in normalisation', () => {
  it('refuses a trace whose agent id is a phone number, naming the field and the rule only', () => {
    const result = normalizeRecord(JSON.parse(JSON.stringify(makeTrace({ agent_id: '415-555-0123' }))));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe(`invalid_field: agent_id: ${PERSONAL_DATA_RULE}`);
  });

  it('refuses an e-mail address used as a tool name', () => {
    const trace = makeTrace({ tool_calls: [{ name: 'jane@example.com', arguments: '{}', status: 'ok' }] });
    const result = normalizeRecord(JSON.parse(JSON.stringify(trace)));
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: `invalid_field: tool_calls[0].name: ${IDENTIFIER_RULES['tool-name'].expectation}` }));
  });

  it('accepts a free-form session id (it is pseudonymised by the gate, not validated as an identifier)', () => {
    const result = normalizeRecord(JSON.parse(JSON.stringify(makeTrace({ session_id: 'whatsapp:+14155550123' }))));
    expect(result.ok).toBe(true);
  });
});
