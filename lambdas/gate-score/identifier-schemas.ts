/**
 * zod schemas of the identifier rules (identifiers.ts), for the functions that validate a request
 * with zod (the feedback API). The rules stay defined once, in IDENTIFIER_RULES; the gate checks them
 * without zod (trace.ts), so it never imports this module.
 */
import * as z from '../shared/zod-mini';
import type { IdentifierRuleName } from '../shared/lake-tables';
import { IDENTIFIER_RULES, PERSONAL_DATA_RULE, holdsStructuredPii } from './identifiers';

/**
 * The zod schema of an identifier field. Each check aborts the rest on failure, so the detector only
 * ever reads a short value of the allowed characters.
 */
export function identifierSchema(name: IdentifierRuleName): z.ZodMiniString {
  const rule = IDENTIFIER_RULES[name];
  return z.string().check(
    z.minLength(1, { abort: true }),
    z.maxLength(rule.maxLength, { abort: true }),
    z.regex(rule.pattern, { message: rule.expectation, abort: true }),
    z.refine((value) => !holdsStructuredPii(value), { message: PERSONAL_DATA_RULE, abort: true }),
  );
}

export const traceIdSchema = identifierSchema('trace-id');
export const requestIdSchema = identifierSchema('request-id');
export const agentIdSchema = identifierSchema('agent-id');
