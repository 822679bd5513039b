/**
 * The training image's entrypoint, run under bash without Docker: a fake `aws` on PATH serves S3 from
 * a temporary folder and logs every call, and a fake trainer (SIAL_PYTHON) records what it was handed.
 * The real trainer behind it is trained for real by training/tests (pytest).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ENTRYPOINT = resolve(__dirname, '../../training/entrypoint.sh');

function which(tool: string): string {
  const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`the training entrypoint tests need ${tool} on PATH (training/README.md, "Tests")`);
  return found.stdout.trim();
}
const BASH = which('bash');
const JQ_DIR = dirname(which('jq'));

const FAKE_AWS = `#!/usr/bin/env bash
# Fake AWS CLI: only \`aws s3 cp s3://bucket/key -\`, served from $FAKE_S3_ROOT.
echo "$*" >> "$FAKE_AWS_LOG"
if [[ "$1 $2" == "s3 cp" && "$4" == "-" ]]; then
  if [[ -n "\${FAKE_AWS_DENY:-}" ]]; then
    echo "download failed: $3 to - An error occurred (AccessDenied) when calling the GetObject operation: Access Denied" >&2
    exit 1
  fi
  path="$FAKE_S3_ROOT/\${3#s3://}"
  if [[ -f "$path" ]]; then cat "$path"; exit 0; fi
  echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key \\"\${3#s3://*/}\\" does not exist" >&2
  exit 1
fi
echo "fake aws: unsupported call: $*" >&2
exit 2
`;

// Records its arguments and the contract variables it was handed, then exits FAKE_TRAINER_EXIT.
const FAKE_TRAINER = `#!/usr/bin/env bash
{ echo "args=$*"; echo "attempt=$AWS_BATCH_JOB_ATTEMPT"; echo "resume=$SIAL_RESUME_FROM"; echo "mode=$SIAL_MODE"; } > "$FAKE_TRAINER_LOG"
exit "\${FAKE_TRAINER_EXIT:-0}"
`;

const RUN = 's3://sial-dev-artifacts/runs/run-42/';
const TRAIN_ENV = {
  SIAL_MODE: 'train',
  SIAL_RUN_ID: 'run-42',
  SIAL_OUTPUT_URI: `${RUN}output/`,
  SIAL_DATASET_URI: `${RUN}dataset/build-1/grpo/`,
  SIAL_MANIFEST_URI: `${RUN}dataset/manifest.json`,
  SIAL_BASE_MODEL_URI: 's3://sial-dev-models-us-east-1/base/qwen3-4b/',
  SIAL_CHECKPOINT_URI: `${RUN}checkpoints/`,
  SIAL_ALGORITHM: 'grpo',
  SIAL_HYPERPARAMETERS: '{"learning_rate":1e-6,"num_generations":8}',
};
const EVAL_ENV = {
  SIAL_MODE: 'eval',
  SIAL_RUN_ID: 'run-42',
  SIAL_OUTPUT_URI: `${RUN}eval/`,
  SIAL_MODEL_URI: `${RUN}output/model.tar.gz`,
  SIAL_GOLDEN_SET_URI: 's3://sial-dev-artifacts/golden/v3/golden.jsonl',
  SIAL_METRICS_URI: `${RUN}eval/metrics.json`,
};

let dir: string;
let s3Root: string;
let awsLog: string;
let binDir: string;
let trainerLog: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sial-entrypoint-'));
  s3Root = join(dir, 's3');
  awsLog = join(dir, 'aws.log');
  binDir = join(dir, 'bin');
  mkdirSync(binDir);
  writeFileSync(join(binDir, 'aws'), FAKE_AWS);
  chmodSync(join(binDir, 'aws'), 0o755);
  writeFileSync(join(binDir, 'fake-trainer'), FAKE_TRAINER);
  chmodSync(join(binDir, 'fake-trainer'), 0o755);
  trainerLog = join(dir, 'trainer.log');
});

/** What the fake trainer was handed, or undefined when the entrypoint never started it. */
function handedOver(): Record<string, string> | undefined {
  if (!existsSync(trainerLog)) return undefined;
  return Object.fromEntries(
    readFileSync(trainerLog, 'utf8')
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function putObject(uri: string, body: string): void {
  const path = join(s3Root, uri.replace(/^s3:\/\//, ''));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
}

function run(env: Record<string, string | undefined>, path = `${binDir}:${JQ_DIR}:/usr/bin:/bin`) {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const result = spawnSync(BASH, [ENTRYPOINT], {
    env: { PATH: path, FAKE_S3_ROOT: s3Root, FAKE_AWS_LOG: awsLog, SIAL_PYTHON: join(binDir, 'fake-trainer'), FAKE_TRAINER_LOG: trainerLog, ...clean },
    encoding: 'utf8',
  });
  const awsCalls = existsSync(awsLog) ? readFileSync(awsLog, 'utf8').trim().split('\n') : [];
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, awsCalls };
}

describe('training entrypoint: hand-over to the trainer', () => {
  it('validates a train job, starts attempt 1 from the base model, and hands over to the trainer', () => {
    const result = run({ ...TRAIN_ENV, AWS_BATCH_JOB_ATTEMPT: '1' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('attempt 1 of run run-42 starts from the base model s3://sial-dev-models-us-east-1/base/qwen3-4b/');
    expect(result.stdout).toContain('contract valid: mode=train run=run-42 attempt=1 algorithm=grpo');
    expect(handedOver()).toEqual({ args: '-m sial_training', attempt: '1', resume: '', mode: 'train' });
    // Attempt 1 never looks for checkpoints.
    expect(result.awsCalls).toEqual([]);
  });

  it("passes the trainer's exit code on as the job's (75: interrupted after a checkpoint)", () => {
    const result = run({ ...TRAIN_ENV, FAKE_TRAINER_EXIT: '75' });
    expect(result.code).toBe(75);
  });

  it('validates an eval job and hands it over without looking for checkpoints', () => {
    const result = run(EVAL_ENV);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('contract valid: mode=eval run=run-42 attempt=1');
    expect(handedOver()).toEqual(expect.objectContaining({ mode: 'eval', resume: '' }));
    expect(result.awsCalls).toEqual([]);
  });

  it('reads the pointer from a local object store folder without the AWS CLI (local mode)', () => {
    putObject(`${RUN}checkpoints/latest.json`, '{"step": 4}');
    const result = run({ ...TRAIN_ENV, AWS_BATCH_JOB_ATTEMPT: '2', SIAL_OBJECT_STORE_ROOT: s3Root }, `${JQ_DIR}:/usr/bin:/bin`);
    expect(result.code).toBe(0);
    expect(handedOver()).toEqual(expect.objectContaining({ attempt: '2', resume: `${RUN}checkpoints/step-4/` }));
  });

  it("says the image is broken (70) when the trainer's Python is missing", () => {
    const result = run({ ...TRAIN_ENV, SIAL_PYTHON: join(dir, 'no-such-python') });
    expect(result.code).toBe(70);
    expect(result.stderr).toContain("the trainer's Python");
  });
});

describe('training entrypoint: resume after a Spot reclaim', () => {
  it('resumes attempt 2 from the checkpoint the pointer names', () => {
    putObject(`${RUN}checkpoints/step-200/model.safetensors`, 'weights');
    putObject(`${RUN}checkpoints/step-300/partial`, 'an upload cut short by the reclaim');
    putObject(`${RUN}checkpoints/latest.json`, '{"step": 200, "writtenAt": "2026-05-04T11:58:00Z"}');
    const result = run({ ...TRAIN_ENV, AWS_BATCH_JOB_ATTEMPT: '2' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`attempt 2 of run run-42 resumes from ${RUN}checkpoints/step-200/`);
    expect(result.stdout).toContain(`resume=${RUN}checkpoints/step-200/`);
    expect(handedOver()).toEqual(expect.objectContaining({ attempt: '2', resume: `${RUN}checkpoints/step-200/` }));
    expect(result.awsCalls).toEqual([`s3 cp ${RUN}checkpoints/latest.json -`]);
  });

  it('starts a later attempt from the base model when no checkpoint was written yet', () => {
    const result = run({ ...TRAIN_ENV, AWS_BATCH_JOB_ATTEMPT: '3' });
    expect(result.code).toBe(0);
    expect(handedOver()).toEqual(expect.objectContaining({ attempt: '3', resume: '' }));
    expect(result.stdout).toContain(`attempt 3 of run run-42 found no checkpoint under ${RUN}checkpoints/: starting from the base model`);
  });

  it('stops with 65 when the pointer is not {"step": N}', () => {
    putObject(`${RUN}checkpoints/latest.json`, '{"stp": "two hundred"}');
    const result = run({ ...TRAIN_ENV, AWS_BATCH_JOB_ATTEMPT: '2' });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain(`the checkpoint pointer ${RUN}checkpoints/latest.json is not {"step": <N>}`);
    expect(handedOver()).toBeUndefined();
  });

  it('stops with 74 when S3 cannot be read, rather than silently starting over', () => {
    const result = run({ ...TRAIN_ENV, AWS_BATCH_JOB_ATTEMPT: '2', FAKE_AWS_DENY: '1' });
    expect(result.code).toBe(74);
    expect(result.stderr).toContain('could not read the checkpoint pointer');
    expect(result.stderr).toContain('AccessDenied');
  });
});

describe('training entrypoint: contract violations', () => {
  it('reports every problem at once and exits 64', () => {
    const result = run({
      ...TRAIN_ENV,
      SIAL_ALGORITHM: 'ppo',
      SIAL_HYPERPARAMETERS: '[1, 2]',
      SIAL_CHECKPOINT_URI: `${RUN}checkpoints`,
      SIAL_DATASET_URI: undefined,
      SIAL_RUN_ID: '../etc',
      AWS_BATCH_JOB_ATTEMPT: 'two',
    });
    expect(result.code).toBe(64);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines).toEqual([
      '  - SIAL_RUN_ID must be 1-128 letters, digits, - or _ starting with a letter or digit; received "../etc"',
      '  - AWS_BATCH_JOB_ATTEMPT must be a positive integer; received "two"',
      '  - SIAL_DATASET_URI is not set',
      `  - SIAL_CHECKPOINT_URI is a prefix and must end in /; received "${RUN}checkpoints"`,
      '  - SIAL_ALGORITHM must be one of: grpo dpo; received "ppo"',
      '  - SIAL_HYPERPARAMETERS must be a JSON object such as {"learning_rate":1e-6}; received "[1, 2]"',
    ]);
    expect(result.awsCalls).toEqual([]);
  });

  it('refuses a mode it does not know and URIs that are not s3://', () => {
    const result = run({ ...EVAL_ENV, SIAL_MODE: 'serve', SIAL_OUTPUT_URI: '/tmp/out/' });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('SIAL_MODE must be one of: train eval; received "serve"');
    expect(result.stderr).toContain('SIAL_OUTPUT_URI must be an s3:// URI with a key (s3://bucket/key); received "/tmp/out/"');
  });

  it('requires the eval inputs, and metrics as a .json object', () => {
    const result = run({ ...EVAL_ENV, SIAL_GOLDEN_SET_URI: undefined, SIAL_METRICS_URI: `${RUN}eval/metrics.csv` });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('SIAL_GOLDEN_SET_URI is not set');
    expect(result.stderr).toContain(`SIAL_METRICS_URI must name a .json object; received "${RUN}eval/metrics.csv"`);
  });

  it('says the image is broken (70) when jq is missing', () => {
    const result = run(TRAIN_ENV, binDir);
    expect(result.code).toBe(70);
    expect(result.stderr).toContain('jq is not in this image');
  });
});
