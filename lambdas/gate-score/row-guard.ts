/**
 * The last check before a row leaves for the lake: every string a row carries is checked against what
 * its column's definition says it may hold (lambdas/shared/lake-tables.ts, `content`). The normalisers
 * and the gates already enforce the same rules; this check does not depend on them, so a future path
 * that skipped one cannot land an unchecked value. A failure is a defect: the row is not written, and
 * the record fails with a reason that names the column and its rule, never the value.
 */
import type { ColumnContent, IcebergField, IcebergType, LakeTableDefinition } from '../shared/lake-tables';
import { isPseudonym } from '../shared/pseudonymisation';
import { IDENTIFIER_RULES, holdsStructuredPii, identifierViolation } from './identifiers';
import { isSafeReason } from './reasons';

/** Values of the project's own vocabulary (enums, configured names, digests, scanner names joined by `+`): short labels. */
const VOCABULARY = /^[A-Za-z0-9._:+-]{1,64}$/;
/** A SHA-256 digest of our own configuration (a judge prompt hash). */
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A row column that does not hold what its definition allows. */
export class RowGuardError extends Error {
  override name = 'RowGuardError';
  /** The failure reason for the record (`unsafe_column: ...`): table, column and rule only. */
  readonly reason: string;

  constructor(
    readonly table: string,
    readonly column: string,
    readonly rule: string,
  ) {
    super(`${table}.${column} does not hold what its definition allows (${rule})`);
    this.reason = `unsafe_column: ${table}.${column} failed its ${rule} rule; the record was not written`;
  }
}

/** The rule's name, as reported. */
function ruleName(content: ColumnContent): string {
  return content.kind === 'identifier' ? `identifier ${content.rule}` : content.kind;
}

/** True when `value` is allowed by `content`. */
function allowed(content: ColumnContent, value: string): boolean {
  switch (content.kind) {
    case 'masked-text':
      return true;
    case 'identifier':
      return identifierViolation(IDENTIFIER_RULES[content.rule], value) === undefined;
    case 'pseudonym':
      return isPseudonym(value);
    case 'vocabulary':
      return VOCABULARY.test(value) && !holdsStructuredPii(value);
    case 'digest':
      return DIGEST.test(value);
    case 'reason':
      return isSafeReason(value);
  }
}

/**
 * Checks one value. The column's path is only built when a check fails or descends into a struct or
 * list: rows are checked on every record, and most columns are flat and pass.
 */
function checkValue(table: string, prefix: string, name: string, field: IcebergField, type: IcebergType, value: unknown): void {
  if (value === null || value === undefined) return;
  if (type === 'string') {
    if (field.content === undefined) throw new RowGuardError(table, prefix + name, 'classification');
    if (typeof value !== 'string' || !allowed(field.content, value)) throw new RowGuardError(table, prefix + name, ruleName(field.content));
    return;
  }
  if (typeof type === 'string') return;
  if (type.type === 'list') {
    if (!Array.isArray(value)) throw new RowGuardError(table, prefix + name, 'list');
    for (const element of value) checkValue(table, prefix, `${name}[]`, field, type.element, element);
    return;
  }
  if (typeof value !== 'object') throw new RowGuardError(table, prefix + name, 'struct');
  checkFields(table, `${prefix}${name}.`, type.fields, value as Record<string, unknown>);
}

function checkFields(table: string, prefix: string, fields: readonly IcebergField[], row: Record<string, unknown>): void {
  for (const field of fields) checkValue(table, prefix, field.name, field, field.type, row[field.name]);
}

/**
 * Checks every string of `row` against its column's `content`.
 *
 * @throws RowGuardError naming the first column that fails (or that has no classification)
 */
export function guardRow(table: LakeTableDefinition, row: object): void {
  checkFields(table.name, '', table.fields, row as Record<string, unknown>);
}
