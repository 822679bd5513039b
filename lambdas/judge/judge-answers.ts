/**
 * Reading a judge's answer: the JSON object it was asked for, validated against the step's schema. A
 * judge model wraps JSON in prose or code fences, refuses, or stops mid-object; each of those is a
 * malformed answer (retried, then recorded as no judgment), never a score.
 */
import * as z from '../shared/zod-mini';

const claimsAnswer = z.object({ claims: z.array(z.string().check(z.minLength(1))) });
const verdictsAnswer = z.object({
  verdicts: z.array(z.object({ claim: z.number().check(z.int(), z.gte(1)), supported: z.boolean() })),
});
const relevanceAnswer = z.object({ score: z.number().check(z.gte(0), z.lte(1)) });
const misrouteAnswer = z.object({ misrouted: z.boolean() });

export type AnswerProblem = 'no_json' | 'schema' | 'truncated' | 'incomplete_verdicts';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: AnswerProblem };

/**
 * The outermost JSON object in `text`: the whole text, a fenced block, or the span from the first `{`
 * to the last `}`. Undefined when none parses.
 */
export function extractJsonObject(text: string): unknown {
  const candidates = [text.trim()];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fenced?.[1] !== undefined) candidates.push(fenced[1].trim());
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first !== -1 && last > first) candidates.push(text.slice(first, last + 1));
  for (const candidate of candidates) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

function parseWith<T>(schema: z.ZodMiniType<T>, text: string, truncated: boolean): Parsed<T> {
  if (truncated) return { ok: false, problem: 'truncated' };
  const json = extractJsonObject(text);
  if (json === undefined) return { ok: false, problem: 'no_json' };
  const result = schema.safeParse(json);
  return result.success ? { ok: true, value: result.data } : { ok: false, problem: 'schema' };
}

export function parseClaims(text: string, truncated: boolean): Parsed<string[]> {
  const parsed = parseWith(claimsAnswer, text, truncated);
  return parsed.ok ? { ok: true, value: parsed.value.claims } : parsed;
}

/**
 * One verdict per claim, numbered 1..count, each exactly once: a judge that skips or repeats a claim
 * has not judged the answer, so its verdicts are not counted.
 */
export function parseVerdicts(text: string, truncated: boolean, count: number): Parsed<boolean[]> {
  const parsed = parseWith(verdictsAnswer, text, truncated);
  if (!parsed.ok) return parsed;
  const supported: (boolean | undefined)[] = new Array<boolean | undefined>(count).fill(undefined);
  for (const { claim, supported: verdict } of parsed.value.verdicts) {
    if (claim > count || supported[claim - 1] !== undefined) return { ok: false, problem: 'incomplete_verdicts' };
    supported[claim - 1] = verdict;
  }
  if (supported.some((v) => v === undefined)) return { ok: false, problem: 'incomplete_verdicts' };
  return { ok: true, value: supported as boolean[] };
}

export function parseRelevance(text: string, truncated: boolean): Parsed<number> {
  const parsed = parseWith(relevanceAnswer, text, truncated);
  return parsed.ok ? { ok: true, value: parsed.value.score } : parsed;
}

export function parseMisroute(text: string, truncated: boolean): Parsed<boolean> {
  const parsed = parseWith(misrouteAnswer, text, truncated);
  return parsed.ok ? { ok: true, value: parsed.value.misrouted } : parsed;
}
