/**
 * The two forms of an instant the trace contract knows, checked without a library: the ISO-8601
 * date-time with an explicit offset that a producer may send, and the normalised form
 * (`YYYY-MM-DDTHH:mm:ss.sssZ`) every normaliser writes. Pure; no imports.
 */

/**
 * An ISO-8601 date-time with seconds, optional fractional seconds and an explicit offset (`Z` or
 * `+hh:mm`), on a real calendar day (leap years included): RFC 3339's form, the one zod's
 * `iso.datetime({ offset: true })` accepted when the contract was a zod schema.
 */
const ISO_DATE_TIME_WITH_OFFSET =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d))$/;

/** True for an ISO-8601 date-time with an explicit offset (see {@link ISO_DATE_TIME_WITH_OFFSET}). */
export function isIsoDateTimeWithOffset(value: string): boolean {
  return canonicalUtcMs(value) !== undefined || ISO_DATE_TIME_WITH_OFFSET.test(value);
}

/** The two-digit number at `at`, or -1 when either unit is not an ASCII digit. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 0x30;
  const ones = text.charCodeAt(at + 1) - 0x30;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Epoch milliseconds of a string in exactly the normalised form `YYYY-MM-DDTHH:mm:ss.sssZ` that names
 * a real instant (years 0100-9999, real calendar days, no leap second), or undefined for anything
 * else, which callers then parse the slow way. Reads the digits in place: every trace's timestamp
 * takes this path, and parsing a date string costs several times more.
 */
export function canonicalUtcMs(value: string): number | undefined {
  if (value.length !== 24) return undefined;
  // - - T : : . Z at their fixed positions
  if (value.charCodeAt(4) !== 0x2d || value.charCodeAt(7) !== 0x2d || value.charCodeAt(10) !== 0x54 || value.charCodeAt(13) !== 0x3a) return undefined;
  if (value.charCodeAt(16) !== 0x3a || value.charCodeAt(19) !== 0x2e || value.charCodeAt(23) !== 0x5a) return undefined;
  const century = twoDigits(value, 0);
  const yy = twoDigits(value, 2);
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  const hour = twoDigits(value, 11);
  const minute = twoDigits(value, 14);
  const second = twoDigits(value, 17);
  const tenthsHundredths = twoDigits(value, 20);
  const thousandths = value.charCodeAt(22) - 0x30;
  if (century < 0 || yy < 0 || tenthsHundredths < 0 || thousandths < 0 || thousandths > 9) return undefined;
  const year = century * 100 + yy;
  // Date.UTC maps years 0-99 to 1900-1999: those take the slow path.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, tenthsHundredths * 10 + thousandths);
}
