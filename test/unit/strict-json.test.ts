/**
 * Strict JSON parsing (lambdas/gate-score/strict-json.ts): a member name given twice in one object is
 * refused wherever it is, however it is spelled, and a good document is parsed exactly as JSON.parse
 * would parse it.
 */
import fc from 'fast-check';
import { countMemberNames, countOwnKeys, findDuplicateMember, parseStrictJson } from '../../lambdas/gate-score/strict-json';

const DEPTH = 64;

function duplicateOf(text: string) {
  const result = parseStrictJson(text, DEPTH);
  return result.ok ? undefined : result.problem === 'duplicate_member' ? result.duplicate : result.problem;
}

describe('parseStrictJson', () => {
  it('parses good JSON exactly as JSON.parse does', () => {
    const text = '{"a": {"b": [1, {"c": "x:\\"y\\":"}, "\\\\"]}, "d" : null, "e":"{\\"a\\":1,\\"a\\":2}"}';
    expect(parseStrictJson(text, DEPTH)).toEqual({ ok: true, value: JSON.parse(text) });
    expect(parseStrictJson('"just a string"', DEPTH)).toEqual({ ok: true, value: 'just a string' });
    expect(parseStrictJson('[1, "a", null]', DEPTH)).toEqual({ ok: true, value: [1, 'a', null] });
  });

  it.each([
    ['at the top', '{"consent": false, "x": 1, "consent": true}', [], 'consent'],
    ['spelled with an escape', '{"consent": false, "cons\\u0065nt": true}', [], 'consent'],
    ['spelled with escapes on both sides', '{"\\u0063onsent": false, "cons\\u0065nt": true}', [], 'consent'],
    ['deep in an array', '{"a": [0, {"b": {"c": 1, "c": 2}}]}', ['a', 1, 'b'], 'c'],
    ['with blanks before the colon', '{"a" : 1 ,\n "a"\t: 2}', [], 'a'],
    ['__proto__', '{"__proto__": {"x": 1}, "__proto__": {"x": 2}}', [], '__proto__'],
    ['the empty name', '{"": 1, "": 2}', [], ''],
    ['after a value that looks like a name', '{"a": ":\\":", "b": 1, "b": 2}', [], 'b'],
  ])('refuses a repeated member name %s, and finds where', (_label, text, path, name) => {
    expect(duplicateOf(text)).toEqual({ path, name });
  });

  it('keeps same names in different objects, and names that differ only in case or spacing', () => {
    expect(parseStrictJson('{"a": {"x": 1}, "b": {"x": 2}, "A": 3, "a ": 4}', DEPTH).ok).toBe(true);
    expect(parseStrictJson('[{"x": 1}, {"x": 2}]', DEPTH).ok).toBe(true);
  });

  it('reports broken and too deep JSON by name', () => {
    expect(duplicateOf('{"a": 1,}')).toBe('invalid_json');
    expect(duplicateOf('['.repeat(DEPTH + 1) + ']'.repeat(DEPTH + 1))).toBe('too_deeply_nested');
    expect(parseStrictJson('['.repeat(DEPTH) + ']'.repeat(DEPTH), DEPTH).ok).toBe(true);
  });

  it('is not fooled by a polluted prototype: inherited keys never hide a repeated one', () => {
    const proto = Object.prototype as Record<string, unknown>;
    try {
      proto.polluted = true;
      expect(parseStrictJson('{"a": {"b": 1}}', DEPTH)).toEqual({ ok: true, value: { a: { b: 1 } } });
      expect(duplicateOf('{"a": 1, "a": 2}')).toEqual({ path: [], name: 'a' });
    } finally {
      delete proto.polluted;
    }
  });
});

describe('member counting (property-based)', () => {
  const keys = fc.oneof(fc.string(), fc.constantFrom('consent', '__proto__', 'a"b', 'a\\', ':', '":"', 'ü', '😀', ' '));
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), tie('object'), tie('array')),
    object: fc.dictionary(keys, tie('value'), { maxKeys: 5 }),
    array: fc.array(tie('value'), { maxLength: 4 }),
  })).value;

  it('counts as many names in the text as the parsed objects have keys, in any layout', () => {
    fc.assert(
      fc.property(json, fc.constantFrom(undefined, 1, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(countMemberNames(text)).toBe(countOwnKeys(JSON.parse(text), 1000));
        expect(parseStrictJson(text, 1000)).toEqual({ ok: true, value: JSON.parse(text) });
      }),
    );
  });

  it('finds a member name repeated anywhere, whatever the name and however it is escaped', () => {
    fc.assert(
      fc.property(json, keys, fc.boolean(), fc.nat(), (value, name, escape, pick) => {
        const text = JSON.stringify(value);
        // Every `{` that opens an object (not one inside a string) is a place to plant the repeat.
        const opens: number[] = [];
        let inString = false;
        for (let i = 0; i < text.length; i += 1) {
          if (text[i] === '\\' && inString) i += 1;
          else if (text[i] === '"') inString = !inString;
          else if (text[i] === '{' && !inString) opens.push(i);
        }
        fc.pre(opens.length > 0);
        const at = (opens[pick % opens.length] as number) + 1;
        const spelled = escape ? `"${[...name].map((c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`).join('')}"` : JSON.stringify(name);
        const closesEmpty = text[at] === '}';
        const planted = `${JSON.stringify(name)}:1,${spelled}:2${closesEmpty ? '' : ','}`;
        const hostile = text.slice(0, at) + planted + text.slice(at);
        // Only code points below U+10000 fit one \\u escape each; others keep the plain spelling.
        fc.pre(!escape || [...name].every((c) => (c.codePointAt(0) ?? 0) < 0x10000));
        const result = parseStrictJson(hostile, 1000);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.problem).toBe('duplicate_member');
        expect(findDuplicateMember(hostile)?.name).toBeDefined();
      }),
    );
  });
});
