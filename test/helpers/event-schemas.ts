/**
 * Validates an event's detail against its published JSON Schema (docs/events/<detail type>.json) with
 * ajv (a dev dependency).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';

export { readLocalEvents } from '../../local/pipeline/local-event-log';

const ajv = new Ajv({ allErrors: true });
const compiled = new Map<string, ValidateFunction>();

/** The schema's error messages for `detail`; empty when it conforms. */
export function validateEventDetail(detailType: string, detail: unknown): string[] {
  let validate = compiled.get(detailType);
  if (validate === undefined) {
    validate = ajv.compile(JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'events', `${detailType}.json`), 'utf8')) as object);
    compiled.set(detailType, validate);
  }
  if (validate(detail) === true) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
