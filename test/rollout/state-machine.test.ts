/**
 * The canary rollout EXECUTED: the ASL rendered from the synthesized template runs in
 * aws-local-stepfunctions on a virtual clock, every Task overridden by name with the domain code its
 * Lambda runs, against a simulated SageMaker endpoint and a simulated HTTPRoute. Whatever happens,
 * the run must end with 100 % of the traffic on the previous version unless the candidate is promoted.
 */
import { registryKeyOf } from '../../config/schema';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStageConfig } from '../../config';
import type { EksTarget, HttpRoute } from '../../lambdas/rollout/eks/http-route';
import type { TargetModel } from '../../config/schema';
import { canaryAlarmName, modelPackageGroupName, pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import type { ApprovalKind } from '../../lambdas/pipeline/contracts';
import { EXECUTION_ARN, type RolloutInput, type RolloutPlan, type ServingVersion, type TrafficWeights } from '../../lambdas/rollout/contracts';
import { variantNameFor } from '../../lambdas/rollout/sagemaker/variants';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, JUDGMENTS_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import { LocalTaskError } from '../../local/pipeline/asl-runner';
import { ConsoleNotifier } from '../../local/pipeline/console-notifier';
import { startLocalApprovals, type LocalApprovals } from '../../local/pipeline/local-approval-runtime';
import { LocalModelRegistry } from '../../local/pipeline/local-model-registry';
import { startScriptedApprover, type ScriptedDecision } from '../../local/pipeline/scripted-approver';
import { synthesizePipeline } from '../../local/pipeline/synthesized-pipeline';
import { LocalAlarmReader } from '../../local/rollout/local-alarm-reader';
import { LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { runLocalRollout, VirtualClock, type LocalRolloutEnvironment, type LocalRolloutHooks } from '../../local/rollout/local-rollout';
import { SimulatedHttpRoute, initialRoute } from '../../local/rollout/simulated-http-route';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { GAME_DAY_STATES as G, ROLLOUT_STATES as R } from '../../stepfunctions/canary-rollout-states';
import { runLocalGameDay } from '../../local/rollout/local-game-day';
import { PIPELINE_EVENT_TYPES } from '../../stepfunctions/pipeline-events';
import { readLocalEvents, validateEventDetail } from '../helpers/event-schemas';

const stage = loadStageConfig('dev');
const settings = pipelineSettingsFromStage(stage, { databaseName: 'sial_dev', tracesTable: TRACES_TABLE.name, auditTable: GATE_AUDIT_TABLE.name, feedbackTable: FEEDBACK_TABLE.name, judgmentsTable: JUDGMENTS_TABLE.name });
const pipeline = synthesizePipeline(stage);
const SAGEMAKER = stage.targetModels.find((m) => m.rollout.kind === 'sagemaker')!;
const EKS = stage.targetModels.find((m) => m.rollout.kind === 'eks')!;

let root: string;
let counter = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sial-rollout-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Harness {
  readonly env: LocalRolloutEnvironment;
  /** The sial.model.updated details the rollout put (the local event log), each checked against the schema. */
  modelEvents(): Array<Record<string, unknown>>;
  readonly input: RolloutInput;
  readonly current: ServingVersion;
  readonly approvals: LocalApprovals;
  readonly notifier: ConsoleNotifier;
  /** The traffic split as the simulated endpoint or route serves it now. */
  weights(): Promise<TrafficWeights>;
  close(): Promise<void>;
}

/** A model already serving v1 (approved), and v2 registered as the candidate. */
async function harness(model: TargetModel, options: { approvalTimeoutMs?: number; route?: (target: EksTarget) => HttpRoute } = {}): Promise<Harness> {
  const dir = join(root, `run-${++counter}`);
  const clock = new VirtualClock(new Date('2026-11-21T10:00:00.000Z'));
  const registry = new LocalModelRegistry(join(dir, 'registry.json'), clock.now);
  const group = modelPackageGroupName(stage.stage, registryKeyOf(model));
  const register = async (version: number) => {
    const pkg = await registry.createPackage({
      groupName: group,
      description: `v${version}`,
      servingImageUri: stage.training.servingImageUri,
      modelDataUrl: `s3://artifacts/runs/r${version}/model.tar.gz`,
      metricsUri: `s3://artifacts/runs/r${version}/metrics.json`,
      metadata: { targetModelId: model.id },
      idempotencyToken: `${model.id}-${version}`,
    });
    return pkg;
  };
  const v1 = await register(1);
  await registry.setApprovalStatus(v1.arn, 'Approved', 'test');
  const v2 = await register(2);

  const rollout = model.rollout;
  const currentName = rollout.kind === 'sagemaker' ? variantNameFor(model.id, 1) : (rollout as EksTarget).currentBackend;
  const current: ServingVersion = { modelPackageArn: v1.arn, modelPackageVersion: 1, servingName: currentName };
  const store = new LocalDeploymentStore();
  await store.seedCurrent(model.id, current, clock.now());

  const endpoints = new Map<string, SimulatedSageMakerEndpoint>();
  const routes = new Map<string, SimulatedHttpRoute>();
  if (rollout.kind === 'sagemaker') endpoints.set(rollout.endpointName, new SimulatedSageMakerEndpoint({ endpointName: rollout.endpointName, variants: [{ name: currentName, weight: 1 }], clock: clock.now }));
  else routes.set(rollout.httpRouteName, new SimulatedHttpRoute({ target: rollout, clock: clock.now, ...(options.route !== undefined ? { route: options.route(rollout) } : {}) }));

  const alarms = new LocalAlarmReader(clock.now);
  alarms.set(canaryAlarmName(stage.stage, model.id), 'OK', 'healthy', clock.now());
  const notifier = new ConsoleNotifier({ print: () => undefined, clock: clock.now });
  const approvals = await startLocalApprovals({ dir: join(dir, 'approvals'), expiryHours: stage.approvals.expiryHours, notifier, clock: clock.now });
  const env: LocalRolloutEnvironment = {
    stage,
    settings,
    pipeline,
    clock,
    store,
    registry,
    alarms,
    approvals,
    notifier,
    endpoints,
    routes,
    lakeDir: dir,
    ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
  };
  const plan = { current, candidate: { modelPackageArn: v2.arn, modelPackageVersion: 2, servingName: 'unused' } };
  return {
    env,
    input: { targetModelId: model.id, modelPackageArn: v2.arn, modelPackageVersion: 2, requestedBy: 'test@example.com' },
    current,
    approvals,
    notifier,
    modelEvents: () => {
      const events = readLocalEvents(dir);
      for (const e of events) {
        expect({ source: e.source, type: e['detail-type'], errors: validateEventDetail(e['detail-type'], e.detail) }).toEqual({ source: 'sial.dev', type: PIPELINE_EVENT_TYPES.modelUpdated, errors: [] });
      }
      return events.map((e) => e.detail as Record<string, unknown>);
    },
    weights: async () => {
      // Read the split by the serving names: whatever serves besides `current` is the candidate.
      if (rollout.kind === 'sagemaker') {
        const described = endpoints.get(rollout.endpointName)!.describeEndpoint({ EndpointName: rollout.endpointName });
        const total = described.ProductionVariants.reduce((sum, v) => sum + v.CurrentWeight, 0);
        const currentShare = described.ProductionVariants.filter((v) => v.VariantName === plan.current.servingName).reduce((sum, v) => sum + v.CurrentWeight, 0);
        const currentPercent = Math.round((currentShare / total) * 100);
        return { currentPercent, candidatePercent: 100 - currentPercent };
      }
      const route = routes.get(rollout.httpRouteName)!.current();
      // Only the rollout's two backends: a rule that routes elsewhere is not part of the split.
      const refs = (route.spec.rules ?? []).flatMap((r) => r.backendRefs ?? []).filter((b) => b.name === rollout.currentBackend || b.name === rollout.candidateBackend);
      const total = refs.reduce((sum, b) => sum + (b.weight ?? 1), 0);
      const currentShare = refs.filter((b) => b.name === plan.current.servingName).reduce((sum, b) => sum + (b.weight ?? 1), 0);
      const currentPercent = Math.round((currentShare / total) * 100);
      return { currentPercent, candidatePercent: 100 - currentPercent };
    },
    close: () => approvals.close(),
  };
}

async function run(h: Harness, script: Partial<Record<ApprovalKind, ScriptedDecision>>, hooks: LocalRolloutHooks = {}) {
  const approver = startScriptedApprover(h.approvals, script, { clock: h.env.clock.now, pollMs: 5 });
  try {
    return await runLocalRollout(h.env, h.input, `rollout-${counter}`, hooks);
  } finally {
    await approver.stop();
  }
}

it('EKS: a full rollout keeps the route\'s filters and its other rules (the planned merge patch carries every rule)', async () => {
  // The default route plus a filter on the weighed rule and a second rule that routes elsewhere.
  const withMore = (target: EksTarget): HttpRoute => {
    const route = initialRoute(target);
    const [weighed] = route.spec.rules ?? [];
    const filter = { type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x-canary', value: 'sial' }] } };
    const other = { matches: [{ path: { type: 'PathPrefix', value: '/docs' } }], backendRefs: [{ name: 'docs-site', port: 80 }] };
    return { ...route, spec: { ...route.spec, rules: [{ ...weighed, filters: [filter] }, other] } } as HttpRoute;
  };
  const h = await harness(EKS, { route: withMore });
  try {
    const result = await run(h, { 'deploy-stage': 'approve' });
    expect([result.status, result.visited.at(-1)]).toEqual(['SUCCEEDED', R.promoted]);
    expect(result.visited).toContain(R.planRoutePatch);
    expect(await h.weights()).toEqual({ currentPercent: 0, candidatePercent: 100 });
    const target = EKS.rollout as EksTarget;
    const rules = h.env.routes.get(target.httpRouteName)!.current().spec.rules ?? [];
    expect(rules).toHaveLength(2);
    expect(rules[0]).toMatchObject({ matches: [{ path: { type: 'PathPrefix', value: '/v1' } }], filters: [{ type: 'RequestHeaderModifier' }] });
    expect(rules[1]).toEqual({ matches: [{ path: { type: 'PathPrefix', value: '/docs' } }], backendRefs: [{ name: 'docs-site', port: 80 }] });
  } finally {
    await h.close();
  }
});

describe.each([
  ['SageMaker', SAGEMAKER],
  ['EKS', EKS],
])('canary rollout on %s, executed on the synthesized definition', (_label, model) => {
  it('approved and healthy at every step: 10 % -> 50 % -> 100 %, then promoted', async () => {
    const h = await harness(model);
    try {
      const result = await run(h, { 'deploy-stage': 'approve' });
      expect([result.status, result.error, result.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
      expect(result.visited.at(-1)).toBe(R.promoted);
      expect(result.visited.filter((s) => s === R.requestStepApproval)).toHaveLength(stage.canary.stepsPercent.length);
      expect(await h.weights()).toEqual({ currentPercent: 0, candidatePercent: 100 });
      const deployed = await h.env.store.getCurrent(model.id);
      expect(deployed?.current.modelPackageVersion).toBe(2);
      expect(deployed?.deployable.map((v) => v.modelPackageVersion)).toContain(1);
      // Exactly one event: the promotion, ids only, naming the version it replaced.
      expect(h.modelEvents()).toEqual([
        {
          action: 'promoted',
          targetModelId: model.id,
          modelPackageArn: h.input.modelPackageArn,
          modelPackageVersion: 2,
          executionName: `rollout-${counter}`,
          rolloutId: `rollout-${counter}`,
          servingModelPackageArn: h.input.modelPackageArn,
          servingModelPackageVersion: 2,
          previousModelPackageArn: h.current.modelPackageArn,
          previousModelPackageVersion: 1,
        },
      ]);
    } finally {
      await h.close();
    }
  });

  it.each([
    [0, 10],
    [1, 50],
  ])('the canary alarm at step %i (%i %%) rolls back to 100 %% current, verified', async (stepIndex) => {
    const h = await harness(model);
    try {
      let claim: RolloutPlan | undefined;
      const result = await run(h, { 'deploy-stage': 'approve' }, {
        beforeCheckCanary: async (step, controls) => {
          claim ??= await h.env.store.getActiveRollout(model.id);
          if (step.index === stepIndex) await controls.breach(model.id, 'faithfulness of the candidate 8 points below current (simulated)');
        },
      });
      // The claim names the local engine's execution ($$.Execution.Id), as Step Functions' would.
      expect(claim?.executionArn).toMatch(EXECUTION_ARN);
      expect(claim?.executionArn).toMatch(new RegExp(`:execution:[^:]+:rollout-${counter}$`));
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('RolledBack');
      expect(result.cause).toMatch(/faithfulness|alarm/i);
      expect(result.visited.slice(-2)).toEqual([R.notifyRolledBack, R.rolledBack]);
      expect(result.visited).not.toContain(R.promote);
      expect(await h.weights()).toEqual({ currentPercent: 100, candidatePercent: 0 });
      const record = (await h.env.store.getRollback(`rollout-${counter}`))!;
      expect(record.by).toBe('alarm-lambda');
      expect(record.breachAt).not.toBeNull();
      // One rolled-back event with the alarm as its reason (its name, not its words), and no promotion.
      expect(h.modelEvents()).toEqual([
        {
          action: 'rolled-back',
          targetModelId: model.id,
          modelPackageArn: h.input.modelPackageArn,
          modelPackageVersion: 2,
          executionName: `rollout-${counter}`,
          rolloutId: `rollout-${counter}`,
          servingModelPackageArn: h.current.modelPackageArn,
          servingModelPackageVersion: 1,
          rolledBackBy: 'alarm-lambda',
          reason: canaryAlarmName(stage.stage, model.id),
        },
      ]);
    } finally {
      await h.close();
    }
  });

  it('a rejected step approval puts traffic back on the current version and ends as rejected', async () => {
    const h = await harness(model);
    let approvalsSeen = 0;
    try {
      // Approve the first step (10 %), reject the second (50 %).
      const decider = setInterval(async () => {
        for (const record of await h.approvals.store.listPending({ now: h.env.clock.now() })) {
          if (record.taskToken === undefined) continue;
          approvalsSeen += 1;
          const { decideApproval } = await import('../../lambdas/pipeline/approvals/decide');
          await decideApproval(
            { approvalId: record.approvalId, decision: approvalsSeen === 1 ? 'approved' : 'rejected', approver: 'test', comment: 'not yet', via: 'cli' },
            { store: h.approvals.store, callbacks: h.approvals.callbacks, clock: h.env.clock.now },
          );
        }
      }, 5);
      const result = await runLocalRollout(h.env, h.input, `rollout-${counter}`);
      clearInterval(decider);
      expect(result.status).toBe('SUCCEEDED');
      expect(result.visited.slice(-2)).toEqual([R.notifyRejected, R.rejected]);
      // Roll back keeps the caught error: the local run tells a rejection from an expiry by it.
      expect(result.outputs.get(R.rollBack)).toMatchObject({ error: { Error: 'ApprovalRejected' } });
      expect(await h.weights()).toEqual({ currentPercent: 100, candidatePercent: 0 });
      // A person stopped it: the reason is `operator`, the state machine restored the previous version.
      expect(h.modelEvents()).toEqual([expect.objectContaining({ action: 'rolled-back', reason: 'operator', rolledBackBy: 'state-machine', servingModelPackageVersion: 1 })]);
    } finally {
      await h.close();
    }
  });

  it('weights that silently do not take fail verification and roll back', async () => {
    const h = await harness(model);
    try {
      const endpoint = h.env.endpoints.values().next().value;
      const route = h.env.routes.values().next().value;
      if (endpoint !== undefined) endpoint.silentlyIgnoreWeightUpdates = true;
      if (route !== undefined) route.silentlyIgnorePatches = true;
      const result = await run(h, { 'deploy-stage': 'approve' });
      expect(result.status).toBe('FAILED');
      expect(result.visited).toContain(R.rollBack);
      expect(result.cause ?? '').toMatch(/WeightsNotApplied|not applied|expected/i);
      if (endpoint !== undefined) endpoint.silentlyIgnoreWeightUpdates = false;
      if (route !== undefined) route.silentlyIgnorePatches = false;
      expect(await h.weights()).toEqual({ currentPercent: 100, candidatePercent: 0 });
    } finally {
      await h.close();
    }
  });

  it('an event that cannot be put after the promotion neither fails nor undoes it', async () => {
    const h = await harness(model);
    try {
      const result = await run(h, { 'deploy-stage': 'approve' }, {
        overrides: {
          [R.emitModelPromoted]: async () => {
            throw new LocalTaskError('EventBridge.AccessDeniedException', 'not authorized to perform events:PutEvents');
          },
        },
      });
      expect([result.status, result.visited.slice(-3)]).toEqual(['SUCCEEDED', [R.emitModelPromoted, R.notifyPromoted, R.promoted]]);
      // The error is kept where the training pipeline keeps a lost event's, for the execution history.
      expect(result.outputs.get(R.emitModelPromoted)).toMatchObject({ eventError: { Error: 'EventBridge.AccessDeniedException' } });
      expect(result.visited).not.toContain(R.rollBack);
      expect(await h.weights()).toEqual({ currentPercent: 0, candidatePercent: 100 });
      expect((await h.env.store.getCurrent(model.id))?.current.modelPackageVersion).toBe(2);
      expect(h.modelEvents()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('an event that cannot be put after a rollback still ends the rollout as rolled back', async () => {
    const h = await harness(model);
    try {
      const result = await run(h, { 'deploy-stage': 'approve' }, {
        beforeCheckCanary: async (step, controls) => {
          if (step.index === 0) await controls.breach(model.id, 'faithfulness of the candidate 8 points below current (simulated)');
        },
        overrides: {
          [R.emitModelRolledBack]: async () => {
            throw new LocalTaskError('EventBridge.InternalException', 'internal error');
          },
        },
      });
      expect([result.status, result.error]).toEqual(['FAILED', 'RolledBack']);
      expect(result.visited.slice(-5)).toEqual([R.reasonAlarm, R.emitModelRolledBack, R.nextStep, R.notifyRolledBack, R.rolledBack]);
      expect(await h.weights()).toEqual({ currentPercent: 100, candidatePercent: 0 });
      expect(h.modelEvents()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  // Every Task on this target's path except Roll back itself (whose failure cannot promise the outcome),
  // the notifications (they run after traffic is settled) and the events (put after the change they report).
  const otherTargetStates: readonly string[] =
    model.rollout.kind === 'sagemaker' ? [R.describeCluster, R.readRoute, R.planRoutePatch, R.patchRouteWeights, R.verifyRouteWeights] : [R.deployCandidateVariant, R.checkEndpointStatus, R.setSageMakerWeights, R.verifySageMakerWeights];
  const taskStates = Object.entries(pipeline.rollout.States)
    .filter(([name, state]) => state.Type === 'Task' && name !== R.rollBack && !/:sns:publish|:events:putEvents/.test(String(state.Resource)) && !otherTargetStates.includes(name))
    .map(([name]) => name);

  it('injects failures into every Task state on the path (the list is not empty or stale)', () => {
    expect(taskStates.length).toBeGreaterThanOrEqual(10);
    expect(taskStates).toEqual(expect.arrayContaining([R.validateRollout, R.prepareStepApproval, R.requestStepApproval, R.checkCanary, R.advanceStep, R.promote]));
    if (model.rollout.kind === 'eks') expect(taskStates).toContain(R.describeCluster);
  });

  it.each(taskStates)('a failure injected at "%s" ends with 100 %% of the traffic on the previous version', async (failing) => {
    const h = await harness(model);
    try {
      const result = await run(h, { 'deploy-stage': 'approve' }, {
        overrides: {
          [failing]: async () => {
            throw new LocalTaskError('Injected.Failure', `failure injected at ${failing}`);
          },
        },
      });
      expect(result.visited).toContain(failing);
      expect(result.visited).not.toContain(R.promoted);
      expect(result.status).toBe('FAILED');
      expect(await h.weights()).toEqual({ currentPercent: 100, candidatePercent: 0 });
      expect((await h.env.store.getCurrent(model.id))?.current.modelPackageVersion).toBe(1);
      // Validate rollout refuses before anything moves: no event. Otherwise the restored version is reported.
      const expected = failing === R.validateRollout ? [] : [expect.objectContaining({ action: 'rolled-back', reason: 'failure', servingModelPackageVersion: 1 })];
      expect(h.modelEvents()).toEqual(expected);
    } finally {
      await h.close();
    }
  });
});

describe.each([
  ['SageMaker', SAGEMAKER],
  ['EKS', EKS],
])('game-day drill on %s, executed on the synthesized definition', (_label, model) => {
  it('breaches the canary alarm, is rolled back by the alarm path, and measures it within the bound', async () => {
    const h = await harness(model);
    try {
      const result = await runLocalGameDay(h.env, model.id, `drill-${counter}`);
      expect([result.status, result.error]).toEqual(['SUCCEEDED', undefined]);
      expect(result.visited).toEqual(expect.arrayContaining([G.startDrill, G.setSelfCanary, G.breachAlarm, G.checkRollback, G.recordDrill, G.drillPassed]));
      const drill = (result.output as { drill?: { rollbackSeconds: number; by: string } }).drill ?? (result.output as { rollbackSeconds: number; by: string });
      expect(drill.by).toBe('alarm-lambda');
      expect(drill.rollbackSeconds).toBeGreaterThan(0);
      expect(drill.rollbackSeconds).toBeLessThanOrEqual(stage.canary.gameDay.maxRollbackSeconds);
      expect(await h.weights()).toEqual({ currentPercent: 100, candidatePercent: 0 });
      // The drill released the model: a real rollout may start.
      expect(await h.env.store.getActiveRollout(model.id)).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  it('fails the drill when the rollback takes longer than the bound', async () => {
    const h = await harness(model);
    try {
      const strict = { ...stage, canary: { ...stage.canary, gameDay: { ...stage.canary.gameDay, maxRollbackSeconds: 1, targetRollbackSeconds: 1 } } };
      const result = await runLocalGameDay({ ...h.env, stage: strict }, model.id, `drill-${counter}`);
      expect(result.status).toBe('FAILED');
      expect(result.visited.at(-1)).toBe(G.drillFailed);
      expect(await h.weights()).toEqual({ currentPercent: 100, candidatePercent: 0 });
    } finally {
      await h.close();
    }
  });
});
