import { trinoLiteral, trinoType } from '../../tools/trino/copy-lake';
import { jsonValue } from '../../tools/trino/trino-athena';
import { TRACES_TABLE } from '../../lambdas/shared/lake-tables';

const field = (name: string) => TRACES_TABLE.fields.find((f) => f.name === name)!.type;

describe('the Trino check of the dataset SQL', () => {
  it('declares lake columns in the types Athena shows for them', () => {
    expect(trinoType(field('ts'))).toBe('timestamp(6)');
    expect(trinoType(field('input_messages'))).toBe('array(row("role" varchar, "content" varchar))');
  });

  it('writes values as typed literals, quotes doubled, nulls typed', () => {
    expect(trinoLiteral("it's", 'string')).toBe("'it''s'");
    expect(trinoLiteral(null, field('input_messages'))).toBe('CAST(NULL AS array(row("role" varchar, "content" varchar)))');
    expect(trinoLiteral([{ role: 'user', content: 'hi' }], field('input_messages'))).toBe(
      `CAST(ARRAY[CAST(ROW('user', 'hi') AS row("role" varchar, "content" varchar))] AS array(row("role" varchar, "content" varchar)))`,
    );
  });

  it('writes rows as objects with their field names, as a JSON UNLOAD does', () => {
    const type = {
      rawType: 'array',
      arguments: [{ kind: 'TYPE' as const, value: { rawType: 'row', arguments: [
        { kind: 'NAMED_TYPE' as const, value: { fieldName: { name: 'role' }, typeSignature: { rawType: 'varchar', arguments: [] } } },
        { kind: 'NAMED_TYPE' as const, value: { fieldName: { name: 'content' }, typeSignature: { rawType: 'varchar', arguments: [] } } },
      ] } }],
    };
    expect(jsonValue([['assistant', 'ok']], type)).toEqual([{ role: 'assistant', content: 'ok' }]);
    expect(jsonValue(null, type)).toBeNull();
  });
});
