import fc from 'fast-check';
import {
  CHECKSUM_SCORE,
  atWordCandidates,
  UNCHECKED_RRN_SCORE,
  detectPatternPii,
  ibanValid,
  luhnValid,
  rrnChecksumValid,
  ssnValid,
} from '../../lambdas/gate-score/pii/pattern-detector';
import type { PiiEntity } from '../../lambdas/shared/ports';

/** The text each entity covers, cut by code points (independently of the detector's own conversion). */
function found(text: string): { type: string; text: string }[] {
  const codePoints = Array.from(text);
  return detectPatternPii(text).map((e: PiiEntity) => ({ type: e.type, text: codePoints.slice(e.beginOffset, e.endOffset).join('') }));
}

function valuesOf(text: string, type: string): string[] {
  return found(text)
    .filter((f) => f.type === type)
    .map((f) => f.text);
}

describe('checksums', () => {
  it('Luhn accepts network test numbers and rejects a one-digit change', () => {
    for (const n of ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '30569309025904', '3530111333300000']) {
      expect(luhnValid(n)).toBe(true);
    }
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('5555555555554445')).toBe(false);
    expect(luhnValid('41111111abc')).toBe(false);
  });

  it('IBAN mod-97 accepts published examples and rejects a changed digit or a bad length', () => {
    for (const iban of ['DE89370400440532013000', 'GB82WEST12345698765432', 'FR1420041010050500013M02606', 'NL91ABNA0417164300', 'NO9386011117947', 'BE68539007547034', 'DE89 3704 0044 0532 0130 00']) {
      expect(ibanValid(iban)).toBe(true);
    }
    expect(ibanValid('DE89370400440532013001')).toBe(false);
    expect(ibanValid('GB82WEST12345698765433')).toBe(false);
    expect(ibanValid('DE8937040044')).toBe(false); // too short
    expect(ibanValid('de89370400440532013000')).toBe(false); // lower-case country
  });

  it('RRN check digit: (11 - weighted sum mod 11) mod 10', () => {
    // 9,0,0,1,0,1,1,2,3,4,5,6 x 2,3,4,5,6,7,8,9,2,3,4,5 = 124; 124 mod 11 = 3; (11 - 3) mod 10 = 8
    expect(rrnChecksumValid('900101-1234568')).toBe(true);
    expect(rrnChecksumValid('9001011234568')).toBe(true);
    expect(rrnChecksumValid('900101-1234567')).toBe(false);
  });

  it('SSN rules reject never-issued areas, groups and serials', () => {
    expect(ssnValid('123-45-6789')).toBe(true);
    expect(ssnValid('899-45-6789')).toBe(true);
    for (const bad of ['000-12-3456', '666-12-3456', '900-12-3456', '999-12-3456', '123-00-4567', '123-45-0000', '12-345-6789']) {
      expect(ssnValid(bad)).toBe(false);
    }
  });
});

describe('detectPatternPii', () => {
  it('finds e-mail addresses without the sentence punctuation around them', () => {
    expect(valuesOf('Mail john.doe+test@example.co.kr. Thanks', 'EMAIL')).toEqual(['john.doe+test@example.co.kr']);
    expect(valuesOf('<a.b_c@sub.example.com>, x@y.io', 'EMAIL')).toEqual(['a.b_c@sub.example.com', 'x@y.io']);
    expect(valuesOf('user@localhost or a@b or @handle', 'EMAIL')).toEqual([]);
  });

  it('finds international, US and KR phone numbers', () => {
    const text =
      'Call +82 10-1234-5678, +1 (555) 234-5678, +4915112345678, (555) 234-5678, 555.234.5678, 1-800-555-0199, ' +
      '010-9876-5432, 01012345678, 02-123-4567, (031) 987-6543 or 070-1234-5678.';
    expect(valuesOf(text, 'PHONE')).toEqual([
      '+82 10-1234-5678',
      '+1 (555) 234-5678',
      '+4915112345678',
      '(555) 234-5678',
      '555.234.5678',
      '1-800-555-0199',
      '010-9876-5432',
      '01012345678',
      '02-123-4567',
      '(031) 987-6543',
      '070-1234-5678',
    ]);
  });

  it('finds KR numbers inside Korean text, where particles follow the digits', () => {
    expect(valuesOf('제 번호는 010-1234-5678이고 사무실은 02-555-1234입니다', 'PHONE')).toEqual(['010-1234-5678', '02-555-1234']);
  });

  it('does not take dates, versions, prices or invalid NANP numbers for phones', () => {
    expect(valuesOf('On 2024-03-15 version 1.2.3 cost $1,234.56; ref 123-456-7890; +3.14', 'PHONE')).toEqual([]);
  });

  it('drops trailing groups that push an international number past 15 digits', () => {
    expect(valuesOf('+82 10 1234 5678 2024', 'PHONE')).toEqual(['+82 10 1234 5678']);
  });

  it('finds Luhn-valid card numbers, grouped or contiguous, and ignores invalid ones', () => {
    const text = 'Visa 4111 1111 1111 1111, MC 5555-5555-5555-4444, Amex 3782 822463 10005, 6011111111111117; bad 4111 1111 1111 1112';
    expect(valuesOf(text, 'CREDIT_DEBIT_NUMBER')).toEqual(['4111 1111 1111 1111', '5555-5555-5555-4444', '3782 822463 10005', '6011111111111117']);
  });

  it('separates a card from digits written after it and from a date before it', () => {
    expect(valuesOf('paid 2024-01-15 4111 1111 1111 1111 123', 'CREDIT_DEBIT_NUMBER')).toEqual(['4111 1111 1111 1111']);
  });

  it('does not take numbers glued to letters or starting outside 2-6 for cards', () => {
    // All three pass Luhn, so only the glue and the first-digit rules can reject them.
    for (const n of ['4111111111111111', '7111111111111114', '1111111111111117']) expect(luhnValid(n)).toBe(true);
    expect(valuesOf('id AB4111111111111111 and 7111111111111114 and 1111111111111117', 'CREDIT_DEBIT_NUMBER')).toEqual([]);
  });

  it('finds IBANs grouped or contiguous, and rejects a wrong check', () => {
    const text = 'IBAN DE89 3704 0044 0532 0130 00. Also GB82WEST12345698765432 but not DE89370400440532013001.';
    expect(valuesOf(text, 'INTERNATIONAL_BANK_ACCOUNT_NUMBER')).toEqual(['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432']);
  });

  it('drops a trailing word swallowed as the last IBAN group', () => {
    // The regex reads "BE68 5390 0754 7034 EUR" as one candidate; mod-97 fails, the retry without " EUR" holds.
    expect(valuesOf('to BE68 5390 0754 7034 EUR', 'INTERNATIONAL_BANK_ACCOUNT_NUMBER')).toEqual(['BE68 5390 0754 7034']);
  });

  it('finds KR RRNs: with a valid check digit (score 1) and post-2020 numbers without one (score 0.85)', () => {
    const text = '주민번호 900101-1234568, 신규 210315-3847261, 붙여쓰기 9001011234568';
    const rrns = detectPatternPii(text).filter((e) => e.type === 'KR_RRN');
    expect(rrns.map((e) => Array.from(text).slice(e.beginOffset, e.endOffset).join(''))).toEqual([
      '900101-1234568',
      '210315-3847261',
      '9001011234568',
    ]);
    expect(rrns.map((e) => e.score)).toEqual([CHECKSUM_SCORE, UNCHECKED_RRN_SCORE, CHECKSUM_SCORE]);
  });

  it('rejects RRN-shaped numbers with an impossible date or gender digit', () => {
    expect(valuesOf('901301-1234567 900230-1234568 900101-9234567 900101-12345678', 'KR_RRN')).toEqual([]);
  });

  it('finds SSNs in both separator styles and after a cue, never the invalid ones', () => {
    const text = 'SSN 123-45-6789, spouse 234 56 7890, SSN: 345678901, bad 666-12-3456 000-12-3456 123-45-0000 123-45 6789';
    expect(valuesOf(text, 'SSN')).toEqual(['123-45-6789', '234 56 7890', '345678901']);
  });

  it('reports code-point offsets after emoji and Hangul, like Comprehend', () => {
    const text = '😀👍🏽 안녕 x@y.com';
    const [email] = detectPatternPii(text);
    // 😀 = 1, 👍 = 1, 🏽 = 1, space, 안, 녕, space: the e-mail starts at code point 7 (UTF-16 index 10).
    expect(email).toEqual({ type: 'EMAIL', beginOffset: 7, endOffset: 14, score: expect.any(Number) });
    expect(text.indexOf('x@y.com')).toBe(10);
  });

  it('returns entities sorted by start', () => {
    const entities = detectPatternPii('4111 1111 1111 1111 then a@b.com then 010-1234-5678 then 900101-1234568');
    const starts = entities.map((e) => e.beginOffset);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(entities.map((e) => e.type)).toEqual(['CREDIT_DEBIT_NUMBER', 'EMAIL', 'PHONE', 'KR_RRN']);
  });

  it('returns nothing for text without PII', () => {
    expect(detectPatternPii('Annual plans can be refunded within 30 days of purchase.')).toEqual([]);
    expect(detectPatternPii('')).toEqual([]);
  });

  it('stays linear on inputs built to make backtracking regexes explode (and still finds a planted entity)', () => {
    const hostile = [
      'a'.repeat(100_000),
      'a@'.repeat(50_000),
      `${'x'.repeat(64)}@${'a.'.repeat(40_000)}`,
      '1 '.repeat(50_000),
      '4111 '.repeat(20_000),
      '+1 '.repeat(30_000),
      `+${'1'.repeat(100_000)}`,
      '+82 (0) 1 2 3 '.repeat(6_000),
      'AB12 '.repeat(20_000),
      `SSN${' '.repeat(100_000)}`,
      '900101-'.repeat(14_000),
      `${'1'.repeat(12)}-`.repeat(8_000),
    ];
    for (const text of hostile) {
      const planted = `${text} reach me at jane@example.com`;
      // No wall-clock assertion (shared CI machines); a catastrophic pattern would hang here for
      // minutes and fail the suite's timeout instead.
      expect(valuesOf(planted, 'EMAIL')).toEqual(['jane@example.com']);
    }
  });
});

describe('detectPatternPii: written variants of structured PII', () => {
  it.each([
    ['full-width digits and dashes', '전화 ０１０－１２３４－５６７８ 주세요', 'PHONE', '０１０－１２３４－５６７８'],
    ['no-break spaces in a card', 'card 4111\u00a01111\u202f1111\u00a01111 now', 'CREDIT_DEBIT_NUMBER', '4111\u00a01111\u202f1111\u00a01111'],
    ['a card grouped with dots', 'card 4111.1111.1111.1111 ok', 'CREDIT_DEBIT_NUMBER', '4111.1111.1111.1111'],
    ['a card split over lines', 'card 4111 1111\n1111 1111 ok', 'CREDIT_DEBIT_NUMBER', '4111 1111\n1111 1111'],
    ['a lower-case IBAN', 'iban de89 3704 0044 0532 0130 00 ok', 'INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'de89 3704 0044 0532 0130 00'],
    ['a dash-grouped IBAN', 'iban DE89-3704-0044-0532-0130-00 ok', 'INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'DE89-3704-0044-0532-0130-00'],
    ['a UK mobile without separators', 'ring 07911123456 today', 'PHONE', '07911123456'],
    ['a 0044 international prefix', 'ring 0044 20 7946 0958 today', 'PHONE', '0044 20 7946 0958'],
    ['a UK national number', 'ring 020 7946 0958 today', 'PHONE', '020 7946 0958'],
    ['a US number without separators', 'ring 4155552671 today', 'PHONE', '4155552671'],
    ['a number after a cue word', 'my phone: 555 0123 4567 thanks', 'PHONE', '555 0123 4567'],
    ['an SSN with dots', 'ssn 123.45.6789', 'SSN', '123.45.6789'],
    ['an RRN with spaced dashes', 'rrn 900101 - 1234568', 'KR_RRN', '900101 - 1234568'],
    ['an RRN with an en dash', 'rrn 900101\u20131234568', 'KR_RRN', '900101\u20131234568'],
    ['a URL-encoded e-mail', 'go /?email=john%40example.com&x=1', 'EMAIL', 'john%40example.com'],
    ['a URL-encoded phone', 'go /?phone=%2B14155552671&x=1', 'PHONE', '%2B14155552671'],
    ['an internationalised domain', 'mail user@bücher.de please', 'EMAIL', 'user@bücher.de'],
    ['an internationalised address', 'mail 用户@例子.广告 please', 'EMAIL', '用户@例子.广告'],
  ])('%s', (_name, text, type, expected) => {
    expect(valuesOf(text, type)).toEqual([expected]);
  });
});

describe('detectPatternPii: deliberate evasions', () => {
  it.each([
    ['zero-width characters in an e-mail', 'j\u200bohn@exa\u200dmple.com'],
    ['a soft hyphen and a word joiner', 'jo\u00adhn@exam\u2060ple.com'],
    ['a Cyrillic look-alike in the domain', 'john@ex\u0430mple.com'],
    ['a Greek look-alike in the domain', 'john@exampl\u03b5.c\u03bfm'],
    ['a full-width at sign', 'john\uff20example.com'],
    ['a decimal character reference', 'john&#64;example.com'],
    ['a hexadecimal character reference', 'john&#x40;example.com'],
    ['a named character reference', 'john&commat;example&period;com'],
    ['a backslash-u escape', 'john\\u0040example.com'],
    ['spelled-out words', 'john dot smith at example dot com'],
    ['bracketed words', 'john[at]example[dot]com'],
    ['parenthesised at', 'jane (at) example.org'],
    ['a newline after the at sign', 'john@\nexample.com'],
    ['a lone surrogate next to the at sign', 'john\ud800@example.com'],
    ['a NUL next to the at sign', 'john\u0000@example.com'],
  ])('%s', (_name, value) => {
    expect(valuesOf(`write to ${value} today`, 'EMAIL')).toEqual([value]);
  });

  it('finds a card number with zero-width characters inside', () => {
    const card = '4111\u200b1111 1111\ufeff 1111';
    expect(valuesOf(`paid with ${card} yesterday`, 'CREDIT_DEBIT_NUMBER')).toEqual([card]);
  });

  it('covers combining marks written on the last character of a value', () => {
    expect(valuesOf('mail a@b.com\u0301 now', 'EMAIL')).toEqual(['a@b.com\u0301']);
  });

  it('leaves prose, ids and hashes alone', () => {
    for (const text of [
      'look at main.py and meet at noon',
      'hotel room 1234567 on floor 3',
      'trace ab12f3c4d5e6f7a8b9c0d1e2f3a4b5c6 and trace-20260419-0001',
      'epoch 1713520800 and version 01.02.2024',
      'the cat sat at the mat. Dot points follow',
    ]) {
      expect(found(text)).toEqual([]);
    }
  });
});

describe('detectPatternPii: mainland China mobiles', () => {
  it('finds them written together or grouped 3-4-4, not other eleven-digit numbers', () => {
    expect(valuesOf('call 13800138000 or 139 1234 5678', 'PHONE')).toEqual(['13800138000', '139 1234 5678']);
    expect(valuesOf('order 12800138000 shipped', 'PHONE')).toEqual([]);
  });
});

describe('spelled-out e-mails: the `at` candidates', () => {
  /**
   * The search the candidates replaced, written as it was: per spelling, `indexOf` from two past the
   * last hit, skipping a hit with an ASCII letter or digit beside it. Collected per spelling and merged.
   */
  function perSpellingSearch(text: string): number[] {
    const alphanumeric = (unit: number): boolean => (unit >= 0x61 && unit <= 0x7a) || (unit >= 0x41 && unit <= 0x5a) || (unit >= 0x30 && unit <= 0x39);
    const hits: number[] = [];
    for (const spelling of ['at', 'AT', 'At', 'aT']) {
      for (let p = text.indexOf(spelling); p !== -1; p = text.indexOf(spelling, p + 2)) {
        if (alphanumeric(text.charCodeAt(p - 1)) || alphanumeric(text.charCodeAt(p + 2))) continue;
        hits.push(p);
      }
    }
    return hits.sort((a, b) => a - b);
  }

  it('are every hit of the per-spelling search, on random texts with Unicode noise', () => {
    const piece = fc.oneof(
      fc.constantFrom('at', 'AT', 'At', 'aT', 'a', 't', 'T', 'A', 'ta', 'atat', 'cat', 'at1', '1at', '_at_', ' ', '\n', '[', ']', '(', ')', '.', '@', 'dot', 'x'),
      fc.constantFrom('\u00e0t', 'a\u0074', '\u0430t', '\u200b', '\u00a0', '\uff41\uff54', '\ud83d\ude00', '\ud800', '\u0301', '\u212a'),
      fc.string({ maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }).map((parts) => parts.join('')), (text) => {
        expect([...atWordCandidates(text)]).toEqual(perSpellingSearch(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('find the spelled addresses around each other as before', () => {
    expect(valuesOf('mail john at example dot com AT work', 'EMAIL')).toEqual(['john at example dot com']);
    expect(valuesOf('at at example dot com', 'EMAIL')).toEqual(['at at example dot com']);
    expect(valuesOf('jane [AT] example [dot] org and bob (at) example.com, not cat at home', 'EMAIL')).toEqual(['jane [AT] example [dot] org', 'bob (at) example.com']);
  });
});
