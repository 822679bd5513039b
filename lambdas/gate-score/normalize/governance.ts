/**
 * Governance and identity fields that the Langfuse and OTLP formats do not standardise (consent, data
 * region, confidentiality, model family/version/variant, route, ...). Each is read from a small list
 * of accepted keys, and from every level that can carry it (a Langfuse trace and its observations; an
 * OTLP resource, scope, span and span event). Values found in several places are combined so that a
 * disagreement can never resolve to the permissive value:
 *   - consent: every statement must say true; a single false anywhere makes the trace non-consented
 *     (the consent gate then discards it, and no copy of its content is kept);
 *   - confidentiality: the most restrictive level stated anywhere wins;
 *   - everything else (data region, model, agent, ...): all values must agree, otherwise the record is
 *     refused as `conflicting_field`; nothing else has an order that makes one value the safe one.
 */
import { CONFIDENTIALITY_LEVELS, type ConfidentialityLevel } from '../../../config/confidentiality';
import { SELF_HOSTED_MODEL_FAMILIES } from '../../../config/model-families';
import { FEEDBACK_OUTCOMES, type FeedbackOutcome } from '../trace';
import { NormalizeFailure } from './errors';

/** One value found for a logical field, and where (for reasons: `metadata.consent`, `attribute sial.consent`). */
export interface Found {
  readonly value: unknown;
  readonly source: string;
}

/** A parser for one logical field: returns the normalised value or throws NormalizeFailure naming `source`. */
export type FieldParser<T> = (value: unknown, source: string) => T;

/**
 * Parses every value found for a field and returns the single agreed value. Null counts as absent.
 * Two different normalised values are a `conflicting_field`, whichever keys they came from.
 */
export function agreedValue<T>(field: string, found: readonly Found[], parse: FieldParser<T>): { value: T; source: string } | undefined {
  let agreed: { value: T; source: string; key: string } | undefined;
  for (const item of found) {
    if (item.value === undefined || item.value === null) continue;
    const value = parse(item.value, item.source);
    const key = JSON.stringify(value);
    if (agreed === undefined) agreed = { value, source: item.source, key };
    else if (agreed.key !== key) {
      throw new NormalizeFailure('conflicting_field', `${field}: ${agreed.source} and ${item.source} disagree; send one value`);
    }
  }
  return agreed === undefined ? undefined : { value: agreed.value, source: agreed.source };
}

/**
 * Consent across every place that states it: false when any statement is false, true when all are
 * true, undefined when none is present. Every value must still parse (a `"yes"` is refused, not read).
 */
export function combinedConsent(found: readonly Found[]): { value: boolean; source: string } | undefined {
  let result: { value: boolean; source: string } | undefined;
  for (const item of found) {
    if (item.value === undefined || item.value === null) continue;
    const value = parseBoolean(item.value, item.source);
    if (result === undefined || (result.value && !value)) result = { value, source: item.source };
  }
  return result;
}

/**
 * Confidentiality across every place that states it: the most restrictive level, in the order of
 * CONFIDENTIALITY_LEVELS (public < internal < customer-confidential < internal-only < restricted).
 * A span or an observation may raise a deployment's default level; none can lower another's.
 */
export function strictestConfidentiality(found: readonly Found[]): { value: ConfidentialityLevel; source: string } | undefined {
  let result: { value: ConfidentialityLevel; source: string; rank: number } | undefined;
  for (const item of found) {
    if (item.value === undefined || item.value === null) continue;
    const value = parseConfidentiality(item.value, item.source);
    const rank = CONFIDENTIALITY_LEVELS.indexOf(value);
    if (result === undefined || rank > result.rank) result = { value, source: item.source, rank };
  }
  return result === undefined ? undefined : { value: result.value, source: result.source };
}

/**
 * Booleans arrive as JSON booleans, or as the strings "true"/"false" when a producer's pipeline
 * stringifies metadata (Langfuse's OTel ingestion does). Anything else ("yes", 1) is refused rather
 * than guessed: consent in particular must be unambiguous.
 */
export const parseBoolean: FieldParser<boolean> = (value, source) => {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw new NormalizeFailure('invalid_field', `${source}: expected true or false`);
};

/** A non-empty string, trimmed (ids, versions, variants, regions). */
export const parseText: FieldParser<string> = (value, source) => {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  throw new NormalizeFailure('invalid_field', `${source}: expected a non-empty string`);
};

/**
 * Confidentiality levels, case-insensitive, with `_` accepted for `-` (`INTERNAL_ONLY` is how enum-minded
 * producers spell `internal-only`); anything outside the known levels is refused.
 */
export const parseConfidentiality: FieldParser<ConfidentialityLevel> = (value, source) => {
  if (typeof value === 'string') {
    const normalised = value.trim().toLowerCase().replace(/_/g, '-');
    const level = CONFIDENTIALITY_LEVELS.find((l) => l === normalised);
    if (level !== undefined) return level;
  }
  throw new NormalizeFailure('invalid_field', `${source}: expected one of ${CONFIDENTIALITY_LEVELS.join(', ')}`);
};

/** Language tag: the primary subtag is lower-cased (`KO` -> `ko`, `en-US` stays); the schema checks the rest. */
export const parseLanguage: FieldParser<string> = (value, source) => {
  const text = parseText(value, source);
  const [primary = '', ...rest] = text.split('-');
  return [primary.toLowerCase(), ...rest].join('-');
};

/** A number, or a numeric string (stringified metadata); range checks are the schema's. */
export const parseNumber: FieldParser<number> = (value, source) => {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  throw new NormalizeFailure('invalid_field', `${source}: expected a number`);
};

/** One of the feedback outcomes (success, fallback, timeout, error, user_rejected). */
export const parseOutcome: FieldParser<FeedbackOutcome> = (value, source) => {
  if (typeof value === 'string') {
    const normalised = value.trim().toLowerCase();
    const outcome = FEEDBACK_OUTCOMES.find((o) => o === normalised);
    if (outcome !== undefined) return outcome;
  }
  throw new NormalizeFailure('invalid_field', `${source}: expected one of ${FEEDBACK_OUTCOMES.join(', ')}`);
};

/**
 * Recognises the self-hosted families (config/schema.ts) in a served model name, e.g.
 * `Qwen/Qwen3-4B-Instruct-2507` -> qwen3, `meta-llama/Llama-4-Scout-17B-16E` -> llama4, `glm-5` -> glm5.
 * Only an unambiguous single match counts; anything else needs an explicit family.
 */
const FAMILY_PATTERNS: Readonly<Record<(typeof SELF_HOSTED_MODEL_FAMILIES)[number], RegExp>> = {
  qwen3: /(^|[^a-z0-9])qwen[-_.]?3([^0-9.]|$)/,
  llama4: /(^|[^a-z0-9])llama[-_.]?4([^0-9.]|$)/,
  glm5: /(^|[^a-z0-9])glm[-_.]?5([^0-9.]|$)/,
};

/** The family a model name belongs to, or undefined when no single known family matches. */
export function inferModelFamily(modelName: string): string | undefined {
  const lower = modelName.toLowerCase();
  const matches = SELF_HOSTED_MODEL_FAMILIES.filter((family) => FAMILY_PATTERNS[family].test(lower));
  return matches.length === 1 ? matches[0] : undefined;
}

/** Model family as declared: lower-cased and trimmed so `Qwen3` and `qwen3` are one partition value. */
export const parseFamily: FieldParser<string> = (value, source) => parseText(value, source).toLowerCase();
