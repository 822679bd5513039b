/**
 * JSON parsing that refuses a member name given twice in one object. `JSON.parse` silently keeps the
 * last value of a repeated name, so `{"consent": false, "consent": true}` would read as consented and a
 * producer, a proxy or an attacker could hide a value from whoever reads the first one. Real serialisers
 * never emit a repeated name, so any repetition, at any depth, is refused.
 *
 * Cheap by construction, because every record takes this path: the text is parsed once by V8, the
 * member names are *counted* by jumping from quote to quote with `indexOf` (a name is a string followed
 * by a colon), and the count is compared with the own keys of the parsed objects, which the nesting
 * bound walks anyway. Fewer keys than names means a name was repeated (escapes included: `"cons\u0065nt"`
 * decodes to `consent` and collapses into the same key). Only then is the text scanned a second time,
 * slowly, to say where.
 */

/** Where a repeated member name was found: the path of the object holding it, and the name. */
export interface DuplicateMember {
  readonly path: ReadonlyArray<string | number>;
  readonly name: string;
}

export type StrictJsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: 'invalid_json' }
  | { readonly ok: false; readonly problem: 'too_deeply_nested' }
  | { readonly ok: false; readonly problem: 'duplicate_member'; readonly duplicate: DuplicateMember };

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;

/** True when the quote at `at` is escaped (preceded by an odd number of backslashes). */
function escaped(text: string, at: number): boolean {
  let backslashes = 0;
  for (let i = at - 1; i >= 0 && text.charCodeAt(i) === BACKSLASH; i -= 1) backslashes += 1;
  return (backslashes & 1) === 1;
}

/** Index of the quote closing the string opened at `open`, or -1 (only for text that is not JSON). */
function stringEnd(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  // Most strings hold no escaped quote: one look at the character before is enough.
  while (end !== -1 && text.charCodeAt(end - 1) === BACKSLASH && escaped(text, end)) end = text.indexOf('"', end + 1);
  return end;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/**
 * How many member names valid JSON text holds: strings whose next non-blank character is a colon.
 * Quotes pair up exactly in valid JSON (an unescaped quote always opens or closes a string), so jumping
 * from one unescaped quote to the next never mistakes string content for structure.
 */
export function countMemberNames(text: string): number {
  let count = 0;
  let open = text.indexOf('"');
  while (open !== -1) {
    const end = stringEnd(text, open);
    if (end === -1) break;
    let next = end + 1;
    let code = text.charCodeAt(next);
    while (isSpace(code)) code = text.charCodeAt((next += 1));
    if (code === COLON) count += 1;
    open = text.indexOf('"', next);
  }
  return count;
}

const EMPTY: object = Object.freeze({});

/** True while Object.prototype has no enumerable property, i.e. nobody has polluted it. */
function prototypeIsClean(): boolean {
  for (const _key in EMPTY) return false;
  return true;
}

/**
 * Keys of every object in a parsed value, or -1 when it nests deeper than `depthLeft` (`[]` has depth
 * 1). Recursion is bounded by `depthLeft`, so a hostile document cannot overflow the stack. `for...in`
 * is several times faster than `Object.keys` on the objects JSON.parse builds, but it also visits keys
 * inherited from Object.prototype: an inherited key would hide a repeated one from the count, so this is
 * used only while the prototype is verifiably clean.
 */
function countKeysFast(value: unknown, depthLeft: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (depthLeft <= 0) return -1;
  let total = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const child: unknown = value[i];
      if (typeof child !== 'object' || child === null) continue;
      const inner = countKeysFast(child, depthLeft - 1);
      if (inner < 0) return -1;
      total += inner;
    }
    return total;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    total += 1;
    // An own `__proto__` key (JSON.parse creates one) shadows the accessor, so this reads the data.
    const child = object[key];
    if (typeof child !== 'object' || child === null) continue;
    const inner = countKeysFast(child, depthLeft - 1);
    if (inner < 0) return -1;
    total += inner;
  }
  return total;
}

/** Own keys of every object in a parsed value (exact, slower), or -1 when it nests deeper than `depthLeft`. */
export function countOwnKeys(value: unknown, depthLeft: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (depthLeft <= 0) return -1;
  const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
  let total = Array.isArray(value) ? 0 : children.length;
  for (const child of children) {
    const inner = countOwnKeys(child, depthLeft - 1);
    if (inner < 0) return -1;
    total += inner;
  }
  return total;
}

type Frame = { kind: 'object'; names: Set<string>; name: string | undefined } | { kind: 'array'; index: number };

/**
 * The first repeated member name in valid JSON text, with the path of the object holding it. A second,
 * slower pass over text already known to repeat a name; never on the path of a good record.
 */
export function findDuplicateMember(text: string): DuplicateMember | undefined {
  const stack: Frame[] = [];
  let expectName = false;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (isSpace(code) || code === COLON) {
      i += 1;
    } else if (code === 123 /* { */) {
      stack.push({ kind: 'object', names: new Set(), name: undefined });
      expectName = true;
      i += 1;
    } else if (code === 91 /* [ */) {
      stack.push({ kind: 'array', index: 0 });
      expectName = false;
      i += 1;
    } else if (code === 125 /* } */ || code === 93 /* ] */) {
      stack.pop();
      expectName = false;
      i += 1;
    } else if (code === 44 /* , */) {
      if (top?.kind === 'array') top.index += 1;
      else expectName = true;
      i += 1;
    } else if (code === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) return undefined;
      if (expectName && top?.kind === 'object') {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.names.has(name)) {
          const path = stack.slice(0, -1).map((frame) => (frame.kind === 'array' ? frame.index : (frame.name ?? '')));
          return { path, name };
        }
        top.names.add(name);
        top.name = name;
        expectName = false;
      }
      i = end + 1;
    } else {
      // A number or a literal: runs until the next delimiter.
      i += 1;
      while (i < text.length && !isSpace(text.charCodeAt(i)) && ',]}'.indexOf(text.charAt(i)) === -1) i += 1;
    }
  }
  return undefined;
}

/**
 * Parses JSON text, refusing a repeated member name anywhere and nesting deeper than `maxDepth`. The
 * problems are named, never described with the text: it may hold personal data.
 */
export function parseStrictJson(text: string, maxDepth: number): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'invalid_json' };
  }
  const keys = prototypeIsClean() ? countKeysFast(value, maxDepth) : countOwnKeys(value, maxDepth);
  if (keys < 0) return { ok: false, problem: 'too_deeply_nested' };
  // A scalar has no member names to repeat.
  if (typeof value !== 'object' || value === null || keys === countMemberNames(text)) return { ok: true, value };
  // Fewer keys than names: some object repeats one. The locating pass finds it in any valid JSON; if it
  // ever did not, the record would still be refused (fail closed), only without a location.
  return { ok: false, problem: 'duplicate_member', duplicate: findDuplicateMember(text) ?? { path: [], name: '' } };
}
