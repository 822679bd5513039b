/**
 * A local AWS Batch for the router's CPU job: `Train router` runs the REAL router trainer
 * (`python -m sial_training.router`, the router image's entry point) on this machine with the repository's
 * Python environment (.venv), against the local object store (SIAL_OBJECT_STORE_ROOT maps s3:// URIs to
 * the same folder FsObjectStore uses). Nothing is simulated but the queue: the command, the config and
 * the size are exactly what the state machine submits.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalTaskError } from '../pipeline/asl-runner';

const REPO = resolve(__dirname, '..', '..');

/** What `Train router` submits (the resolved Parameters of the raw Batch state). */
export interface RouterSubmitJobInput {
  readonly JobName: string;
  readonly JobQueue: string;
  readonly JobDefinition: string;
  readonly ContainerOverrides: {
    readonly Command: readonly string[];
    readonly ResourceRequirements: ReadonlyArray<{ readonly Type: string; readonly Value: string }>;
    readonly Environment: ReadonlyArray<{ readonly Name: string; readonly Value: string }>;
  };
}

/** One job the local router Batch ran, for the run's summary. */
export interface LocalRouterJob {
  readonly jobName: string;
  readonly command: readonly string[];
  readonly exitCode: number;
  readonly seconds: number;
  readonly log: string;
}

export interface LocalRouterBatchOptions {
  /** Folder of the local object store. */
  readonly storeRoot: string;
  /** Scratch folders and logs. */
  readonly workDir: string;
  readonly print: (line: string) => void;
  /** @default <repository>/.venv/bin/python */
  readonly python?: string;
}

/** The repository's Python environment, if it exists (the router needs only scikit-learn from it). */
export function repositoryPython(): string {
  return join(REPO, '.venv', 'bin', 'python');
}

export class LocalRouterBatch {
  readonly jobs: LocalRouterJob[] = [];
  private sequence = 0;

  constructor(private readonly options: LocalRouterBatchOptions) {}

  async submitJob(input: RouterSubmitJobInput): Promise<Record<string, unknown>> {
    const python = this.options.python ?? repositoryPython();
    if (!existsSync(python)) throw new LocalTaskError('States.TaskFailed', `the router trainer needs the repository's Python environment at ${python} (training/scripts/venv.sh creates it)`);
    const jobId = `local-router-${++this.sequence}`;
    const env = Object.fromEntries(input.ContainerOverrides.Environment.map((e) => [e.Name, e.Value]));
    const log = join(this.options.workDir, 'logs', `${jobId}.log`);
    mkdirSync(join(this.options.workDir, 'logs'), { recursive: true });
    const startedAt = Date.now();
    const code = await new Promise<number>((resolvePromise, reject) => {
      const child = spawn(python, ['-m', 'sial_training.router', ...input.ContainerOverrides.Command], {
        cwd: REPO,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? REPO,
          ...env,
          SIAL_OBJECT_STORE_ROOT: this.options.storeRoot,
          SIAL_WORKDIR: join(this.options.workDir, jobId),
          PYTHONPATH: join(REPO, 'training'),
          OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const write = (chunk: Buffer): void => appendFileSync(log, chunk);
      child.stdout.on('data', write);
      child.stderr.on('data', write);
      child.on('error', reject);
      child.on('close', (exit, signal) => resolvePromise(exit ?? (signal === null ? 1 : 143)));
    });
    const stoppedAt = Date.now();
    const seconds = (stoppedAt - startedAt) / 1000;
    this.jobs.push({ jobName: input.JobName, command: input.ContainerOverrides.Command, exitCode: code, seconds, log });
    this.options.print(`[real router trainer] ${input.JobName}: exit ${code} after ${seconds.toFixed(1)} s on ${input.ContainerOverrides.ResourceRequirements.map((r) => `${r.Value} ${r.Type}`).join(', ')} requested (log ${log})`);
    const description = {
      JobArn: `arn:aws:batch:local:000000000000:job/${jobId}`,
      JobId: jobId,
      JobName: input.JobName,
      JobQueue: input.JobQueue,
      JobDefinition: input.JobDefinition,
      Status: code === 0 ? 'SUCCEEDED' : 'FAILED',
      StatusReason: 'Essential container in task exited',
      StartedAt: startedAt,
      StoppedAt: stoppedAt,
      Attempts: [{ StartedAt: startedAt, StoppedAt: stoppedAt, StatusReason: 'Essential container in task exited', Container: { ExitCode: code, Reason: `exit ${code}` } }],
      Container: { Command: input.ContainerOverrides.Command, ExitCode: code },
      Tags: { trainer: 'real-local-cpu-router' },
    };
    if (code !== 0) throw new LocalTaskError('States.TaskFailed', JSON.stringify(description));
    return description;
  }
}
