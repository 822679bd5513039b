/**
 * Local overrides of the router states of the training pipeline, by state name: the same domain code the
 * router steps' Lambda runs (prepare the job, record its CPU hours), the REAL router trainer for
 * `Train router`, and the router's branch of `Check eval gate` and `Register model`.
 */
import { runRouterStep } from '../../lambdas/pipeline/router/router-step';
import { checkRouterEvalGate } from '../../lambdas/pipeline/router/router-eval-gate';
import { routerTargetOf } from '../../lambdas/pipeline/router/router-step';
import type { GpuLedger } from '../../lambdas/pipeline/budget/ledger';
import type { ValidatedRequest } from '../../lambdas/pipeline/contracts';
import type { ObjectStore } from '../../lambdas/pipeline/ports';
import type { PipelineSettings } from '../../lambdas/pipeline/settings';
import { TRAINING_STATES } from '../../stepfunctions/training-pipeline-states';
import type { LocalTaskHandler } from '../pipeline/asl-runner';
import { LocalTaskError } from '../pipeline/asl-runner';
import type { LocalModelRegistry } from '../pipeline/local-model-registry';
import type { LocalRouterBatch, RouterSubmitJobInput } from './local-router-batch';

/** The image named on locally registered router packages: the router image, which nothing serves locally. */
export const LOCAL_ROUTER_IMAGE = 'local/sial-router:latest';

export interface LocalRouterHandlerDeps {
  readonly settings: PipelineSettings;
  readonly store: ObjectStore;
  readonly registry: LocalModelRegistry;
  readonly ledger: Pick<GpuLedger, 'markTrained'>;
  readonly goldenSetsUri: string;
  readonly clock: () => Date;
  /** The real router trainer; without it `Train router` fails (a router is never simulated). */
  readonly routerBatch?: LocalRouterBatch;
}

/** Handlers for the router's own states; `lambda` wraps a domain call like the other local Lambda tasks. */
export function routerStateHandlers(deps: LocalRouterHandlerDeps, lambda: (run: (payload: unknown) => Promise<unknown> | unknown) => LocalTaskHandler): Record<string, LocalTaskHandler> {
  const step = lambda((payload) => runRouterStep(payload, { ...deps, now: deps.clock() }));
  return {
    [TRAINING_STATES.prepareRouterJob]: step,
    [TRAINING_STATES.recordRouterCpuHours]: step,
    [TRAINING_STATES.recordRouterCpuHoursAfterFailure]: step,
    [TRAINING_STATES.trainRouter]: async (input) => {
      if (deps.routerBatch === undefined) throw new LocalTaskError('States.TaskFailed', 'a router trains only with the real router trainer locally (sial local run --target router)');
      return JSON.parse(JSON.stringify(await deps.routerBatch.submitJob(input as unknown as RouterSubmitJobInput))) as Awaited<ReturnType<LocalTaskHandler>>;
    },
  };
}

/** `Check eval gate` for a router request (the Lambda's branch). */
export function checkLocalRouterGate(request: ValidatedRequest, deps: Pick<LocalRouterHandlerDeps, 'settings' | 'store'>): ReturnType<typeof checkRouterEvalGate> {
  return checkRouterEvalGate(request, routerTargetOf(request, deps.settings), deps.store);
}
