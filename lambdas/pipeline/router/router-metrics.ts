/**
 * The router job's metrics.json (format `sial-router-metrics/1`, training/README.md "Outputs of train"),
 * as far as the pipeline reads it: the trainer's own gate verdict, the routing figures of the candidate
 * and the current version on the held-out split and the golden set, and the CPU the job used. Other keys
 * are kept as they are (the registry links the whole file).
 */
import * as z from '../../shared/zod-mini';

const rate = z.number().check(z.gte(0), z.lte(1));

/** One model's routing figures on one evaluation set. */
export const routingFiguresSchema = z.looseObject({
  examples: z.number().check(z.int(), z.nonnegative()),
  accuracy: rate,
  misrouteRate: rate,
  routingQuality: rate,
  costPer1kRequestsUsd: z.number().check(z.nonnegative()),
});
export type RoutingFigures = z.infer<typeof routingFiguresSchema>;

const evaluationSchema = z.nullable(z.looseObject({
    candidate: routingFiguresSchema,
    baseline: z.extend(routingFiguresSchema, { tier: z.string() }),
    current: z.nullable(routingFiguresSchema),
  }));

export const ROUTER_METRICS_FORMAT = 'sial-router-metrics/1';

export const routerMetricsSchema = z.looseObject({
  format: z.literal(ROUTER_METRICS_FORMAT),
  kind: z.enum(['train', 'evaluate']),
  baselineTier: z.string(),
  holdout: evaluationSchema,
  golden: evaluationSchema,
  gate: z.strictObject({ passed: z.boolean(), reasons: z.array(z.string()) }),
  resources: z.looseObject({ cpuSeconds: z.number().check(z.nonnegative()), wallSeconds: z.number().check(z.nonnegative()), cpuHours: z.number().check(z.nonnegative()) }),
});
export type RouterMetrics = z.infer<typeof routerMetricsSchema>;

/** The router's metrics.json: next to the model it describes, in the run's output prefix. */
export const ROUTER_METRICS_FILE = 'metrics.json';

/** Parses a metrics.json text, or says what is wrong with it. */
export function parseRouterMetrics(text: string): { ok: true; metrics: RouterMetrics } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = routerMetricsSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not a router metrics.json: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  return { ok: true, metrics: parsed.data };
}
