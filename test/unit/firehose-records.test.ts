import { decodeRecord, MAX_JSON_DEPTH, MAX_RECORD_BYTES, okRecord } from '../../lambdas/gate-score/firehose-records';

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

describe('the nesting bound', () => {
  it('measures the nesting of the parsed value, not brackets inside strings', () => {
    expect(decodeRecord(b64(JSON.stringify({ s: '['.repeat(200) })))).toEqual({ ok: true, value: { s: '['.repeat(200) } });
    const atLimit = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(decodeRecord(b64(atLimit)).ok).toBe(true);
    expect(decodeRecord(b64(`[${atLimit}]`))).toEqual({ ok: false, reason: `too_deeply_nested: JSON nesting deeper than ${MAX_JSON_DEPTH}` });
  });
});

describe('repeated member names', () => {
  it('refuses a record that gives a member name twice, naming the key only when it is ours', () => {
    expect(decodeRecord(b64('{"trace_id":"x","consent":false,"consent":true}'))).toEqual({
      ok: false,
      reason: 'duplicate_key: the record gives the member name consent twice; a JSON object must not repeat a member name',
    });
    const planted = decodeRecord(b64('{"trace_id":"x","extra":{"jane.doe@example.com":1,"jane.doe@example.com":2}}'));
    expect(planted).toEqual({ ok: false, reason: 'duplicate_key: the record gives a member name twice in ?; a JSON object must not repeat a member name' });
  });
});

describe('okRecord', () => {
  it('routes a row to an Iceberg table through otfMetadata', () => {
    const route = { destinationDatabaseName: 'db', destinationTableName: 'traces', operation: 'insert' as const };
    const record = okRecord('r1', { a: 1 }, route);
    expect(record).toEqual({ recordId: 'r1', result: 'Ok', data: b64('{"a":1}'), metadata: { otfMetadata: route } });
  });

  it('encodes every row as UTF-8 JSON, ASCII or not (Latin-1 range, other scripts, astral, escapes)', () => {
    const route = { destinationDatabaseName: 'db', destinationTableName: 'traces', operation: 'insert' as const };
    for (const text of ['plain ascii', 'café ÿ', '환불 規定', '😀 astral', 'quote " backslash \\ nul \u0000', '\u00ff\u0080']) {
      const record = okRecord('r1', { text }, route);
      expect(Buffer.from(record.data, 'base64').toString('utf8')).toBe(JSON.stringify({ text }));
      expect(JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'))).toEqual({ text });
    }
  });
});
