import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, LAKE_TABLES, TRACES_TABLE, type LakeTableDefinition } from '../../lambdas/shared/lake-tables';
import { DEFAULT_ICEBERG_PROPERTIES, renderIcebergInput, renderIcebergType, validateLakeTable } from '../../lib/constructs/iceberg-table-input';

const LOCATION = 's3://bucket/tables/t/';

function tableInput(def: LakeTableDefinition) {
  const input = renderIcebergInput(def, { location: LOCATION }).icebergInput as unknown as { icebergTableInput: Record<string, unknown>; metadataOperation: string; version: string };
  return input;
}

describe('renderIcebergType', () => {
  test('writes primitives by name', () => {
    expect(renderIcebergType('timestamp')).toBe('timestamp');
    expect(renderIcebergType('long')).toBe('long');
  });

  test('writes a list of structs as the Iceberg JSON type with every nested id', () => {
    const messages = TRACES_TABLE.fields.find((f) => f.name === 'input_messages');
    expect(JSON.parse(renderIcebergType(messages!.type))).toEqual({
      type: 'list',
      'element-id': 100,
      'element-required': true,
      element: {
        type: 'struct',
        fields: [
          { id: 101, name: 'role', required: true, type: 'string' },
          { id: 102, name: 'content', required: true, type: 'string' },
        ],
      },
    });
  });

  test('writes a struct column with optional doubles', () => {
    const components = TRACES_TABLE.fields.find((f) => f.name === 'reward_components');
    const json = JSON.parse(renderIcebergType(components!.type)) as { type: string; fields: Array<{ id: number; type: string; required: boolean }> };
    expect(json.type).toBe('struct');
    expect(json.fields.map((f) => f.id)).toEqual([121, 122, 123, 124, 125]);
    expect(json.fields.every((f) => f.type === 'double' && !f.required)).toBe(true);
  });
});

describe('renderIcebergInput', () => {
  test('creates a format-version 2 table at the given location', () => {
    const input = tableInput(TRACES_TABLE);
    expect(input.metadataOperation).toBe('CREATE');
    expect(input.version).toBe('2');
    expect(input.icebergTableInput.location).toBe(LOCATION);
  });

  test('keeps every column id and required flag of the definition, in order', () => {
    for (const def of LAKE_TABLES) {
      const schema = tableInput(def).icebergTableInput.schema as { type: string; fields: Array<{ id: number; name: string; required: boolean }> };
      expect(schema.type).toBe('struct');
      expect(schema.fields.map((f) => [f.id, f.name, f.required])).toEqual(def.fields.map((f) => [f.id, f.name, f.required]));
    }
  });

  test('partitions traces by day(ts), identity(model), identity(consent) with source ids', () => {
    expect(tableInput(TRACES_TABLE).icebergTableInput.partitionSpec).toEqual({
      specId: 0,
      fields: [
        { name: 'ts_day', sourceId: 2, transform: 'day', fieldId: 1000 },
        { name: 'model', sourceId: 6, transform: 'identity', fieldId: 1001 },
        { name: 'consent', sourceId: 10, transform: 'identity', fieldId: 1002 },
      ],
    });
  });

  test('sorts gate_audit by gate then discarded_at, ascending, nulls last', () => {
    expect(tableInput(GATE_AUDIT_TABLE).icebergTableInput.writeOrder).toEqual({
      orderId: 1,
      fields: [
        { sourceId: 2, transform: 'identity', direction: 'asc', nullOrder: 'nulls-last' },
        { sourceId: 4, transform: 'identity', direction: 'asc', nullOrder: 'nulls-last' },
      ],
    });
  });

  test('writes no sort order for a table without sortBy (order 0 means unsorted)', () => {
    expect(tableInput({ ...FEEDBACK_TABLE, sortBy: [] }).icebergTableInput.writeOrder).toBeUndefined();
  });

  test('sets the default properties and the description as the Iceberg comment', () => {
    expect(tableInput(FEEDBACK_TABLE).icebergTableInput.properties).toEqual({ ...DEFAULT_ICEBERG_PROPERTIES, comment: FEEDBACK_TABLE.description });
  });
});

describe('validateLakeTable', () => {
  test('accepts every table of the lake', () => {
    for (const def of LAKE_TABLES) expect(() => validateLakeTable(def)).not.toThrow();
  });

  test('refuses a nested id that collides with a column id, naming both fields', () => {
    const broken: LakeTableDefinition = {
      ...FEEDBACK_TABLE,
      fields: [...FEEDBACK_TABLE.fields, { id: 10, name: 'tags', type: { type: 'list', elementId: 3, element: 'string', elementRequired: true }, required: false }],
    };
    expect(() => validateLakeTable(broken)).toThrow('reuses field id 3 for "request_id" and "tags.element"');
  });

  test('refuses a partition on a column that does not exist, listing the columns', () => {
    const broken: LakeTableDefinition = { ...GATE_AUDIT_TABLE, partitions: [{ sourceName: 'when', transform: 'day', name: 'd', fieldId: 1000 }] };
    expect(() => validateLakeTable(broken)).toThrow(/partition "d" uses column "when", which is not a top-level column; columns are: trace_id, gate/);
  });

  test('refuses day() on a non-timestamp column', () => {
    const broken: LakeTableDefinition = { ...GATE_AUDIT_TABLE, partitions: [{ sourceName: 'gate', transform: 'day', name: 'd', fieldId: 1000 }] };
    expect(() => validateLakeTable(broken)).toThrow('applies day() to "gate" of type "string"; day() needs a timestamp column');
  });

  test('refuses a partition field id below 1000', () => {
    const broken: LakeTableDefinition = { ...GATE_AUDIT_TABLE, partitions: [{ sourceName: 'discarded_at', transform: 'day', name: 'd', fieldId: 7 }] };
    expect(() => validateLakeTable(broken)).toThrow('has field id 7; expected a unique id of 1000 or more');
  });

  test('refuses an upper-case table name', () => {
    expect(() => validateLakeTable({ ...FEEDBACK_TABLE, name: 'Feedback' })).toThrow('Lake table name "Feedback" is invalid');
  });

  test('refuses a doc longer than Glue allows', () => {
    const broken: LakeTableDefinition = { ...FEEDBACK_TABLE, fields: [{ id: 1, name: 'x', type: 'string', required: true, doc: 'd'.repeat(256) }] };
    expect(() => validateLakeTable({ ...broken, partitions: [], sortBy: [] })).toThrow('doc is 256 characters; Glue allows at most 255');
  });

  test('refuses sorting by a nested column', () => {
    expect(() => validateLakeTable({ ...TRACES_TABLE, sortBy: ['tool_calls'] })).toThrow('sorts by "tool_calls", which is not a top-level primitive column');
  });
});
