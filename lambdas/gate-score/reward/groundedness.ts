/**
 * A cheap, deterministic groundedness estimate: the share of answer sentences whose content words
 * occur in the retrieved contexts. It is a lexical proxy for Ragas faithfulness, good enough to rank
 * traces and to move the canary alarm when a candidate starts inventing facts; the LLM judge (a later
 * issue) refines it offline.
 *
 * It runs on every kept trace in the gate Lambda, so it tokenises with one pass over the characters
 * (an ASCII fast path, a Unicode class test only for other characters) instead of regex matching.
 */

const NON_ASCII_WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const SENTENCE_ENDS = new Set(['.', '!', '?', '\n', '。', '！', '？']);

function isWordChar(text: string, i: number, code: number): boolean {
  if (code < 0x80) return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
  // Both halves of a surrogate pair count as word characters (astral letters, e.g. CJK Extension B).
  if (code >= 0xd800 && code <= 0xdfff) return true;
  return NON_ASCII_WORD_CHAR.test(text[i] as string);
}

/**
 * Calls `visit(token, sentenceIndex)` for each lower-cased token of at least `minLength` UTF-16 units,
 * numbering sentences as it goes.
 */
function forEachToken(text: string, minLength: number, visit: (token: string, sentence: number) => void): void {
  let start = -1;
  let sentence = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x20;
    if (isWordChar(text, i, code)) {
      if (start === -1) start = i;
      continue;
    }
    if (start !== -1) {
      if (i - start >= minLength) visit(text.slice(start, i).toLowerCase(), sentence);
      start = -1;
    }
    if (i < text.length && SENTENCE_ENDS.has(text[i] as string)) sentence += 1;
  }
}

export interface GroundednessSettings {
  readonly minTokenLength: number;
  readonly sentenceSupportThreshold: number;
}

/**
 * Groundedness of `answer` against `contexts`, in [0, 1], or undefined when it cannot be estimated
 * (no contexts, or no content words in the answer).
 */
export function estimateGroundedness(answer: string, contexts: readonly string[], settings: GroundednessSettings): number | undefined {
  if (contexts.length === 0) return undefined;
  const contextWords = new Set<string>();
  for (const context of contexts) forEachToken(context, settings.minTokenLength, (token) => contextWords.add(token));
  if (contextWords.size === 0) return undefined;

  // Per sentence: [content words, of which present in the contexts].
  const counts = new Map<number, [number, number]>();
  forEachToken(answer, settings.minTokenLength, (token, sentence) => {
    const entry = counts.get(sentence) ?? [0, 0];
    entry[0] += 1;
    if (contextWords.has(token)) entry[1] += 1;
    counts.set(sentence, entry);
  });
  if (counts.size === 0) return undefined;
  let supported = 0;
  for (const [words, present] of counts.values()) if (present / words >= settings.sentenceSupportThreshold) supported += 1;
  return supported / counts.size;
}
