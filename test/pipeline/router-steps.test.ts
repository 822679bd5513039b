/**
 * The router's pipeline steps on their own: the job the state machine submits, its CPU-hour record, the
 * eval gate reading the router job's metrics.json, and registration in the router's group with the last
 * 10 approved versions protected (beside the LLM rule of 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dev } from '../../config/stages/dev';
import { isRouterTarget, type RouterTargetModel } from '../../config/schema';
import type { ApprovalDecision, DatasetManifest } from '../../lambdas/pipeline/contracts';
import type { RegisteredModelPackage } from '../../lambdas/pipeline/register-model/model-registry';
import { registerModel, type RegisterModelEvent } from '../../lambdas/pipeline/register-model/register-model';
import { checkRouterEvalGate, RouterEvalGateFailed, routerGateFailures, type RouterEvalGateResult } from '../../lambdas/pipeline/router/router-eval-gate';
import { prepareRouterJob, recordRouterCpuHours, routerTrainerConfig, type RouterJob } from '../../lambdas/pipeline/router/router-job';
import { routerMetricsSchema, type RouterMetrics } from '../../lambdas/pipeline/router/router-metrics';
import { pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import { validateRequest } from '../../lambdas/pipeline/validate-request/validate-request';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';
import { PIPELINE_ERRORS } from '../../stepfunctions/training-pipeline-states';
import { buildFields, QUIET_COUNTS } from '../helpers/manifest-fields';

const settings = pipelineSettingsFromStage(dev, { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' });
const router = dev.targetModels.find(isRouterTarget) as RouterTargetModel;
const GROUP = 'sial-dev-support-router';
const arnOf = (version: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/${GROUP}/${version}`;
const request = validateRequest({ input: { targetModelId: 'support-router', requestedBy: 'scheduler:weekly' }, executionName: 'run-r1' }, { settings, artifactBucket: 'sial-dev-artifacts', now: new Date('2026-05-04T00:00:00Z') });

const dataset: DatasetManifest = {
  datasetId: 'ds-run-r1',
  boundary: 'US',
  targetModelId: 'support-router',
  rewardPolicyVersion: 'v1',
  createdAt: '2026-05-04T02:00:00.000Z',
  window: { from: '2026-04-04T00:00:00.000Z', to: '2026-05-04T00:00:00.000Z' },
  manifestUri: `${request.uris.datasetPrefix}manifest.json`,
  grpoUri: `${request.uris.datasetPrefix}grpo/`,
  dpoUri: `${request.uris.datasetPrefix}dpo/`,
  traceIdsUri: `${request.uris.datasetPrefix}trace-ids/`,
  routerUri: `${request.uris.datasetPrefix}router/`,
  contentSha256: 'a'.repeat(64),
  ...buildFields(request.uris.datasetPrefix),
  files: { grpo: [], dpo: [], traceIds: [`${request.uris.datasetPrefix}trace-ids/part-00000.txt`], router: [`${request.uris.datasetPrefix}router/part-00000.txt`] },
  counts: { ...QUIET_COUNTS, tracesUsed: 0, grpoGroups: 0, grpoCompletions: 0, dpoPairs: 0, discardedByGate: {}, routerRows: 900 },
  eligibility: { positiveFeedback: 140, positiveFeedbackWindowDays: 30, highQualityTraces: 75, highQualityReward: 0.8, agents: [] },
};

function pkg(version: number, approvalStatus: RegisteredModelPackage['approvalStatus'], targetModelId = 'support-router'): RegisteredModelPackage {
  return { arn: arnOf(version), groupName: GROUP, version, approvalStatus, createdAt: new Date(Date.UTC(2026, 0, version)), modelDataUrl: `s3://sial-dev-artifacts/runs/run-${version}/output/model.tar.gz`, metadata: { targetModelId } };
}

const figures = (misrouteRate: number, routingQuality: number) => ({ examples: 200, accuracy: 1 - misrouteRate, misrouteRate, routingQuality, costPer1kRequestsUsd: 1.2, underRouteRate: 0, overRouteRate: misrouteRate, topTierShare: 0.1, tierShares: {} });
function metrics(over: Partial<RouterMetrics> = {}): RouterMetrics {
  return routerMetricsSchema.parse({
    format: 'sial-router-metrics/1',
    kind: 'train',
    trainedAt: '2026-05-04T09:00:00Z',
    baselineTier: 'medium',
    holdout: { candidate: figures(0.12, 0.93), baseline: { ...figures(0.5, 0.6), tier: 'medium' }, current: figures(0.2, 0.9), oracleCostPer1kRequestsUsd: 1 },
    golden: null,
    gate: { passed: true, reasons: [] },
    resources: { cpuSeconds: 30, wallSeconds: 20, cpuHours: 30 / 3600 },
    ...over,
  });
}

describe('Prepare router job', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sial-router-job-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('trains on the router file into the run output, against the newest approved version, with the stage config and size', async () => {
    const store = new FsObjectStore(dir);
    const registry = { listPackages: async () => [pkg(3, 'Approved'), pkg(5, 'Approved'), pkg(6, 'PendingManualApproval'), pkg(7, 'Approved', 'other-router')] };
    const job = await prepareRouterJob(request, dataset, router, { registry, store, groupName: GROUP, goldenSetsUri: 's3://sial-dev-artifacts/golden-sets/' });
    expect(job.command).toEqual(['train', '--dataset', `${request.uris.datasetPrefix}router/part-00000.txt`, '--out', request.uris.output, '--current', 's3://sial-dev-artifacts/runs/run-5/output/model.tar.gz']);
    expect(JSON.parse(job.config)).toEqual({ tiers: [{ name: 'small', cost_per_1k_requests_usd: 0.4 }, { name: 'medium', cost_per_1k_requests_usd: 1.5 }, { name: 'large', cost_per_1k_requests_usd: 6 }], quality_floor: 0.7, max_misroute_rise: 0.1, min_routing_quality: 0.85 });
    expect(job).toMatchObject({ vcpus: '2', memoryMiB: '4096', timeoutSeconds: 3600, goldenSetUri: null });
  });

  it('adds the golden set when the router has one, and no --current for the first router', async () => {
    const store = new FsObjectStore(dir);
    await store.putText('s3://sial-dev-artifacts/golden-sets/support-router/golden.jsonl', '{}\n');
    const job = await prepareRouterJob(request, dataset, router, { registry: { listPackages: async () => [] }, store, groupName: GROUP, goldenSetsUri: 's3://sial-dev-artifacts/golden-sets/' });
    expect(job.command).toEqual(['train', '--dataset', `${request.uris.datasetPrefix}router/part-00000.txt`, '--out', request.uris.output, '--golden', 's3://sial-dev-artifacts/golden-sets/support-router/golden.jsonl']);
    expect(job.currentModelUri).toBeNull();
  });

  it('refuses a dataset without exactly one router file', async () => {
    const store = new FsObjectStore(dir);
    const deps = { registry: { listPackages: async () => [] }, store, groupName: GROUP, goldenSetsUri: 's3://sial-dev-artifacts/golden-sets/' };
    await expect(prepareRouterJob(request, { ...dataset, files: { ...dataset.files, router: undefined } }, router, deps)).rejects.toThrow(/has no router file/);
  });
});

describe('Record router CPU hours', () => {
  const job: RouterJob = { command: ['train'], config: JSON.stringify(routerTrainerConfig(router)), vcpus: '2', memoryMiB: '4096', vcpusNumber: 2, timeoutSeconds: 3600, currentModelUri: null, goldenSetUri: null };

  it('books vCPU-hours over every attempt and marks the router trained when the job succeeded', async () => {
    const marked: string[] = [];
    const usage = await recordRouterCpuHours(
      { operation: 'record', request, routerJob: job, job: { JobId: 'j', Status: 'SUCCEEDED', Attempts: [{ StartedAt: 0, StoppedAt: 900_000 }, { StartedAt: 1_000_000, StoppedAt: 1_900_000 }] } },
      { ledger: { markTrained: async (id) => void marked.push(id) }, now: new Date(2_000_000) },
    );
    expect(usage).toEqual({ runId: 'run-r1', jobStatus: 'SUCCEEDED', attempts: 2, vcpus: 2, vcpuHours: 1 });
    expect(marked).toEqual(['support-router']);
  });

  it('books a failed job too, without the training mark', async () => {
    const marked: string[] = [];
    const usage = await recordRouterCpuHours(
      { operation: 'record', request, routerJob: job, error: { Error: 'States.TaskFailed', Cause: JSON.stringify({ Status: 'FAILED', Attempts: [{ StartedAt: 0, StoppedAt: 1_800_000 }] }) } },
      { ledger: { markTrained: async (id) => void marked.push(id) }, now: new Date(2_000_000) },
    );
    expect(usage).toMatchObject({ jobStatus: 'FAILED', vcpuHours: 1 });
    expect(marked).toEqual([]);
  });
});

describe('the router eval gate', () => {
  let dir: string;
  let store: FsObjectStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sial-router-gate-'));
    store = new FsObjectStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (m: unknown) => store.putText(`${request.uris.output}metrics.json`, JSON.stringify(m));

  it('passes a candidate the trainer passed and whose misroute rise and routing quality hold the stage thresholds', async () => {
    await write(metrics());
    const result = await checkRouterEvalGate(request, router, store);
    expect(result).toMatchObject({ passed: true, kind: 'router', metricsUri: `${request.uris.output}metrics.json`, baselineTier: 'medium', holdout: { candidate: { misrouteRate: 0.12 }, current: { misrouteRate: 0.2 } } });
  });

  it("refuses what the trainer's gate refused (exit 0 there), as EvalGateFailed with the reasons", async () => {
    await write(metrics({ gate: { passed: false, reasons: ['holdout: misroute rate 0.4 is more than 0.1 above the current 0.2'] } }));
    const error = await checkRouterEvalGate(request, router, store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouterEvalGateFailed);
    expect((error as Error).name).toBe(PIPELINE_ERRORS.evalGateFailed);
    expect(JSON.parse((error as Error).message).failures[0]).toMatch(/the trainer's gate refused: holdout: misroute rate 0.4/);
  });

  it('checks the stage thresholds itself: a misroute rise above maxMisrouteRise, routing quality under the floor, nothing evaluated', () => {
    expect(routerGateFailures(metrics({ holdout: { ...metrics().holdout!, candidate: figures(0.35, 0.9) } }), router)).toEqual(['holdout: misroute rate 0.35 is more than 0.1 above the current version\'s 0.2']);
    expect(routerGateFailures(metrics({ holdout: { ...metrics().holdout!, candidate: figures(0.1, 0.8) } }), router)).toEqual(['holdout: routing quality 0.8 is below the floor 0.85']);
    expect(routerGateFailures(metrics({ holdout: null, golden: null }), router)).toEqual(['nothing was evaluated (no held-out example and no golden set)']);
    // Exactly the threshold (in floating point) passes.
    expect(routerGateFailures(metrics({ holdout: { ...metrics().holdout!, candidate: figures(0.30000000000000004, 0.9) } }), router)).toEqual([]);
  });

  it('refuses missing or foreign metrics', async () => {
    await expect(checkRouterEvalGate(request, router, store)).rejects.toThrow(/wrote no metrics.json/);
    await write({ faithfulness: 0.9 });
    await expect(checkRouterEvalGate(request, router, store)).rejects.toThrow(/not a router metrics.json/);
  });
});

describe('registering a router', () => {
  const gate: RouterEvalGateResult = { passed: true, kind: 'router', metricsUri: `${request.uris.output}metrics.json`, holdout: { candidate: figures(0.12, 0.93), current: figures(0.2, 0.9) }, golden: null, baselineTier: 'medium', cpuHours: 0.01 };
  const approval: ApprovalDecision = { approvalId: 'apr-1', decision: 'approved', approver: 'Ana Lima <ana@example.com>', decidedAt: '2026-05-04T08:00:00.000Z', via: 'page' };
  const event: RegisterModelEvent = { request, dataset, evalGate: gate, trainingApproval: approval };

  function registry(existing: RegisteredModelPackage[]) {
    const created: Array<Record<string, unknown>> = [];
    return {
      created,
      listPackages: async (_group: string, filter?: { approvalStatus?: string }) => existing.filter((p) => filter?.approvalStatus === undefined || p.approvalStatus === filter.approvalStatus),
      createPackage: async (p: object) => (created.push(p as Record<string, unknown>), { arn: arnOf(20), version: 20 }),
    };
  }

  it('protects the last 10 approved router versions (an LLM keeps 3), deleting nothing', async () => {
    const existing = [...Array.from({ length: 12 }, (_, i) => pkg(i + 1, 'Approved')), pkg(13, 'Rejected'), pkg(14, 'PendingManualApproval')];
    const reg = registry(existing);
    const registration = await registerModel(event, { registry: reg, settings, servingImageUri: 'unused', routerImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets:router' });
    expect(registration.modelPackageGroupName).toBe(GROUP);
    expect(registration.protectedApprovedVersions).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3].map(arnOf));
    expect(reg.created[0]).toMatchObject({
      groupName: GROUP,
      servingImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets:router',
      modelDataUrl: `${request.uris.output}model.tar.gz`,
      metricsUri: `${request.uris.output}metrics.json`,
      metadata: expect.objectContaining({ algorithm: 'router', targetModelId: 'support-router', 'eval.holdout.misrouteRate': '0.12 vs current 0.2' }),
    });
  });

  it('needs the router image to register a router', async () => {
    await expect(registerModel(event, { registry: registry([]), settings, servingImageUri: 'unused' })).rejects.toThrow(/ROUTER_IMAGE_URI is not set/);
  });
});
