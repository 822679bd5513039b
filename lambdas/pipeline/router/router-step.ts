/**
 * The router steps' domain entry, shared by the Lambda handler and local mode: `Prepare router job`
 * (`operation: 'prepare'`) and the two booking states of the job's CPU hours (`operation: 'record'`), one
 * function as the four GPU booking states share one.
 */
import { isRouterTarget, type RouterTargetModel } from '../../../config/schema';
import type { GpuLedger } from '../budget/ledger';
import type { ValidatedRequest } from '../contracts';
import type { ObjectStore } from '../ports';
import type { ModelRegistry } from '../register-model/model-registry';
import type { PipelineSettings } from '../settings';
import { prepareRouterJob, prepareRouterJobEventSchema, recordRouterCpuHours, recordRouterCpuHoursEventSchema, type RouterCpuUsage, type RouterJob } from './router-job';

export interface RouterStepDeps {
  readonly settings: Pick<PipelineSettings, 'stage' | 'targetModels' | 'modelPackageGroups'>;
  readonly registry: Pick<ModelRegistry, 'listPackages'>;
  readonly store: ObjectStore;
  readonly ledger: Pick<GpuLedger, 'markTrained'>;
  readonly goldenSetsUri: string;
  readonly now: Date;
}

/** The stage's router target a request names; a request for anything else never reaches these states. */
export function routerTargetOf(request: ValidatedRequest, settings: Pick<PipelineSettings, 'stage' | 'targetModels'>): RouterTargetModel {
  const target = settings.targetModels.find((m) => m.id === request.targetModelId);
  if (target === undefined || !isRouterTarget(target)) throw new Error(`target model ${request.targetModelId} is not a router of stage ${settings.stage}; the router steps train routers only`);
  return target;
}

/** Runs the step the event names. */
export async function runRouterStep(event: unknown, deps: RouterStepDeps): Promise<RouterJob | RouterCpuUsage> {
  const operation = (event as { operation?: unknown } | null)?.operation;
  if (operation === 'prepare') {
    const { request, dataset } = prepareRouterJobEventSchema.parse(event);
    const groupName = deps.settings.modelPackageGroups[request.modelFamily];
    if (groupName === undefined) throw new Error(`no model package group is configured for router "${request.modelFamily}"`);
    return prepareRouterJob(request, dataset, routerTargetOf(request, deps.settings), { registry: deps.registry, store: deps.store, groupName, goldenSetsUri: deps.goldenSetsUri });
  }
  if (operation === 'record') return recordRouterCpuHours(recordRouterCpuHoursEventSchema.parse(event), { ledger: deps.ledger, now: deps.now });
  throw new Error(`the router step expects operation "prepare" or "record"; received ${JSON.stringify(operation)}`);
}
