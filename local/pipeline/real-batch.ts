/**
 * A local AWS Batch that runs the REAL trainer and evaluator: each submitted job runs the training image's
 * entrypoint (training/entrypoint.sh) on this machine, on CPU, with the repository's Python environment
 * (.venv), against the local object store (SIAL_OBJECT_STORE_ROOT). Only the scale is local: a tiny
 * model built on this machine stands in for the base weights, and the stage's hyper-parameters are
 * replaced with caps a laptop trains in seconds. Retries follow the job definition's rules like
 * SimulatedBatch: an attempt interrupted by SIGTERM (exit 75) counts as a Spot reclaim and resumes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { LocalTaskError } from './asl-runner';
import type { FsObjectStore } from './fs-object-store';
import { shouldRetry, type LocalBatch, type SimulatedJobDefinition, type SimulatedJobRecord, type SubmitJobInput } from './simulated-batch';

const REPO = resolve(__dirname, '..', '..');
/** Exit code of an attempt that SIGTERM interrupted after syncing a checkpoint (training/README.md). */
const EXIT_INTERRUPTED = 75;

/** Caps for a CPU run of the tiny model: a few real steps, checkpoints every two. */
export const LOCAL_REAL_HYPERPARAMETERS = {
  max_steps: 6,
  per_device_train_batch_size: 4,
  num_generations: 4,
  max_prompt_length: 256,
  max_completion_length: 24,
  checkpoint_every: 2,
  learning_rate: 1e-4,
  bf16: false,
} as const;

export interface RealBatchOptions {
  readonly store: FsObjectStore;
  /** Folder of the local object store (what `store` maps s3:// URIs into). */
  readonly storeRoot: string;
  readonly definitions: (definitionRef: string) => SimulatedJobDefinition;
  readonly rewardPolicy: RewardPolicy;
  /** Scratch folders and per-attempt logs. */
  readonly workDir: string;
  readonly print: (line: string) => void;
  /** @default <repository>/.venv/bin/python */
  readonly python?: string;
  /**
   * Where a built tiny base model is kept for the next run (one folder per tiny.py and Python environment).
   * @default <repository>/.cache/tiny-base-model
   */
  readonly baseModelCache?: string;
}

/**
 * The Python environment the real trainers (LLM and router) run in, created on first use
 * (training/scripts/venv.sh). The script is run even when `.venv/bin/python` exists: it is there as soon
 * as another process starts creating the environment, long before its packages are installed, and the
 * script waits for that install (and reinstalls when the lock changed).
 */
export function ensurePythonEnvironment(print: (line: string) => void): string {
  const python = join(REPO, '.venv', 'bin', 'python');
  print('[python] checking the training Python environment (.venv; the first install downloads torch, a few minutes)');
  const result = spawnSync('bash', [join(REPO, 'training', 'scripts', 'venv.sh')], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0 || !existsSync(python)) throw new Error(`the training Python environment could not be created (training/scripts/venv.sh exited ${String(result.status)})`);
  return python;
}

export class RealBatch implements LocalBatch {
  readonly jobs: SimulatedJobRecord[] = [];
  private sequence = 0;
  private readonly python: string;

  constructor(private readonly options: RealBatchOptions) {
    this.python = options.python ?? join(REPO, '.venv', 'bin', 'python');
  }

  async submitJob(input: SubmitJobInput): Promise<Record<string, unknown>> {
    const definition = this.options.definitions(input.JobDefinition);
    const env = Object.fromEntries((input.ContainerOverrides?.Environment ?? []).map((e) => [e.Name, e.Value]));
    const mode = env.SIAL_MODE ?? 'train';
    const jobId = `local-real-${++this.sequence}`;
    if (mode === 'train') this.ensureBaseModel(requireEnv(env, 'SIAL_BASE_MODEL_URI'));
    else this.ensureGoldenSet(requireEnv(env, 'SIAL_GOLDEN_SET_URI'), env.SIAL_TARGET_MODEL_ID ?? '');

    const attempts: Array<Record<string, unknown>> = [];
    const environments: Array<Record<string, string>> = [];
    const resumedFrom: number[] = [];
    let succeeded = false;
    for (let attempt = 1; attempt <= definition.attempts; attempt++) {
      const attemptEnv: Record<string, string> = {
        ...env,
        SIAL_HYPERPARAMETERS: JSON.stringify(LOCAL_REAL_HYPERPARAMETERS),
        SIAL_REWARD_POLICY: JSON.stringify(this.options.rewardPolicy),
        AWS_BATCH_JOB_ATTEMPT: String(attempt),
        AWS_BATCH_JOB_ID: jobId,
      };
      environments.push(attemptEnv);
      if (mode === 'train') {
        const pointer = await this.options.store.getText(`${requireEnv(env, 'SIAL_CHECKPOINT_URI')}latest.json`);
        resumedFrom.push(pointer === undefined || attempt === 1 ? 0 : (JSON.parse(pointer) as { step: number }).step);
      }
      const startedAt = Date.now();
      const code = await this.runEntrypoint(attemptEnv, `${jobId}-${attempt}`);
      const stoppedAt = Date.now();
      const interrupted = code === EXIT_INTERRUPTED;
      const statusReason = code === 0 ? 'Essential container in task exited' : interrupted ? 'Host EC2 (local): the attempt was stopped with SIGTERM' : 'Essential container in task exited';
      attempts.push({ StartedAt: startedAt, StoppedAt: stoppedAt, StatusReason: statusReason, Container: { ExitCode: code, Reason: `exit ${code}`, LogStreamName: `local/${jobId}/${attempt}` } });
      this.options.print(`[real trainer] ${mode} job ${input.JobName} attempt ${attempt}: exit ${code} after ${((stoppedAt - startedAt) / 1000).toFixed(1)} s (log ${this.logFile(`${jobId}-${attempt}`)})`);
      if (code === 0) {
        succeeded = true;
        break;
      }
      if (!shouldRetry(definition.evaluateOnExit, { statusReason, reason: `exit ${code}`, exitCode: code })) break;
    }
    const last = attempts[attempts.length - 1] as { StartedAt: number; StoppedAt: number; StatusReason: string; Container: { ExitCode: number } } | undefined;
    const description = {
      JobArn: `arn:aws:batch:local:000000000000:job/${jobId}`,
      JobId: jobId,
      JobName: input.JobName,
      JobQueue: input.JobQueue,
      JobDefinition: input.JobDefinition,
      Status: succeeded ? 'SUCCEEDED' : 'FAILED',
      StatusReason: last?.StatusReason,
      CreatedAt: last === undefined ? Date.now() : (attempts[0] as { StartedAt: number }).StartedAt,
      StartedAt: last?.StartedAt,
      StoppedAt: last?.StoppedAt,
      Attempts: attempts,
      Container: { Environment: input.ContainerOverrides?.Environment ?? [], ExitCode: last?.Container.ExitCode },
      Tags: { trainer: 'real-local-cpu' },
    };
    this.jobs.push({ jobName: input.JobName, mode, attemptEnvironments: environments, resumedFromSteps: resumedFrom, status: succeeded ? 'SUCCEEDED' : 'FAILED' });
    if (!succeeded) throw new LocalTaskError('States.TaskFailed', JSON.stringify(description));
    return description;
  }

  private logFile(name: string): string {
    return join(this.options.workDir, 'logs', `${name}.log`);
  }

  private runEntrypoint(env: Record<string, string>, name: string): Promise<number> {
    const log = this.logFile(name);
    mkdirSync(join(this.options.workDir, 'logs'), { recursive: true });
    const child = spawn('bash', [join(REPO, 'training', 'entrypoint.sh')], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? REPO,
        ...env,
        SIAL_OBJECT_STORE_ROOT: this.options.storeRoot,
        SIAL_PYTHON: this.python,
        SIAL_WORKDIR: join(this.options.workDir, name),
        PYTHONPATH: join(REPO, 'training'),
        HF_HUB_OFFLINE: '1',
        TRANSFORMERS_OFFLINE: '1',
        HF_DATASETS_OFFLINE: '1',
        TOKENIZERS_PARALLELISM: 'false',
        OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const write = (chunk: Buffer): void => appendFileSync(log, chunk);
    child.stdout.on('data', write);
    child.stderr.on('data', write);
    return new Promise((resolvePromise, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolvePromise(code ?? (signal === null ? 1 : 128 + 15)));
    });
  }

  /**
   * A tiny model built on this machine stands in for the base weights (no download). It is the same model
   * on every run (fixed corpus and seed), so it is built once per training/sial_training/hf/tiny.py and
   * Python environment (its requirements stamp) and copied from the cache after that: building it is a
   * Python process that spends about nine CPU seconds importing transformers and torch for a tenth of a
   * second of work.
   */
  private ensureBaseModel(uri: string): void {
    const dir = this.options.store.pathOf(`${uri.endsWith('/') ? uri : `${uri}/`}config.json`).replace(/config\.json$/, '');
    if (existsSync(join(dir, 'config.json'))) return;
    const cached = this.baseModelCacheFolder();
    if (cached !== undefined && existsSync(join(cached, 'config.json'))) {
      cpSync(cached, dir, { recursive: true });
      this.options.print(`[real trainer] the tiny Qwen2 model and tokenizer (random weights, trained on nothing yet) copied from ${cached} as the base weights at ${uri}`);
      return;
    }
    this.options.print(`[real trainer] building a tiny Qwen2 model and tokenizer as the base weights at ${uri} (random weights, trained on nothing yet)`);
    const result = spawnSync(this.python, ['-m', 'sial_training.hf.tiny', dir], {
      cwd: REPO,
      env: { ...process.env, PYTHONPATH: join(REPO, 'training'), OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1', TOKENIZERS_PARALLELISM: 'false' },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new LocalTaskError('States.TaskFailed', `could not build the tiny base model: ${result.stderr.slice(-2000)}`);
    if (cached !== undefined) keepInCache(dir, cached);
  }

  /** The cache folder of the tiny base model, or undefined when the environment has no requirements stamp (training/scripts/venv.sh writes it). */
  private baseModelCacheFolder(): string | undefined {
    const stamp = join(dirname(dirname(this.python)), '.sial-requirements.sha256');
    if (!existsSync(stamp)) return undefined;
    const key = createHash('sha256').update(readFileSync(join(REPO, 'training', 'sial_training', 'hf', 'tiny.py'))).update(readFileSync(stamp)).digest('hex').slice(0, 24);
    return join(this.options.baseModelCache ?? join(REPO, '.cache', 'tiny-base-model'), key);
  }

  /** The starter golden set of the target (training/golden-sets/), unless one is already in the store. */
  private ensureGoldenSet(uri: string, targetModelId: string): void {
    const dir = this.options.store.pathOf(`${uri}golden.json`).replace(/golden\.json$/, '');
    if (existsSync(join(dir, 'golden.json'))) return;
    const starter = join(REPO, 'training', 'golden-sets', existsSync(join(REPO, 'training', 'golden-sets', targetModelId)) ? targetModelId : 'qwen3-4b');
    mkdirSync(dir, { recursive: true });
    cpSync(starter, dir, { recursive: true });
    this.options.print(`[real trainer] golden set: the starter set ${starter} copied to ${uri}`);
  }
}

/** Copies a built model into the cache under a temporary name and renames it, so a reader never sees half a folder; a failure only costs the next run a build. */
function keepInCache(built: string, cached: string): void {
  try {
    mkdirSync(dirname(cached), { recursive: true });
    const staging = mkdtempSync(`${cached}.partial-`);
    cpSync(built, staging, { recursive: true });
    try {
      renameSync(staging, cached);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another run cached it first
    }
  } catch {
    // an unwritable cache folder: the model is built again next time
  }
}

function requireEnv(env: Record<string, string>, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new LocalTaskError('States.TaskFailed', `real local Batch: the job has no ${name} in its environment`);
  return value;
}
