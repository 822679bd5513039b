/**
 * A router run's lines in the local summary: its dataset, the real router job, and the router gate's
 * comparison with the current version (or why it refused), from what the execution recorded.
 */
import type { DatasetManifest } from '../../lambdas/pipeline/contracts';
import type { RouterEvalGateResult } from '../../lambdas/pipeline/router/router-eval-gate';
import type { RouterCpuUsage } from '../../lambdas/pipeline/router/router-job';
import type { RoutingFigures } from '../../lambdas/pipeline/router/router-metrics';
import { PIPELINE_ERRORS, TRAINING_STATES as T } from '../../stepfunctions/training-pipeline-states';
import type { AslRunResult } from '../pipeline/asl-runner';

function stateData(run: AslRunResult | undefined, state: string): Record<string, unknown> | undefined {
  const value = run?.outputs.get(state);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

const figuresText = (f: RoutingFigures | null | undefined): string =>
  f === null || f === undefined ? '(none)' : `misroute ${f.misrouteRate.toFixed(3)}, routing quality ${f.routingQuality.toFixed(3)}, $${f.costPer1kRequestsUsd.toFixed(2)} per 1k requests (${f.examples} held out)`;

/** Whether the run trained a router (its dataset has a router file). */
export function isRouterRun(run: AslRunResult | undefined): boolean {
  return (stateData(run, T.buildDataset)?.dataset as DatasetManifest | undefined)?.routerUri !== undefined;
}

/** The router's lines: dataset, job, gate. */
export function routerSummaryLines(run: AslRunResult | undefined): string[] {
  const dataset = stateData(run, T.buildDataset)?.dataset as DatasetManifest | undefined;
  if (dataset?.routerUri === undefined) return [];
  const lines = [`  Dataset:    ${dataset.datasetId}: ${dataset.counts.routerRows ?? 0} routed traces in the router file (reward policy ${dataset.rewardPolicyVersion})`];
  const usage = stateData(run, T.recordRouterCpuHours)?.cpuUsage as RouterCpuUsage | undefined;
  if (usage !== undefined) lines.push(`  Router job: [REAL ROUTER TRAINER, local CPU] ${usage.jobStatus} after ${usage.attempts} attempt(s): ${usage.vcpuHours} vCPU-h at ${usage.vcpus} vCPU (no GPU budget)`);
  const gate = stateData(run, T.checkEvalGate)?.evalGate as RouterEvalGateResult | undefined;
  if (gate !== undefined) {
    lines.push(`  Eval gate:  PASSED (router): baseline tier ${gate.baselineTier}`);
    lines.push(`    candidate  ${figuresText(gate.holdout?.candidate)}`);
    lines.push(`    current    ${figuresText(gate.holdout?.current)}`);
  } else if (run?.error === PIPELINE_ERRORS.evalGateFailed && run.cause !== undefined) {
    let failures: string[] = [run.cause];
    try {
      failures = (JSON.parse(run.cause) as { failures: string[] }).failures;
    } catch {
      // The cause was not the router gate's report: show it as it is.
    }
    lines.push(`  Eval gate:  REFUSED (router): ${failures.join('; ')}`);
  }
  return lines;
}
