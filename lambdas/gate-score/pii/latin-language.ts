/**
 * Tells common Latin-script languages apart by their function words, for traces that declare no
 * language. Pure and cheap (one regex scan over a bounded sample, map lookups of the words it finds).
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
 * Word characters: ASCII letters, Latin-1 and Latin Extended letters (not the two math signs). A token
 * is a maximal run of them; the lookarounds make a match a whole token.
 */
const WORD_CHAR = String.raw`[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]`;

/**
 * Every function word as a whole token, longest first. One native regex scan finds the tokens that
 * can count, instead of a JavaScript loop that slices and looks up every short token: this runs on
 * every trace, and the regex engine reads text several times faster than a character loop.
 */
const FUNCTION_WORD_TOKEN = new RegExp(
  `(?<!${WORD_CHAR})(?:${[...LANGUAGES_OF_WORD.keys()].sort((a, b) => b.length - a.length).join('|')})(?!${WORD_CHAR})`,
  'g',
);

/**
 * The language a Latin-script sample's function words point to, or undefined when they do not
 * decide (fewer than MIN_HITS, or no lead of MIN_LEAD over the runner-up).
 */
export function guessLatinLanguage(sample: string): string | undefined {
  // Lower-cased once: the function words are lower case.
  const text = (sample.length > WORD_SAMPLE_CHARS ? sample.slice(0, WORD_SAMPLE_CHARS) : sample).toLowerCase();
  const hits = new Map<string, number>();
  FUNCTION_WORD_TOKEN.lastIndex = 0;
  for (let match = FUNCTION_WORD_TOKEN.exec(text); match !== null; match = FUNCTION_WORD_TOKEN.exec(text)) {
    const languages = LANGUAGES_OF_WORD.get(match[0]);
    if (languages === undefined) continue;
    for (const language of languages) hits.set(language, (hits.get(language) ?? 0) + 1);
    const leader = ranking(hits);
    if (leader.bestHits >= SETTLED_HITS && leader.bestHits >= leader.runnerUp * MIN_LEAD * 2) return leader.best;
  }
  const { best, bestHits, runnerUp } = ranking(hits);
  if (best === undefined || bestHits < MIN_HITS || bestHits < runnerUp * MIN_LEAD) return undefined;
  return best;
}

/** The language with most hits, its hits, and the runner-up's. */
function ranking(hits: ReadonlyMap<string, number>): { best: string | undefined; bestHits: number; runnerUp: number } {
  let best: string | undefined;
  let bestHits = 0;
  let runnerUp = 0;
  for (const [language, count] of hits) {
    if (count > bestHits) {
      runnerUp = bestHits;
      best = language;
      bestHits = count;
    } else if (count > runnerUp) {
      runnerUp = count;
    }
  }
  return { best, bestHits, runnerUp };
}
