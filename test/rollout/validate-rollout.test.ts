import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_METADATA } from '../../lambdas/pipeline/register-model/model-registry';
import { ROLLOUT_LAMBDA_ERRORS } from '../../lambdas/rollout/errors';
import { evalEvidenceOf, validateRollout, type ValidateRolloutDeps } from '../../lambdas/rollout/validate-rollout/validate-rollout';
import { LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { LocalModelRegistry } from '../../local/pipeline/local-model-registry';
import { EKS_MODEL, EKS_TARGET, executionArnOf, executionContext, GROUP, SAGEMAKER_MODEL, settings, version } from './helpers';

const now = new Date('2026-05-04T10:00:00.000Z');
let dir: string;
let registry: LocalModelRegistry;
let store: LocalDeploymentStore;
let arns: string[];

function deps(): ValidateRolloutDeps {
  return { settings, registry, store, clock: () => now };
}

function input(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { targetModelId: SAGEMAKER_MODEL.id, modelPackageArn: arns[1], modelPackageVersion: 2, requestedBy: 'ml-approver@example.com', ...overrides };
}

async function register(targetModelId: string, token: string): Promise<string> {
  const { arn } = await registry.createPackage({
    groupName: GROUP,
    description: 'test',
    servingImageUri: 'local/image',
    modelDataUrl: 's3://b/model.tar.gz',
    metricsUri: 's3://b/metrics.json',
    metadata: { [MODEL_METADATA.targetModelId]: targetModelId },
    idempotencyToken: token,
  });
  return arn;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sial-validate-rollout-'));
  registry = new LocalModelRegistry(join(dir, 'registry.json'));
  store = new LocalDeploymentStore();
  // Versions 1 and 2 of qwen3-4b, 3 of qwen3-4b-internal, 4 of qwen3-4b (rejected).
  arns = [await register(SAGEMAKER_MODEL.id, 'a'), await register(SAGEMAKER_MODEL.id, 'b'), await register(EKS_MODEL.id, 'c'), await register(SAGEMAKER_MODEL.id, 'd')];
  await registry.setApprovalStatus(arns[3]!, 'Rejected', 'reviewer');
  await store.seedCurrent(SAGEMAKER_MODEL.id, { modelPackageArn: arns[0]!, modelPackageVersion: 1, servingName: 'AllTraffic' }, now);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('validateRollout', () => {
  it('carries the eval evidence and lineage Register model recorded into the plan, for the deploy approvals', () => {
    const metadata = {
      [MODEL_METADATA.targetModelId]: 'qwen3-4b',
      [MODEL_METADATA.runId]: 'run-7',
      [MODEL_METADATA.datasetId]: 'ds-7',
      [MODEL_METADATA.approver]: 'ana',
      'eval.verdict': 'passed the eval gate against production version 3',
      'eval.faithfulness': '0.9 vs production 0.87',
    };
    expect(evalEvidenceOf({ metadata })).toEqual({
      verdict: 'passed the eval gate against production version 3',
      faithfulness: '0.9 vs production 0.87',
      trainingRun: 'run-7',
      dataset: 'ds-7',
      trainingApprovedBy: 'ana',
    });
  });

  it('plans a SageMaker rollout from the store, the package and the canary config, and claims the model', async () => {
    const plan = await validateRollout({ input: input(), ...executionContext('deploy-qwen3-4b-v2') }, deps());
    expect(plan).toEqual({
      rolloutId: 'deploy-qwen3-4b-v2',
      executionArn: executionArnOf('deploy-qwen3-4b-v2'),
      stage: 'dev',
      targetModelId: 'qwen3-4b',
      modelFamily: 'qwen3',
      target: SAGEMAKER_MODEL.rollout,
      current: { modelPackageArn: arns[0], modelPackageVersion: 1, servingName: 'AllTraffic' },
      candidate: { modelPackageArn: arns[1], modelPackageVersion: 2, servingName: 'qwen3-4b-v2' },
      stepsPercent: [10, 50, 100],
      bakeSeconds: 1800,
      checkIntervalSeconds: 10,
      alarmName: 'sial-dev-qwen3-4b-canary',
      requestedBy: 'ml-approver@example.com',
      startedAt: now.toISOString(),
      // Registered without eval metadata: the deploy approvals say so instead of showing nothing.
      evalEvidence: { note: 'the registry holds no eval evidence for this version: it was not registered by the training pipeline' },
    });
    // The claim names the execution, so `sial rollout release` needs no state machine ARN to check it.
    expect(await store.getActiveRollout('qwen3-4b')).toEqual(plan);
    // A retried Validate (same execution) gets its plan again.
    expect((await validateRollout({ input: input(), ...executionContext('deploy-qwen3-4b-v2') }, deps())).rolloutId).toBe('deploy-qwen3-4b-v2');
  });

  it('sends an EKS candidate to the backend that does not serve now (the two swap with every promotion)', async () => {
    await store.seedCurrent(EKS_MODEL.id, { modelPackageArn: arns[0]!, modelPackageVersion: 1, servingName: EKS_TARGET.candidateBackend }, now);
    const plan = await validateRollout({ input: input({ targetModelId: EKS_MODEL.id, modelPackageArn: arns[2], modelPackageVersion: 3 }), ...executionContext('eks-1') }, deps());
    expect(plan.current.servingName).toBe(EKS_TARGET.candidateBackend);
    expect(plan.candidate.servingName).toBe(EKS_TARGET.currentBackend);
    expect(plan.alarmName).toBe('sial-dev-qwen3-4b-internal-canary');
  });

  const refusals: Array<[string, () => Record<string, unknown>, string | RegExp]> = [
    ['an invalid input', () => input({ modelPackageVersion: 'two' }), 'the execution input is invalid: modelPackageVersion'],
    ['an unknown model', () => input({ targetModelId: 'gpt-4o' }), 'unknown target model "gpt-4o"; stage dev rolls out only: qwen3-4b, qwen3-4b-internal'],
    ['a package of another group', () => input({ modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/sial-dev-llama4/2' }), 'is in group sial-dev-llama4, not in sial-dev-qwen3'],
    ['a version that does not match the ARN', () => input({ modelPackageVersion: 7 }), 'does not match the version in the ARN (2)'],
    ['an unregistered package', () => input({ modelPackageArn: `arn:aws:sagemaker:local:000000000000:model-package/${GROUP}/99`, modelPackageVersion: 99 }), 'is not registered in sial-dev-qwen3'],
    ['a rejected package', () => input({ modelPackageArn: arns[3], modelPackageVersion: 4 }), 'is Rejected in the registry'],
    ["another model's package", () => input({ modelPackageArn: arns[2], modelPackageVersion: 3 }), 'was trained for qwen3-4b-internal, not for qwen3-4b'],
    ['the current version again', () => input({ modelPackageArn: arns[0], modelPackageVersion: 1 }), 'already is the current version of qwen3-4b'],
    ['a model without a recorded current version', () => input({ targetModelId: EKS_MODEL.id, modelPackageArn: arns[2], modelPackageVersion: 3 }), /qwen3-4b-internal has no current version in the deployment store; record the version that serves it now with: sial rollout seed --model qwen3-4b-internal --version <N> \(it serves from qwen3-4b-internal-current/],
  ];

  it.each(refusals)('refuses %s', async (_what, make, message) => {
    const attempt = validateRollout({ input: make(), ...executionContext('x') }, deps());
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toHaveProperty('name', ROLLOUT_LAMBDA_ERRORS.rolloutRefused);
    expect(await store.getActiveRollout(SAGEMAKER_MODEL.id)).toBeUndefined();
  });

  it('still validates an execution started on the definition before claims recorded the ARN; its claim has none', async () => {
    const plan = await validateRollout({ input: input(), executionName: 'deploy-qwen3-4b-v2' }, deps());
    expect(plan.executionArn).toBeUndefined();
    expect(plan.rolloutId).toBe('deploy-qwen3-4b-v2');
    expect((await store.getActiveRollout(SAGEMAKER_MODEL.id))?.executionArn).toBeUndefined();
  });

  it('refuses a second rollout of a model while one is in progress', async () => {
    await validateRollout({ input: input(), ...executionContext('first') }, deps());
    await expect(validateRollout({ input: input(), ...executionContext('second') }, deps())).rejects.toThrow('rollout first of qwen3-4b (package version 2, started 2026-05-04T10:00:00.000Z by ml-approver@example.com) is still in progress');
  });

  it('refuses an EKS model whose recorded backend is not one of the route backends', async () => {
    await store.seedCurrent(EKS_MODEL.id, version(1, 'somewhere-else'), now);
    await expect(validateRollout({ input: input({ targetModelId: EKS_MODEL.id, modelPackageArn: arns[2], modelPackageVersion: 3 }), ...executionContext('x') }, deps())).rejects.toThrow('serves from backend somewhere-else');
  });

  it('needs the state machine envelope, with the ARN of the execution it names', async () => {
    await expect(validateRollout(input(), deps())).rejects.toThrow('Validate rollout expects { input, executionName, executionArn }');
    const other = { input: input(), executionName: 'x', executionArn: executionArnOf('y') };
    await expect(validateRollout(other, deps())).rejects.toThrow(`${executionArnOf('y')} is not the ARN of execution x`);
    const notAnArn = { input: input(), executionName: 'x', executionArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sial-dev-rollout' };
    await expect(validateRollout(notAnArn, deps())).rejects.toThrow('must be a Step Functions execution ARN');
    // Wiring faults are not refusals: nothing was claimed.
    await expect(validateRollout(other, deps())).rejects.not.toHaveProperty('name', ROLLOUT_LAMBDA_ERRORS.rolloutRefused);
    expect(await store.getActiveRollout(SAGEMAKER_MODEL.id)).toBeUndefined();
  });
});
