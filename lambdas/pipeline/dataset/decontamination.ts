/**
 * Decontamination against the target's golden set: the golden prompts' user text as word n-grams, handed
 * to the dataset SQL, which splits every trace's user text the same way and excludes a trace when at least
 * `maxOverlap` of its n-grams occur in the golden set (sql/candidates.sql, `screened` and `overlap`). Training on the
 * evaluation's own questions would make the eval gate measure memory instead of skill.
 */
import * as z from '../../shared/zod-mini';
import type { ObjectStore } from '../ports';

/** What the dataset build compared with, for the manifest. */
export interface GoldenSetRef {
  readonly uri: string;
  readonly version: string;
  readonly sha256: string;
  readonly examples: number;
}

/** The golden set's n-grams and where they came from. */
export interface GoldenNgrams {
  /** null when the target has no golden set in the store: nothing to decontaminate against. */
  readonly goldenSet: GoldenSetRef | null;
  readonly ngrams: ReadonlySet<string>;
}

/**
 * The words of a text as the SQL splits them: lower-cased, split on white space, punctuation and symbols
 * (so a `|`, the list separator, never sits inside a word), empty pieces dropped.
 */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[\s\p{P}\p{S}]+/u)
    .filter((w) => w !== '');
}

/** Word n-grams of `n` words; a text of fewer than n words is one n-gram, the whole text. */
export function ngrams(textWords: readonly string[], n: number): string[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n-gram size must be a positive integer; received ${n}`);
  if (textWords.length === 0) return [];
  if (textWords.length < n) return [textWords.join(' ')];
  const out: string[] = [];
  for (let i = 0; i + n <= textWords.length; i++) out.push(textWords.slice(i, i + n).join(' '));
  return out;
}

// An LLM's golden set carries the conversation; a router's (training/sial_training/router) the request's
// user message: either way the user's words are what a training trace must not repeat.
const goldenLineSchema = z.union([
  z.object({ messages: z.array(z.object({ role: z.string(), content: z.string() })).check(z.minLength(1)) }),
  z.object({ user_message: z.string() }),
]);
const goldenMetaSchema = z.object({ version: z.string().check(z.minLength(1)), sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)), examples: z.number().check(z.int(), z.nonnegative()) });

/**
 * Reads `<goldenSetUri>golden.json` and `golden.jsonl` and returns the n-grams of every example's user
 * text. A missing golden set yields none (and the manifest says so); a malformed one is an error.
 * @throws Error naming the line and field of a malformed golden set.
 */
export async function goldenNgrams(store: ObjectStore, goldenSetUri: string, n: number): Promise<GoldenNgrams> {
  const prefix = goldenSetUri.endsWith('/') ? goldenSetUri : `${goldenSetUri}/`;
  const [metaText, linesText] = await Promise.all([store.getText(`${prefix}golden.json`), store.getText(`${prefix}golden.jsonl`)]);
  if (metaText === undefined || linesText === undefined) return { goldenSet: null, ngrams: new Set() };
  const meta = goldenMetaSchema.safeParse(JSON.parse(metaText));
  if (!meta.success) throw new Error(`golden set ${prefix}golden.json is malformed: ${z.prettifyError(meta.error)}`);
  const grams = new Set<string>();
  let examples = 0;
  linesText.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`golden set ${prefix}golden.jsonl line ${index + 1} is not JSON`);
    }
    const parsed = goldenLineSchema.safeParse(value);
    if (!parsed.success) throw new Error(`golden set ${prefix}golden.jsonl line ${index + 1}: ${z.prettifyError(parsed.error)}`);
    examples += 1;
    const userText = 'messages' in parsed.data ? parsed.data.messages.filter((m) => m.role === 'user').map((m) => m.content).join(' ') : parsed.data.user_message;
    for (const gram of ngrams(words(userText), n)) grams.add(gram);
  });
  return { goldenSet: { uri: `${prefix}golden.jsonl`, version: meta.data.version, sha256: meta.data.sha256, examples }, ngrams: grams };
}

// What an n-gram from `ngrams(words(...))` never holds: an empty word, a separator other than one space, or
// pattern syntax. The SQL relies on it (candidates.sql puts the n-grams into a pattern, `|` between them).
const NOT_A_GRAM = /^ | $| {2}|[\\^$.|?*+()[\]{}]/;

/**
 * The n-grams as the SQL's `{{inline:golden_ngrams}}` value: `|gram|gram|`, sorted, or '' for none.
 * @throws Error on a value that is not an n-gram of words (see NOT_A_GRAM).
 */
export function ngramsLiteral(grams: ReadonlySet<string>): string {
  if (grams.size === 0) return '';
  for (const gram of grams) {
    if (gram === '' || NOT_A_GRAM.test(gram)) throw new Error(`"${gram}" is not an n-gram of words (lower-cased, split on white space, punctuation and symbols)`);
  }
  return `|${[...grams].sort().join('|')}|`;
}
