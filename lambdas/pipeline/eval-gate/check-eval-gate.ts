/**
 * `Check eval gate`: reads the candidate's metrics.json and the production baseline, applies the
 * rules, and either returns EvalGateResult or throws EvalGateFailed, whose message is a JSON document
 * (metrics, baseline, every failed rule) that the state machine carries into the execution's error and
 * the failure notification.
 */
import * as z from '../../shared/zod-mini';
import type { EvalGateConfig } from '../../../config/schema';
import { PIPELINE_ERRORS } from '../../../stepfunctions/training-pipeline-states';
import { evalGateResultSchema, validatedRequestSchema, type EvalGateResult, type EvalMetrics, type ValidatedRequest } from '../contracts';
import type { ObjectStore } from '../ports';
import type { PipelineSettings } from '../settings';
import type { ModelRegistry } from '../register-model/model-registry';
import { judgeMetrics, type GateFailure } from './judge';
import { parseMetrics, productionBaseline } from './production-baseline';

/** `{ request: $.request }`. */
export const evalGateEventSchema = z.object({ request: validatedRequestSchema });

/** The document in EvalGateFailed's message. */
export interface EvalGateFailureReport {
  readonly error: typeof PIPELINE_ERRORS.evalGateFailed;
  readonly summary: string;
  readonly runId: string;
  readonly targetModelId: string;
  readonly rules: EvalGateConfig;
  readonly candidate: EvalMetrics | null;
  readonly candidateMetricsUri: string;
  readonly production: EvalMetrics | null;
  readonly productionModelPackageArn: string | null;
  readonly failures: readonly GateFailure[];
  readonly notes: readonly string[];
}

/** The gate said no. `message` is the report as JSON; `report` is the same, parsed. */
export class EvalGateFailed extends Error {
  override readonly name = PIPELINE_ERRORS.evalGateFailed;
  constructor(readonly report: EvalGateFailureReport) {
    super(JSON.stringify(report));
  }
}

export interface CheckEvalGateDeps {
  readonly store: ObjectStore;
  readonly registry: ModelRegistry;
  readonly settings: Pick<PipelineSettings, 'evalGate' | 'modelPackageGroups'>;
}

/** A passed gate, with the observations a reviewer should see. */
export interface EvalGatePass {
  readonly result: EvalGateResult;
  readonly notes: readonly string[];
}

function fail(request: ValidatedRequest, rules: EvalGateConfig, parts: Pick<EvalGateFailureReport, 'candidate' | 'production' | 'productionModelPackageArn' | 'failures' | 'notes'>): never {
  const summary = `eval gate failed for ${request.targetModelId} run ${request.runId}: ${parts.failures.map((f) => f.message).join('; ')}`;
  throw new EvalGateFailed({
    error: PIPELINE_ERRORS.evalGateFailed,
    summary,
    runId: request.runId,
    targetModelId: request.targetModelId,
    rules,
    candidateMetricsUri: request.uris.metrics,
    ...parts,
  });
}

/**
 * Runs the eval gate for a request.
 *
 * @throws EvalGateFailed when a rule fails, the candidate's metrics.json is missing or invalid, or
 *   production's metrics cannot be read.
 */
export async function checkEvalGate(request: ValidatedRequest, deps: CheckEvalGateDeps): Promise<EvalGatePass> {
  const rules = deps.settings.evalGate;
  const none = { production: null, productionModelPackageArn: null, notes: [] };
  const text = await deps.store.getText(request.uris.metrics);
  if (text === undefined) {
    fail(request, rules, { ...none, candidate: null, failures: [{ rule: 'candidate-metrics', message: `the eval job wrote no metrics.json at ${request.uris.metrics}` }] });
  }
  const parsed = parseMetrics(text);
  if (!parsed.ok) {
    fail(request, rules, { ...none, candidate: null, failures: [{ rule: 'candidate-metrics', message: `the candidate's metrics.json at ${request.uris.metrics} is ${parsed.reason}` }] });
  }
  const candidate = parsed.metrics;

  const groupName = deps.settings.modelPackageGroups[request.modelFamily];
  if (groupName === undefined) throw new Error(`no model package group is configured for family "${request.modelFamily}"`);
  const baseline = await productionBaseline(deps.registry, deps.store, groupName, request.targetModelId);
  if (baseline.kind === 'unavailable') {
    fail(request, rules, { ...none, candidate, productionModelPackageArn: baseline.arn, failures: [{ rule: 'production-baseline', message: `${baseline.reason}; the gate cannot compare the candidate with production` }] });
  }
  const production = baseline.kind === 'found' ? baseline.metrics : null;
  const productionModelPackageArn = baseline.kind === 'found' ? baseline.arn : null;
  const { failures, notes } = judgeMetrics(candidate, production, rules);
  if (failures.length > 0) fail(request, rules, { candidate, production, productionModelPackageArn, failures, notes });
  return { result: evalGateResultSchema.parse({ passed: true, candidate, production, productionModelPackageArn }), notes };
}
