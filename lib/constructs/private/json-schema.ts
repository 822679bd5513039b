/**
 * Turns a zod schema into an API Gateway model schema (JSON Schema draft 4), so the request model at
 * the edge is derived from the same contract the Lambda validates with and cannot drift from it.
 */
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';

/** Keywords API Gateway's draft-4 validator understands, spelled as CDK's JsonSchema spells them. */
const PLAIN_KEYWORDS = new Set([
  'type', 'title', 'description', 'enum', 'default', 'format', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum',
  'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties',
  'minProperties', 'required',
]);
const SCHEMA_KEYWORDS = new Set(['items', 'additionalItems', 'additionalProperties', 'not', 'propertyNames', 'contains']);
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf']);
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', 'definitions']);

function convert(node: unknown, where: string): apigw.JsonSchema | boolean {
  if (typeof node === 'boolean') return node;
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    throw new Error(`JSON schema at ${where} is ${JSON.stringify(node)}; expected an object or a boolean`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') out.schema = value;
    else if (key === '$ref') out.ref = value;
    else if (PLAIN_KEYWORDS.has(key)) out[key] = value;
    else if (key === 'items' && Array.isArray(value)) {
      // Tuple form: one schema per position.
      out[key] = value.map((v, i) => convert(v, `${where}.items[${i}]`));
    } else if (SCHEMA_KEYWORDS.has(key)) out[key] = convert(value, `${where}.${key}`);
    else if (SCHEMA_LIST_KEYWORDS.has(key)) {
      out[key] = (value as unknown[]).map((v, i) => convert(v, `${where}.${key}[${i}]`));
    } else if (SCHEMA_MAP_KEYWORDS.has(key)) {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, convert(v, `${where}.${key}.${k}`)]));
    } else {
      throw new Error(`JSON schema at ${where} uses "${key}", which API Gateway's draft-4 models do not support`);
    }
  }
  return out as apigw.JsonSchema;
}

/** The draft-4 model schema of a zod object schema; throws when the schema cannot be expressed. */
export function apiGatewayModelSchema(schema: z.ZodType): apigw.JsonSchema {
  const converted = convert(z.toJSONSchema(schema, { target: 'draft-4' }), '(root)');
  if (typeof converted === 'boolean') throw new Error('JSON schema at (root) is a boolean; expected an object schema');
  return converted;
}
