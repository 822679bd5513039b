/**
 * The trace contract (trace.ts `checkTrace`): it accepts every trace the normalisers make of the
 * corpora (the adversarial PII corpus and its good neighbours in all three formats, the format
 * fixtures, the benchmark traffic) as it is, and refuses every kind of violation with the issue that
 * names where and why: a missing field, a value of another type, a value out of its bounds or set, an
 * unrecognised key, a list too long. Random mutations of accepted traces are refused at the place
 * mutated, and never with an issue that quotes a value.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchTraceRecords } from '../../bench/bench-traces';
import { decodeRecord } from '../../lambdas/gate-score/firehose-records';
import { PERSONAL_DATA_RULE } from '../../lambdas/gate-score/identifiers';
import { detectFormat, normalizeRecord, schemaCandidate } from '../../lambdas/gate-score/normalize';
import { CONFIDENTIALITY_LEVELS } from '../../config/confidentiality';
import { checkTrace, FEEDBACK_OUTCOMES, MESSAGE_ROLES, TOOL_CALL_STATUSES, TRACE_KEYS, type Trace, type TraceIssue } from '../../lambdas/gate-score/trace';
import { adversarialPiiCorpus, CORPUS_FORMATS, goodNeighbour } from '../helpers/adversarial-pii-corpus';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** The schema candidate of a raw record, or undefined when its format or normaliser refuses it. */
function candidateOf(data: string | Buffer): Record<string, unknown> | undefined {
  const decoded = decodeRecord(typeof data === 'string' ? data : data.toString('base64'));
  if (!decoded.ok) return undefined;
  const detected = detectFormat(decoded.value);
  if (detected.format === 'unknown') return undefined;
  try {
    return schemaCandidate(detected.format, decoded.value as Record<string, unknown>).candidate;
  } catch {
    return undefined;
  }
}

function fixtureRecords(): Buffer[] {
  const root = join(__dirname, '..', 'fixtures');
  return readdirSync(root).flatMap((format) => readdirSync(join(root, format)).map((file) => readFileSync(join(root, format, file))));
}

const defined = (candidate: Record<string, unknown> | undefined): candidate is Record<string, unknown> => candidate !== undefined;

/** Records meant to be well formed: every one must fit the contract. */
const wellFormed: Record<string, unknown>[] = [
  ...CORPUS_FORMATS.flatMap((format) => [0, 1, 2].flatMap((i) => [goodNeighbour('dev', format, i), goodNeighbour('prod-kr', format, i)])),
  ...benchTraceRecords(20, 2048).map((record) => record.data),
]
  .map(candidateOf)
  .filter(defined);
/** The adversarial corpus: personal data planted everywhere, some of it in identifier fields. */
const adversarial: Record<string, unknown>[] = adversarialPiiCorpus()
  .map((record) => candidateOf(record.data))
  .filter(defined);
const fixtures = fixtureRecords().map(candidateOf).filter(defined);
const accepted = [...wellFormed, ...fixtures, ...adversarial].filter((candidate) => checkTrace(candidate).ok);

/** A deep copy with the value at `path` replaced, or removed (an array item spliced out) for REMOVE. */
const REMOVE = Symbol('remove');
function withValueAt(root: unknown, path: readonly (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value !== REMOVE) node[last] = value;
  else if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
  return copy as Record<string, unknown>;
}

/** Every path to a value inside the candidate (objects and arrays included). */
function paths(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, child]) => paths(child, [...prefix, key]))];
}

function issuesOf(candidate: unknown): readonly TraceIssue[] {
  const checked = checkTrace(candidate);
  return checked.ok ? [] : checked.issues;
}

/** Every string in a value, keys included. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  return Array.isArray(value) ? value.flatMap(strings) : Object.entries(value).flatMap(([key, child]) => [key, ...strings(child)]);
}

/** The contract's own words: a value that is one of them may appear in an expectation. */
const CONTRACT_WORDS: ReadonlySet<string> = new Set<string>([...MESSAGE_ROLES, ...TOOL_CALL_STATUSES, ...FEEDBACK_OUTCOMES, ...CONFIDENTIALITY_LEVELS]);

/** An issue never quotes a value, and its path holds only the contract's keys and array indexes. */
function expectContentFree(candidate: unknown, issues: readonly TraceIssue[]): void {
  const values = new Set(strings(candidate).filter((s) => s.length >= 5 && !TRACE_KEYS.has(s) && !CONTRACT_WORDS.has(s)));
  for (const issue of issues) {
    for (const segment of issue.path) expect(typeof segment === 'number' || TRACE_KEYS.has(segment)).toBe(true);
    if (issue.code !== 'unrecognised_keys') for (const value of values) expect(issue.expected.includes(value) ? value : undefined).toBeUndefined();
  }
}

const JSON_KIND = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** Fields that may be absent, by key (the same key is optional wherever it occurs). */
const OPTIONAL = new Set([
  'request_id', 'session_id', 'user_id', 'consent', 'data_region', 'confidentiality', 'language', 'feedback', 'latency_ms', 'route',
  'result', 'outcome', 'quality', 'input_tokens', 'output_tokens', 'cost_usd', 'tier', 'misrouted', 'router', 'router_variant',
]);
/** Required fields whose value is one of a fixed list: absent, they are refused as not in the list. */
const ONE_OF = new Set(['role', 'status']);

describe('the trace contract', () => {
  it('accepts every trace the normalisers make of well-formed records, as it is (no copy)', () => {
    expect(wellFormed.length).toBeGreaterThan(30);
    for (const candidate of [...wellFormed, ...fixtures]) {
      const checked = checkTrace(candidate);
      expect(checked.ok ? checked.trace : issuesOf(candidate)).toBe(candidate);
    }
  });

  it('accepts most of the adversarial corpus (personal data in free text is the PII gate’s) and refuses the rest without quoting it', () => {
    expect(adversarial.length).toBeGreaterThan(500);
    const refused = adversarial.filter((candidate) => !checkTrace(candidate).ok);
    expect(refused.length).toBeLessThan(adversarial.length / 2);
    for (const candidate of refused) expectContentFree(candidate, issuesOf(candidate));
  });

  it('lists every key of the Trace type, nested ones included, in TRACE_KEYS', () => {
    const full: Required<Trace> = {
      trace_id: 'tr-1',
      timestamp: '2026-11-20T10:00:00.000Z',
      agent_id: 'agent-1',
      request_id: 'req-1',
      session_id: 's',
      user_id: 'u',
      model: { family: 'qwen3', name: 'Qwen/Qwen3-4B', version: 'v1', variant: 'current' },
      consent: true,
      data_region: 'eu-central-1',
      confidentiality: 'internal',
      language: 'en',
      input_messages: [{ role: 'user', content: 'hi' }],
      retrieved_contexts: ['c'],
      output: 'o',
      tool_calls: [{ name: 'search', arguments: '{}', result: 'r', status: 'ok' }],
      feedback: { outcome: 'success', quality: 7 },
      error: false,
      latency_ms: 10,
      usage: { input_tokens: 1, output_tokens: 2, cost_usd: 0.1 },
      route: { tier: 'small', misrouted: false, router: 'r', router_variant: 'candidate' },
    };
    expect(checkTrace(full).ok).toBe(true);
    const keys = new Set(paths(full).flatMap((path) => path.filter((s): s is string => typeof s === 'string')));
    expect([...TRACE_KEYS].sort()).toEqual([...keys].sort());
  });

  describe('refuses each kind of violation with the issue that names it', () => {
    const base = accepted.find((c) => c.trace_id === 'bench-0') as Record<string, unknown>;
    const message = { role: 'user', content: 'hi' };
    const tool = { name: 'search', arguments: '{}', status: 'ok' };

    it('a record that is not an object', () => {
      expect(issuesOf(null)).toEqual([{ code: 'invalid', path: [], expected: 'expected object' }]);
      expect(issuesOf([])).toEqual([{ code: 'invalid', path: [], expected: 'expected object' }]);
      expect(issuesOf(undefined)).toEqual([{ code: 'missing', path: [], expected: 'expected object' }]);
    });

    it('a required field absent: missing, with what was expected', () => {
      expect(issuesOf(withValueAt(base, ['output'], REMOVE))).toEqual([{ code: 'missing', path: ['output'], expected: 'expected string' }]);
      expect(issuesOf(withValueAt(base, ['model', 'family'], REMOVE))).toEqual([{ code: 'missing', path: ['model', 'family'], expected: 'expected string' }]);
      expect(issuesOf(withValueAt(base, ['usage'], REMOVE))).toEqual([{ code: 'missing', path: ['usage'], expected: 'expected object' }]);
      expect(issuesOf(withValueAt(base, ['tool_calls'], REMOVE))).toEqual([{ code: 'missing', path: ['tool_calls'], expected: 'expected array' }]);
      expect(issuesOf(withValueAt(base, ['error'], undefined))).toEqual([{ code: 'missing', path: ['error'], expected: 'expected boolean' }]);
      // A field of a fixed list of words is refused as not in the list, absent or not.
      expect(issuesOf(withValueAt(base, ['input_messages'], [{ content: 'hi' }]))).toEqual([
        { code: 'invalid', path: ['input_messages', 0, 'role'], expected: 'expected one of system, user, assistant, tool' },
      ]);
    });

    it('an optional field absent or undefined: accepted', () => {
      for (const key of ['request_id', 'consent', 'feedback', 'route', 'latency_ms']) {
        expect(checkTrace(withValueAt(base, [key], REMOVE)).ok).toBe(true);
        expect(checkTrace(withValueAt(base, [key], undefined)).ok).toBe(true);
      }
    });

    it('unrecognised keys: one issue per object, at the object, keys listed', () => {
      const candidate = { ...withValueAt(base, ['model', 'data_region'], 'eu'), 'jane@example.com': 1, consnet: true };
      expect(issuesOf(candidate)).toEqual([
        { code: 'unrecognised_keys', path: ['model'], keys: ['data_region'] },
        { code: 'unrecognised_keys', path: [], keys: ['jane@example.com', 'consnet'] },
      ]);
      expect(issuesOf(withValueAt(base, ['tool_calls'], [{ ...tool, status_code: 200 }]))).toEqual([
        { code: 'unrecognised_keys', path: ['tool_calls', 0], keys: ['status_code'] },
      ]);
    });

    it('every issue, in the order of the contract’s fields, the unrecognised keys of an object after its fields', () => {
      const candidate = { ...base, zz: 1, usage: { input_tokens: 1.5 }, trace_id: 5, consent: 'yes', model: null };
      expect(issuesOf(candidate)).toEqual([
        { code: 'invalid', path: ['trace_id'], expected: 'expected string' },
        { code: 'invalid', path: ['model'], expected: 'expected object' },
        { code: 'invalid', path: ['consent'], expected: 'expected boolean' },
        { code: 'invalid', path: ['usage', 'input_tokens'], expected: 'expected int' },
        { code: 'unrecognised_keys', path: [], keys: ['zz'] },
      ]);
    });

    it('a list too long is refused as a whole, its items unread', () => {
      expect(issuesOf(withValueAt(base, ['input_messages'], Array(501).fill({ role: 'bot' })))).toEqual([
        { code: 'invalid', path: ['input_messages'], expected: 'expected at most 500 items' },
      ]);
    });

    it('a session id breaks each of its rules with an issue of its own', () => {
      expect(issuesOf(withValueAt(base, ['session_id'], ''))).toEqual([
        { code: 'invalid', path: ['session_id'], expected: 'expected at least 1 characters' },
        { code: 'invalid', path: ['session_id'], expected: 'must not contain control characters' },
      ]);
    });

    // [path, value, the expectation of the one issue at the path, or undefined when accepted]
    const DAY = 'expected at most 86400000';
    const cases: Array<[string, unknown, string | undefined]> = [
      ['feedback.quality', -0.1, 'expected at least 0'], ['feedback.quality', 0, undefined], ['feedback.quality', 10, undefined], ['feedback.quality', 10.01, 'expected at most 10'],
      ['feedback.quality', Number.NaN, 'expected number'], ['feedback.quality', Number.POSITIVE_INFINITY, 'expected number'], ['feedback.quality', '7', 'expected number'],
      ['feedback.outcome', 'user_rejected', undefined], ['feedback.outcome', 'meh', 'expected one of success, fallback, timeout, error, user_rejected'],
      ['latency_ms', -1, 'expected at least 0'], ['latency_ms', 0, undefined], ['latency_ms', 86_400_000, undefined], ['latency_ms', 86_400_001, DAY],
      ['usage.input_tokens', -1, 'expected at least 0'], ['usage.input_tokens', 1.5, 'expected int'], ['usage.input_tokens', 2 ** 53 - 1, undefined],
      ['usage.input_tokens', 2 ** 53, 'expected at most 9007199254740991'], ['usage.cost_usd', -0.01, 'expected at least 0'], ['usage.cost_usd', 1e300, undefined],
      ['output', 'x'.repeat(200_000), undefined], ['output', 'x'.repeat(200_001), 'expected at most 200000 characters'], ['output', ['x'], 'expected string'],
      ['input_messages', Array(500).fill(message), undefined], ['input_messages', Array(501).fill(message), 'expected at most 500 items'], ['input_messages', 'hi', 'expected array'],
      ['retrieved_contexts', Array(200).fill('c'), undefined], ['retrieved_contexts', Array(201).fill('c'), 'expected at most 200 items'],
      ['tool_calls', Array(200).fill(tool), undefined], ['tool_calls', Array(201).fill(tool), 'expected at most 200 items'],
      ['tool_calls.0', { ...tool, name: 'mcp-server/search' }, undefined],
      ['trace_id', 't'.repeat(128), undefined], ['trace_id', 't'.repeat(129), 'expected at most 128 characters'], ['trace_id', 'a/b', 'may contain only letters, digits and . _ : -'],
      ['trace_id', '415-555-0134', PERSONAL_DATA_RULE], ['trace_id', '', 'expected at least 1 characters'], ['trace_id', 7, 'expected string'],
      ['request_id', 'req:1', undefined], ['request_id', 'req 1', 'may contain only letters, digits and . _ : -'],
      ['agent_id', 'agent.1', undefined], ['agent_id', 'agënt', 'may contain only letters, digits and . _ : -'],
      ['model.family', 'f'.repeat(64), undefined], ['model.family', 'f'.repeat(65), 'expected at most 64 characters'], ['model.family', 'a:b', 'may contain only letters, digits and . _ -'],
      ['model.name', 'Qwen/Qwen3-4B', undefined], ['model.variant', 'a/b', 'may contain only letters, digits and . _ -'], ['model.version', 'v'.repeat(129), 'expected at most 128 characters'],
      ['session_id', 's'.repeat(256), undefined], ['session_id', 's'.repeat(257), 'expected at most 256 characters'], ['session_id', 'a\u0007b', 'must not contain control characters'],
      ['user_id', 'alice@example.com', undefined], ['user_id', 'a\u0007b', 'must not contain control characters'],
      ['data_region', 'eu-central-1', undefined], ['data_region', 'eu central', 'may contain only letters, digits and _ -'],
      ['language', 'zh-Hant-TW', undefined], ['language', 'es-419', undefined],
      ['language', 'x-private', 'expected a language tag of a language, an optional script and an optional region (en, en-US, zh-Hant-TW)'],
      ['confidentiality', 'public', undefined], ['confidentiality', 'restricted', undefined], ['confidentiality', 'secret', 'expected one of public, internal, customer-confidential, internal-only, restricted'],
      ['consent', false, undefined], ['consent', 'true', 'expected boolean'], ['error', 0, 'expected boolean'],
      ['route.tier', 't'.repeat(65), 'expected at most 64 characters'], ['route.misrouted', null, 'expected boolean'],
      ['timestamp', '2026-11-20T10:00:00+01:00', undefined], ['timestamp', '2024-02-29T23:59:59.123456-05:30', undefined],
      ['timestamp', '2026-02-30T10:00:00.000Z', 'expected an ISO-8601 date-time with an explicit offset, e.g. 2026-04-19T10:00:00.000Z'],
      ['timestamp', '2026-11-20T10:00:00', 'expected an ISO-8601 date-time with an explicit offset, e.g. 2026-04-19T10:00:00.000Z'],
      ['timestamp', 'yesterday', 'expected an ISO-8601 date-time with an explicit offset, e.g. 2026-04-19T10:00:00.000Z'],
    ];
    const full = {
      ...base,
      session_id: 'whatsapp:+14155550134',
      feedback: { outcome: 'success', quality: 7 },
      route: { tier: 'small', misrouted: false },
      usage: { input_tokens: 10, output_tokens: 5, cost_usd: 0.01 },
      tool_calls: [{ name: 'search', arguments: '{}', result: 'ok', status: 'ok' }],
    };
    const label = (value: unknown): string =>
      typeof value === 'string' && value.length > 40 ? `a string of ${value.length} characters` : Array.isArray(value) && value.length > 3 ? `${value.length} items` : String(JSON.stringify(value));
    it.each(cases.map(([path, value, expected]) => [path, label(value), value, expected] as const))('%s = %s', (path, _label, value, expected) => {
      const segments = path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      const candidate = withValueAt(full, segments, value);
      if (expected === undefined) expect(issuesOf(candidate)).toEqual([]);
      else expect(issuesOf(candidate)).toEqual([{ code: 'invalid', path: segments, expected }]);
    });

    it('words every refusal of the schema gate from the issues: the code of the first, the path and source, never the value', () => {
      const record = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'native', 'rag-answer.json'), 'utf8')) as Record<string, unknown>;
      const refused = normalizeRecord({ ...record, agent_id: '415-555-0123', 'jane@example.com': 1 });
      expect(refused).toEqual({
        ok: false,
        format: 'native',
        reason: `invalid_field: agent_id: ${PERSONAL_DATA_RULE}; (root): 1 unrecognised key (not quoted: keys outside the trace contract may hold personal data)`,
      });
      const { output: _output, ...withoutOutput } = record;
      expect(normalizeRecord(withoutOutput)).toMatchObject({ ok: false, reason: 'missing_field: output: required (expected string)' });
    });
  });

  describe('random mutations of accepted traces', () => {
    const tricky: fc.Arbitrary<Json> = fc.oneof(
      fc.constantFrom<Json>(
        '', ' ', 'x'.repeat(129), 'jane.doe@example.com', '+1 415 555 0134', '415-555-0134', 'tr-2026-11-20-0001', 'a\u0000b', 'a\nb', 'é',
        '2026-11-20T10:00:00.000Z', '2026-11-20T10:00:00Z', '2026-02-30T10:00:00.000Z', '2026-11-20T10:00:00.000+01:00',
        -1, -0, 0, 0.5, 1.5, 10, 10.5, 86_400_000, 86_400_001, 2 ** 53, 1e308, true, false, null, [], {}, ['x'], { role: 'user' },
        'system', 'user', 'tool', 'ok', 'error', 'success', 'public', 'internal', 'restricted', 'en', 'en-US', 'x-private',
      ),
      fc.string({ maxLength: 12 }),
      fc.double(),
      fc.integer(),
      fc.json().map((text) => JSON.parse(text) as Json),
    );
    const pick = <T>(items: readonly T[], at: number): T => items[at % items.length] as T;
    const contractPaths = (candidate: unknown): Path[] => paths(candidate).filter((path) => path.length > 0);

    it('are refused at the place mutated when the value changes kind, a required field goes, or a key is added', () => {
      let refusals = 0;
      fc.assert(
        fc.property(fc.nat(), fc.nat(), tricky, fc.constantFrom('replace', 'remove', 'add-key'), (which, where, value, how) => {
          const candidate = pick(accepted, which);
          const path = pick(contractPaths(candidate), where);
          const parent = path.slice(0, -1);
          const last = path[path.length - 1] as string | number;
          const holder = parent.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], candidate);
          const original = (holder as Record<string | number, unknown>)[last];
          let mutated: Record<string, unknown>;
          if (how === 'replace') mutated = withValueAt(candidate, path, value);
          else if (how === 'remove') mutated = withValueAt(candidate, path, REMOVE);
          else mutated = withValueAt(candidate, Array.isArray(holder) ? [...parent, holder.length] : [...parent, 'unexpected_key'], value);
          const checked = checkTrace(mutated);
          const issues = checked.ok ? [] : checked.issues;
          expect(checked.ok).toBe(issues.length === 0);
          expectContentFree(mutated, issues);
          if (!checked.ok) refusals += 1;
          const at = (p: Path): TraceIssue | undefined => issues.find((issue) => JSON.stringify(issue.path) === JSON.stringify(p));
          if (how === 'replace' && JSON_KIND(value) !== JSON_KIND(original)) {
            expect(at(path)).toMatchObject({ code: 'invalid' });
          } else if (how === 'remove' && typeof last === 'string') {
            if (OPTIONAL.has(last)) expect(checked.ok).toBe(true);
            else expect(at(path)).toMatchObject({ code: ONE_OF.has(last) ? 'invalid' : 'missing' });
          } else if (how === 'remove') {
            // An item less is a shorter list: still within its bound.
            expect(checked.ok).toBe(true);
          } else if (how === 'add-key' && !Array.isArray(holder)) {
            expect(at(parent)).toEqual({ code: 'unrecognised_keys', path: parent, keys: ['unexpected_key'] });
          }
        }),
        { numRuns: 3000 },
      );
      expect(refusals).toBeGreaterThan(500);
    });
  });
});
