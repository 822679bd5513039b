/**
 * The golden side of decontamination: words and n-grams exactly as the dataset SQL splits a prompt, and
 * the golden set read from the store (missing: no decontamination; malformed: an error naming the line).
 */
import { goldenNgrams, ngrams, ngramsLiteral, words } from '../../lambdas/pipeline/dataset/decontamination';
import type { ObjectStore } from '../../lambdas/pipeline/ports';

class MemoryStore implements ObjectStore {
  constructor(private readonly objects: Record<string, string>) {}
  putText(): Promise<void> {
    return Promise.reject(new Error('read-only'));
  }
  getText(uri: string): Promise<string | undefined> {
    return Promise.resolve(this.objects[uri]);
  }
}

const META = JSON.stringify({ version: 'g-v1', sha256: 'c'.repeat(64), examples: 2 });

describe('words and n-grams', () => {
  it('lower-cases and splits on white space, punctuation and symbols, so no word holds a | or a quote', () => {
    expect(words("What's the REFUND|policy?  (annual) plans — 30 days")).toEqual(['what', 's', 'the', 'refund', 'policy', 'annual', 'plans', '30', 'days']);
    expect(words('환불 정책은 무엇인가요?')).toEqual(['환불', '정책은', '무엇인가요']);
    expect(words(' \n ')).toEqual([]);
  });

  it('makes n-word n-grams, and one whole-text n-gram from a shorter text', () => {
    expect(ngrams(['a', 'b', 'c', 'd'], 3)).toEqual(['a b c', 'b c d']);
    expect(ngrams(['a', 'b'], 3)).toEqual(['a b']);
    expect(ngrams([], 3)).toEqual([]);
    expect(() => ngrams(['a'], 0)).toThrow('positive integer');
  });

  it('renders the SQL literal sorted and framed by |, or empty for none', () => {
    expect(ngramsLiteral(new Set(['b c', 'a b']))).toBe('|a b|b c|');
    expect(ngramsLiteral(new Set())).toBe('');
  });
});

describe('goldenNgrams', () => {
  const prefix = 's3://art/golden-sets/qwen3-4b/';

  it('reads the user turns of every example and names the golden set', async () => {
    const lines = [
      JSON.stringify({ messages: [{ role: 'system', content: 'Be brief and exact.' }, { role: 'user', content: 'Rotate my key' }] }),
      JSON.stringify({ messages: [{ role: 'user', content: 'How do I rotate the API key of a service?' }] }),
    ].join('\n');
    const result = await goldenNgrams(new MemoryStore({ [`${prefix}golden.json`]: META, [`${prefix}golden.jsonl`]: `${lines}\n` }), prefix, 4);
    expect(result.goldenSet).toEqual({ uri: `${prefix}golden.jsonl`, version: 'g-v1', sha256: 'c'.repeat(64), examples: 2 });
    // The system prompt is not compared; a user turn shorter than n words is one n-gram.
    expect([...result.ngrams].sort()).toEqual(['api key of a', 'do i rotate the', 'how do i rotate', 'i rotate the api', 'key of a service', 'rotate my key', 'rotate the api key', 'the api key of']);
  });

  it('returns no n-grams and no golden set when the target has none', async () => {
    expect(await goldenNgrams(new MemoryStore({}), prefix, 8)).toEqual({ goldenSet: null, ngrams: new Set() });
  });

  it('refuses a malformed golden set, naming the line', async () => {
    const store = new MemoryStore({ [`${prefix}golden.json`]: META, [`${prefix}golden.jsonl`]: '{"messages": []}\n' });
    await expect(goldenNgrams(store, prefix, 8)).rejects.toThrow('golden.jsonl line 1');
  });
});
