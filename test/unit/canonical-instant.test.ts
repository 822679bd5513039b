/**
 * The timestamp fast path: `canonicalUtcMs` reads the normalised form without parsing a date, so it
 * must agree with the slow path (Date.parse and toISOString) on every string it accepts, and accept
 * every instant the slow path prints.
 */
import fc from 'fast-check';
import { canonicalUtcMs, isoInstant } from '../../lambdas/gate-score/normalize/values';

const instants = fc.date({ min: new Date('0100-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });

describe('canonicalUtcMs', () => {
  it('reads every instant toISOString prints in years 0100-9999', () => {
    fc.assert(
      fc.property(instants, (date) => {
        expect(canonicalUtcMs(date.toISOString())).toBe(date.getTime());
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts a string only when it is exactly the normalised form of a real instant', () => {
    // Mutate one character of a printed instant: most mutations are refused; any accepted one must
    // still be what Date prints for the same instant.
    const mutated = fc.tuple(instants, fc.nat(23), fc.constantFrom(...'0123456789-T:.Z +x9'.split(''))).map(([date, at, unit]) => {
      const text = date.toISOString();
      return text.slice(0, at) + unit + text.slice(at + 1);
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ maxLength: 30 })), (text) => {
        const ms = canonicalUtcMs(text);
        if (ms !== undefined) expect(new Date(ms).toISOString()).toBe(text);
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['2026-02-29T10:00:00.000Z', 'not a leap year'],
    ['2024-02-30T10:00:00.000Z', 'no 30 February'],
    ['2026-04-31T10:00:00.000Z', 'April has 30 days'],
    ['2026-13-01T10:00:00.000Z', 'month 13'],
    ['2026-11-20T24:00:00.000Z', 'hour 24'],
    ['2026-11-20T10:60:00.000Z', 'minute 60'],
    ['2026-12-31T23:59:60.000Z', 'leap second'],
    ['0099-11-20T10:00:00.000Z', 'year before 0100 (Date.UTC would read 1999)'],
    ['2026-11-20T10:00:00Z', 'no milliseconds'],
    ['2026-11-20T10:00:00.000+00:00', 'an offset instead of Z'],
    ['２026-11-20T10:00:00.000Z', 'a full-width digit'],
  ])('refuses %s (%s), which then takes the slow path', (text) => {
    expect(canonicalUtcMs(text)).toBeUndefined();
  });

  it('leaves isoInstant as it was: a leap day is kept, an offset is normalised, an impossible day refused', () => {
    expect(isoInstant('2024-02-29T10:00:00.000Z', 'timestamp')).toBe('2024-02-29T10:00:00.000Z');
    expect(isoInstant('2026-11-20T10:00:00+01:00', 'timestamp')).toBe('2026-11-20T09:00:00.000Z');
    expect(() => isoInstant('2026-02-30T10:00:00.000Z', 'timestamp')).toThrow();
  });
});
