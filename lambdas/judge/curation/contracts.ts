/**
 * The curation state machine's payloads, validated at each function's door: the run's state
 * (`$.curation`) travels through Step Functions between invocations, so each step re-checks it.
 */
import * as z from '../../shared/zod-mini';
import type { CurationState } from './curation';

const count = z.number().check(z.int(), z.gte(0));
const isoInstant = z.iso.datetime();

export const curationStateSchema = z.strictObject({
  window: z.strictObject({ from: isoInstant, to: isoInstant }),
  promptHash: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/)),
  files: z.array(z.string().check(z.startsWith('s3://'))),
  cursor: z.strictObject({ file: count, line: count }),
  usageDay: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/)),
  usage: z.strictObject({ traces: count, tokens: count }),
  progress: z.strictObject({ read: count, judged: count, notSampled: count, stoppedByCeiling: count, withNoJudgment: count }),
  done: z.boolean(),
  stoppedBy: z.nullable(z.enum(['daily_trace_ceiling', 'daily_token_ceiling'])),
}) satisfies z.ZodMiniType<CurationState>;

/** `Select candidates`: the execution's start and name; `until` (optional, ISO) ends the window elsewhere. */
export const selectEventSchema = z.strictObject({
  startedAt: isoInstant,
  executionName: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/)),
  input: z.object({ until: z.optional(isoInstant) }),
});

export const curationEventSchema = z.strictObject({ curation: curationStateSchema });

/** Parses a step's event or throws an error naming the step and every problem. */
export function parseEvent<T>(schema: z.ZodMiniType<T>, event: unknown, step: string): T {
  const parsed = schema.safeParse(event);
  if (!parsed.success) throw new Error(`${step}: invalid input: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
