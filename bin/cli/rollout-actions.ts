/**
 * The three `sial rollout` actions on one target model: status (what serves, who holds the model, how
 * the last rollout ended), seed (record what serves before the first rollout) and release (remove the
 * claim an execution stopped by hand left behind). They only read and write the deployment store,
 * through the rollout's own adapters; none of them moves traffic.
 */
import type { StageConfig, TargetModel } from '../../config/schema';
import { utc } from '../../lambdas/pipeline/approvals/summary-text';
import { runIdFromExecutionName } from '../../lambdas/pipeline/validate-request/run-id';
import type { RollbackRecord, RolloutPlan, ServingVersion } from '../../lambdas/rollout/contracts';
import { SEEDED_BY } from '../../lambdas/rollout/deployment-state';
import type { DeploymentState } from '../../lambdas/rollout/ports';
import { EXIT, type CliContext } from './command';
import type { ClaimingStateMachines, ExecutionState, RolloutBackend } from './rollout-backend';
import { seedVersion, type SeedVersionRequest } from './rollout-version';

/** Where the operator reads how to move traffic back by hand. */
export const MANUAL_ROLLBACK_DOC = 'README.md, "Operations", "Roll back by hand"';

/** Step Functions statuses of an execution that can still act on the model. */
const STILL_RUNNING = new Set(['RUNNING', 'PENDING_REDRIVE']);

function describeVersion(v: ServingVersion): string {
  return `version ${v.modelPackageVersion} (${v.modelPackageArn}) serving as ${v.servingName}`;
}

function describeState(state: DeploymentState): string {
  const by = state.promotedBy === SEEDED_BY ? 'seeded' : `promoted by rollout ${state.promotedBy}`;
  return `${describeVersion(state.current)}; ${by} at ${utc(state.updatedAt)}, revision ${state.revision}`;
}

function describeTarget(model: TargetModel): string {
  const t = model.rollout;
  return t.kind === 'sagemaker' ? `SageMaker endpoint ${t.endpointName}` : `HTTPRoute ${t.namespace}/${t.httpRouteName} on EKS cluster ${t.clusterName}`;
}

/** A game-day drill is a canary of the current package against itself; anything else is a rollout. */
function isDrill(claim: RolloutPlan): boolean {
  return claim.candidate.modelPackageArn === claim.current.modelPackageArn;
}

const STATE_MACHINE_ARN = /^(arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})$/;

/** True for a Standard state machine's ARN, the only kind whose execution ARN can be derived. */
export function isStateMachineArn(arn: string): boolean {
  return STATE_MACHINE_ARN.test(arn);
}

/** The execution to ask Step Functions about; `derived` says how, when the claim does not record it. */
type ClaimExecutionArn = { readonly arn: string; readonly derived?: string } | { readonly missing: string };

/**
 * The ARN of the execution that holds the claim: `--execution`, else the one the claim records. A claim
 * written before claims recorded it names only its rollout id, which is its execution's name whenever
 * that name was already safe as an id (Step Functions' default names are): for those, the ARN is
 * derived from the claiming state machine's.
 */
function claimExecutionArn(claim: RolloutPlan, machines: ClaimingStateMachines, explicit: string | undefined): ClaimExecutionArn {
  if (explicit !== undefined) return { arn: explicit };
  if (claim.executionArn !== undefined) return { arn: claim.executionArn };
  const drill = isDrill(claim);
  const machine = drill ? machines.gameDay : machines.rollout;
  const flag = drill ? '--game-day-state-machine' : '--state-machine';
  const match = machine === undefined ? null : STATE_MACHINE_ARN.exec(machine);
  if (match === null) {
    const how = `${flag} ARN (stack output ${drill ? 'GameDayStateMachineArn' : 'RolloutStateMachineArn'})`;
    return { missing: `the claim does not record its execution (it was written before claims did): execution ${claim.rolloutId} of the ${drill ? 'game-day' : 'rollout'} state machine; name that state machine with ${how} or its environment variable, or the execution with --execution ARN` };
  }
  return { arn: `${match[1]}:execution:${match[2]}:${claim.rolloutId}`, derived: `derived from ${flag} ${machine}: the claim was written before claims recorded their execution` };
}

function describeExecution(state: ExecutionState): string {
  if (!state.found) return `${state.arn}: not found`;
  return `${state.arn}: ${state.status}${state.stopDate !== undefined ? ` since ${utc(state.stopDate.toISOString())}` : ''}`;
}

/** The later of the last promotion and the last rollback: how the model's last rollout ended. */
function lastOutcome(current: DeploymentState | undefined, rollback: RollbackRecord | undefined): string | undefined {
  const promoted = current !== undefined && current.promotedBy !== SEEDED_BY ? current : undefined;
  if (promoted !== undefined && (rollback === undefined || Date.parse(promoted.updatedAt) >= Date.parse(rollback.verifiedAt))) {
    return `promoted: rollout ${promoted.promotedBy} made version ${promoted.current.modelPackageVersion} current at ${utc(promoted.updatedAt)}`;
  }
  if (rollback === undefined) return undefined;
  return `rolled back: rollout ${rollback.rolloutId} by ${rollback.by}, 100 % current verified at ${utc(rollback.verifiedAt)}: ${rollback.reason}`;
}

/** What status can say of the execution holding `claim`: its state, or why it cannot be read (never a failure of status). */
async function claimExecution(claim: RolloutPlan, backend: RolloutBackend, explicit: string | undefined): Promise<(ExecutionState | { readonly unknown: string }) & { readonly note?: string }> {
  if (backend.executions === undefined) return { unknown: `${claim.executionArn ?? claim.rolloutId} on the local engine, which keeps no execution state: it has ended unless npm run local is still running on this directory` };
  const resolved = claimExecutionArn(claim, backend.stateMachines, explicit);
  if ('missing' in resolved) return { unknown: resolved.missing };
  const state = await backend.executions.describe(resolved.arn).catch((error: unknown) => ({ unknown: `${resolved.arn}: cannot be read (${(error as Error).message})` }));
  return resolved.derived === undefined ? state : { ...state, note: resolved.derived };
}

export interface ActionOptions {
  readonly stage: StageConfig;
  readonly model: TargetModel;
  readonly backend: RolloutBackend;
  readonly context: CliContext;
}

/** `status`: the current version, the claim (and its execution's status when it can be read), the last outcome. */
export async function rolloutStatus({ stage, model, backend, context }: ActionOptions, options: { readonly json: boolean; readonly execution?: string }): Promise<number> {
  const { store } = backend;
  const [current, claim, rollback] = await Promise.all([store.getCurrent(model.id), store.getActiveRollout(model.id), store.latestRollback(model.id)]);
  const execution = claim === undefined ? undefined : await claimExecution(claim, backend, options.execution);
  const outcome = lastOutcome(current, rollback);
  if (options.json) {
    const active = claim === undefined ? null : { rolloutId: claim.rolloutId, executionArn: claim.executionArn ?? null, since: claim.startedAt, requestedBy: claim.requestedBy, candidate: claim.candidate, execution: execution ?? null };
    const view = { stage: stage.stage, targetModelId: model.id, target: model.rollout.kind, current: current ?? null, activeRollout: active, lastRollback: rollback ?? null, lastOutcome: outcome ?? null };
    context.io.out(JSON.stringify(view, null, 2));
    return EXIT.ok;
  }
  const out = context.io.out;
  out(`${model.id} (stage ${stage.stage}, ${describeTarget(model)}), ${backend.where}`);
  out(`  current:        ${current === undefined ? `none recorded; record the version that serves before the first rollout: sial rollout seed --model ${model.id} ...` : describeState(current)}`);
  if (current !== undefined) out(`  deployable:     ${current.deployable.map((v) => `version ${v.modelPackageVersion}`).join(', ')}`);
  if (claim === undefined) out('  active rollout: none');
  else {
    out(`  active rollout: ${claim.rolloutId}${isDrill(claim) ? ' (game-day drill)' : ''} since ${utc(claim.startedAt)}, requested by ${claim.requestedBy}; candidate ${describeVersion(claim.candidate)}`);
    if (execution !== undefined) out(`  execution:      ${'unknown' in execution ? execution.unknown : describeExecution(execution)}${execution.note === undefined ? '' : ` (${execution.note})`}`);
  }
  out(`  last outcome:   ${outcome ?? 'none recorded'}`);
  return EXIT.ok;
}

/** `seed`: records the version that serves, once; `--force` replaces a recorded one while no rollout holds the model. */
export async function rolloutSeed({ stage, model, backend, context }: ActionOptions, request: SeedVersionRequest, force: boolean): Promise<number> {
  const { store } = backend;
  const { out, err } = context.io;
  const existing = await store.getCurrent(model.id);
  if (existing !== undefined && !force) {
    err(`${model.id} already has a current version: ${describeState(existing)}.`);
    err('A seed records only the first one; later versions come by promotion. If the recorded one is wrong, replace it with --force.');
    return EXIT.failed;
  }
  if (existing !== undefined) {
    const claim = await store.getActiveRollout(model.id);
    if (claim !== undefined) {
      err(`Rollout ${claim.rolloutId} holds ${model.id} (since ${utc(claim.startedAt)}) and started from the recorded version; not replacing it under a rollout. Let it end, or release a stale claim first (sial rollout release).`);
      return EXIT.failed;
    }
  }
  const version = await seedVersion(stage, model, request, backend.registry, backend.region);
  if (existing !== undefined && JSON.stringify(existing.current) === JSON.stringify(version) && existing.deployable.length === 1) {
    out(`${model.id} already has ${describeVersion(version)} recorded; nothing to change.`);
    return EXIT.ok;
  }
  const at = context.clock();
  const written = existing === undefined ? await store.seedCurrent(model.id, version, at) : await store.reseedCurrent(model.id, version, at, existing.revision);
  out(`Recorded ${describeVersion(written.current)} as the current version of ${model.id} (revision ${written.revision}, ${backend.where}).`);
  if (existing !== undefined) out(`It replaces ${describeState(existing)}.`);
  out(`The next rollout of ${model.id} starts from it; traffic on the ${describeTarget(model)} was not touched.`);
  return EXIT.ok;
}

/** Why an execution's state allows no release, or undefined when it allows one. */
function refusal(claim: RolloutPlan, state: ExecutionState, force: boolean, derived: boolean): string | undefined {
  if (!state.found) {
    // A derived ARN may name the wrong state machine; a recorded one names the execution that claimed.
    const otherMachine = derived ? '; or the claim came from another state machine: name it with --execution ARN' : '';
    return force ? undefined : `there is no execution ${state.arn} (Step Functions keeps a finished execution 90 days${otherMachine}). If you are sure nothing runs for rollout ${claim.rolloutId}, release with --force.`;
  }
  const runId = runIdFromExecutionName(state.name);
  if (runId !== claim.rolloutId) return `execution ${state.arn} is rollout ${runId}, not ${claim.rolloutId}, which holds the claim; nothing was released.`;
  if (STILL_RUNNING.has(state.status)) {
    return `execution ${state.arn} is ${state.status}: it still holds ${claim.targetModelId}, and --force does not change that. Stop it first (aws stepfunctions stop-execution --execution-arn ${state.arn}) if it must end; a stopped execution does not roll back, so check the weights afterwards.`;
  }
  return undefined;
}

/**
 * `release`: removes the claim of a rollout whose execution no longer runs, with a delete conditional on
 * the same rollout still holding it. Never touches traffic.
 */
export async function rolloutRelease({ model, backend, context }: ActionOptions, options: { readonly force: boolean; readonly execution?: string }): Promise<number> {
  const { store } = backend;
  const { out, err } = context.io;
  const claim = await store.getActiveRollout(model.id);
  if (claim === undefined) {
    out(`${model.id} has no active rollout claim; nothing to release (${backend.where}).`);
    return EXIT.ok;
  }
  let how: string;
  let note: string | undefined;
  let redrivableArn: string | undefined;
  if (backend.executions === undefined) {
    if (!options.force) {
      err(`Rollout ${claim.rolloutId} holds ${model.id} since ${utc(claim.startedAt)}. Local mode cannot tell whether it still runs: the local engine runs inside npm run local and keeps no execution state.`);
      err('If no npm run local is running on this directory, the execution has ended: release with --force.');
      return EXIT.failed;
    }
    how = 'local engine; released with --force';
  } else {
    const resolved = claimExecutionArn(claim, backend.stateMachines, options.execution);
    if ('missing' in resolved) {
      err(`Rollout ${claim.rolloutId} holds ${model.id}; to release it the CLI must see that its execution no longer runs: ${resolved.missing}.`);
      return EXIT.failed;
    }
    note = resolved.derived;
    const state = await backend.executions.describe(resolved.arn);
    const refused = refusal(claim, state, options.force, note !== undefined);
    if (refused !== undefined) {
      err(`Not released: ${refused}`);
      if (note !== undefined) err(`The execution's ARN was ${note}.`);
      return EXIT.failed;
    }
    how = state.found ? describeExecution(state) : `${state.arn}: not found; released with --force`;
    if (state.found && state.redrivable === true) redrivableArn = state.arn;
  }
  const [rollback, current] = await Promise.all([store.getRollback(claim.rolloutId), store.getCurrent(model.id)]);
  if (!(await store.clearActiveRollout(model.id, claim.rolloutId))) {
    const now = await store.getActiveRollout(model.id);
    err(`Not released: the claim changed while it was checked (${now === undefined ? 'it is gone: someone released it' : `rollout ${now.rolloutId} holds ${model.id} now, since ${utc(now.startedAt)}`}). Run sial rollout status --model ${model.id} and decide again.`);
    return EXIT.failed;
  }
  out(`Released ${model.id} from rollout ${claim.rolloutId} (execution ${how}).`);
  out(`Traffic weights are unchanged: release only removes the claim, it moves no traffic on the ${describeTarget(model)}.`);
  if (current?.promotedBy === claim.rolloutId) out(`The rollout had promoted its candidate: ${describeVersion(current.current)} is current.`);
  else if (rollback !== undefined) out(`Its rollback was recorded: 100 % current verified at ${utc(rollback.verifiedAt)} by ${rollback.by} (${rollback.reason}).`);
  else out(`No rollback was recorded for it: the candidate, ${describeVersion(claim.candidate)}, may still get traffic. Check the weights; to move everything back to ${claim.current.servingName} by hand, see ${MANUAL_ROLLBACK_DOC}.`);
  if (redrivableArn !== undefined) {
    // A redriven execution would move traffic again with no claim, so the alarm Lambda would not know it.
    out(`Do not redrive ${redrivableArn}: Step Functions still allows it, and a redriven rollout would move traffic without a claim, unseen by the alarm rollback. Start a new rollout instead.`);
  }
  if (note !== undefined) out(`The execution's ARN was ${note}.`);
  return EXIT.ok;
}
