import { dev } from '../../config/stages/dev';
import type * as ValidateHandlerModule from '../../lambdas/pipeline/validate-request/handler';
import { validatedRequestSchema } from '../../lambdas/pipeline/contracts';
import { pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import { runIdFromExecutionName } from '../../lambdas/pipeline/validate-request/run-id';
import { runUris } from '../../lambdas/pipeline/validate-request/run-uris';
import { RequestRefused, validateRequest } from '../../lambdas/pipeline/validate-request/validate-request';
import { PIPELINE_ERRORS } from '../../stepfunctions/training-pipeline-states';
import { lambdaContext } from '../helpers/lambda-context';

const settings = pipelineSettingsFromStage(dev, { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' });
const now = new Date('2026-05-04T03:00:00.000Z');
const context = { settings, artifactBucket: 'sial-dev-artifacts', now };

function validate(input: unknown, executionName = 'weekly-2026-05-04') {
  return validateRequest({ input, executionName }, context);
}

/** The error a call throws, for assertions on its name and message. */
function refusal(input: unknown): Error {
  try {
    validate(input);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the request to be refused');
}

describe('validateRequest', () => {
  it('builds the run request from the input and the stage settings', () => {
    const request = validate({ targetModelId: 'qwen3-4b', requestedBy: 'scheduler:weekly' });
    expect(validatedRequestSchema.safeParse(request).success).toBe(true);
    expect(request).toEqual({
      runId: 'weekly-2026-05-04',
      mode: 'train',
      stage: 'dev',
      boundary: 'US',
      targetModelId: 'qwen3-4b',
      modelFamily: 'qwen3',
      internalOnly: false,
      algorithm: 'grpo',
      baseModelUri: 's3://sial-dev-models-us-east-1/base/qwen3-4b/',
      requestedBy: 'scheduler:weekly',
      requestedAt: '2026-05-04T03:00:00.000Z',
      uris: {
        datasetPrefix: 's3://sial-dev-artifacts/runs/weekly-2026-05-04/dataset/',
        output: 's3://sial-dev-artifacts/runs/weekly-2026-05-04/output/',
        checkpoints: 's3://sial-dev-artifacts/runs/weekly-2026-05-04/checkpoints/',
        evalOutput: 's3://sial-dev-artifacts/runs/weekly-2026-05-04/eval/',
        metrics: 's3://sial-dev-artifacts/runs/weekly-2026-05-04/eval/metrics.json',
      },
    });
  });

  it('takes the algorithm, mode, reason and a matching family from the input', () => {
    const request = validate({ targetModelId: 'qwen3-4b-internal', modelFamily: 'Qwen3', algorithm: 'dpo', mode: 'dataset-only', requestedBy: 'ana@example.com', reason: 'new feedback' });
    expect(request).toEqual(expect.objectContaining({ algorithm: 'dpo', mode: 'dataset-only', internalOnly: true, reason: 'new feedback', modelFamily: 'qwen3' }));
  });

  it.each([
    ['openai-gpt-4.1', 'openai'],
    ['bedrock-claude', 'bedrock'],
    ['gemini-2.5', 'gemini'],
  ])('refuses the managed closed family %s with the scope rule reason and the allowed families', (family, marker) => {
    const error = refusal({ targetModelId: 'qwen3-4b', modelFamily: family, requestedBy: 'x' });
    expect(error).toBeInstanceOf(RequestRefused);
    expect(error.name).toBe(PIPELINE_ERRORS.requestRefused);
    expect(error.message).toContain(`matched "${marker}"`);
    expect(error.message).toContain('qwen3, llama4, glm5');
    expect(error.message).toContain('managed closed models are never trained');
  });

  it('refuses a managed model named as the target before complaining about other fields', () => {
    const error = refusal({ targetModelId: 'gpt-4.1', requestedBy: '', unexpected: true });
    expect(error.name).toBe('RequestRefused');
    expect(error.message).toMatch(/^targetModelId: "gpt-4.1" is a managed closed model \(matched "gpt"\)/);
    expect(error.message).toContain('qwen3-4b (qwen3), qwen3-4b-internal (qwen3)');
  });

  it('refuses an unknown target model id, naming the models the stage trains', () => {
    const error = refusal({ targetModelId: 'llama4-scout', requestedBy: 'x' });
    expect(error.name).toBe('RequestRefused');
    expect(error.message).toBe('targetModelId: unknown target model "llama4-scout"; stage dev trains only: qwen3-4b (qwen3), qwen3-4b-internal (qwen3)');
  });

  it('refuses a family that does not match the target model', () => {
    const error = refusal({ targetModelId: 'qwen3-4b', modelFamily: 'llama4', requestedBy: 'x' });
    expect(error.name).toBe('RequestRefused');
    expect(error.message).toContain('modelFamily "llama4" does not match target model "qwen3-4b", which is a qwen3 model');
  });

  it('refuses an unsupported (not managed) family with the allowed list', () => {
    const error = refusal({ targetModelId: 'qwen3-4b', modelFamily: 'falcon', requestedBy: 'x' });
    expect(error.name).toBe('RequestRefused');
    expect(error.message).toContain('"falcon" is not a supported self-hosted family; allowed: qwen3, llama4, glm5');
  });

  it('refuses an invalid input naming the fields and the allowed ones', () => {
    const error = refusal({ targetModelId: 'qwen3-4b', algorithm: 'ppo', colour: 'blue' });
    expect(error.name).toBe('RequestRefused');
    expect(error.message).toContain('algorithm');
    expect(error.message).toContain('requestedBy');
    expect(error.message).toContain('colour');
    expect(error.message).toContain('Allowed fields: mode, targetModelId, modelFamily, algorithm, requestedBy, reason');
  });

  it('treats a missing execution name as a wiring fault, not a refused request', () => {
    let thrown: unknown;
    try {
      validateRequest({ input: { targetModelId: 'qwen3-4b', requestedBy: 'x' } }, context);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).not.toBeInstanceOf(RequestRefused);
    expect((thrown as Error).message).toMatch(/expects \{ input, executionName \}.*executionName/);
  });

  it('refuses to build URIs in an invalid bucket', () => {
    expect(() => validateRequest({ input: { targetModelId: 'qwen3-4b', requestedBy: 'x' }, executionName: 'r1' }, { ...context, artifactBucket: 'Bad_Bucket' })).toThrow(
      'the artifact bucket "Bad_Bucket" is not a valid S3 bucket name (ARTIFACT_BUCKET)',
    );
  });
});

describe('runIdFromExecutionName', () => {
  it('keeps a name that is already safe', () => {
    expect(runIdFromExecutionName('manual-2026-05-04T03_00')).toBe('manual-2026-05-04T03_00');
  });

  it('replaces unsafe characters and appends a hash so that distinct names stay distinct', () => {
    const a = runIdFromExecutionName('run 1');
    const b = runIdFromExecutionName('run/1');
    expect(a).toMatch(/^run-1-[0-9a-f]{8}$/);
    expect(b).toMatch(/^run-1-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(runIdFromExecutionName('run-1')).toBe('run-1');
  });

  it('starts with a letter or digit and is a valid Batch job name even for odd names', () => {
    for (const name of ['..hidden', '__x', 'été-2026', '日本語', 'a'.repeat(200)]) {
      const id = runIdFromExecutionName(name);
      expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/);
    }
    expect(runIdFromExecutionName('日本語')).toMatch(/^run-[0-9a-f]{8}$/);
  });

  it('is deterministic', () => {
    expect(runIdFromExecutionName('x y')).toBe(runIdFromExecutionName('x y'));
  });
});

describe('runUris', () => {
  it('puts every artifact under runs/<runId>/ with prefixes ending in /', () => {
    const uris = runUris('bucket-1', 'r-9');
    for (const uri of Object.values(uris)) expect(uri.startsWith('s3://bucket-1/runs/r-9/')).toBe(true);
    expect(uris.output.endsWith('/')).toBe(true);
    expect(uris.metrics).toBe('s3://bucket-1/runs/r-9/eval/metrics.json');
  });
});

describe('Validate request handler', () => {
  process.env.PIPELINE_SETTINGS = JSON.stringify(settings);
  process.env.ARTIFACT_BUCKET = 'sial-dev-artifacts';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
  process.env.POWERTOOLS_SERVICE_NAME = 'validate-request';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
  process.env.POWERTOOLS_DEV = 'true';
  // Imported after the environment is set: the module reads it at load, as in Lambda.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../lambdas/pipeline/validate-request/handler') as typeof ValidateHandlerModule;

  beforeAll(() => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'info').mockImplementation(() => undefined);
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterAll(() => jest.restoreAllMocks());

  it('returns the validated request', async () => {
    const result = await handler({ input: { targetModelId: 'qwen3-4b', requestedBy: 'cli:ana' }, executionName: 'manual-1' }, lambdaContext('validate-request'));
    expect(result).toEqual(expect.objectContaining({ runId: 'manual-1', targetModelId: 'qwen3-4b', stage: 'dev' }));
  });

  it('lets RequestRefused through with its name, for the state machine to catch', async () => {
    await expect(handler({ input: { targetModelId: 'qwen3-4b', modelFamily: 'openai-gpt-4.1', requestedBy: 'x' }, executionName: 'manual-2' }, lambdaContext('validate-request'))).rejects.toMatchObject({
      name: 'RequestRefused',
    });
  });
});
