import { decodeRecord, MAX_JSON_DEPTH, MAX_RECORD_BYTES, nestingExceeds, okRecord } from '../../lambdas/gate-score/firehose-records';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('decodeRecord', () => {
  it('decodes base64 UTF-8 JSON', () => {
    expect(decodeRecord(b64('{"a":"naïve 한국어 🎉"}'))).toEqual({ ok: true, value: { a: 'naïve 한국어 🎉' } });
  });

  it('rejects invalid UTF-8 without quoting the content', () => {
    const result = decodeRecord(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]).toString('base64'));
    expect(result).toEqual({ ok: false, reason: 'invalid_utf8: the record is not valid UTF-8' });
  });

  it('rejects broken JSON with a generic reason (no content echoed)', () => {
    const result = decodeRecord(b64('{"email": "jane@example.com"'));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe('invalid_json: the record is not valid JSON');
      expect(result.reason).not.toContain('jane');
    }
  });

  it('rejects empty, oversized and deeply nested records', () => {
    expect(decodeRecord('')).toEqual({ ok: false, reason: 'empty_record: the record has no data' });
    const big = decodeRecord(b64(Buffer.alloc(MAX_RECORD_BYTES + 1, 0x20)));
    expect(!big.ok && big.reason).toMatch(/^record_too_large:/);
    const deep = decodeRecord(b64('['.repeat(100_000) + ']'.repeat(100_000)));
    expect(!deep.ok && deep.reason).toMatch(/^too_deeply_nested:/);
  });
});

describe('nestingExceeds', () => {
  it('measures the nesting of a parsed value, not brackets inside strings', () => {
    expect(nestingExceeds({ s: '[[[[[[[[[[' }, 1)).toBe(false);
    expect(nestingExceeds([[[]]], 2)).toBe(true);
    expect(nestingExceeds([[[]]], 3)).toBe(false);
    expect(nestingExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestingExceeds({ a: [{ b: {} }] }, 3)).toBe(true);
    expect(nestingExceeds(JSON.parse('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)), MAX_JSON_DEPTH)).toBe(false);
    expect(nestingExceeds('scalar', 0)).toBe(false);
  });
});

describe('okRecord', () => {
  it('routes a row to an Iceberg table through otfMetadata', () => {
    const route = { destinationDatabaseName: 'db', destinationTableName: 'traces', operation: 'insert' as const };
    const record = okRecord('r1', { a: 1 }, route);
    expect(record).toEqual({ recordId: 'r1', result: 'Ok', data: b64('{"a":1}'), metadata: { otfMetadata: route } });
  });
});
