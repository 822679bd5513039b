/**
 * Tells common Latin-script languages apart by their function words, for traces that declare no
 * language. Pure and cheap (one pass over a bounded sample, walking a trie of the function words).
 *
 * Why: the script alone cannot tell English from German, and scanning German text as English misses
 * the names and addresses Comprehend would only find in a language it reads. A trace whose words say
 * German is therefore routed as German (discarded unless the stage allows it), not as the stage's
 * `undeclaredLanguage`. Only when the words do not decide (short text, names, code, a language not
 * listed here) does the stage default apply.
 *
 * Function words make up a large share of any running text and differ between these languages; a
 * handful shared by two languages (`de`, `la`, `in`, `que`) counts for both and decides nothing.
 */

/** The most frequent short function words of each language (lower case, written as in the language). */
export const FUNCTION_WORDS: Readonly<Record<string, readonly string[]>> = {
  en: ['the', 'and', 'is', 'are', 'of', 'to', 'that', 'it', 'you', 'for', 'with', 'this', 'was', 'have', 'has', 'not', 'be', 'what', 'can', 'how', 'my', 'your', 'will', 'would', 'please', 'there', 'which', 'from', 'an', 'does', 'i'],
  de: ['der', 'die', 'das', 'und', 'ist', 'nicht', 'ich', 'sie', 'es', 'ein', 'eine', 'mit', 'zu', 'den', 'von', 'auf', 'für', 'wie', 'bitte', 'auch', 'sich', 'dem', 'wir', 'haben', 'kann', 'mein', 'meine', 'ihr', 'ihre', 'noch', 'wird', 'oder'],
  fr: ['le', 'la', 'les', 'et', 'est', 'des', 'une', 'un', 'pour', 'que', 'qui', 'dans', 'pas', 'vous', 'je', 'ne', 'sur', 'avec', 'ce', 'il', 'mon', 'votre', 'du', 'au', 'sont', 'mais', 'nous', 'cette', 'peux', 'comment'],
  es: ['el', 'la', 'los', 'las', 'y', 'es', 'que', 'en', 'un', 'una', 'por', 'para', 'con', 'no', 'se', 'del', 'mi', 'su', 'como', 'está', 'qué', 'cómo', 'puedo', 'pero', 'hay', 'muy', 'este', 'esta', 'lo'],
  it: ['il', 'di', 'che', 'è', 'la', 'per', 'un', 'una', 'non', 'sono', 'con', 'del', 'della', 'mi', 'come', 'ho', 'questo', 'anche', 'ma', 'gli', 'nel', 'alla', 'posso', 'perché', 'mio', 'sei'],
  pt: ['o', 'os', 'as', 'e', 'é', 'que', 'do', 'da', 'em', 'um', 'uma', 'para', 'com', 'não', 'meu', 'minha', 'você', 'por', 'como', 'está', 'mas', 'ao', 'dos', 'das', 'seu', 'sua', 'posso'],
  nl: ['de', 'het', 'een', 'en', 'is', 'van', 'ik', 'niet', 'dat', 'op', 'te', 'met', 'voor', 'zijn', 'je', 'wat', 'hoe', 'mijn', 'kan', 'ook', 'maar', 'wij', 'jullie', 'deze', 'naar'],
  sv: ['och', 'att', 'det', 'är', 'som', 'en', 'på', 'för', 'med', 'inte', 'jag', 'har', 'av', 'till', 'den', 'om', 'vad', 'hur', 'min', 'kan', 'också', 'eller', 'vi'],
  pl: ['i', 'w', 'nie', 'na', 'się', 'jest', 'to', 'że', 'z', 'do', 'jak', 'co', 'ale', 'po', 'czy', 'mój', 'moje', 'jestem', 'proszę', 'dla', 'tak', 'mam'],
};

/** How many UTF-16 units of text the guess reads. */
export const WORD_SAMPLE_CHARS = 1_000;
/** Fewest function-word hits that can decide. */
export const MIN_HITS = 4;
/** The winner needs this many times the runner-up's hits. */
export const MIN_LEAD = 1.5;
/** Hits after which a lead of twice MIN_LEAD settles it: the rest of the sample cannot overturn it in practice, and reading it costs CPU on every trace. */
const SETTLED_HITS = 10;

const LANGUAGES_OF_WORD: ReadonlyMap<string, readonly string[]> = (() => {
  const map = new Map<string, string[]>();
  for (const [language, words] of Object.entries(FUNCTION_WORDS)) {
    for (const word of words) map.set(word, [...(map.get(word) ?? []), language]);
  }
  return map;
})();

/**
 * Word characters, by UTF-16 unit: ASCII letters, Latin-1 and Latin Extended letters (not the two math
 * signs). A token is a maximal run of them.
 */
function isWordUnit(unit: number): boolean {
  if (unit < 0x80) return (unit >= 0x61 && unit <= 0x7a) || (unit >= 0x41 && unit <= 0x5a);
  return (unit >= 0xc0 && unit <= 0x024f && unit !== 0xd7 && unit !== 0xf7) || (unit >= 0x1e00 && unit <= 0x1eff);
}

/**
 * The function words as a trie over UTF-16 units, walked while a token is read: finding the tokens
 * that count costs one step per character and allocates nothing (no token is sliced out), which is
 * cheaper than a regex of ~250 alternatives behind a lookbehind at every position. Node 0 is the root;
 * `a`-`z` children sit in a flat table (most steps), other letters in a map keyed by node and unit.
 */
const TRIE_NODES = 1 + [...LANGUAGES_OF_WORD.keys()].reduce((units, word) => units + word.length, 0);
const TRIE_ASCII_CHILD = new Int32Array(TRIE_NODES * 26).fill(-1);
const TRIE_OTHER_CHILD = new Map<number, number>();
const TRIE_LANGUAGES: Array<readonly string[] | undefined> = [undefined];

/** The child of `node` along `unit`, or -1. */
function trieChild(node: number, unit: number): number {
  if (unit >= 0x61 && unit <= 0x7a) return TRIE_ASCII_CHILD[node * 26 + unit - 0x61] as number;
  return TRIE_OTHER_CHILD.get(node * 0x10000 + unit) ?? -1;
}

for (const [word, languages] of LANGUAGES_OF_WORD) {
  let node = 0;
  for (let i = 0; i < word.length; i++) {
    const unit = word.charCodeAt(i);
    let child = trieChild(node, unit);
    if (child < 0) {
      child = TRIE_LANGUAGES.push(undefined) - 1;
      if (unit >= 0x61 && unit <= 0x7a) TRIE_ASCII_CHILD[node * 26 + unit - 0x61] = child;
      else TRIE_OTHER_CHILD.set(node * 0x10000 + unit, child);
    }
    node = child;
  }
  TRIE_LANGUAGES[node] = languages;
}

/** The languages by index; the trie's nodes list the indices of the languages a word counts for. */
const LANGUAGES: readonly string[] = Object.keys(FUNCTION_WORDS);
const TRIE_LANGUAGE_IDS: Array<readonly number[] | undefined> = TRIE_LANGUAGES.map((languages) => languages?.map((language) => LANGUAGES.indexOf(language)));

/**
 * The hits of the current call per language index, and the indices in the order of their first hit
 * (the order a Map of the hits would iterate in, which decides ties). Reused by every call: the
 * function is synchronous, so calls never overlap; a fresh Map and its entry arrays per hit cost more
 * than the trie walk on short samples.
 */
const hitCounts = new Int32Array(LANGUAGES.length);
const hitOrder = new Int32Array(LANGUAGES.length);
let hitLanguages = 0;

/**
 * The language a Latin-script sample's function words point to, or undefined when they do not
 * decide (fewer than MIN_HITS, or no lead of MIN_LEAD over the runner-up).
 */
export function guessLatinLanguage(sample: string): string | undefined {
  // Lower-cased once: the function words are lower case.
  const text = (sample.length > WORD_SAMPLE_CHARS ? sample.slice(0, WORD_SAMPLE_CHARS) : sample).toLowerCase();
  hitCounts.fill(0);
  hitLanguages = 0;
  // Each step reads a whole token, walking the trie while it can still be a function word (node -1
  // once it cannot), or one unit between tokens.
  const length = text.length;
  let i = 0;
  while (i < length) {
    let unit = text.charCodeAt(i);
    if (!isWordUnit(unit)) {
      i += 1;
      continue;
    }
    let node = 0;
    for (;;) {
      if (node >= 0) node = trieChild(node, unit);
      i += 1;
      if (i === length) break;
      unit = text.charCodeAt(i);
      if (!isWordUnit(unit)) break;
    }
    const languages = node > 0 ? TRIE_LANGUAGE_IDS[node] : undefined;
    if (languages === undefined) continue;
    for (const language of languages) {
      if (hitCounts[language] === 0) hitOrder[hitLanguages++] = language;
      hitCounts[language] = (hitCounts[language] as number) + 1;
    }
    ranking();
    if (rankedBestHits >= SETTLED_HITS && rankedBestHits >= rankedRunnerUp * MIN_LEAD * 2) return LANGUAGES[rankedBest];
  }
  ranking();
  if (rankedBest < 0 || rankedBestHits < MIN_HITS || rankedBestHits < rankedRunnerUp * MIN_LEAD) return undefined;
  return LANGUAGES[rankedBest];
}

/** What `ranking` found: the index of the language with most hits (-1: none), its hits, and the runner-up's. */
let rankedBest = -1;
let rankedBestHits = 0;
let rankedRunnerUp = 0;

/** Ranks the current hits, visiting languages in the order of their first hit (ties go to the earlier). */
function ranking(): void {
  let best = -1;
  let bestHits = 0;
  let runnerUp = 0;
  for (let k = 0; k < hitLanguages; k++) {
    const language = hitOrder[k] as number;
    const count = hitCounts[language] as number;
    if (count > bestHits) {
      runnerUp = bestHits;
      best = language;
      bestHits = count;
    } else if (count > runnerUp) {
      runnerUp = count;
    }
  }
  rankedBest = best;
  rankedBestHits = bestHits;
  rankedRunnerUp = runnerUp;
}
