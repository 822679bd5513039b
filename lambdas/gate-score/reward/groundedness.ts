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

function isWordChar(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (code < 0x80) return (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
  // Both halves of a surrogate pair count as word characters (astral letters, e.g. CJK Extension B).
  if (code >= 0xd800 && code <= 0xdfff) return true;
  return NON_ASCII_WORD_CHAR.test(text[i] as string);
}

/** Whether the text has at least one word character (the tokeniser's definition). */
export function hasWordChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isWordChar(text, i)) return true;
  return false;
}

function isSentenceEnd(code: number): boolean {
  // . ! ? newline, and the full-width 。！？
  return code === 0x2e || code === 0x21 || code === 0x3f || code === 0x0a || code === 0x3002 || code === 0xff01 || code === 0xff1f;
}

/** Adds the lower-cased tokens of at least `minLength` UTF-16 units of `text` to `words`. */
function addTokens(text: string, minLength: number, words: Set<string>): void {
  const lower = text.toLowerCase();
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    if (i < lower.length && isWordChar(lower, i)) {
      if (start === -1) start = i;
    } else if (start !== -1) {
      if (i - start >= minLength) words.add(lower.slice(start, i));
      start = -1;
    }
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
  const { minTokenLength, sentenceSupportThreshold } = settings;
  const contextWords = new Set<string>();
  for (const context of contexts) addTokens(context, minTokenLength, contextWords);
  if (contextWords.size === 0) return undefined;

  const lower = answer.toLowerCase();
  let sentences = 0;
  let supported = 0;
  let words = 0;
  let present = 0;
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const atEnd = i === lower.length;
    if (!atEnd && isWordChar(lower, i)) {
      if (start === -1) start = i;
      continue;
    }
    if (start !== -1) {
      if (i - start >= minTokenLength) {
        words += 1;
        if (contextWords.has(lower.slice(start, i))) present += 1;
      }
      start = -1;
    }
    if (atEnd || isSentenceEnd(lower.charCodeAt(i))) {
      if (words > 0) {
        sentences += 1;
        if (present / words >= sentenceSupportThreshold) supported += 1;
      }
      words = 0;
      present = 0;
    }
  }
  return sentences === 0 ? undefined : supported / sentences;
}
