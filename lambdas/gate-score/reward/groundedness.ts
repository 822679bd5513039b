/**
 * A cheap, deterministic groundedness estimate: the share of answer sentences whose content words
 * occur in the retrieved contexts. It is a lexical proxy for Ragas faithfulness, good enough to rank
 * traces and to move the canary alarm when a candidate starts inventing facts; the LLM judge
 * (lambdas/judge/) measures faithfulness properly, claim by claim, on a sample.
 *
 * It runs on every kept trace in the gate Lambda, so it is written for speed: one pass over the
 * characters of each text (an ASCII fast path, a Unicode class test only for other characters), no
 * substring is ever allocated, and words are compared through a small open-addressing hash table of
 * the answer's distinct words (typed arrays reused between calls). Context tokens, usually the bulk of
 * a trace, are hashed as they are read and only looked up.
 *
 * An ASCII text is read in place with A-Z folded to a-z as each unit is read, which is exactly what
 * `toLowerCase` does to ASCII: no lower-cased copy is allocated. In the gate every copy made while a
 * batch is alive costs more than its own time, since each young-generation collection copies the
 * batch's surviving data, and these copies were a large share of the path's allocations. A text with
 * any unit of U+0080 or above is lower-cased first, as before (see `readAnswer` and `readContext` for
 * why switching on the first such unit gives the same result).
 */

const NON_ASCII_WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

/** ASCII letters and digits, by code unit: one load per character on the common path. */
const ASCII_WORD_UNIT = Uint8Array.from({ length: 0x80 }, (_, code) => ((code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) ? 1 : 0));

function isWordUnit(code: number, text: string, i: number): boolean {
  if (code < 0x80) return ASCII_WORD_UNIT[code] === 1;
  // Both halves of a surrogate pair count as word characters (astral letters, e.g. CJK Extension B).
  if (code >= 0xd800 && code <= 0xdfff) return true;
  return NON_ASCII_WORD_CHAR.test(text[i] as string);
}

/** Whether the text has at least one word character (the tokeniser's definition). */
export function hasWordChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isWordUnit(text.charCodeAt(i), text, i)) return true;
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

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * Scratch space, grown on demand and reused by every call (the function is synchronous, so calls
 * never overlap): per answer token its distinct word and sentence; per distinct word where it first
 * occurs and whether a context has it; the hash table (slot -> word id + 1, and the slot's hash).
 */
let tokenWord = new Int32Array(256);
let tokenSentence = new Int32Array(256);
let wordStart = new Int32Array(256);
let wordEnd = new Int32Array(256);
let wordPresent = new Uint8Array(256);
let slotWord = new Int32Array(512);
let slotHash = new Int32Array(512);

/** Makes the scratch arrays big enough for `tokens` tokens; returns the hash-table mask. */
function prepare(tokens: number): number {
  if (tokenWord.length < tokens) {
    const size = 2 ** Math.ceil(Math.log2(tokens));
    tokenWord = new Int32Array(size);
    tokenSentence = new Int32Array(size);
    wordStart = new Int32Array(size);
    wordEnd = new Int32Array(size);
    wordPresent = new Uint8Array(size);
  }
  // At most half full, so probes stay short.
  const slots = Math.max(16, 2 ** Math.ceil(Math.log2(tokens * 2)));
  if (slotWord.length < slots) {
    slotWord = new Int32Array(slots);
    slotHash = new Int32Array(slots);
  }
  slotWord.fill(0, 0, slots);
  return slots - 1;
}

/**
 * Whether two distinct answer words of the current call have the same hash (found while inserting).
 * Usually not: then a context token whose hash is that of an answer word already found cannot make any
 * other word found, equal to it or not, and the context pass skips comparing its characters.
 */
let answerHashShared = false;

/** A-Z to a-z; every other unit as it is (`toLowerCase` on an ASCII unit; no-op on lower-cased text). */
function foldAscii(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code | 0x20 : code;
}

/**
 * Whether `a[aStart, aEnd)` and `b[bStart, bEnd)` hold the same UTF-16 units once A-Z are folded. Each
 * side is either ASCII read in place or already lower-cased (which holds no A-Z), so this is equality
 * of the lower-cased texts.
 */
function sameSlice(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) {
    const x = a.charCodeAt(aStart + i);
    const y = b.charCodeAt(bStart + i);
    // Equal once folded: the same unit (the usual case, read first), or an ASCII letter in its two cases.
    if (x !== y && ((x ^ y) !== 0x20 || ((x | 0x20) < 0x61 || (x | 0x20) > 0x7a))) return false;
  }
  return true;
}

/**
 * The slot of the answer word equal to `text[start, end)` with hash `hash`, or the empty slot where
 * it would go (slotWord 0).
 */
function findSlot(mask: number, hash: number, text: string, start: number, end: number, answer: string): number {
  let slot = hash & mask;
  for (;;) {
    const id = (slotWord[slot] as number) - 1;
    if (id < 0) return slot;
    if (slotHash[slot] === hash) {
      if (sameSlice(text, start, end, answer, wordStart[id] as number, wordEnd[id] as number)) return slot;
      // Linear probing without deletions walks past every word with this hash before an empty slot.
      answerHashShared = true;
    }
    slot = (slot + 1) & mask;
  }
}

/** The id of the answer word not yet found in a context that equals `text[start, end)` (hash `hash`), or -1. */
function newlyFoundWord(mask: number, hash: number, text: string, start: number, end: number, answer: string): number {
  let slot = hash & mask;
  for (;;) {
    const id = (slotWord[slot] as number) - 1;
    if (id < 0) return -1;
    if (slotHash[slot] === hash) {
      if (wordPresent[id] === 1 && !answerHashShared) return -1;
      if (sameSlice(text, start, end, answer, wordStart[id] as number, wordEnd[id] as number)) return wordPresent[id] === 1 ? -1 : id;
    }
    slot = (slot + 1) & mask;
  }
}

/** `readAnswer` / `readContext` met a unit of U+0080 or above while reading in place. */
const NOT_ASCII = -1;

/** What `readAnswer` found: its tokens, their distinct words, and its sentences. */
let answerTokens = 0;
let answerWords = 0;
let answerSentences = 0;

/**
 * Reads the answer's tokens, distinct words and sentences into the scratch arrays. `inPlace`: the text
 * is the raw answer, read with A-Z folded; it returns NOT_ASCII at its first unit of U+0080 or above,
 * and the caller starts again on the lower-cased answer (nothing read so far is kept: `prepare` and
 * the counters are reset). Otherwise the text is already lower-cased. Each step reads either a whole
 * token (the inner loop, hashing as it goes) or one unit between tokens.
 */
function readAnswer(text: string, mask: number, minLength: number, inPlace: boolean): number {
  answerHashShared = false;
  let tokens = 0;
  let words = 0;
  let sentence = 0;
  let tokensInSentence = 0;
  const length = text.length;
  let i = 0;
  while (i < length) {
    let code = text.charCodeAt(i);
    if (inPlace && code >= 0x80) return NOT_ASCII;
    if (!isWordUnit(code, text, i)) {
      if (tokensInSentence > 0 && isSentenceEnd(code)) {
        sentence += 1;
        tokensInSentence = 0;
      }
      i += 1;
      continue;
    }
    const start = i;
    let hash = FNV_OFFSET;
    for (;;) {
      hash = Math.imul(hash ^ foldAscii(code), FNV_PRIME);
      i += 1;
      if (i === length) break;
      code = text.charCodeAt(i);
      if (inPlace && code >= 0x80) return NOT_ASCII;
      if (!isWordUnit(code, text, i)) break;
    }
    if (i - start >= minLength) {
      const slot = findSlot(mask, hash, text, start, i, text);
      let id = (slotWord[slot] as number) - 1;
      if (id < 0) {
        id = words++;
        wordStart[id] = start;
        wordEnd[id] = i;
        wordPresent[id] = 0;
        slotWord[slot] = id + 1;
        slotHash[slot] = hash;
      }
      tokenWord[tokens] = id;
      tokenSentence[tokens] = sentence;
      tokens += 1;
      tokensInSentence += 1;
    }
  }
  // The end of the answer ends its last sentence.
  if (tokensInSentence > 0) sentence += 1;
  answerTokens = tokens;
  answerWords = words;
  answerSentences = sentence;
  return 0;
}

/** Whether some context has a token (of at least the minimum length), and how many answer words no context has yet. */
let contextHasWords = false;
let missing = 0;

/**
 * Looks up every token of one context, marking the answer words it has, until none is missing.
 * `inPlace`: the raw context read with A-Z folded; returns NOT_ASCII at its first unit of U+0080 or
 * above, and the caller reads the lower-cased context from its start. What this pass marked until
 * then stays marked, which is exact: every token it finished ended at an ASCII unit before that first
 * unit, and lower-casing leaves that ASCII prefix as it is, unit for unit (`toLowerCase` never changes
 * a character because of the ones after it, except a final sigma, itself not ASCII), so the
 * lower-cased context has the same tokens there and would mark the same words; an answer word
 * already marked is not counted twice.
 */
function readContext(text: string, mask: number, minLength: number, answer: string, inPlace: boolean): number {
  const length = text.length;
  let k = 0;
  while (k < length) {
    let code = text.charCodeAt(k);
    if (inPlace && code >= 0x80) return NOT_ASCII;
    if (!isWordUnit(code, text, k)) {
      k += 1;
      continue;
    }
    const start = k;
    let hash = FNV_OFFSET;
    for (;;) {
      hash = Math.imul(hash ^ foldAscii(code), FNV_PRIME);
      k += 1;
      if (k === length) break;
      code = text.charCodeAt(k);
      if (inPlace && code >= 0x80) return NOT_ASCII;
      if (!isWordUnit(code, text, k)) break;
    }
    if (k - start >= minLength) {
      contextHasWords = true;
      if (answerWords > 0) {
        const id = newlyFoundWord(mask, hash, text, start, k, answer);
        if (id >= 0) {
          wordPresent[id] = 1;
          missing -= 1;
          if (missing === 0) return 0;
        }
      }
    }
  }
  return 0;
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
  const minLength = Math.max(1, minTokenLength);

  // The answer, in place when it is ASCII, else lower-cased. Tokens are at least minLength units long
  // and separated by at least one unit.
  let text = answer;
  let mask = prepare(Math.floor(text.length / (minLength + 1)) + 1);
  if (readAnswer(text, mask, minLength, true) === NOT_ASCII) {
    text = answer.toLowerCase();
    mask = prepare(Math.floor(text.length / (minLength + 1)) + 1);
    readAnswer(text, mask, minLength, false);
  }
  const tokens = answerTokens;
  const sentence = answerSentences;

  // Without an answer sentence there is nothing to estimate, whatever the contexts hold.
  if (sentence === 0) return undefined;

  // The contexts: every token is looked up, nothing is kept. Once every answer word has been found
  // the rest cannot change the result, so reading stops there.
  contextHasWords = false;
  missing = answerWords;
  for (const context of contexts) {
    if (contextHasWords && missing === 0) break;
    if (readContext(context, mask, minLength, text, true) === NOT_ASCII) readContext(context.toLowerCase(), mask, minLength, text, false);
  }
  if (!contextHasWords) return undefined;

  let supported = 0;
  let inSentence = 0;
  let found = 0;
  for (let token = 0; token <= tokens; token++) {
    if (token > 0 && (token === tokens || tokenSentence[token] !== tokenSentence[token - 1])) {
      if (found / inSentence >= sentenceSupportThreshold) supported += 1;
      inSentence = 0;
      found = 0;
    }
    if (token < tokens) {
      inSentence += 1;
      found += wordPresent[tokenWord[token] as number] as number;
    }
  }
  return supported / sentence;
}
