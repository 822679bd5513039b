/**
 * Property: structured PII of every supported type, written with Unicode noise inside it (zero-width
 * and format characters, no-break and other spaces, full-width forms, dash look-alikes, combining
 * marks) and placed in random text, is always masked; and the masked text is the original with
 * exactly the PII span replaced by one placeholder, every other character untouched.
 *
 * The same holds for what the entity detector finds in the normalised text: a name with a zero-width
 * character inside is found in the skeleton and masked on the original characters.
 */
import fc from 'fast-check';
import type { PiiConfig } from '../../config/schema';
import { scanAndMaskTraces } from '../../lambdas/gate-score/pii/pii-scan';
import type { PiiEntity, PiiEntityDetector } from '../../lambdas/shared/ports';
import { makeTrace } from '../helpers/trace-factory';

const config: PiiConfig = {
  comprehendLanguages: ['en', 'es'],
  entityDetectors: {},
  patternOnlyRiskAcceptances: [],
  undeclaredLanguage: 'en',
  minScore: 0.5,
  maxAttempts: 1,
  maxConcurrentCalls: 2,
};

const NAME = 'Jane Doe';

/** Plays the entity detector: reports the name wherever the (normalised) text it is sent holds it. */
class NameDetector implements PiiEntityDetector {
  readonly name = 'name-finder';
  readonly maxTextBytes = 100_000;
  async detect(text: string): Promise<readonly PiiEntity[]> {
    const found: PiiEntity[] = [];
    for (let i = text.indexOf(NAME); i !== -1; i = text.indexOf(NAME, i + 1)) {
      const begin = Array.from(text.slice(0, i)).length;
      found.push({ type: 'NAME', beginOffset: begin, endOffset: begin + NAME.length, score: 0.99 });
    }
    return found;
  }
}

// --- PII values, in a canonical ASCII spelling ------------------------------------------------------

const digits = (n: number): fc.Arbitrary<string> => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
const lowerWord = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), { minLength: min, maxLength: max }).map((c) => c.join(''));

function luhnCheckDigit(body: string): number {
  let sum = 0;
  for (let k = 0; k < body.length; k += 1) {
    let d = Number(body[body.length - 1 - k]);
    if (k % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

function mod97(numeric: string): number {
  let r = 0;
  for (const c of numeric) r = (r * 10 + Number(c)) % 97;
  return r;
}

function groups(value: string, size: number, separator: string): string {
  const parts: string[] = [];
  for (let k = 0; k < value.length; k += size) parts.push(value.slice(k, k + size));
  return parts.join(separator);
}

const email = fc
  .tuple(lowerWord(1, 8), fc.option(lowerWord(1, 6), { nil: undefined }), lowerWord(2, 10), fc.constantFrom('com', 'org', 'de', 'co.kr', 'io'))
  .map(([a, b, domain, tld]) => ({ type: 'EMAIL', value: `${a}${b === undefined ? '' : `.${b}`}@${domain}.${tld}` }));

const card = fc
  .tuple(fc.constantFrom('4', '51', '37'), digits(13), fc.constantFrom(' ', '-', '.', ''))
  .map(([prefix, body, separator]) => {
    const length = prefix === '37' ? 15 : 16;
    const head = (prefix + body).slice(0, length - 1);
    const number = head + String(luhnCheckDigit(head));
    return { type: 'CREDIT_DEBIT_NUMBER', value: length === 16 ? groups(number, 4, separator) : number };
  });

const iban = fc.tuple(digits(18), fc.constantFrom(' ', '')).map(([bban, separator]) => {
  // DE + check digits + 18 digits; D=13, E=14.
  const check = String(98 - mod97(`${bban}131400`)).padStart(2, '0');
  return { type: 'INTERNATIONAL_BANK_ACCOUNT_NUMBER', value: groups(`DE${check}${bban}`, 4, separator) };
});

const ssn = fc
  .tuple(fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }), fc.constantFrom('-', ' '))
  .map(([area, group, serial, separator]) => ({
    type: 'SSN',
    value: [String(area).padStart(3, '0'), String(group).padStart(2, '0'), String(serial).padStart(4, '0')].join(separator),
  }));

const rrn = fc
  .tuple(digits(2), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), fc.integer({ min: 1, max: 4 }), digits(6))
  .map(([year, month, day, gender, rest]) => ({
    type: 'KR_RRN',
    value: `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}-${gender}${rest}`,
  }));

const phone = fc.oneof(
  fc.tuple(fc.constantFrom('44', '49', '82', '33'), digits(9)).map(([cc, n]) => `+${cc} ${n.slice(0, 2)} ${n.slice(2, 5)} ${n.slice(5)}`),
  fc.tuple(digits(4), digits(4)).map(([a, b]) => `010-${a}-${b}`),
  fc.tuple(digits(4), digits(4)).map(([a, b]) => `020 ${a} ${b}`),
  fc
    .tuple(fc.integer({ min: 200, max: 999 }), fc.integer({ min: 200, max: 999 }), digits(4))
    .map(([area, exchange, line]) => `(${area}) ${exchange}-${line}`),
).map((value) => ({ type: 'PHONE', value }));

const pii = fc.oneof(email, card, iban, ssn, rrn, phone);

// --- noise ----------------------------------------------------------------------------------------

const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad'];
const SPACES = ['\u00a0', '\u202f', '\u3000', '\u2007'];
const DASHES = ['\u2010', '\u2011', '\u2013', '\u2212', '\uff0d'];
const COMBINING = ['\u0301', '\u0308', '\u0323'];

/** Full-width form of an ASCII character (digits, letters, `@`, `.`), or the character itself. */
function fullWidth(c: string): string {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f ? String.fromCharCode(code + 0xfee0) : c;
}

/** One random choice per character of the value: how to disguise it, and what to insert after it. */
const noiseChoice = fc.record({
  form: fc.integer({ min: 0, max: 5 }),
  insert: fc.integer({ min: 0, max: 7 }),
  pick: fc.nat(),
});

function disguise(value: string, choices: readonly { form: number; insert: number; pick: number }[]): string {
  let out = '';
  Array.from(value).forEach((c, k) => {
    const choice = choices[k % choices.length] ?? { form: 0, insert: 0, pick: 0 };
    let written = c;
    if (choice.form === 1) written = fullWidth(c);
    else if (choice.form === 2 && c === ' ') written = SPACES[choice.pick % SPACES.length] ?? c;
    else if (choice.form === 2 && c === '-') written = DASHES[choice.pick % DASHES.length] ?? c;
    out += written;
    const last = k === value.length - 1;
    // Invisible characters inside the value (never after it: there they are the text's, not the value's).
    if (choice.insert === 1 && !last) out += ZERO_WIDTH[choice.pick % ZERO_WIDTH.length];
    if (choice.insert === 2 && /[a-z0-9]/i.test(c)) out += COMBINING[choice.pick % COMBINING.length];
  });
  return out;
}

/**
 * Filler: words that hold no digits, no `@`, no word the e-mail finder reads ("at", "dot") and no
 * function word that would make the text read as another language, with noise of their own.
 */
const FILLER_WORDS = ['the', 'order', 'shipped', 'please', 'refund', 'account', 'weekly', 'review', 'gracias', 'pedido', 'entrega', '배송', '감사합니다', 'café', 'naïve', '😀', '—'];
const filler = fc
  .array(fc.tuple(fc.constantFrom(...FILLER_WORDS), fc.constantFrom(' ', ' ', '\n', '\u00a0', ' \u200b', '  ')), { minLength: 0, maxLength: 12 })
  .map((words) => words.map(([w, s]) => w + s).join(''));

async function maskOne(text: string, detector: PiiEntityDetector = new NameDetector()): Promise<string> {
  const trace = makeTrace({ input_messages: [{ role: 'user', content: text }] });
  const [outcome] = await scanAndMaskTraces([{ key: 'k', trace }], { detector, config, sleep: async () => {} });
  if (outcome?.status !== 'masked') throw new Error(`not masked: ${outcome?.status === 'discarded' ? outcome.reason : 'no outcome'}`);
  return outcome.trace.input_messages[0]?.content ?? '';
}

describe('masking with Unicode noise (property)', () => {
  it('masks every structured PII value, and nothing but it', async () => {
    await fc.assert(
      fc.asyncProperty(pii, fc.array(noiseChoice, { minLength: 1, maxLength: 40 }), filler, filler, async (found, choices, before, after) => {
        const written = disguise(found.value, choices);
        const text = `${before} ${written} ${after}`;
        const masked = await maskOne(text);
        expect(masked).toBe(`${before} [${found.type}] ${after}`);
      }),
      { numRuns: 600, seed: 20261203 },
    );
  });

  it('masks what the entity detector finds in the normalised text on the original characters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(noiseChoice, { minLength: 1, maxLength: 10 }), filler, filler, async (choices, before, after) => {
        // Full-width letters and invisible characters inside the name; the detector sees "Jane Doe".
        const written = disguise(NAME, choices.map((c) => ({ ...c, insert: c.insert === 2 ? 0 : c.insert })));
        const masked = await maskOne(`${before} ${written} ${after}`);
        expect(masked).toBe(`${before} [NAME] ${after}`);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
