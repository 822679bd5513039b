/**
 * The contract of a self-hosted named-entity (token-classification) model served by the Hugging Face
 * inference toolkit, shared by the SageMaker adapter and its local simulation. Pure: no SDK, no I/O.
 *
 * Request: `{"inputs": [text, ...], "parameters": {"aggregation_strategy": "simple"}}`. A list of
 * inputs is answered with one list per input, in order; `simple` aggregation merges the sub-word
 * tokens of one entity into a single `{entity_group, score, word, start, end}` with the B-/I- prefix
 * already removed from the group.
 *
 * Offsets: `start`/`end` are Python `str` indices into the input, that is Unicode code points with the
 * end exclusive, the same unit as the port's `PiiEntity`; they are passed through unchanged, never
 * re-counted in UTF-16 (an emoji before a name would otherwise shift the mask by one per emoji).
 *
 * Validation is strict because a model that answers something we cannot place must not let its
 * traces through: a response of another shape, a count that does not match the inputs, a score
 * outside [0, 1], offsets that are not integers inside the input, or a `word` that is not the text at
 * those offsets, fails the whole call (`TokenClassificationResponseError`), which discards the traces
 * in it. `word` is compared loosely, as the tokenizer decodes it: without whitespace, sub-word markers
 * (`##`, `▁`), accents and case; a word with an unknown-token marker cannot be compared and is not.
 */
import type { PiiEntity } from './ports';

/**
 * Entity groups masked by default and the masker type each becomes. Covers the common label sets:
 * CoNLL-style (PER, LOC), KLUE and other Korean corpora (PS person, LC location), OntoNotes-style
 * (PERSON, GPE). Organisations (ORG, OG) are deliberately not masked: a company or product name is not
 * personal data and is what many answers are about; a stage that disagrees maps them in config.
 */
export const DEFAULT_ENTITY_TYPES: Readonly<Record<string, string>> = {
  PER: 'NAME',
  PS: 'NAME',
  PERSON: 'NAME',
  LOC: 'ADDRESS',
  LC: 'ADDRESS',
  LOCATION: 'ADDRESS',
  GPE: 'ADDRESS',
  ADDRESS: 'ADDRESS',
};

/** One entity as the toolkit returns it with `aggregation_strategy: simple`. */
export interface TokenClassificationEntity {
  readonly entity_group: string;
  readonly score: number;
  readonly word: string;
  readonly start: number;
  readonly end: number;
}

/** A response that does not fit the contract; the call that received it fails closed. */
export class TokenClassificationResponseError extends Error {
  override name = 'TokenClassificationResponseError';
}

/** The built-in map with a stage's additions (keys upper-cased, as groups are compared upper-cased). */
export function entityTypeMap(overrides: Readonly<Record<string, string>> = {}): Readonly<Record<string, string>> {
  const map: Record<string, string> = { ...DEFAULT_ENTITY_TYPES };
  for (const [group, type] of Object.entries(overrides)) map[group.toUpperCase()] = type;
  return map;
}

/** The masker type of an entity group, or undefined for a group that is not masked. */
export function maskTypeOf(group: string, types: Readonly<Record<string, string>>): string | undefined {
  // Some exports keep the IOB prefix even after aggregation; the entity is the same.
  const bare = group.toUpperCase().replace(/^[BIES]-/, '');
  return Object.prototype.hasOwnProperty.call(types, bare) ? types[bare] : undefined;
}

/** The request body for a batch of texts. */
export function tokenClassificationRequest(texts: readonly string[], stride?: number): string {
  const parameters: Record<string, unknown> = { aggregation_strategy: 'simple' };
  if (stride !== undefined) parameters.stride = stride;
  return JSON.stringify({ inputs: texts, parameters });
}

/**
 * Validates a parsed response for `texts` and maps it to port entities, one list per text. Groups
 * that `types` does not list are dropped (dates, quantities, organisations: not masked).
 *
 * @throws TokenClassificationResponseError when the response does not fit the contract (module comment)
 */
export function parseTokenClassificationResponse(
  response: unknown,
  texts: readonly string[],
  types: Readonly<Record<string, string>>,
): PiiEntity[][] {
  if (!Array.isArray(response)) throw new TokenClassificationResponseError(`expected a list of ${texts.length} entity lists, received ${kindOf(response)}`);
  if (response.length !== texts.length) {
    throw new TokenClassificationResponseError(`expected ${texts.length} entity lists (one per input), received ${response.length}`);
  }
  return texts.map((text, input) => {
    const entities: unknown = response[input];
    if (!Array.isArray(entities)) throw new TokenClassificationResponseError(`input ${input}: expected a list of entities, received ${kindOf(entities)}`);
    // Code points of the input, computed once: offsets index them.
    const codePoints = Array.from(text);
    const mapped: PiiEntity[] = [];
    entities.forEach((raw: unknown, k) => {
      const entity = checkEntity(raw, codePoints, `input ${input}, entity ${k}`);
      const type = maskTypeOf(entity.entity_group, types);
      if (type !== undefined) mapped.push({ type, beginOffset: entity.start, endOffset: entity.end, score: entity.score });
    });
    return mapped;
  });
}

/** Checks one entity's shape, offsets and word against its input. */
function checkEntity(raw: unknown, codePoints: readonly string[], where: string): TokenClassificationEntity {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TokenClassificationResponseError(`${where}: expected an object, received ${kindOf(raw)}`);
  const { entity_group: group, score, word, start, end } = raw as Record<string, unknown>;
  if (typeof group !== 'string' || group.length === 0) throw new TokenClassificationResponseError(`${where}: entity_group must be a non-empty string`);
  if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) throw new TokenClassificationResponseError(`${where}: score must be a number in [0, 1]`);
  if (typeof word !== 'string') throw new TokenClassificationResponseError(`${where}: word must be a string`);
  // Offsets are null when the endpoint's tokenizer is not a fast one: nothing could be placed.
  if (!Number.isInteger(start) || !Number.isInteger(end)) throw new TokenClassificationResponseError(`${where}: start and end must be integers (the endpoint needs a fast tokenizer)`);
  const begin = start as number;
  const stop = end as number;
  if (begin < 0 || stop <= begin || stop > codePoints.length) {
    throw new TokenClassificationResponseError(`${where}: offsets [${begin}, ${stop}) are outside the input of ${codePoints.length} code points`);
  }
  if (!wordMatches(word, codePoints.slice(begin, stop).join(''))) {
    // The detail names positions only: neither the word nor the text may reach logs or the audit table.
    throw new TokenClassificationResponseError(`${where}: word does not match the input at [${begin}, ${stop}) (offsets counted in another unit?)`);
  }
  return { entity_group: group, score, word, start: begin, end: stop };
}

/** Markers a tokenizer decodes for a piece it has no token for: such a word cannot be compared. */
const UNKNOWN_MARKERS = ['[UNK]', '<unk>', '\uFFFD'];

/** True when `word` is the text at the entity's offsets, as far as decoding lets us tell. */
export function wordMatches(word: string, slice: string): boolean {
  if (UNKNOWN_MARKERS.some((marker) => word.includes(marker))) return true;
  const decoded = comparable(word);
  return decoded.length === 0 || decoded === comparable(slice);
}

/** Without whitespace, sub-word markers, accents (an uncased tokenizer strips them) and case. */
function comparable(text: string): string {
  return text.normalize('NFKD').replace(/##|\u2581|\s|\p{M}/gu, '').toLowerCase();
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
