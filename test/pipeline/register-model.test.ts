import { buildFields, QUIET_COUNTS } from '../helpers/manifest-fields';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateModelPackageCommand, DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient, type ModelPackageSummary } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { dev } from '../../config/stages/dev';
import { SageMakerModelRegistry } from '../../lambdas/pipeline/aws/sagemaker-model-registry';
import type { DatasetManifest, EvalGateResult, ApprovalDecision } from '../../lambdas/pipeline/contracts';
import { registrationSchema } from '../../lambdas/pipeline/contracts';
import type * as RegisterHandlerModule from '../../lambdas/pipeline/register-model/handler';
import { versionFromArn, type ModelRegistry, type RegisteredModelPackage } from '../../lambdas/pipeline/register-model/model-registry';
import { evalEvidence, metadataValue, registerModel, registrationToken, type RegisterModelEvent } from '../../lambdas/pipeline/register-model/register-model';
import { protectedApprovedVersions, UNLABELLED_TARGET } from '../../lambdas/pipeline/register-model/retention';
import { pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import { validateRequest } from '../../lambdas/pipeline/validate-request/validate-request';
import { LocalModelRegistry } from '../../local/pipeline/local-model-registry';
import { lambdaContext } from '../helpers/lambda-context';

const settings = pipelineSettingsFromStage(dev, { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' });
const GROUP = 'sial-dev-qwen3';
const arnOf = (version: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/${GROUP}/${version}`;
const SERVING_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/vllm-serving:0.9';

/** A registered version; `targetModelId: null` stands for one registered by hand without metadata. */
function pkg(version: number, approvalStatus: RegisteredModelPackage['approvalStatus'], targetModelId: string | null = 'qwen3-4b'): RegisteredModelPackage {
  return { arn: arnOf(version), groupName: GROUP, version, approvalStatus, createdAt: new Date(Date.UTC(2026, 0, version)), metadata: targetModelId === null ? {} : { targetModelId } };
}

function event(runId = 'run-42'): RegisterModelEvent {
  const request = validateRequest({ input: { targetModelId: 'qwen3-4b', requestedBy: 'scheduler:weekly' }, executionName: runId }, { settings, artifactBucket: 'sial-dev-artifacts', now: new Date('2026-05-04T00:00:00Z') });
  const dataset: DatasetManifest = {
    datasetId: 'ds-2026-05-04',
    boundary: 'US',
    targetModelId: 'qwen3-4b',
    rewardPolicyVersion: 'v1',
    createdAt: '2026-05-04T02:00:00.000Z',
    window: { from: '2026-04-04T00:00:00.000Z', to: '2026-05-04T00:00:00.000Z' },
    manifestUri: `${request.uris.datasetPrefix}manifest.json`,
    grpoUri: `${request.uris.datasetPrefix}grpo.jsonl`,
    dpoUri: `${request.uris.datasetPrefix}dpo.jsonl`,
    traceIdsUri: `${request.uris.datasetPrefix}trace-ids.txt`,
    contentSha256: 'a'.repeat(64),
    ...buildFields(request.uris.datasetPrefix),
    counts: { ...QUIET_COUNTS, tracesUsed: 900, grpoGroups: 120, grpoCompletions: 840, dpoPairs: 300, discardedByGate: { pii: 4 } },
    eligibility: { positiveFeedback: 140, positiveFeedbackWindowDays: 30, highQualityTraces: 75, highQualityReward: 0.8, agents: [{ agentId: 'rag-qa-agent', positiveFeedback: 0, highQualityTraces: 0, eligible: true }] },
  };
  const evalGate: EvalGateResult = { passed: true, candidate: { faithfulness: 0.91, metrics: { answer_relevance: 0.84 }, goldenSetVersion: 'golden-v3', examples: 500 }, production: null, productionModelPackageArn: null };
  const trainingApproval: ApprovalDecision = { approvalId: 'apr-1', decision: 'approved', approver: 'Ana Lima <ana@example.com>', decidedAt: '2026-05-04T08:00:00.000Z', via: 'page' };
  return { request, dataset, evalGate, trainingApproval };
}

describe('protectedApprovedVersions (retention)', () => {
  it('protects the newest N approved versions, newest first, ignoring pending and rejected ones', () => {
    const packages = [pkg(1, 'Approved'), pkg(2, 'Approved'), pkg(3, 'Rejected'), pkg(4, 'Approved'), pkg(5, 'Approved'), pkg(6, 'PendingManualApproval')];
    expect(protectedApprovedVersions(packages, 3).map((p) => p.version)).toEqual([5, 4, 2]);
  });

  it('orders by version, not by the order the registry listed them', () => {
    expect(protectedApprovedVersions([pkg(9, 'Approved'), pkg(2, 'Approved'), pkg(7, 'Approved'), pkg(11, 'Approved')], 2).map((p) => p.version)).toEqual([11, 9]);
  });

  it('keeps N per target model, so a busy model cannot push out another model\'s rollback targets', () => {
    const packages = [pkg(1, 'Approved', 'qwen3-4b-internal'), pkg(2, 'Approved'), pkg(3, 'Approved'), pkg(4, 'Approved'), pkg(5, 'Approved'), pkg(6, 'Approved', null)];
    expect(protectedApprovedVersions(packages, 3).map((p) => [p.version, p.metadata.targetModelId ?? UNLABELLED_TARGET])).toEqual([
      [6, UNLABELLED_TARGET],
      [5, 'qwen3-4b'],
      [4, 'qwen3-4b'],
      [3, 'qwen3-4b'],
      [1, 'qwen3-4b-internal'],
    ]);
  });

  it('protects everything approved when there are fewer than N', () => {
    expect(protectedApprovedVersions([pkg(1, 'Approved')], 3)).toHaveLength(1);
    expect(protectedApprovedVersions([], 3)).toEqual([]);
  });

  it('refuses a retention count below 1', () => {
    expect(() => protectedApprovedVersions([], 0)).toThrow(RangeError);
  });
});

describe('registerModel', () => {
  /** A registry double that records every call; the port has no delete for it to record. */
  function recordingRegistry(existing: RegisteredModelPackage[]): ModelRegistry & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      listPackages: async (group, filter) => {
        calls.push(`list ${group} ${filter?.approvalStatus ?? 'all'}`);
        return existing.filter((p) => filter?.approvalStatus === undefined || p.approvalStatus === filter.approvalStatus);
      },
      createPackage: async (p) => {
        calls.push(`create ${p.groupName}`);
        return { arn: arnOf(8), version: 8 };
      },
    };
  }

  it('registers the candidate pending approval and returns the protected approved versions without deleting any', async () => {
    const existing = [pkg(1, 'Approved'), pkg(2, 'Approved'), pkg(3, 'Approved'), pkg(4, 'Approved'), pkg(5, 'Rejected')];
    const registry = recordingRegistry(existing);
    const registration = await registerModel(event(), { registry, settings, servingImageUri: SERVING_IMAGE });
    expect(registrationSchema.parse(registration)).toEqual({
      modelPackageGroupName: GROUP,
      modelPackageArn: arnOf(8),
      modelPackageVersion: 8,
      approvalStatus: 'PendingManualApproval',
      protectedApprovedVersions: [arnOf(4), arnOf(3), arnOf(2)],
    });
    expect(registry.calls).toEqual([`create ${GROUP}`, `list ${GROUP} Approved`]);
  });

  it('derives one idempotency token per group and run, within SageMaker\'s ClientToken limits', () => {
    const token = registrationToken(GROUP, 'run-42');
    expect(token).toMatch(/^[a-f0-9]{32}$/);
    expect(registrationToken(GROUP, 'run-42')).toBe(token);
    expect(registrationToken(GROUP, 'run-43')).not.toBe(token);
  });

  it('writes the eval comparison with production as evidence the deploy approvals show', () => {
    const candidate = { faithfulness: 0.9, metrics: { answer_relevance: 0.87 }, goldenSetVersion: 'g1', examples: 200, meanAnswerChars: 190.4 };
    const production = { faithfulness: 0.87, metrics: { answer_relevance: 0.86 }, goldenSetVersion: 'g1', examples: 200, meanAnswerChars: 180 };
    expect(evalEvidence({ passed: true, candidate, production, productionModelPackageArn: arnOf(3) })).toEqual({
      'eval.verdict': 'passed the eval gate against production version 3',
      'eval.goldenSet': 'g1 with 200 examples',
      'eval.faithfulness': '0.9 vs production 0.87',
      'eval.answer_relevance': '0.87 vs production 0.86',
      'eval.meanAnswerChars': '190 vs production 180',
    });
  });

  it('makes metadata values SageMaker accepts', () => {
    expect(metadataValue('Ana Lima <ana@example.com>')).toBe('Ana Lima _ana@example.com_');
    expect(metadataValue('arn:aws:iam::123456789012:user/ana')).toBe('arn:aws:iam::123456789012:user/ana');
    expect(metadataValue('x'.repeat(300))).toHaveLength(256);
  });

  it('refuses a family without a configured group', async () => {
    const e = event();
    await expect(registerModel({ ...e, request: { ...e.request, modelFamily: 'llama4' } }, { registry: recordingRegistry([]), settings, servingImageUri: SERVING_IMAGE })).rejects.toThrow(
      'no model package group is configured for family "llama4" (settings.modelPackageGroups has qwen3)',
    );
  });
});

describe('SageMakerModelRegistry', () => {
  const sagemaker = mockClient(SageMakerClient);
  const registry = new SageMakerModelRegistry(new SageMakerClient({ region: 'us-east-1' }));
  beforeEach(() => sagemaker.reset());

  function summary(version: number, status: string): ModelPackageSummary {
    return { ModelPackageArn: arnOf(version), ModelPackageGroupName: GROUP, ModelPackageVersion: version, ModelApprovalStatus: status as never, CreationTime: new Date(), ModelPackageStatus: 'Completed' };
  }

  it('sends CreateModelPackage with the serving image, the trained artifacts, the metrics and the lineage', async () => {
    sagemaker.on(CreateModelPackageCommand).resolves({ ModelPackageArn: arnOf(8) });
    sagemaker.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
    const registration = await registerModel(event(), { registry, settings, servingImageUri: SERVING_IMAGE });
    expect(registration.modelPackageVersion).toBe(8);

    const input = sagemaker.commandCalls(CreateModelPackageCommand)[0]!.args[0].input;
    expect(input).toEqual({
      ModelPackageGroupName: GROUP,
      ModelPackageDescription: expect.stringContaining('qwen3-4b GRPO run run-42 on dataset ds-2026-05-04'),
      ModelApprovalStatus: 'PendingManualApproval',
      InferenceSpecification: {
        Containers: [{ Image: SERVING_IMAGE, ModelDataUrl: 's3://sial-dev-artifacts/runs/run-42/output/model.tar.gz' }],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: 's3://sial-dev-artifacts/runs/run-42/eval/metrics.json' } } },
      CustomerMetadataProperties: {
        runId: 'run-42',
        stage: 'dev',
        targetModelId: 'qwen3-4b',
        algorithm: 'grpo',
        datasetId: 'ds-2026-05-04',
        datasetSha256: 'a'.repeat(64),
        rewardPolicyVersion: 'v1',
        trainingApprover: 'Ana Lima _ana@example.com_',
        trainingApprovedAt: '2026-05-04T08:00:00.000Z',
        goldenSetVersion: 'golden-v3',
        faithfulness: '0.91',
        // The eval evidence the deploy approvals show (no production yet: the first model of the family).
        'eval.verdict': 'passed the eval gate as the first model of its family - no production baseline',
        'eval.goldenSet': 'golden-v3 with 500 examples',
        'eval.faithfulness': '0.91',
        'eval.answer_relevance': '0.84',
      },
      ClientToken: registrationToken(GROUP, 'run-42'),
    });
    for (const [key, value] of Object.entries(input.CustomerMetadataProperties!)) {
      expect(key).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u);
      expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u);
    }
  });

  it('lists every page of a group and describes each version for its metrics and metadata', async () => {
    sagemaker
      .on(ListModelPackagesCommand)
      .resolvesOnce({ ModelPackageSummaryList: [summary(1, 'Approved'), summary(2, 'Approved')], NextToken: 'page-2' })
      .resolvesOnce({ ModelPackageSummaryList: [summary(3, 'Approved')] });
    sagemaker.on(DescribeModelPackageCommand).callsFake((input: { ModelPackageName: string }) => ({
      ModelPackageArn: input.ModelPackageName,
      ModelApprovalStatus: 'Approved',
      ModelPackageStatus: 'Completed',
      CreationTime: new Date('2026-01-01T00:00:00Z'),
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: `s3://b/${versionFromArn(input.ModelPackageName)}/metrics.json` } } },
      CustomerMetadataProperties: { targetModelId: 'qwen3-4b' },
    }));
    const listed = await registry.listPackages(GROUP, { approvalStatus: 'Approved' });
    expect(listed.map((p) => [p.version, p.metricsUri, p.metadata.targetModelId])).toEqual([
      [1, 's3://b/1/metrics.json', 'qwen3-4b'],
      [2, 's3://b/2/metrics.json', 'qwen3-4b'],
      [3, 's3://b/3/metrics.json', 'qwen3-4b'],
    ]);
    const listCalls = sagemaker.commandCalls(ListModelPackagesCommand).map((c) => c.args[0].input);
    expect(listCalls).toEqual([
      expect.objectContaining({ ModelPackageGroupName: GROUP, ModelApprovalStatus: 'Approved', ModelPackageType: 'Versioned' }),
      expect.objectContaining({ NextToken: 'page-2' }),
    ]);
  });

  it('never sends anything but List, Describe and Create while registering: retention deletes nothing', async () => {
    sagemaker.on(CreateModelPackageCommand).resolves({ ModelPackageArn: arnOf(9) });
    sagemaker.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [1, 2, 3, 4, 5].map((v) => summary(v, 'Approved')) });
    sagemaker.on(DescribeModelPackageCommand).callsFake((input: { ModelPackageName: string }) => ({ ModelPackageArn: input.ModelPackageName, ModelApprovalStatus: 'Approved', CustomerMetadataProperties: { targetModelId: 'qwen3-4b' } }));
    const registration = await registerModel(event(), { registry, settings, servingImageUri: SERVING_IMAGE });
    expect(registration.protectedApprovedVersions).toEqual([arnOf(5), arnOf(4), arnOf(3)]);
    const sent = new Set(sagemaker.calls().map((c) => (c.args[0] as object).constructor.name));
    expect([...sent].sort()).toEqual(['CreateModelPackageCommand', 'DescribeModelPackageCommand', 'ListModelPackagesCommand']);
  });

  it('reads the version from the returned ARN', () => {
    expect(versionFromArn(arnOf(12))).toBe(12);
    expect(() => versionFromArn('arn:aws:sagemaker:us-east-1:1:model-package/x')).toThrow(/not a versioned model package ARN/);
  });
});

describe('LocalModelRegistry', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sial-registry-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers versions per group, honours the idempotency token, and lists by approval status', async () => {
    const file = join(dir, 'nested', 'registry.json');
    const registry = new LocalModelRegistry(file, () => new Date('2026-05-04T00:00:00Z'));
    const first = await registerModel(event('run-1'), { registry, settings, servingImageUri: SERVING_IMAGE });
    const again = await registerModel(event('run-1'), { registry, settings, servingImageUri: SERVING_IMAGE });
    const second = await registerModel(event('run-2'), { registry, settings, servingImageUri: SERVING_IMAGE });
    expect([first.modelPackageVersion, again.modelPackageVersion, second.modelPackageVersion]).toEqual([1, 1, 2]);
    expect(first.modelPackageArn).toBe('arn:aws:sagemaker:local:000000000000:model-package/sial-dev-qwen3/1');

    await registry.setApprovalStatus(first.modelPackageArn, 'Approved', 'ana@example.com');
    const approved = await registry.listPackages(GROUP, { approvalStatus: 'Approved' });
    expect(approved.map((p) => p.version)).toEqual([1]);
    expect(approved[0]).toEqual(expect.objectContaining({ metricsUri: 's3://sial-dev-artifacts/runs/run-1/eval/metrics.json', metadata: expect.objectContaining({ runId: 'run-1', targetModelId: 'qwen3-4b' }) }));
    const third = await registerModel(event('run-3'), { registry, settings, servingImageUri: SERVING_IMAGE });
    expect(third.protectedApprovedVersions).toEqual([first.modelPackageArn]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(expect.objectContaining({ simulated: 'local model registry: not SageMaker' }));
  });

  it('refuses to approve a version it does not have', async () => {
    await expect(new LocalModelRegistry(join(dir, 'r.json')).setApprovalStatus('arn:nope', 'Approved', 'x')).rejects.toThrow('local model registry: no model package arn:nope');
  });
});

describe('Register model handler', () => {
  const sagemaker = mockClient(SageMakerClient);
  process.env.PIPELINE_SETTINGS = JSON.stringify(settings);
  process.env.SERVING_IMAGE_URI = SERVING_IMAGE;
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
  process.env.POWERTOOLS_SERVICE_NAME = 'register-model';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
  process.env.POWERTOOLS_DEV = 'true';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../lambdas/pipeline/register-model/handler') as typeof RegisterHandlerModule;

  beforeEach(() => {
    sagemaker.reset();
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'info').mockImplementation(() => undefined);
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('registers through SageMaker with the serving image from SERVING_IMAGE_URI', async () => {
    sagemaker.on(CreateModelPackageCommand).resolves({ ModelPackageArn: arnOf(1) });
    sagemaker.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
    const result = await handler(event(), lambdaContext('register-model'));
    expect(result).toEqual(expect.objectContaining({ modelPackageArn: arnOf(1), approvalStatus: 'PendingManualApproval', protectedApprovedVersions: [] }));
    expect(sagemaker.commandCalls(CreateModelPackageCommand)[0]!.args[0].input.InferenceSpecification!.Containers![0]!.Image).toBe(SERVING_IMAGE);
  });

  it('rejects an event that does not carry an approved training decision', async () => {
    const e = event();
    await expect(handler({ ...e, trainingApproval: { ...e.trainingApproval, decision: 'maybe' } }, lambdaContext('register-model'))).rejects.toThrow();
    expect(sagemaker.calls()).toHaveLength(0);
  });
});
