/**
 * Renders a lake table definition (lambdas/shared/lake-tables.ts, the single source of truth) into the
 * `AWS::Glue::Table` OpenTableFormatInput.IcebergInput shape. Pure functions, no constructs: the
 * TraceLake construct calls them, and tests can check a rendering without synthesizing a stack.
 *
 * CloudFormation types `IcebergStructField.Type` as a string, while Glue's API takes a JSON document.
 * Primitives are written by name (`string`, `timestamp`, ...); nested list and struct types are written
 * as the JSON encoding of the Iceberg spec's type object, which Glue parses back into the document.
 */
import type { CfnTable } from 'aws-cdk-lib/aws-glue';
import type {
  IcebergField,
  IcebergListType,
  IcebergPrimitive,
  IcebergStructType,
  IcebergType,
  LakeTableDefinition,
} from '../../lambdas/shared/lake-tables';

/** Iceberg's JSON form of a nested type (https://iceberg.apache.org/spec/#appendix-c-json-serialization). */
type IcebergTypeJson = IcebergPrimitive | IcebergListJson | IcebergStructJson;

interface IcebergListJson {
  readonly type: 'list';
  readonly 'element-id': number;
  readonly element: IcebergTypeJson;
  readonly 'element-required': boolean;
}

interface IcebergStructJson {
  readonly type: 'struct';
  readonly fields: ReadonlyArray<{ id: number; name: string; required: boolean; type: IcebergTypeJson; doc?: string }>;
}

/** Glue limits a field's doc to 255 characters and a table name to lower-case identifier characters. */
const MAX_DOC_LENGTH = 255;
const TABLE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,254}$/;

/**
 * Table properties every lake table gets. Firehose commits a snapshot per delivery buffer, so metadata
 * files pile up quickly: keep the last 100 metadata files and delete older ones on commit. Parquet with
 * zstd is what Athena and DuckDB read fastest at the smallest size.
 */
export const DEFAULT_ICEBERG_PROPERTIES: Readonly<Record<string, string>> = {
  'write.format.default': 'parquet',
  'write.parquet.compression-codec': 'zstd',
  'write.metadata.delete-after-commit.enabled': 'true',
  'write.metadata.previous-versions-max': '100',
};

function isPrimitive(type: IcebergType): type is IcebergPrimitive {
  return typeof type === 'string';
}

function isList(type: IcebergType): type is IcebergListType {
  return typeof type === 'object' && type.type === 'list';
}

function isStruct(type: IcebergType): type is IcebergStructType {
  return typeof type === 'object' && type.type === 'struct';
}

function toTypeJson(type: IcebergType): IcebergTypeJson {
  if (isPrimitive(type)) return type;
  if (isList(type)) {
    return {
      type: 'list',
      'element-id': type.elementId,
      element: toTypeJson(type.element),
      'element-required': type.elementRequired,
    };
  }
  return {
    type: 'struct',
    fields: type.fields.map((f) => ({
      id: f.id,
      name: f.name,
      required: f.required,
      type: toTypeJson(f.type),
      ...(f.doc === undefined ? {} : { doc: f.doc }),
    })),
  };
}

/** The string CloudFormation's `IcebergStructField.Type` carries for a column type. */
export function renderIcebergType(type: IcebergType): string {
  return isPrimitive(type) ? type : JSON.stringify(toTypeJson(type));
}

/** Every field id used by a table, nested ones included (list element ids and struct field ids). */
function collectIds(fields: readonly IcebergField[], into: Array<{ id: number; path: string }>, prefix = ''): void {
  for (const field of fields) {
    const path = `${prefix}${field.name}`;
    into.push({ id: field.id, path });
    collectTypeIds(field.type, into, path);
  }
}

function collectTypeIds(type: IcebergType, into: Array<{ id: number; path: string }>, path: string): void {
  if (isList(type)) {
    into.push({ id: type.elementId, path: `${path}.element` });
    collectTypeIds(type.element, into, `${path}.element`);
  } else if (isStruct(type)) {
    collectIds(type.fields, into, `${path}.`);
  }
}

function checkDocs(fields: readonly IcebergField[], table: string): void {
  for (const field of fields) {
    if (field.doc !== undefined && field.doc.length > MAX_DOC_LENGTH) {
      throw new Error(
        `Lake table "${table}" field "${field.name}": doc is ${field.doc.length} characters; Glue allows at most ${MAX_DOC_LENGTH}`,
      );
    }
    if (isStruct(field.type)) checkDocs(field.type.fields, table);
    if (isList(field.type) && isStruct(field.type.element)) checkDocs(field.type.element.fields, table);
  }
}

/**
 * Checks a definition before it becomes a table: a bad id or a partition on a missing column would
 * otherwise only surface as a failed deployment (or, worse, as silently misrouted Firehose rows).
 */
export function validateLakeTable(def: LakeTableDefinition): void {
  if (!TABLE_NAME_PATTERN.test(def.name)) {
    throw new Error(`Lake table name "${def.name}" is invalid: expected lower-case letters, digits and underscores, starting with a letter`);
  }
  if (def.fields.length === 0) throw new Error(`Lake table "${def.name}" has no fields; expected at least one`);

  const ids: Array<{ id: number; path: string }> = [];
  collectIds(def.fields, ids);
  const seen = new Map<number, string>();
  for (const { id, path } of ids) {
    if (!Number.isInteger(id) || id < 1) {
      throw new Error(`Lake table "${def.name}" field "${path}" has id ${id}; expected a positive integer`);
    }
    const previous = seen.get(id);
    if (previous !== undefined) {
      throw new Error(`Lake table "${def.name}" reuses field id ${id} for "${previous}" and "${path}"; Iceberg ids must be unique`);
    }
    seen.set(id, path);
  }

  const names = new Set<string>();
  for (const field of def.fields) {
    if (names.has(field.name)) throw new Error(`Lake table "${def.name}" declares column "${field.name}" twice`);
    names.add(field.name);
  }
  checkDocs(def.fields, def.name);

  const partitionIds = new Set<number>();
  for (const partition of def.partitions) {
    const source = def.fields.find((f) => f.name === partition.sourceName);
    if (source === undefined) {
      throw new Error(
        `Lake table "${def.name}" partition "${partition.name}" uses column "${partition.sourceName}", which is not a top-level column; columns are: ${def.fields.map((f) => f.name).join(', ')}`,
      );
    }
    if (partition.transform === 'day' && source.type !== 'timestamp') {
      throw new Error(
        `Lake table "${def.name}" partition "${partition.name}" applies day() to "${source.name}" of type ${JSON.stringify(source.type)}; day() needs a timestamp column`,
      );
    }
    if (partition.transform === 'identity' && !isPrimitive(source.type)) {
      throw new Error(`Lake table "${def.name}" partition "${partition.name}" uses identity on nested column "${source.name}"; expected a primitive column`);
    }
    if (partition.fieldId < 1000 || partitionIds.has(partition.fieldId) || seen.has(partition.fieldId)) {
      throw new Error(
        `Lake table "${def.name}" partition "${partition.name}" has field id ${partition.fieldId}; expected a unique id of 1000 or more, distinct from column ids`,
      );
    }
    partitionIds.add(partition.fieldId);
  }

  for (const column of def.sortBy) {
    const source = def.fields.find((f) => f.name === column);
    if (source === undefined || !isPrimitive(source.type)) {
      throw new Error(`Lake table "${def.name}" sorts by "${column}", which is not a top-level primitive column`);
    }
  }
}

/** Field id of a top-level column; validateLakeTable has already proven it exists. */
function columnId(def: LakeTableDefinition, name: string): number {
  const field = def.fields.find((f) => f.name === name);
  if (field === undefined) throw new Error(`Lake table "${def.name}" has no column "${name}"`);
  return field.id;
}

/** Options for {@link renderIcebergInput}. */
export interface RenderIcebergInputOptions {
  /** `s3://bucket/prefix/` where the table's data and metadata live. */
  readonly location: string;
  /** Extra Iceberg table properties, merged over {@link DEFAULT_ICEBERG_PROPERTIES}. */
  readonly properties?: Readonly<Record<string, string>>;
}

/**
 * The `OpenTableFormatInput` of a lake table: format version 2 (the only one Firehose writes), the
 * schema with every field id from the definition, the partition spec and the write order.
 */
export function renderIcebergInput(def: LakeTableDefinition, options: RenderIcebergInputOptions): CfnTable.OpenTableFormatInputProperty {
  validateLakeTable(def);
  const fields: CfnTable.IcebergStructFieldProperty[] = def.fields.map((f) => ({
    id: f.id,
    name: f.name,
    required: f.required,
    type: renderIcebergType(f.type),
    ...(f.doc === undefined ? {} : { doc: f.doc }),
  }));
  return {
    icebergInput: {
      metadataOperation: 'CREATE',
      version: '2',
      icebergTableInput: {
        location: options.location,
        schema: { type: 'struct', schemaId: 0, fields },
        partitionSpec: {
          specId: 0,
          fields: def.partitions.map((p) => ({
            name: p.name,
            sourceId: columnId(def, p.sourceName),
            transform: p.transform,
            fieldId: p.fieldId,
          })),
        },
        // Iceberg reserves sort order 0 for "unsorted": an empty sortBy means no write order at all.
        ...(def.sortBy.length === 0
          ? {}
          : {
              writeOrder: {
                orderId: 1,
                fields: def.sortBy.map((column) => ({
                  sourceId: columnId(def, column),
                  transform: 'identity',
                  direction: 'asc',
                  nullOrder: 'nulls-last',
                })),
              },
            }),
        properties: { ...DEFAULT_ICEBERG_PROPERTIES, comment: def.description, ...options.properties },
      },
    },
  };
}
