/**
 * The dispatcher of the erasure function: `{ step, ... }` from a Task of stepfunctions/erasure.ts to
 * the step in erasure-workflow.ts, with the lineage step added here (it needs the registry and the
 * dataset manifests). Step names are a contract with the state machine (ERASURE_STEPS).
 */
import type { ObjectBytesReader } from '../pipeline/ports';
import { deleteRows, expireVersions, markFailed, recordRequest, resolveTargets, rewriteFiles, vacuumTables, verifyErasure, ErasureInputError, type ErasureRunState, type ErasureWorkflowDeps } from './erasure-workflow';
import { reportAndFlagLineage, type LineagePolicy, type LineageRegistry } from './flag-lineage';
import { registeredDatasets } from './registered-datasets';

export const ERASURE_STEPS = ['record', 'resolve', 'delete', 'rewrite', 'vacuum', 'expire-versions', 'verify', 'lineage', 'mark-failed'] as const;
export type ErasureStep = (typeof ERASURE_STEPS)[number];

export interface ErasureStepDeps {
  readonly workflow: ErasureWorkflowDeps;
  readonly registry: LineageRegistry;
  readonly datasets: ObjectBytesReader;
  readonly artifactBucket: string;
  readonly lineagePolicy: LineagePolicy;
}

function stateOf(event: Record<string, unknown>): ErasureRunState {
  const state = event.state as ErasureRunState | undefined;
  if (state === undefined || typeof state.erasureId !== 'string' || typeof state.target !== 'object') throw new ErasureInputError('the step needs the workflow state { erasureId, target, ... }');
  return state;
}

/** Runs one step; resolves to what the state machine stores at the Task's ResultPath. */
export async function runErasureStep(deps: ErasureStepDeps, event: unknown): Promise<unknown> {
  const e = (event ?? {}) as Record<string, unknown>;
  const step = e.step as ErasureStep;
  const w = deps.workflow;
  switch (step) {
    case 'record':
      return recordRequest(w, e.input, String(e.startedAt));
    case 'resolve':
      return resolveTargets(w, stateOf(e));
    case 'delete':
      return deleteRows(w, stateOf(e));
    case 'rewrite':
      return rewriteFiles(w, stateOf(e));
    case 'vacuum':
      return vacuumTables(w, stateOf(e));
    case 'expire-versions':
      return expireVersions(w, stateOf(e));
    case 'verify':
      return verifyErasure(w, stateOf(e));
    case 'lineage': {
      const state = stateOf(e);
      const report = await reportAndFlagLineage(deps.registry, (packages) => registeredDatasets(deps.datasets, deps.artifactBucket, packages), deps.lineagePolicy, new Set(state.reached?.traceIds ?? []), state.erasureId);
      const lineage = { datasets: report.datasets.map((d) => d.datasetId), versions: [...report.models, ...report.routers].map((v) => v.arn) };
      const entry = await w.ledger.get(state.erasureId);
      if (entry === undefined) throw new Error(`erasure ${state.erasureId} is not in the ledger`);
      await w.ledger.put({ ...entry, lineage, updatedAt: w.now().toISOString() });
      return { ...lineage, retraining: report.retraining };
    }
    case 'mark-failed': {
      const failure = (e.failure ?? {}) as { Error?: unknown };
      const error = typeof failure.Error === 'string' ? failure.Error : 'unknown';
      const erasure = (e.state as { erasureId?: unknown } | undefined)?.erasureId;
      // A request refused before it was recorded has no ledger entry: the notification still goes out.
      if (typeof erasure !== 'string') return { recorded: false, error };
      const entry = await markFailed(w, erasure, { error, execution: String(e.execution ?? 'unknown') });
      return { recorded: true, erasureId: entry.erasureId, error };
    }
    default:
      throw new ErasureInputError(`unknown erasure step; expected one of ${ERASURE_STEPS.join(', ')}`);
  }
}
