/**
 * Where the lake's tables are (Glue database and table names): part of the pipeline settings and of
 * every workflow that queries the lake. Its own module so those workflows' functions do not bundle the
 * whole pipeline settings schema.
 */
import * as z from '../shared/zod-mini';

export const lakeSettingsSchema = z.strictObject({
  databaseName: z.string().check(z.minLength(1)),
  tracesTable: z.string().check(z.minLength(1)),
  auditTable: z.string().check(z.minLength(1)),
  feedbackTable: z.string().check(z.minLength(1)),
  judgmentsTable: z.string().check(z.minLength(1)),
});
export type LakeSettings = z.infer<typeof lakeSettingsSchema>;
