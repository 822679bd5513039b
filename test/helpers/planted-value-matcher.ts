/**
 * Finds planted personal data in gate output however it is disguised. A planted value counts as
 * leaked when, after both the output text and the planted value are normalised the same way, the
 * value occurs in the text; a planted number counts as leaked when its digits occur in order with
 * at most three separators (anything but a digit or a letter) between neighbouring digits.
 *
 * Normalisation, in order: JSON-style, HTML-entity and percent escapes are decoded (three rounds,
 * for double encoding), NFKC (full-width forms, compatibility characters), line separators become
 * spaces, control and format characters (zero-width, soft hyphen, BOM) and lone surrogates are
 * removed, lower case, Cyrillic and Greek look-alikes fold to Latin, "at"/"dot" spellings and
 * `[at]` / `(dot)` brackets fold to `@` / `.`, and finally all whitespace is removed.
 *
 * Output is searched leaf by leaf: every string, number and object key of a row, a log line or a
 * report, and again inside every string that holds JSON (tool arguments, nested documents), so a
 * leak is reported with the path where it sits. Matches never span two leaves.
 */
import { domainToASCII } from 'node:url';

/** A value planted in a record: raw text forms and, for numbers, the digit sequence (>= 9 digits). */
export interface PlantedValue {
  /** What the value is (`email`, `card`, `session_id`, ...): printed in failures instead of the value. */
  readonly label: string;
  /** Forms of the value as written; each is normalised before matching. */
  readonly text: readonly string[];
  /** ASCII digits of a number; matched with separators and noise allowed between the digits. */
  readonly digits?: string;
}

/** A planted value prepared for matching. */
export interface Needle {
  readonly label: string;
  /** Normalised text forms. */
  readonly texts: readonly string[];
  /** The digit sequence, found in a leaf's `digits` form. */
  readonly digits?: string;
}

/** One place a planted value was found: its label and the path of the leaf (never the content). */
export interface Leak {
  readonly label: string;
  readonly path: string;
}

/** A searchable piece of output: where it is, its normalised text, and that text with number separators removed. */
export interface Leaf {
  readonly path: string;
  readonly text: string;
  readonly digits: string;
}

const MIN_DIGITS = 9;
const MAX_NESTED_JSON_DEPTH = 8;
const SAFE_KEY = /^[A-Za-z_]{1,40}$/;

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  commat: '@',
  period: '.',
  fullstop: '.',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  plus: '+',
  num: '#',
  percnt: '%',
  lowbar: '_',
  hyphen: '-',
  dash: '-',
  minus: '-',
  colon: ':',
  sol: '/',
  bsol: '\\',
  lsqb: '[',
  rsqb: ']',
  lpar: '(',
  rpar: ')',
  ensp: ' ',
  emsp: ' ',
  thinsp: ' ',
  zwsp: '',
  zwj: '',
  zwnj: '',
  shy: '',
};

/** Cyrillic and Greek letters that look like Latin ones (lower case, after NFKC). */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  '\u0430': 'a',
  '\u0435': 'e',
  '\u043e': 'o',
  '\u0440': 'p',
  '\u0441': 'c',
  '\u0445': 'x',
  '\u0443': 'y',
  '\u0456': 'i',
  '\u0458': 'j',
  '\u0455': 's',
  '\u0501': 'd',
  '\u04bb': 'h',
  '\u0432': 'b',
  '\u043a': 'k',
  '\u043c': 'm',
  '\u043d': 'h',
  '\u0442': 't',
  '\u03b1': 'a',
  '\u03b5': 'e',
  '\u03bf': 'o',
  '\u03c1': 'p',
  '\u03b9': 'i',
  '\u03ba': 'k',
  '\u03bd': 'v',
  '\u03c4': 't',
  '\u03c5': 'u',
  '\u03c7': 'x',
  '\u03b3': 'y',
};
const LOOK_ALIKE = new RegExp(`[${Object.keys(LOOK_ALIKES).join('')}]`, 'g');

function codePoint(value: number): string {
  return Number.isInteger(value) && value >= 0 && value <= 0x10ffff ? String.fromCodePoint(value) : '';
}

function decodeOnce(text: string): string {
  return (
    text
      // JSON / JavaScript escapes written out as text.
      .replace(/\\u\{([0-9a-f]{1,6})\}/gi, (_m, hex: string) => codePoint(parseInt(hex, 16)))
      .replace(/\\u([0-9a-f]{4})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
      .replace(/\\x([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
      .replace(/\\[nrtfv]/g, ' ')
      .replace(/\\([/@.\\])/g, '$1')
      // HTML entities, with or without the closing semicolon.
      .replace(/&#x([0-9a-f]{1,6});?/gi, (_m, hex: string) => codePoint(parseInt(hex, 16)))
      .replace(/&#([0-9]{1,7});?/g, (_m, dec: string) => codePoint(parseInt(dec, 10)))
      .replace(/&([a-z]{2,8});?/gi, (m, name: string) => NAMED_ENTITIES[name.toLowerCase()] ?? m)
      // Percent-encoding: runs of %XX bytes decoded as UTF-8.
      .replace(/(?:%[0-9a-f]{2})+/gi, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'))
  );
}

/** The normal form both output and planted values are compared in (see the module comment). */
export function normaliseForMatch(input: string): string {
  let text = input;
  for (let round = 0; round < 3; round += 1) {
    const decoded = decodeOnce(text);
    if (decoded === text) break;
    text = decoded;
  }
  return text
    .normalize('NFKC')
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ')
    .replace(/[\p{Cc}\p{Cf}\p{Cs}\uFFFD]|\p{Variation_Selector}|\u034F/gu, '')
    .toLowerCase()
    .replace(LOOK_ALIKE, (c) => LOOK_ALIKES[c] ?? c)
    .replace(/\s*[[({<]\s*at\s*[\])}>]\s*/g, '@')
    .replace(/\s*[[({<]\s*(?:dot|\.)\s*[\])}>]\s*/g, '.')
    .replace(/\s+at\s+/g, '@')
    .replace(/\s+dot\s+/g, '.')
    .replace(/[\s\p{Z}]+/gu, '');
}

/** Prepares a planted value: normalised text forms (plus the ASCII form of an internationalised domain) and the digit pattern. */
export function needleOf(planted: PlantedValue): Needle {
  const texts = new Set<string>();
  for (const form of planted.text) {
    const normal = normaliseForMatch(form);
    if (normal.length === 0) throw new Error(`planted value ${planted.label} normalises to nothing`);
    texts.add(normal);
    const at = normal.lastIndexOf('@');
    if (at > 0) {
      const ascii = domainToASCII(normal.slice(at + 1));
      if (ascii !== '' && ascii !== normal.slice(at + 1)) texts.add(`${normal.slice(0, at)}@${ascii}`);
    }
  }
  const { digits } = planted;
  if (digits !== undefined && (!/^[0-9]+$/.test(digits) || digits.length < MIN_DIGITS)) {
    throw new Error(`planted value ${planted.label}: a digit needle needs at least ${MIN_DIGITS} ASCII digits`);
  }
  if (texts.size === 0 && digits === undefined) throw new Error(`planted value ${planted.label} has nothing to match`);
  return { label: planted.label, texts: [...texts], ...(digits !== undefined ? { digits } : {}) };
}

/**
 * Separators between two digits that a number may carry: one to three characters that are neither
 * digits nor letters (so the digits of a hex hash or an id never join up by chance). Removing them
 * once per leaf turns "does the number occur, separated" into a substring test; a longer number
 * that contains the digits still shows them, and counts.
 */
const NUMBER_SEPARATORS = /(?<=[0-9])[^0-9\p{L}]{1,3}(?=[0-9])/gu;

/** A leaf of normalised text. */
export function leaf(path: string, normalised: string): Leaf {
  return { path, text: normalised, digits: normalised.replace(NUMBER_SEPARATORS, '') };
}

/** True when the leaf (or joined leaves) holds the needle. */
export function leafHolds(target: Pick<Leaf, 'text' | 'digits'>, needle: Needle): boolean {
  return needle.texts.some((t) => target.text.includes(t)) || (needle.digits !== undefined && target.digits.includes(needle.digits));
}

function nestedJson(text: string): unknown {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Every leaf of a value, normalised: strings (and the leaves of the JSON a string holds), numbers,
 * booleans and object keys (report maps are keyed by agent and model).
 */
export function leavesOf(value: unknown, path = '$', depth = 0): Leaf[] {
  const leaves: Leaf[] = [];
  const walk = (node: unknown, at: string, jsonDepth: number): void => {
    if (node === null || node === undefined) return;
    if (typeof node === 'string') {
      leaves.push(leaf(at, normaliseForMatch(node)));
      if (jsonDepth < MAX_NESTED_JSON_DEPTH) {
        const parsed = nestedJson(node);
        if (parsed !== undefined) walk(parsed, `${at}>$`, jsonDepth + 1);
      }
      return;
    }
    if (typeof node === 'number' || typeof node === 'boolean' || typeof node === 'bigint') {
      leaves.push(leaf(at, normaliseForMatch(String(node))));
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${at}[${i}]`, jsonDepth));
      return;
    }
    const entries: Array<[unknown, unknown]> = node instanceof Map ? [...node.entries()] : typeof node === 'object' ? Object.entries(node) : [];
    for (const [key, item] of entries) {
      // A key is printed in a path only when it cannot be personal data (letters and underscores).
      const name = typeof key === 'string' && SAFE_KEY.test(key) ? key : '<key>';
      leaves.push(leaf(`${at}.${name}(key)`, normaliseForMatch(String(key))));
      walk(item, `${at}.${name}`, jsonDepth);
    }
  };
  walk(value, path, depth);
  return leaves;
}

/** Every (needle, leaf) pair where the leaf holds the needle: label and path only, never the text. */
export function findLeaks(leaves: readonly Leaf[], needles: readonly Needle[]): Leak[] {
  const leaks: Leak[] = [];
  for (const needle of needles) {
    for (const item of leaves) {
      if (leafHolds(item, needle)) leaks.push({ label: needle.label, path: item.path });
    }
  }
  return leaks;
}
