/**
 * The schema gate's fast acceptance check never accepts what `traceSchema` refuses, and what it accepts
 * is exactly what zod would return. Checked over every candidate the corpora produce (the adversarial
 * PII corpus and its good neighbours in all three formats, the format fixtures, the benchmark and demo
 * traffic) and over random mutations of them: a field replaced by a value of another kind or just out
 * of bounds, removed, or joined by an unknown key.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchTraceRecords } from '../../bench/bench-traces';
import { decodeRecord } from '../../lambdas/gate-score/firehose-records';
import { detectFormat, schemaCandidate } from '../../lambdas/gate-score/normalize';
import { isWellFormedTrace } from '../../lambdas/gate-score/trace-fast-path';
import { traceSchema } from '../../lambdas/gate-score/trace';
import { adversarialPiiCorpus, CORPUS_FORMATS, goodNeighbour } from '../helpers/adversarial-pii-corpus';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

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

const candidates: Record<string, unknown>[] = [
  ...adversarialPiiCorpus().map((record) => record.data),
  ...CORPUS_FORMATS.flatMap((format) => [0, 1, 2].flatMap((i) => [goodNeighbour('dev', format, i), goodNeighbour('prod-kr', format, i)])),
  ...fixtureRecords(),
  ...benchTraceRecords(20, 2048).map((record) => record.data),
]
  .map(candidateOf)
  .filter((candidate): candidate is Record<string, unknown> => candidate !== undefined);

/** Asserts the contract for one candidate; returns whether the fast check accepted it. */
function agreesWithSchema(candidate: unknown): boolean {
  const fast = isWellFormedTrace(candidate);
  if (fast) {
    const parsed = traceSchema.safeParse(candidate);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(candidate);
  }
  return fast;
}

/** A deep copy with the value at `path` replaced (or removed when `value` is the REMOVE marker). */
const REMOVE = Symbol('remove');
function withValueAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === REMOVE) delete node[last];
  else node[last] = value;
  return copy;
}

/** Every path to a value inside the candidate (objects and arrays included). */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, child]) => paths(child, [...prefix, key]))];
}

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

describe('the fast acceptance check of the schema gate', () => {
  it('accepts only what traceSchema accepts, unchanged, on every corpus candidate', () => {
    expect(candidates.length).toBeGreaterThan(600);
    const accepted = candidates.filter(agreesWithSchema).length;
    // It must also be useful: every candidate the schema accepts in its normalised form is taken fast.
    const schemaAccepted = candidates.filter((c) => traceSchema.safeParse(c).success).length;
    expect(accepted).toBe(schemaAccepted);
  });

  it('never accepts a mutation that traceSchema refuses', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.nat(), fc.nat(), tricky, fc.constantFrom('replace', 'remove', 'add-key'), (which, where, value, how) => {
        const candidate = candidates[which % candidates.length];
        const all = paths(candidate).filter((path) => path.length > 0);
        const path = all[where % all.length] as (string | number)[];
        // A key is added to the object holding the chosen value; JSON arrays cannot hold keys, so
        // under an array the value is appended as one more item instead.
        const parent = path.slice(0, -1);
        const holder = parent.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], candidate);
        const mutated =
          how === 'replace'
            ? withValueAt(candidate, path, value)
            : how === 'remove'
              ? withValueAt(candidate, path, REMOVE)
              : withValueAt(candidate, [...parent, Array.isArray(holder) ? holder.length : 'unexpected_key'], value);
        if (agreesWithSchema(mutated)) accepted += 1;
        else refused += 1;
      }),
      { numRuns: 3000 },
    );
    // Both outcomes occurred, so the property was exercised on each side.
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });

  describe('at every bound of the contract, it decides as the schema does', () => {
    const base = {
      ...(candidates.find((c) => c.trace_id === 'bench-0') as Record<string, unknown>),
      session_id: 'whatsapp:+14155550134',
      feedback: { outcome: 'success', quality: 7 },
      route: { tier: 'small', misrouted: false },
      usage: { input_tokens: 10, output_tokens: 5, cost_usd: 0.01 },
      tool_calls: [{ name: 'search', arguments: '{}', result: 'ok', status: 'ok' }],
    };
    const message = { role: 'user', content: 'hi' };
    const tool = { name: 'search', arguments: '{}', status: 'ok' };
    // [path, value, accepted by the schema]
    const cases: Array<[string, unknown, boolean]> = [
      ['feedback.quality', -0.1, false], ['feedback.quality', 0, true], ['feedback.quality', 10, true], ['feedback.quality', 10.01, false],
      ['feedback.outcome', 'user_rejected', true], ['feedback.outcome', 'meh', false],
      ['latency_ms', -1, false], ['latency_ms', 0, true], ['latency_ms', 86_400_000, true], ['latency_ms', 86_400_001, false],
      ['usage.input_tokens', -1, false], ['usage.input_tokens', 1.5, false], ['usage.input_tokens', 2 ** 53 - 1, true], ['usage.input_tokens', 2 ** 53, false],
      ['usage.cost_usd', -0.01, false], ['usage.cost_usd', 1e300, true],
      ['output', 'x'.repeat(200_000), true], ['output', 'x'.repeat(200_001), false],
      ['input_messages', Array(500).fill(message), true], ['input_messages', Array(501).fill(message), false],
      ['input_messages', [{ role: 'bot', content: 'hi' }], false], ['input_messages', [{ role: 'tool', content: 'x'.repeat(200_001) }], false],
      ['retrieved_contexts', Array(200).fill('c'), true], ['retrieved_contexts', Array(201).fill('c'), false],
      ['tool_calls', Array(200).fill(tool), true], ['tool_calls', Array(201).fill(tool), false],
      ['tool_calls', [{ ...tool, status: 'failed' }], false], ['tool_calls', [{ ...tool, result: 'x'.repeat(200_001) }], false],
      ['tool_calls', [{ ...tool, name: 'mcp-server/search' }], true], ['tool_calls', [{ ...tool, name: 'jane@example.com' }], false],
      ['trace_id', 't'.repeat(128), true], ['trace_id', 't'.repeat(129), false], ['trace_id', 'a/b', false], ['trace_id', '415-555-0134', false], ['trace_id', '', false],
      ['request_id', 'req:1', true], ['request_id', 'req 1', false],
      ['agent_id', 'agent.1', true], ['agent_id', 'agënt', false],
      ['model.family', 'f'.repeat(64), true], ['model.family', 'f'.repeat(65), false], ['model.family', 'a:b', false],
      ['model.name', 'Qwen/Qwen3-4B', true], ['model.variant', 'a/b', false], ['model.version', 'v'.repeat(129), false],
      ['session_id', '', false], ['session_id', 's'.repeat(256), true], ['session_id', 's'.repeat(257), false], ['session_id', 'a\u0007b', false], ['user_id', 'alice@example.com', true], ['user_id', '', false], ['user_id', 'a\u0007b', false],
      ['data_region', 'eu-central-1', true], ['data_region', 'eu central', false],
      ['language', 'zh-Hant-TW', true], ['language', 'es-419', true], ['language', 'x-private', false], ['language', 'EN', false],
      ['confidentiality', 'public', true], ['confidentiality', 'restricted', true], ['confidentiality', 'secret', false],
      ['consent', false, true], ['consent', 'true', false], ['error', 0, false],
      ['route.tier', 't'.repeat(65), false], ['route.misrouted', null, false],
      ['timestamp', '2026-02-30T10:00:00.000Z', false], ['timestamp', 'yesterday', false],
    ];
    const label = (value: unknown): string =>
      typeof value === 'string' && value.length > 40 ? `a string of ${value.length} characters` : Array.isArray(value) && value.length > 3 ? `${value.length} items` : JSON.stringify(value);
    it.each(cases.map(([path, value, accepted]) => [path, label(value), value, accepted] as const))('%s = %s', (path, _label, value, schemaAccepts) => {
      const candidate = withValueAt(base, path.split('.'), value);
      expect(traceSchema.safeParse(candidate).success).toBe(schemaAccepts);
      expect(isWellFormedTrace(candidate)).toBe(schemaAccepts);
    });

    it('is conservative where the normalisers never produce the form: a timestamp the schema accepts but that is not normalised', () => {
      const candidate = withValueAt(base, ['timestamp'], '2026-11-20T10:00:00+01:00');
      expect(traceSchema.safeParse(candidate).success).toBe(true);
      expect(isWellFormedTrace(candidate)).toBe(false);
    });
  });
});
