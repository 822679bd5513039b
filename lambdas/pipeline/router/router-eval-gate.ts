/**
 * `Check eval gate` for a router run: reads the router job's metrics.json and refuses the candidate as the
 * LLM gate does (EvalGateFailed, a JSON report in the message, the same Catch in the state machine).
 * The trainer already judged the candidate against the current version on the same held-out split and
 * golden set (`gate.passed`); a refused gate is exit 0 there, so this is where the refusal stops the run.
 * The two thresholds that matter most are checked here again from the stage's own configuration, so a
 * job run with a looser config cannot slip a candidate through.
 */
import * as z from '../../shared/zod-mini';
import type { RouterTargetModel } from '../../../config/schema';
import { PIPELINE_ERRORS } from '../../../stepfunctions/training-pipeline-states';
import type { ValidatedRequest } from '../contracts';
import type { ObjectStore } from '../ports';
import { parseRouterMetrics, ROUTER_METRICS_FILE, routingFiguresSchema, type RouterMetrics } from './router-metrics';

/** Rounding noise of rates computed in Python: a rise equal to the threshold up to this passes. */
const RATE_TOLERANCE = 1e-9;

/** `Check eval gate` -> `$.evalGate` for a router run. */
export const routerEvalGateResultSchema = z.strictObject({
  passed: z.literal(true),
  kind: z.literal('router'),
  metricsUri: z.string(),
  /** Candidate and current version on the held-out split and the golden set (null: not evaluated). */
  holdout: z.nullable(z.strictObject({ candidate: routingFiguresSchema, current: z.nullable(routingFiguresSchema) })),
  golden: z.nullable(z.strictObject({ candidate: routingFiguresSchema, current: z.nullable(routingFiguresSchema) })),
  baselineTier: z.string(),
  /** CPU the training job used, as the job measured it. */
  cpuHours: z.number().check(z.nonnegative()),
});
export type RouterEvalGateResult = z.infer<typeof routerEvalGateResultSchema>;

/** The router gate said no; the message is the report as JSON. */
export class RouterEvalGateFailed extends Error {
  override readonly name = PIPELINE_ERRORS.evalGateFailed;
  constructor(readonly report: { readonly summary: string; readonly runId: string; readonly targetModelId: string; readonly metricsUri: string; readonly failures: readonly string[] }) {
    super(JSON.stringify({ error: PIPELINE_ERRORS.evalGateFailed, ...report }));
  }
}

/** Where a router run's metrics.json is. */
export function routerMetricsUri(request: ValidatedRequest): string {
  return `${request.uris.output}${ROUTER_METRICS_FILE}`;
}

/** Every rule the metrics break, in words. */
export function routerGateFailures(metrics: RouterMetrics, router: Pick<RouterTargetModel, 'maxMisrouteRise' | 'minRoutingQuality'>): string[] {
  const failures = metrics.gate.passed ? [] : metrics.gate.reasons.map((r) => `the trainer's gate refused: ${r}`);
  if (!metrics.gate.passed && metrics.gate.reasons.length === 0) failures.push("the trainer's gate refused without a reason");
  const evaluated = (['holdout', 'golden'] as const).flatMap((set) => (metrics[set] === null ? [] : [[set, metrics[set]] as const]));
  if (evaluated.length === 0) failures.push('nothing was evaluated (no held-out example and no golden set)');
  for (const [set, figures] of evaluated) {
    const { candidate, current } = figures;
    if (current !== null && candidate.misrouteRate - current.misrouteRate > router.maxMisrouteRise + RATE_TOLERANCE) {
      failures.push(`${set}: misroute rate ${candidate.misrouteRate} is more than ${router.maxMisrouteRise} above the current version's ${current.misrouteRate}`);
    }
    if (candidate.routingQuality + RATE_TOLERANCE < router.minRoutingQuality) {
      failures.push(`${set}: routing quality ${candidate.routingQuality} is below the floor ${router.minRoutingQuality}`);
    }
  }
  return failures;
}

/**
 * Runs the router gate for a request.
 *
 * @throws RouterEvalGateFailed when a rule fails or the metrics are missing or invalid.
 */
export async function checkRouterEvalGate(request: ValidatedRequest, router: RouterTargetModel, store: ObjectStore): Promise<RouterEvalGateResult> {
  const metricsUri = routerMetricsUri(request);
  const refuse = (failures: string[]): never => {
    throw new RouterEvalGateFailed({ summary: `eval gate failed for router ${request.targetModelId} run ${request.runId}: ${failures.join('; ')}`, runId: request.runId, targetModelId: request.targetModelId, metricsUri, failures });
  };
  const text = await store.getText(metricsUri);
  if (text === undefined) return refuse([`the router job wrote no metrics.json at ${metricsUri}`]);
  const parsed = parseRouterMetrics(text);
  if (!parsed.ok) return refuse([`the router's metrics.json at ${metricsUri} is ${parsed.reason}`]);
  const { metrics } = parsed;
  const failures = routerGateFailures(metrics, router);
  if (failures.length > 0) refuse(failures);
  const pick = (set: RouterMetrics['holdout']) => (set === null ? null : { candidate: set.candidate, current: set.current });
  return routerEvalGateResultSchema.parse({ passed: true, kind: 'router', metricsUri, holdout: pick(metrics.holdout), golden: pick(metrics.golden), baselineTier: metrics.baselineTier, cpuHours: metrics.resources.cpuHours });
}
