/**
 * A cheap, deterministic groundedness estimate: the share of answer sentences whose content words
 * occur in the retrieved contexts. It is a lexical proxy for Ragas faithfulness, good enough to rank
 * traces and to move the canary alarm when a candidate starts inventing facts; the LLM judge (a later
 * issue) refines it offline.
 */

const TOKEN = /[\p{L}\p{N}]+/gu;
const SENTENCE_END = /[.!?\n。！？]+/u;

function tokens(text: string, minLength: number): string[] {
  const found = text.toLowerCase().match(TOKEN) ?? [];
  return minLength <= 1 ? found : found.filter((t) => t.length >= minLength);
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
  for (const context of contexts) for (const word of tokens(context, settings.minTokenLength)) contextWords.add(word);
  if (contextWords.size === 0) return undefined;

  let sentences = 0;
  let supported = 0;
  for (const sentence of answer.split(SENTENCE_END)) {
    const words = tokens(sentence, settings.minTokenLength);
    if (words.length === 0) continue;
    sentences += 1;
    const present = words.reduce((n, w) => (contextWords.has(w) ? n + 1 : n), 0);
    if (present / words.length >= settings.sentenceSupportThreshold) supported += 1;
  }
  return sentences === 0 ? undefined : supported / sentences;
}
