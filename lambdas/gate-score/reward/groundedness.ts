/**
 * A cheap, deterministic groundedness estimate: the share of answer sentences whose content words
 * occur in the retrieved contexts. It is a lexical proxy for Ragas faithfulness, good enough to rank
 * traces and to move the canary alarm when a candidate starts inventing facts; the LLM judge (a later
 * issue) refines it offline.
 *
 * It runs on every kept trace in the gate Lambda, so it tokenises with one pass over the characters
 * (an ASCII fast path, a Unicode class test only for other characters) instead of regex matching, and
 * only the answer's tokens are kept: context tokens are hashed on the fly and looked up (see
 * `markPresent`), which is what makes the contexts, usually the bulk of a trace, cheap.
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

export interface GroundednessSettings {
  readonly minTokenLength: number;
  readonly sentenceSupportThreshold: number;
}

/**
 * The answer's content words: for each token in order, which distinct word it is and which sentence
 * it belongs to; for each distinct word, where it first occurs in the lower-cased answer; and the
 * distinct words by a 32-bit hash of their characters (FNV-1a over UTF-16 units, kept in small-integer
 * range so V8 does not box it).
 */
interface AnswerWords {
  readonly tokenWord: number[];
  readonly tokenSentence: number[];
  readonly wordStart: number[];
  readonly wordEnd: number[];
  readonly wordsByHash: Map<number, number[]>;
  readonly sentenceCount: number;
}

const FNV_OFFSET = 0x811c9dc5 & 0x3fffffff;
const FNV_PRIME = 0x01000193;
const SMALL_INT = 0x3fffffff;

function answerWords(lower: string, minLength: number): AnswerWords {
  const words: AnswerWords = { tokenWord: [], tokenSentence: [], wordStart: [], wordEnd: [], wordsByHash: new Map(), sentenceCount: 0 };
  let sentence = 0;
  let tokensInSentence = 0;
  let start = -1;
  let hash = FNV_OFFSET;
  for (let i = 0; i <= lower.length; i++) {
    const atEnd = i === lower.length;
    if (!atEnd && isWordChar(lower, i)) {
      if (start === -1) {
        start = i;
        hash = FNV_OFFSET;
      }
      hash = Math.imul(hash ^ lower.charCodeAt(i), FNV_PRIME) & SMALL_INT;
      continue;
    }
    if (start !== -1) {
      if (i - start >= minLength) {
        words.tokenWord.push(wordId(words, lower, start, i, hash));
        words.tokenSentence.push(sentence);
        tokensInSentence += 1;
      }
      start = -1;
    }
    if ((atEnd || isSentenceEnd(lower.charCodeAt(i))) && tokensInSentence > 0) {
      sentence += 1;
      tokensInSentence = 0;
    }
  }
  return { ...words, sentenceCount: sentence };
}

/** The id of the distinct word `lower[start, end)` with hash `hash`, registering it when new. */
function wordId(words: AnswerWords, lower: string, start: number, end: number, hash: number): number {
  const same = words.wordsByHash.get(hash);
  if (same !== undefined) {
    for (const id of same) if (sameSlice(lower, start, end, lower, words.wordStart[id] as number, words.wordEnd[id] as number)) return id;
  }
  const id = words.wordStart.length;
  words.wordStart.push(start);
  words.wordEnd.push(end);
  if (same === undefined) words.wordsByHash.set(hash, [id]);
  else same.push(id);
  return id;
}

/** Whether `a[aStart, aEnd)` and `b[bStart, bEnd)` hold the same UTF-16 units. */
function sameSlice(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  return true;
}

/**
 * Marks every distinct answer word that also occurs as a token of `context`; true when the context has
 * any content word. Each context token is hashed as it is read and compared character by character only
 * with answer words of the same hash, so the contexts (usually the longest texts of a trace) allocate
 * nothing.
 */
function markPresent(context: string, minLength: number, answer: string, words: AnswerWords, present: Uint8Array): boolean {
  const lower = context.toLowerCase();
  let foundAny = false;
  let start = -1;
  let hash = FNV_OFFSET;
  for (let i = 0; i <= lower.length; i++) {
    if (i < lower.length && isWordChar(lower, i)) {
      if (start === -1) {
        start = i;
        hash = FNV_OFFSET;
      }
      hash = Math.imul(hash ^ lower.charCodeAt(i), FNV_PRIME) & SMALL_INT;
      continue;
    }
    if (start !== -1) {
      if (i - start >= minLength) {
        foundAny = true;
        const candidates = words.wordsByHash.get(hash);
        if (candidates !== undefined) {
          for (const id of candidates) {
            if (present[id] === 0 && sameSlice(lower, start, i, answer, words.wordStart[id] as number, words.wordEnd[id] as number)) present[id] = 1;
          }
        }
      }
      start = -1;
    }
  }
  return foundAny;
}

/**
 * Groundedness of `answer` against `contexts`, in [0, 1], or undefined when it cannot be estimated
 * (no contexts, no content words in the contexts, or none in the answer).
 *
 * A sentence is supported when at least `sentenceSupportThreshold` of its content words (tokens of at
 * least `minTokenLength` UTF-16 units, lower-cased) occur as tokens of some context.
 */
export function estimateGroundedness(answer: string, contexts: readonly string[], settings: GroundednessSettings): number | undefined {
  if (contexts.length === 0) return undefined;
  const { minTokenLength, sentenceSupportThreshold } = settings;
  const lower = answer.toLowerCase();
  const words = answerWords(lower, minTokenLength);
  const present = new Uint8Array(words.wordStart.length);
  let contextHasWords = false;
  for (const context of contexts) contextHasWords = markPresent(context, minTokenLength, lower, words, present) || contextHasWords;
  if (!contextHasWords || words.sentenceCount === 0) return undefined;

  const { tokenWord, tokenSentence } = words;
  let supported = 0;
  let inSentence = 0;
  let found = 0;
  for (let token = 0; token <= tokenWord.length; token++) {
    if (token > 0 && (token === tokenWord.length || tokenSentence[token] !== tokenSentence[token - 1])) {
      if (found / inSentence >= sentenceSupportThreshold) supported += 1;
      inSentence = 0;
      found = 0;
    }
    if (token < tokenWord.length) {
      inSentence += 1;
      found += present[tokenWord[token] as number] as number;
    }
  }
  return supported / words.sentenceCount;
}
