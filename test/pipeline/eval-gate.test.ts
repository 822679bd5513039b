import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { dev } from '../../config/stages/dev';
import type { EvalMetrics, ValidatedRequest } from '../../lambdas/pipeline/contracts';
import { evalGateResultSchema } from '../../lambdas/pipeline/contracts';
import type * as EvalGateHandlerModule from '../../lambdas/pipeline/eval-gate/handler';
import { checkEvalGate, EvalGateFailed, type EvalGateFailureReport } from '../../lambdas/pipeline/eval-gate/check-eval-gate';
import { judgeMetrics } from '../../lambdas/pipeline/eval-gate/judge';
import type { ObjectStore } from '../../lambdas/pipeline/ports';
import { pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import { validateRequest } from '../../lambdas/pipeline/validate-request/validate-request';
import { PIPELINE_ERRORS } from '../../stepfunctions/training-pipeline-states';
import { LocalModelRegistry } from '../../local/pipeline/local-model-registry';
import { lambdaContext } from '../helpers/lambda-context';

const settings = pipelineSettingsFromStage(dev, { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' });
const rules = { minFaithfulness: 0.85, maxRegression: 0.01, maxAnswerLengthRatio: 1.3 };
const GROUP = 'sial-dev-qwen3';

function metrics(faithfulness: number, others: Record<string, number> = {}, goldenSetVersion = 'golden-v3'): EvalMetrics {
  return { faithfulness, metrics: others, goldenSetVersion, examples: 500 };
}

/** An ObjectStore over a Map: what the gate reads, without S3. */
class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, string>();
  async putText(uri: string, body: string): Promise<void> {
    this.objects.set(uri, body);
  }
  async getText(uri: string): Promise<string | undefined> {
    return this.objects.get(uri);
  }
}

function request(runId = 'run-42', targetModelId = 'qwen3-4b'): ValidatedRequest {
  return validateRequest({ input: { targetModelId, requestedBy: 'test' }, executionName: runId }, { settings, artifactBucket: 'sial-dev-artifacts', now: new Date('2026-05-04T00:00:00Z') });
}

describe('judgeMetrics', () => {
  it('passes a candidate above the floor that regresses nothing beyond the margin', () => {
    const verdict = judgeMetrics(metrics(0.9, { answer_relevance: 0.795, misroute: 0.7 }), metrics(0.88, { answer_relevance: 0.8, misroute: 0.69 }), rules);
    expect(verdict.failures).toEqual([]);
  });

  it('fails faithfulness below the floor', () => {
    const verdict = judgeMetrics(metrics(0.84), null, rules);
    expect(verdict.failures).toEqual([{ rule: 'min-faithfulness', metric: 'faithfulness', candidate: 0.84, limit: 0.85, message: 'faithfulness 0.84 is below the minimum 0.85' }]);
  });

  it('allows a drop of exactly the margin, and fails one beyond it, naming the metric', () => {
    expect(judgeMetrics(metrics(0.9, { answer_relevance: 0.79 }), metrics(0.9, { answer_relevance: 0.8 }), rules).failures).toEqual([]);
    const verdict = judgeMetrics(metrics(0.9, { answer_relevance: 0.785 }), metrics(0.9, { answer_relevance: 0.8 }), rules);
    expect(verdict.failures).toEqual([
      {
        rule: 'max-regression',
        metric: 'answer_relevance',
        candidate: 0.785,
        production: 0.8,
        limit: 0.01,
        message: "answer_relevance 0.785 is 1.5 points worse than production's 0.8 (at most 1.0 points allowed)",
      },
    ]);
  });

  it('compares faithfulness with production too, not only against the floor', () => {
    const verdict = judgeMetrics(metrics(0.86), metrics(0.92), rules);
    expect(verdict.failures.map((f) => [f.rule, f.metric])).toEqual([['max-regression', 'faithfulness']]);
  });

  it('compares only metrics present in both, and notes the rest', () => {
    const verdict = judgeMetrics(metrics(0.9, { new_metric: 0.1 }), metrics(0.9, { retired_metric: 0.99 }), rules);
    expect(verdict.failures).toEqual([]);
    expect(verdict.notes).toContain('production reports metrics the candidate does not: retired_metric (not compared)');
  });

  it("refuses a candidate whose mean answer length exceeds 1.3x production's (length inflation)", () => {
    const withLength = (faithfulness: number, chars: number): EvalMetrics => ({ ...metrics(faithfulness), meanAnswerChars: chars });
    expect(judgeMetrics(withLength(0.9, 130), withLength(0.9, 100), rules).failures).toEqual([]);
    const verdict = judgeMetrics(withLength(0.9, 131), withLength(0.9, 100), rules);
    expect(verdict.failures).toEqual([
      {
        rule: 'answer-length',
        metric: 'meanAnswerChars',
        candidate: 131,
        production: 100,
        limit: 130,
        message: "mean answer length 131.0 characters is 1.31x production's 100.0 (registered metrics; at most 1.3x allowed)",
      },
    ]);
  });

  it("prefers production's answers from the same eval run, and applies the rule to a target's first model too", () => {
    const candidate: EvalMetrics = { ...metrics(0.9), meanAnswerChars: 200, production: { faithfulness: 0.9, metrics: {}, meanAnswerChars: 100, modelUri: 's3://b/prod/model.tar.gz' } };
    expect(judgeMetrics(candidate, { ...metrics(0.9), meanAnswerChars: 190 }, rules).failures.map((f) => f.message)).toEqual([
      "mean answer length 200.0 characters is 2.00x production's 100.0 (answers in this eval run; at most 1.3x allowed)",
    ]);
    expect(judgeMetrics(candidate, null, rules).failures.map((f) => f.rule)).toEqual(['answer-length']);
  });

  it('fails a candidate that reports no length when production has one, and notes when neither side can be compared', () => {
    expect(judgeMetrics(metrics(0.9), { ...metrics(0.9), meanAnswerChars: 100 }, rules).failures.map((f) => f.rule)).toEqual(['answer-length']);
    expect(judgeMetrics(metrics(0.9), metrics(0.9), rules).notes).toContain("production's mean answer length is unknown: the length rule did not apply");
  });

  it('applies only the floor (and the length rule) to the first model of a target', () => {
    const verdict = judgeMetrics(metrics(0.86), null, rules);
    expect(verdict.failures).toEqual([]);
    expect(verdict.notes.join('\n')).toMatch(/no approved production model/);
  });

  it('notes golden sets that differ', () => {
    expect(judgeMetrics(metrics(0.9, {}, 'golden-v4'), metrics(0.9), rules).notes.join('\n')).toMatch(/golden sets differ \(candidate golden-v4, production golden-v3\)/);
  });
});

describe('checkEvalGate', () => {
  let dir: string;
  let registry: LocalModelRegistry;
  let store: MemoryStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sial-eval-gate-'));
    registry = new LocalModelRegistry(join(dir, 'registry.json'));
    store = new MemoryStore();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Registers and approves a production version whose metrics.json is in the store. */
  async function approved(runId: string, m: EvalMetrics | string | undefined, targetModelId = 'qwen3-4b'): Promise<string> {
    const metricsUri = `s3://sial-dev-artifacts/runs/${runId}/eval/metrics.json`;
    if (m !== undefined) await store.putText(metricsUri, typeof m === 'string' ? m : JSON.stringify(m));
    const { arn } = await registry.createPackage({
      groupName: GROUP,
      description: runId,
      servingImageUri: 'serving:1',
      modelDataUrl: `s3://sial-dev-artifacts/runs/${runId}/output/model.tar.gz`,
      metricsUri,
      metadata: { targetModelId, runId },
      idempotencyToken: runId,
    });
    await registry.setApprovalStatus(arn, 'Approved', 'ml-lead@example.com');
    return arn;
  }

  const gate = (r: ValidatedRequest) => checkEvalGate(r, { store, registry, settings });

  async function failure(r: ValidatedRequest): Promise<EvalGateFailureReport> {
    try {
      await gate(r);
    } catch (error) {
      expect(error).toBeInstanceOf(EvalGateFailed);
      expect((error as Error).name).toBe(PIPELINE_ERRORS.evalGateFailed);
      // The message is the report as JSON: the state machine forwards it as the error's cause.
      const report = JSON.parse((error as Error).message) as EvalGateFailureReport;
      expect(report).toEqual((error as EvalGateFailed).report);
      return report;
    }
    throw new Error('expected the eval gate to fail');
  }

  it('passes the first model of a target on the floor alone (no baseline)', async () => {
    const r = request();
    await store.putText(r.uris.metrics, JSON.stringify(metrics(0.87)));
    const { result } = await gate(r);
    expect(evalGateResultSchema.parse(result)).toEqual({ passed: true, candidate: metrics(0.87), production: null, productionModelPackageArn: null });
  });

  it('compares with the newest approved version of the same target, ignoring pending ones and other targets', async () => {
    await approved('run-1', metrics(0.95));
    const newest = await approved('run-2', metrics(0.88, { answer_relevance: 0.8 }));
    await approved('run-3', metrics(0.99), 'qwen3-4b-internal');
    await registry.createPackage({ groupName: GROUP, description: 'pending', servingImageUri: 's', modelDataUrl: 's3://b/k', metricsUri: 's3://b/pending.json', metadata: { targetModelId: 'qwen3-4b' }, idempotencyToken: 'pending' });
    const r = request();
    await store.putText(r.uris.metrics, JSON.stringify(metrics(0.9, { answer_relevance: 0.8 })));
    const { result } = await gate(r);
    expect(result.productionModelPackageArn).toBe(newest);
    expect(result.production).toEqual(metrics(0.88, { answer_relevance: 0.8 }));
  });

  it('fails with the metrics, the baseline and each failed rule in the error message', async () => {
    const prod = await approved('run-1', metrics(0.9, { answer_relevance: 0.8 }));
    const r = request();
    await store.putText(r.uris.metrics, JSON.stringify(metrics(0.84, { answer_relevance: 0.75 })));
    const report = await failure(r);
    expect(report).toEqual(
      expect.objectContaining({
        error: 'EvalGateFailed',
        runId: 'run-42',
        targetModelId: 'qwen3-4b',
        rules,
        candidate: metrics(0.84, { answer_relevance: 0.75 }),
        production: metrics(0.9, { answer_relevance: 0.8 }),
        productionModelPackageArn: prod,
      }),
    );
    expect(report.failures.map((f) => `${f.rule}:${f.metric}`)).toEqual(['min-faithfulness:faithfulness', 'max-regression:answer_relevance', 'max-regression:faithfulness']);
    expect(report.summary).toMatch(/^eval gate failed for qwen3-4b run run-42: faithfulness 0.84 is below the minimum 0.85; /);
  });

  it('fails clearly when the eval job wrote no metrics.json', async () => {
    const r = request();
    const report = await failure(r);
    expect(report.failures).toEqual([{ rule: 'candidate-metrics', message: `the eval job wrote no metrics.json at ${r.uris.metrics}` }]);
    expect(report.candidate).toBeNull();
  });

  it('fails clearly when metrics.json is not JSON or breaks the schema', async () => {
    const r = request();
    await store.putText(r.uris.metrics, '{"faithfulness": 0.9,');
    expect((await failure(r)).failures[0]!.message).toMatch(/metrics\.json at .* is not JSON/);
    await store.putText(r.uris.metrics, JSON.stringify({ faithfulness: 1.4, metrics: {}, goldenSetVersion: 'g', examples: 1 }));
    expect((await failure(r)).failures[0]!.message).toMatch(/is not a metrics\.json: faithfulness: /);
  });

  it('fails when production exists but its metrics cannot be read, rather than treating it as a first model', async () => {
    const prod = await approved('run-1', undefined);
    const r = request();
    await store.putText(r.uris.metrics, JSON.stringify(metrics(0.95)));
    const report = await failure(r);
    expect(report.productionModelPackageArn).toBe(prod);
    expect(report.failures[0]).toEqual(expect.objectContaining({ rule: 'production-baseline' }));
    expect(report.failures[0]!.message).toMatch(/the metrics of approved version 1 are missing at s3:\/\/sial-dev-artifacts\/runs\/run-1\/eval\/metrics\.json/);
  });
});

describe('Check eval gate handler', () => {
  const s3 = mockClient(S3Client);
  const sagemaker = mockClient(SageMakerClient);
  process.env.PIPELINE_SETTINGS = JSON.stringify(settings);
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
  process.env.POWERTOOLS_SERVICE_NAME = 'eval-gate';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
  process.env.POWERTOOLS_DEV = 'true';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../lambdas/pipeline/eval-gate/handler') as typeof EvalGateHandlerModule;
  // The part of the SDK's streaming body the object store uses.
  const body = (text: string) => ({ Body: { transformToString: async () => text } as never });

  beforeEach(() => {
    s3.reset();
    sagemaker.reset();
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'info').mockImplementation(() => undefined);
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('reads the candidate from S3 and the baseline through SageMaker, and passes', async () => {
    const r = request();
    const prodArn = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/sial-dev-qwen3/4';
    s3.on(GetObjectCommand, { Bucket: 'sial-dev-artifacts', Key: 'runs/run-42/eval/metrics.json' }).callsFake(() => body(JSON.stringify(metrics(0.9))));
    s3.on(GetObjectCommand, { Bucket: 'sial-dev-artifacts', Key: 'runs/run-1/eval/metrics.json' }).callsFake(() => body(JSON.stringify(metrics(0.9))));
    sagemaker.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [{ ModelPackageArn: prodArn, ModelPackageGroupName: GROUP, ModelPackageVersion: 4, ModelApprovalStatus: 'Approved', CreationTime: new Date(), ModelPackageStatus: 'Completed' }],
    });
    sagemaker.on(DescribeModelPackageCommand).resolves({
      ModelPackageArn: prodArn,
      ModelPackageName: 'sial-dev-qwen3',
      ModelApprovalStatus: 'Approved',
      CreationTime: new Date(),
      ModelPackageStatus: 'Completed',
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: 's3://sial-dev-artifacts/runs/run-1/eval/metrics.json' } } },
      CustomerMetadataProperties: { targetModelId: 'qwen3-4b' },
    });
    const result = await handler({ request: r }, lambdaContext('eval-gate'));
    expect(result).toEqual({ passed: true, candidate: metrics(0.9), production: metrics(0.9), productionModelPackageArn: prodArn });
    expect(sagemaker.commandCalls(ListModelPackagesCommand)[0]!.args[0].input).toEqual(expect.objectContaining({ ModelPackageGroupName: GROUP, ModelApprovalStatus: 'Approved' }));
  });

  it('throws EvalGateFailed for a missing metrics.json (NoSuchKey), not a generic error', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    await expect(handler({ request: request() }, lambdaContext('eval-gate'))).rejects.toMatchObject({ name: 'EvalGateFailed' });
    expect(sagemaker.calls()).toHaveLength(0);
  });
});
