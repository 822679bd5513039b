/**
 * The training pipeline on this machine: the synthesized state machine executed by
 * aws-local-stepfunctions, each Task state overridden by name with the same domain code its Lambda
 * runs, wired to local adapters (DuckDB over the local lake, a folder for S3, an in-memory GPU
 * ledger, a file-backed model registry, local approvals on 127.0.0.1) and the SIMULATED Batch.
 */
import type { StageConfig } from '../../config/schema';
import { buildDataset } from '../../lambdas/pipeline/dataset/build-dataset';
import { checkEligibility } from '../../lambdas/pipeline/eligibility/check-eligibility';
import { checkGpuBudget } from '../../lambdas/pipeline/budget/check-budget';
import type { InMemoryLedger } from '../../lambdas/pipeline/budget/in-memory-ledger';
import { recordGpuHours, recordGpuHoursEventSchema } from '../../lambdas/pipeline/budget/record-gpu-hours';
import { parseReleaseEvent, parseReserveEvent, releaseGpuReservation, reserveGpuBudget } from '../../lambdas/pipeline/budget/reserve-budget';
import { checkEvalGate } from '../../lambdas/pipeline/eval-gate/check-eval-gate';
import { registerModel, registerModelEventSchema } from '../../lambdas/pipeline/register-model/register-model';
import { validateRequest } from '../../lambdas/pipeline/validate-request/validate-request';
import { datasetManifestSchema, validatedRequestSchema, type PipelineInput } from '../../lambdas/pipeline/contracts';
import type { Clock, Notifier } from '../../lambdas/pipeline/ports';
import type { PipelineSettings } from '../../lambdas/pipeline/settings';
import { TRAINING_STATES } from '../../stepfunctions/training-pipeline-states';
import type { LocalLake } from '../local-lake';
import { runAsl, type AslRunResult, type LocalTaskHandler } from './asl-runner';
import { localAgentIdentities } from '../local-pseudonymisation-key';
import { DuckDbSqlEngine } from './duckdb-sql-engine';
import type { FsObjectStore } from './fs-object-store';
import { localPutEventsHandler, type LocalEvent } from './local-event-log';
import { localJobRecordsHandler } from './local-job-records';
import { settleLocalTask } from './local-task-callbacks';
import type { LocalApprovals } from './local-approval-runtime';
import type { LocalModelRegistry } from './local-model-registry';
import { SimulatedBatch, type LocalBatch, type SimulatedBatchScenario } from './simulated-batch';
import { asStateMachineDefinition, type SynthesizedPipeline } from './synthesized-pipeline';
import type { LocalRouterBatch } from '../router/local-router-batch';
import { checkLocalRouterGate, LOCAL_ROUTER_IMAGE, routerStateHandlers } from '../router/router-handlers';

/** The artifact bucket's name locally (a folder under the object store's root). */
export const LOCAL_ARTIFACT_BUCKET = 'sial-local-artifacts';
/** Where local golden sets live (the artifact bucket's golden-sets/ folder, as in AWS). */
export const LOCAL_GOLDEN_SETS_URI = `s3://${LOCAL_ARTIFACT_BUCKET}/golden-sets/`;
/** Serving image named on locally registered packages: nothing serves it locally. */
export const LOCAL_SERVING_IMAGE = 'local/simulated-serving-image:latest';

type Json = Parameters<LocalTaskHandler>[0];

export interface LocalPipelineEnvironment {
  readonly stage: StageConfig;
  readonly settings: PipelineSettings;
  readonly pipeline: SynthesizedPipeline;
  /** Open for the whole run: a lake closed under a pending query crashes DuckDB. */
  readonly lake: LocalLake;
  readonly store: FsObjectStore;
  readonly ledger: InMemoryLedger;
  readonly registry: LocalModelRegistry;
  readonly notifier: Notifier;
  readonly approvals: LocalApprovals;
  readonly clock: Clock;
  /**
   * How long a local approval wait lasts before it times out like the task does at expiry; default
   * the approval's own expiry. Tests shorten it to run the expiry path without waiting 72 hours.
   */
  readonly approvalTimeoutMs?: number;
  /** Called as each state is entered (the local run's progress lines). */
  readonly onStateEntered?: (name: string) => void;
  /** The real router trainer, for a router target (`Train router`). */
  readonly routerBatch?: LocalRouterBatch;
  /** Called with each event a workflow puts (also appended to `<lake>/state/events.jsonl`). */
  readonly onEvent?: (event: LocalEvent) => void;
}

export interface LocalPipelineRun extends AslRunResult {
  readonly batch: LocalBatch;
  /** What `Hand over to canary rollout` started: the rollout's execution name and input. */
  readonly handedOver?: { readonly name: string; readonly input: Json };
}

/** A Lambda task's payload: the input itself, or `Payload` of a `lambda:invoke` integration. */
function payloadOf(input: Json): unknown {
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && 'Payload' in input && 'FunctionName' in input) return input.Payload;
  return input;
}

const asJson = (value: unknown): Json => JSON.parse(JSON.stringify(value)) as Json;

/** Overrides for every Task state, by state name. */
function handlersFor(env: LocalPipelineEnvironment, batch: LocalBatch, onHandOver: (name: string, input: Json) => void): Record<string, LocalTaskHandler> {
  const { settings, store, ledger, registry, approvals, clock } = env;
  const wait = env.approvalTimeoutMs === undefined ? {} : { timeoutMs: env.approvalTimeoutMs };
  const sql = new DuckDbSqlEngine(env.lake, (uri) => store.pathOf(uri));
  const lambda = (run: (payload: unknown) => Promise<unknown> | unknown): LocalTaskHandler => async (input) => asJson(await run(payloadOf(input)));
  const notify: LocalTaskHandler = async (input) => {
    const { Subject, Message } = input as { Subject?: string; Message?: string };
    await env.notifier.publish('notifications', Subject ?? '(no subject)', Message ?? '');
    return { MessageId: `local-${Date.now()}` };
  };
  const putEvents = localPutEventsHandler(env.lake.root, clock, env.onEvent);
  // The job records go to <lake>/state/jobs.json, where `sial jobs --local` reads them.
  const recordJob = localJobRecordsHandler(env.lake.root);
  const submit: LocalTaskHandler = async (input) => asJson(await batch.submitJob(input as unknown as Parameters<LocalBatch['submitJob']>[0]));
  const reserve = lambda((payload) => reserveGpuBudget(parseReserveEvent(payload), { ledger, stage: settings.stage, ceilingGpuHours: settings.gpuBudget.monthlyCeilingGpuHours, now: clock() }));
  const release = lambda((payload) => releaseGpuReservation(parseReleaseEvent(payload).runId, { ledger, stage: settings.stage, now: clock() }));
  const record = lambda(async (payload) => (await recordGpuHours(recordGpuHoursEventSchema.parse(payload), { ledger, gpusPerJob: settings.training.gpusPerJob, now: clock() })).usage);
  const handlers: Record<string, LocalTaskHandler> = {
    [TRAINING_STATES.validateRequest]: lambda((payload) => validateRequest(payload, { settings, artifactBucket: LOCAL_ARTIFACT_BUCKET, now: clock() })),
    [TRAINING_STATES.buildDataset]: lambda(async (payload) =>
      buildDataset(validatedRequestSchema.parse((payload as { request: unknown }).request), {
        sql,
        store,
        settings,
        clock,
        goldenSetsUri: LOCAL_GOLDEN_SETS_URI,
        // lake.hashAgentIds: the declared agents' pseudonyms under the local lake's key name them.
        ...(settings.hashedAgents === undefined ? {} : { agents: await localAgentIdentities({ agents: settings.hashedAgents, hashAgentIds: true }, env.lake.root) }),
      }),
    ),
    [TRAINING_STATES.checkEligibility]: lambda((payload) => {
      const { request, dataset } = payload as { request: unknown; dataset: unknown };
      return checkEligibility({ request: validatedRequestSchema.parse(request), dataset: datasetManifestSchema.parse(dataset) }, { history: ledger, settings, clock });
    }),
    [TRAINING_STATES.checkGpuBudget]: lambda(() => checkGpuBudget(ledger, settings.stage, settings, clock())),
    [TRAINING_STATES.prepareFinopsApproval]: lambda((payload) => approvals.prepare(payload)),
    [TRAINING_STATES.requestFinopsApproval]: lambda(async (payload) => settleLocalTask(await approvals.requestAndWait(payload, wait))),
    [TRAINING_STATES.prepareFinopsApprovalOfReservation]: lambda((payload) => approvals.prepare(payload)),
    [TRAINING_STATES.requestFinopsApprovalOfReservation]: lambda(async (payload) => settleLocalTask(await approvals.requestAndWait(payload, wait))),
    [TRAINING_STATES.prepareTrainingApproval]: lambda((payload) => approvals.prepare(payload)),
    [TRAINING_STATES.requestTrainingApproval]: lambda(async (payload) => settleLocalTask(await approvals.requestAndWait(payload, wait))),
    [TRAINING_STATES.reserveGpuBudget]: reserve,
    [TRAINING_STATES.reserveGpuBudgetApprovedByFinops]: reserve,
    [TRAINING_STATES.releaseGpuReservation]: release,
    [TRAINING_STATES.releaseGpuReservationAfterFailure]: release,
    [TRAINING_STATES.recordTrainJobSubmitted]: recordJob,
    [TRAINING_STATES.recordTrainJobSucceeded]: recordJob,
    [TRAINING_STATES.recordTrainJobFailed]: recordJob,
    [TRAINING_STATES.recordEvalJobSubmitted]: recordJob,
    [TRAINING_STATES.recordEvalJobSucceeded]: recordJob,
    [TRAINING_STATES.recordEvalJobFailed]: recordJob,
    [TRAINING_STATES.recordRouterJobSubmitted]: recordJob,
    [TRAINING_STATES.recordRouterJobSucceeded]: recordJob,
    [TRAINING_STATES.recordRouterJobFailed]: recordJob,
    [TRAINING_STATES.train]: submit,
    [TRAINING_STATES.evaluate]: submit,
    [TRAINING_STATES.recordGpuHours]: record,
    [TRAINING_STATES.recordGpuHoursAfterFailure]: record,
    [TRAINING_STATES.recordEvalGpuHours]: record,
    [TRAINING_STATES.recordEvalGpuHoursAfterFailure]: record,
    [TRAINING_STATES.checkEvalGate]: lambda(async (payload) => {
      const request = validatedRequestSchema.parse((payload as { request: unknown }).request);
      if (request.targetKind === 'router') return checkLocalRouterGate(request, { settings, store });
      return (await checkEvalGate(request, { store, registry, settings })).result;
    }),
    [TRAINING_STATES.registerModel]: lambda((payload) => registerModel(registerModelEventSchema.parse(payload), { registry, settings, servingImageUri: LOCAL_SERVING_IMAGE, routerImageUri: LOCAL_ROUTER_IMAGE })),
    ...routerStateHandlers({ settings, store, registry, ledger, goldenSetsUri: LOCAL_GOLDEN_SETS_URI, clock, ...(env.routerBatch === undefined ? {} : { routerBatch: env.routerBatch }) }, lambda),
    // states:startExecution of the rollout: recorded; local mode runs the rollout as its own execution.
    [TRAINING_STATES.handOverToRollout]: async (input) => {
      const { Name, Input } = input as { Name?: string; Input?: Json };
      const name = Name ?? `rollout-${Date.now()}`;
      onHandOver(name, Input ?? null);
      return { ExecutionArn: `arn:aws:states:local:000000000000:execution:rollout:${name}`, StartDate: clock().toISOString() };
    },
  };
  // Every SNS publish state notifies locally (Notify not eligible, ... rejection, failure, registered).
  for (const [name, state] of Object.entries(env.pipeline.definition.States)) {
    if (state.Type === 'Task' && handlers[name] === undefined && String(state.Resource).includes(':sns:publish')) handlers[name] = notify;
    if (state.Type === 'Task' && handlers[name] === undefined && String(state.Resource).includes(':events:putEvents')) handlers[name] = putEvents;
  }
  return handlers;
}

/** Runs one execution of the training pipeline locally: on the simulated Batch, or on `batch` when given (the real trainer). */
export async function runLocalPipeline(env: LocalPipelineEnvironment, input: PipelineInput, executionName: string, scenario: SimulatedBatchScenario, realBatch?: LocalBatch): Promise<LocalPipelineRun> {
  const batch = realBatch ?? new SimulatedBatch(env.store, env.pipeline.jobDefinition, scenario, env.clock);
  let handedOver: LocalPipelineRun['handedOver'];
  const result = await runAsl(asStateMachineDefinition(env.pipeline.definition), asJson(input), {
    executionName,
    clock: env.clock,
    handlers: handlersFor(env, batch, (name, started) => (handedOver = { name, input: started })),
    ...(env.onStateEntered !== undefined ? { onStateEntered: env.onStateEntered } : {}),
  });
  return { ...result, batch, ...(handedOver !== undefined ? { handedOver } : {}) };
}
