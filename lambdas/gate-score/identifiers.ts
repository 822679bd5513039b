/**
 * What the identifier fields of a trace may contain. Identifiers (trace, request and agent ids, model
 * names, tool names, route tiers, regions) are structure chosen by us or by the producer: they are
 * written to the lake as they are, partitioned on, used as metric dimensions and logged. They are
 * never masked, so they must never hold personal data. Each field therefore has three rules, all
 * checked before any row exists (a value that breaks one makes its record a schema failure):
 *
 * 1. a strict character set: letters, digits and at most `. _ : / -`; never `@`, `+`, `%`,
 *    whitespace or anything outside ASCII, so an e-mail address, an E.164 number, a URL-encoded value
 *    or a person's full name cannot fit;
 * 2. a length bound;
 * 3. the structured-PII pattern detector (pii/pattern-detector.ts) finds nothing in the value: a
 *    phone number with dashes (`415-555-0123`), a card or a resident registration number fits the
 *    character set, and the detector is what tells it apart from `tr-2026-11-20-0001`.
 *
 * Conversation ids (session ids) are not identifiers of this kind: producers fill them with phone
 * numbers and user handles, so they are stored only as keyed pseudonyms (shared/pseudonymisation.ts).
 *
 * Pure: no I/O, no AWS SDK, no schema library (the trace contract checks identifiers with
 * {@link identifierViolation}; identifier-schemas.ts wraps the same rules in zod schemas for the
 * functions that validate with zod). A violation names the rule, never the value.
 */
import type { IdentifierRuleName } from '../shared/lake-tables';
import { detectPatternPii } from './pii/pattern-detector';

/** One identifier field's rule. */
export interface IdentifierRule {
  /** Anchored pattern over the whole value: the allowed characters. */
  readonly pattern: RegExp;
  /** What the value must look like, in words that complete "<field>: ..." in a reason. */
  readonly expectation: string;
  /** Longest value accepted, in characters (all ASCII, so also bytes). */
  readonly maxLength: number;
}

type Charset = Pick<IdentifierRule, 'pattern' | 'expectation'>;
const IDS: Charset = { pattern: /^[A-Za-z0-9._:-]+$/, expectation: 'may contain only letters, digits and . _ : -' };
const PATHS: Charset = { pattern: /^[A-Za-z0-9._:/-]+$/, expectation: 'may contain only letters, digits and . _ : / -' };
const LABELS: Charset = { pattern: /^[A-Za-z0-9._-]+$/, expectation: 'may contain only letters, digits and . _ -' };

/**
 * The rule of every identifier field, by name (the lake table definitions name the rule of each
 * identifier column, so a row and its input obey the same rule).
 *
 * - trace, request and agent ids: no `/` (an agent id is a URL path segment of the feedback API and a
 *   partition value of the feedback table; a trace id is listed in dataset manifests and erasure
 *   lineage); 128 characters hold any UUID, ULID, W3C or vendor id with room to spare.
 * - model names and versions, tool names: `/` and `:` allowed (`Qwen/Qwen3-4B-Instruct-2507`,
 *   `qwen3:8b`, `mcp-server/search`, registry ARNs as versions).
 * - model family and variant, route tier: short labels, no `/` or `:`.
 * - data region: an AWS region code or a boundary name.
 * - language: a BCP 47 tag of at most a language, a script and a region (`en`, `zh-Hant-TW`,
 *   `es-419`); variants, extensions and private-use subtags (`x-...`) are refused, since they
 *   could carry anything.
 */
export const IDENTIFIER_RULES: Readonly<Record<IdentifierRuleName, IdentifierRule>> = {
  'trace-id': { ...IDS, maxLength: 128 },
  'request-id': { ...IDS, maxLength: 128 },
  'agent-id': { ...IDS, maxLength: 128 },
  'model-family': { ...LABELS, maxLength: 64 },
  'model-name': { ...PATHS, maxLength: 128 },
  'model-version': { ...PATHS, maxLength: 128 },
  'model-variant': { ...LABELS, maxLength: 64 },
  'tool-name': { ...PATHS, maxLength: 128 },
  'route-tier': { ...LABELS, maxLength: 64 },
  'data-region': { pattern: /^[A-Za-z0-9_-]+$/, expectation: 'may contain only letters, digits and _ -', maxLength: 64 },
  language: {
    pattern: /^[a-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?$/,
    expectation: 'expected a language tag of a language, an optional script and an optional region (en, en-US, zh-Hant-TW)',
    maxLength: 16,
  },
};

/** The message of the third rule. It names what was found by kind only. */
export const PERSONAL_DATA_RULE = 'must not contain personal data (an e-mail address, phone number or another structured identifier was found)';

/** The fewest digits any structured PII type has (a phone number after a cue word). */
const MIN_PII_DIGITS = 7;

function hasDigits(value: string, atLeast: number): boolean {
  let count = 0;
  for (let i = 0; i < value.length; i += 1) {
    const unit = value.charCodeAt(i);
    if (unit >= 0x30 && unit <= 0x39 && ++count >= atLeast) return true;
  }
  return false;
}

/**
 * True when the pattern detector finds personal data in a value of a strict ASCII character set (no
 * whitespace, no `@`). In such a value only digit-bearing types can be found, and each has at least
 * seven digits, so a value with fewer is settled without running the detector: identifiers are
 * checked several times per trace, and most hold a handful of digits at most.
 */
export function holdsStructuredPii(value: string): boolean {
  if (!hasDigits(value, MIN_PII_DIGITS)) return false;
  const known = verdicts.get(value);
  if (known !== undefined) return known;
  const found = detectPatternPii(value).length > 0;
  // Bounded: unique values (trace ids with dates in them) would otherwise grow it without end.
  if (verdicts.size >= MAX_REMEMBERED_VERDICTS) verdicts.clear();
  verdicts.set(value, found);
  return found;
}

/**
 * Verdicts of the detector on identifier values, by value. The same model versions, agent ids and
 * tool names (`2026-11-01`, `release-20261120`) recur on every trace, and the detector is a dozen
 * regex scans; its verdict on a value never changes, so it is computed once per value.
 */
const verdicts = new Map<string, boolean>();
const MAX_REMEMBERED_VERDICTS = 4_096;

/** Why `value` breaks `rule`, in words that never quote it; undefined when it fits. */
export function identifierViolation(rule: IdentifierRule, value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > rule.maxLength) return `expected at most ${rule.maxLength} characters`;
  if (!rule.pattern.test(value)) return rule.expectation;
  if (holdsStructuredPii(value)) return PERSONAL_DATA_RULE;
  return undefined;
}
