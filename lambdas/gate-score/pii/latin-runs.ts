/**
 * The Latin-script passages of a text written mostly in another script: the English name in a Korean
 * sentence, the street address in a Korean trace's tool result, a whole JSON payload in ASCII. The PII
 * gate sends them to Comprehend in addition to the trace language's own detector, because a Korean
 * named-entity model (or the pattern detector alone) does not find "John Smith" or "221B Baker Street".
 * Pure.
 *
 * A run is a maximal stretch of the text without a letter of another script (Hangul, Han, Kana,
 * Cyrillic, ...): Latin letters, digits, punctuation, spaces, symbols and emoji all belong to it, so
 * "123 Main St, Springfield" stays one run and a name keeps its spaces. Runs are cut per run rather
 * than per field because Korean text and its tool payloads mix scripts inside one field. A run is
 * trimmed of surrounding whitespace and kept only with at least `MIN_RUN_LATIN_LETTERS` Latin letters:
 * digits alone are the pattern detector's (phones, cards, RRNs), and a lone letter is no name.
 *
 * Offsets are code points into the text, the unit of every detector span, so an entity found at
 * offset k of a run lies at `run.start + k` of the text exactly, whatever precedes it (emoji, Hangul).
 */

/** One Latin-script passage: its text and where it starts in the whole text, in code points. */
export interface LatinRun {
  readonly text: string;
  readonly start: number;
}

/** Fewest Latin letters a run needs to be scanned. */
export const MIN_RUN_LATIN_LETTERS = 2;

const LETTER = /\p{L}/u;
const LATIN = /\p{Script=Latin}/u;
const WHITESPACE = /\s/u;

/** How a code point counts for run boundaries. */
function classify(char: string): 'latin' | 'other-script' | 'neutral' {
  const unit = char.charCodeAt(0);
  if (unit < 0x80) return (unit >= 0x41 && unit <= 0x5a) || (unit >= 0x61 && unit <= 0x7a) ? 'latin' : 'neutral';
  if (!LETTER.test(char)) return 'neutral';
  return LATIN.test(char) ? 'latin' : 'other-script';
}

/** The text's Latin-script runs, in order (see the module comment). A text without other scripts is one run. */
export function latinRuns(text: string): LatinRun[] {
  const runs: LatinRun[] = [];
  const codePoints = Array.from(text);
  let start = 0;
  let letters = 0;
  const close = (end: number): void => {
    if (letters >= MIN_RUN_LATIN_LETTERS) {
      let from = start;
      let to = end;
      while (from < to && WHITESPACE.test(codePoints[from] ?? '')) from += 1;
      while (to > from && WHITESPACE.test(codePoints[to - 1] ?? '')) to -= 1;
      runs.push({ text: codePoints.slice(from, to).join(''), start: from });
    }
    letters = 0;
  };
  codePoints.forEach((char, index) => {
    const kind = classify(char);
    if (kind === 'other-script') {
      close(index);
      start = index + 1;
    } else if (kind === 'latin') {
      letters += 1;
    }
  });
  close(codePoints.length);
  return runs;
}
