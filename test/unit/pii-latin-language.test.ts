import fc from 'fast-check';
import { FUNCTION_WORDS, guessLatinLanguage, MIN_HITS, WORD_SAMPLE_CHARS } from '../../lambdas/gate-score/pii/latin-language';

/** Support-chat turns as users write them, one per language. */
const TURNS: Readonly<Record<string, string>> = {
  en: 'Hi, I ordered a jacket last week and it has not arrived yet. Can you tell me what the status of my order is and how long the delivery will take?',
  de: 'Hallo, ich habe letzte Woche eine Jacke bestellt und sie ist noch nicht angekommen. Können Sie mir bitte sagen, wie der Status meiner Bestellung ist und wie lange die Lieferung noch dauert?',
  fr: "Bonjour, j'ai commandé une veste la semaine dernière et elle n'est pas encore arrivée. Pouvez-vous me dire où en est ma commande et combien de temps la livraison va prendre pour que je puisse m'organiser ?",
  es: 'Hola, pedí una chaqueta la semana pasada y todavía no ha llegado. ¿Me puede decir cuál es el estado de mi pedido y cuánto tiempo va a tardar la entrega? Es un regalo para mi hermano.',
  it: 'Ciao, ho ordinato una giacca la settimana scorsa e non è ancora arrivata. Mi puoi dire qual è lo stato del mio ordine e quanto tempo ci vuole per la consegna? Non ho ricevuto la mail di conferma della spedizione.',
  pt: 'Olá, eu encomendei um casaco na semana passada e ainda não chegou. Você pode me dizer qual é o status do meu pedido e quanto tempo a entrega vai demorar? É um presente para o meu irmão.',
  nl: 'Hallo, ik heb vorige week een jas besteld en die is nog niet aangekomen. Kunt u mij vertellen wat de status van mijn bestelling is en hoe lang de levering nog duurt?',
  sv: 'Hej, jag beställde en jacka förra veckan och den har inte kommit än. Kan du berätta vad som är status på min beställning och hur lång tid det tar innan den kommer fram till mig?',
  pl: 'Dzień dobry, w zeszłym tygodniu zamówiłem kurtkę i jeszcze nie dotarła. Czy może Pan powiedzieć, jaki jest status mojego zamówienia i jak długo potrwa dostawa? To jest prezent dla mojego brata i nie wiem co robić.',
};

describe('guessLatinLanguage (function words)', () => {
  it.each(Object.entries(TURNS))('recognises a %s support turn', (language, text) => {
    expect(guessLatinLanguage(text)).toBe(language);
  });

  it('has a word list for every language it can answer, and the test covers each', () => {
    expect(Object.keys(TURNS).sort()).toEqual(Object.keys(FUNCTION_WORDS).sort());
  });

  it('does not decide on too few words: short turns, names, numbers, code', () => {
    expect(guessLatinLanguage('Danke!')).toBeUndefined();
    expect(guessLatinLanguage('Order 4411-223, Jane Doe, Hauptstraße 5')).toBeUndefined();
    expect(guessLatinLanguage('SELECT id, total FROM orders WHERE customer_id = 42 LIMIT 10')).toBeUndefined();
    expect(guessLatinLanguage('')).toBeUndefined();
  });

  it('needs a clear lead: a turn mixing two languages evenly decides nothing', () => {
    const half = (text: string): string => text.split(' ').slice(0, 12).join(' ');
    const mixed = `${half(TURNS.en!)} ${half(TURNS.de!)}`;
    expect(guessLatinLanguage(mixed)).toBeUndefined();
  });

  it('an English turn quoting a German phrase stays English', () => {
    expect(guessLatinLanguage(`${TURNS.en} The label says "bitte nicht knicken".`)).toBe('en');
  });

  it('is case-insensitive and reads words next to punctuation', () => {
    expect(guessLatinLanguage(TURNS.de!.toUpperCase())).toBe('de');
    expect(guessLatinLanguage('IST DAS NICHT DIE, UND DER!')).toBe('de');
  });

  it(`reads only the first ${WORD_SAMPLE_CHARS} characters`, () => {
    const filler = 'x'.repeat(WORD_SAMPLE_CHARS);
    expect(guessLatinLanguage(`${filler} ${TURNS.de}`)).toBeUndefined();
    expect(MIN_HITS).toBeGreaterThan(1);
  });
});

/**
 * The tokeniser as specified: a token is a maximal run of word characters (ASCII letters, Latin-1
 * and Latin Extended letters without × and ÷); each token is sliced out and looked up in a map. The
 * shipped guess walks a trie of the function words without slicing anything; this oracle is the plain
 * definition.
 */
function referenceGuess(sample: string): string | undefined {
  const isWordChar = (u: number): boolean =>
    (u >= 0x61 && u <= 0x7a) || (u >= 0x41 && u <= 0x5a) || (u >= 0xc0 && u <= 0x024f && u !== 0xd7 && u !== 0xf7) || (u >= 0x1e00 && u <= 0x1eff);
  const languagesOf = new Map<string, string[]>();
  for (const [language, words] of Object.entries(FUNCTION_WORDS)) for (const word of words) languagesOf.set(word, [...(languagesOf.get(word) ?? []), language]);
  const text = sample.slice(0, WORD_SAMPLE_CHARS).toLowerCase();
  const hits = new Map<string, number>();
  const rank = (): { best?: string; bestHits: number; runnerUp: number } => {
    let best: string | undefined;
    let bestHits = 0;
    let runnerUp = 0;
    for (const [language, count] of hits) {
      if (count > bestHits) [runnerUp, best, bestHits] = [bestHits, language, count];
      else if (count > runnerUp) runnerUp = count;
    }
    return { ...(best === undefined ? {} : { best }), bestHits, runnerUp };
  };
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && isWordChar(text.charCodeAt(i))) {
      if (start < 0) start = i;
      continue;
    }
    const languages = start >= 0 ? languagesOf.get(text.slice(start, i)) : undefined;
    start = -1;
    if (languages === undefined) continue;
    for (const language of languages) hits.set(language, (hits.get(language) ?? 0) + 1);
    const leader = rank();
    if (leader.bestHits >= 10 && leader.bestHits >= leader.runnerUp * 3) return leader.best;
  }
  const { best, bestHits, runnerUp } = rank();
  return best === undefined || bestHits < MIN_HITS || bestHits < runnerUp * 1.5 ? undefined : best;
}

describe('guessLatinLanguage agrees with the character-by-character tokeniser', () => {
  const pieces = [...new Set(Object.values(FUNCTION_WORDS).flat())];
  // Upper case (ASCII and not), and letters whose lower case is not one unit for one unit: `İ` lower-cases
  // to two units, the Kelvin and Ångström signs to `k` and `å` (the ASCII fast path must not read them).
  const glue = [' ', '  ', ', ', '.', '\n', '-', '_', '1', 'x', 'é', 'ß', '×', '÷', 'ǅ', 'İ', 'Ḁ', '한', '\u200b', "'", 'THE', 'Die', 'IST', 'ÉS', '\u212a', '\u212b', 'DAS\u212a'];
  const token = fc.oneof(fc.constantFrom(...pieces), fc.constantFrom(...glue), fc.string({ maxLength: 4 }));

  it('on random mixtures of function words, letters, accents, digits and separators', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 400 }), (parts) => {
        const sample = parts.join('');
        expect(guessLatinLanguage(sample)).toBe(referenceGuess(sample));
      }),
      { numRuns: 500 },
    );
  });

  it('lower-cases as toLowerCase does where that is not unit by unit (Kelvin sign, dotted capital I)', () => {
    // "DAS\u212a" lower-cases to "dask", not a function word: three German hits, too few to decide.
    // Reading the Kelvin sign as a separator would count "das" and decide German.
    for (const sample of ['DAS\u212a IST DER DIE', 'das\u212a ist der die', 'İST DER DIE UND ES', 'the \u212bnd is of to it']) {
      expect(guessLatinLanguage(sample)).toBe(referenceGuess(sample));
    }
    expect(guessLatinLanguage('DAS\u212a IST DER DIE')).toBeUndefined();
    expect(guessLatinLanguage('DAS IST DER DIE')).toBe('de');
  });

  it('on the support turns and at the sample boundary', () => {
    for (const text of Object.values(TURNS)) expect(guessLatinLanguage(text)).toBe(referenceGuess(text));
    const boundary = `${'x'.repeat(WORD_SAMPLE_CHARS - 2)} there the and is of to it`;
    expect(guessLatinLanguage(boundary)).toBe(referenceGuess(boundary));
  });
});
