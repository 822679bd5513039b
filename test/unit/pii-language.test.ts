import {
  detectScriptLanguage,
  conversationSample,
  primaryLanguage,
  resolveLanguageDetailed,
  resolveTraceLanguage,
} from '../../lambdas/gate-score/pii/language';
import { makeTrace } from '../helpers/trace-factory';

const config = { undeclaredLanguage: 'en' };

/** A trace without a declared language, whose user message and answer are `text`. */
function undeclared(text: string, output = text) {
  const trace = makeTrace({ input_messages: [{ role: 'user', content: text }], output, retrieved_contexts: [] });
  delete trace.language;
  return trace;
}

describe('primaryLanguage', () => {
  it('reduces a BCP 47 tag to its lower-case primary subtag', () => {
    expect(primaryLanguage('en-US')).toBe('en');
    expect(primaryLanguage('zh-Hant-TW')).toBe('zh');
    expect(primaryLanguage('ko')).toBe('ko');
  });

  it('folds ISO 639-2/3 codes to the two-letter codes the stage config uses', () => {
    expect(primaryLanguage('kor')).toBe('ko');
    expect(primaryLanguage('spa')).toBe('es');
    expect(primaryLanguage('ger')).toBe('de');
    expect(primaryLanguage('haw')).toBe('haw'); // no two-letter code: kept as is
  });
});

describe('detectScriptLanguage', () => {
  it.each([
    ['안녕하세요, 환불 규정이 궁금합니다', 'ko'],
    ['返品ポリシーについて教えてください', 'ja'],
    ['東京に行きます', 'ja'], // Han with a little Kana is Japanese
    ['请告诉我退款政策', 'zh'],
    ['Здравствуйте, какова политика возврата?', 'ru'],
    ['ما هي سياسة الاسترداد؟', 'ar'],
    ['מה מדיניות ההחזרים?', 'he'],
    ['Ποια είναι η πολιτική επιστροφών;', 'el'],
    ['นโยบายการคืนเงินคืออะไร', 'th'],
    ['रिफंड नीति क्या है?', 'hi'],
  ])('%s -> %s', (text, language) => {
    expect(detectScriptLanguage(text)).toBe(language);
  });

  it('returns undefined for Latin script (English, German, Spanish alike) and for text without letters', () => {
    expect(detectScriptLanguage('What is the refund window?')).toBeUndefined();
    expect(detectScriptLanguage('Wie lange gilt das Rückgaberecht für Jahrespläne?')).toBeUndefined();
    expect(detectScriptLanguage('¿Cuál es la política de reembolso?')).toBeUndefined();
    expect(detectScriptLanguage('12345 !!! 😀')).toBeUndefined();
    expect(detectScriptLanguage('')).toBeUndefined();
  });

  it('goes with the script that has most letters', () => {
    expect(detectScriptLanguage('Galaxy S24 Ultra 가격이 얼마인가요? 할인 쿠폰이 있나요?')).toBe('ko');
    expect(detectScriptLanguage('Please translate the word 사랑 into English for my homework today')).toBeUndefined();
  });

  it('gives a tie between Latin and another script to the other script (Comprehend cannot read it)', () => {
    expect(detectScriptLanguage('abcd 가나다라')).toBe('ko');
  });
});

describe('resolveTraceLanguage', () => {
  it('uses the declared language first, reduced to its primary subtag', () => {
    expect(resolveLanguageDetailed(makeTrace({ language: 'es-MX' }), config)).toEqual({ language: 'es', source: 'declared' });
    // Declared wins over the script: the producer knows its conversation.
    const declaredKo = makeTrace({ language: 'ko', output: 'English only here' });
    expect(resolveTraceLanguage(declaredKo, config)).toBe('ko');
  });

  it('falls back to the script of the text when nothing is declared', () => {
    expect(resolveLanguageDetailed(undeclared('환불 규정이 궁금합니다'), config)).toEqual({ language: 'ko', source: 'script' });
    expect(resolveTraceLanguage(undeclared('Какова политика возврата?'), config)).toBe('ru');
  });

  it('reads undeclared Latin-script text by its function words: German is German, not the English default', () => {
    expect(resolveLanguageDetailed(undeclared('Wie lange gilt das Rückgaberecht für meine Bestellung?', 'Das Rückgaberecht gilt 30 Tage, wie in den Bedingungen.'), config)).toEqual({
      language: 'de',
      source: 'words',
    });
    expect(resolveLanguageDetailed(undeclared('What is the refund window for my order?', 'The refund window is 30 days from the delivery date.'), config)).toEqual({
      language: 'en',
      source: 'words',
    });
  });

  it('uses the stage default for undeclared Latin-script text whose words do not decide', () => {
    expect(resolveLanguageDetailed(undeclared('Rückgaberecht?', 'Dreißig Tage.'), { undeclaredLanguage: 'de' })).toEqual({ language: 'de', source: 'default' });
    expect(resolveTraceLanguage(undeclared('Refund window?'), config)).toBe('en');
  });

  it('reads the conversation before the system prompt and contexts', () => {
    const trace = makeTrace({
      input_messages: [
        { role: 'system', content: 'You are a helpful assistant. Answer briefly and politely in the language of the user.' },
        { role: 'user', content: '환불 규정이 궁금합니다' },
      ],
      retrieved_contexts: ['Annual plans can be refunded within 30 days of purchase, as described in the policy.'],
      output: '연간 요금제는 구매 후 30일 이내에 환불됩니다.',
    });
    delete trace.language;
    expect(conversationSample(trace)).toBe('환불 규정이 궁금합니다\n연간 요금제는 구매 후 30일 이내에 환불됩니다.');
    expect(resolveTraceLanguage(trace, config)).toBe('ko');
  });

  it('falls back to system prompts, contexts and tool payloads when the conversation has no letters', () => {
    const trace = makeTrace({
      input_messages: [{ role: 'user', content: '???' }],
      output: '42',
      retrieved_contexts: ['Возврат возможен в течение 30 дней.'],
    });
    delete trace.language;
    expect(resolveLanguageDetailed(trace, config)).toEqual({ language: 'ru', source: 'script' });
  });

  it('samples a bounded prefix of a huge trace', () => {
    const trace = undeclared('가'.repeat(150_000), 'x'.repeat(150_000));
    expect(conversationSample(trace).length).toBeLessThanOrEqual(2_000);
    expect(resolveTraceLanguage(trace, config)).toBe('ko');
  });
});

describe('resolveTraceLanguage: a declaration the text contradicts', () => {
  const settings = { undeclaredLanguage: 'en', comprehendLanguages: ['en', 'es'] as ('en' | 'es')[] };
  const declared = (language: string, content: string) =>
    makeTrace({ language, input_messages: [{ role: 'user', content }], output: content, retrieved_contexts: [] });

  it('reads Hangul declared as English as Korean (an English model finds no Korean names)', () => {
    expect(resolveLanguageDetailed(declared('en', '제 이름은 김민수이고 환불 규정이 궁금합니다'), settings)).toEqual({ language: 'ko', source: 'script' });
  });

  it('reads German declared as English as German, by its function words', () => {
    const german = 'Wie lange gilt das Rückgaberecht für meine Bestellung? Ich habe sie nicht mit der Post bekommen und es ist auch noch nicht da.';
    expect(resolveLanguageDetailed(declared('en', german), settings)).toEqual({ language: 'de', source: 'words' });
  });

  it('never turns a declared language no model reads into one that is read', () => {
    const english = 'What is the refund window for my annual plan? Please tell me how it works and what I can do.';
    expect(resolveLanguageDetailed(declared('ja', english), settings)).toEqual({ language: 'ja', source: 'declared' });
  });

  it('keeps a declaration the text agrees with, or that short text cannot contradict', () => {
    expect(resolveLanguageDetailed(declared('en', 'What is the refund window for my annual plan? Tell me how it works.'), settings)).toEqual({ language: 'en', source: 'declared' });
    expect(resolveLanguageDetailed(declared('es', 'Hola'), settings)).toEqual({ language: 'es', source: 'declared' });
  });
});
