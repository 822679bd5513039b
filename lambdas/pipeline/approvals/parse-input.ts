/**
 * Validates a task state's input against its schema. The error names every offending field, because
 * it lands in the execution's history, where an operator reads it.
 */
import type * as z from '../../shared/zod-mini';

/** The parsed input, or an Error `Invalid input to <what>: <path>: <message>; ...`. */
export function parseTaskInput<T extends z.ZodMiniType>(schema: T, event: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(event);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`Invalid input to ${what}: ${fields}`);
  }
  return result.data;
}
