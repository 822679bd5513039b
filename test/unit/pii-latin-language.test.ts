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
