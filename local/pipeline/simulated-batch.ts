/**
 * A SIMULATED AWS Batch for local mode and tests: it runs no container and no GPU. It plays a
 * configured scenario for the training and the eval job (Spot reclaims, an application error, success)
 * against the job definition's own retry strategy (attempts and evaluateOnExit rules read from the
 * synthesized template), keeps checkpoints in the local object store so a retried training attempt
 * resumes from the newest one, writes placeholder artifacts and the eval metrics, and answers like
 * Step Functions' `submitJob.sync`: the DescribeJobs job description (PascalCase), or a
 * `States.TaskFailed` error whose cause is it. Times are simulated (no waiting): each attempt "runs"
 * for the scenario's hours.
 */
import type { EvalMetrics } from '../../lambdas/pipeline/contracts';
import type { ObjectStore } from '../../lambdas/pipeline/ports';
import { LocalTaskError } from './asl-runner';

/** One rule of a job definition's retry strategy (`EvaluateOnExit`), as in CloudFormation. */
export interface BatchRetryRule {
  readonly Action: 'RETRY' | 'EXIT' | 'retry' | 'exit';
  readonly OnStatusReason?: string;
  readonly OnReason?: string;
  readonly OnExitCode?: string;
}

/** What the simulation needs from a job definition. */
export interface SimulatedJobDefinition {
  readonly attempts: number;
  readonly evaluateOnExit: readonly BatchRetryRule[];
}

export type AttemptOutcome = 'spot-reclaim' | 'app-error' | 'success';

export interface SimulatedBatchScenario {
  /** Outcome of each training attempt in turn; the last one repeats. */
  readonly trainAttempts: readonly AttemptOutcome[];
  /** Simulated hours one training attempt runs (a reclaimed attempt runs half of it). */
  readonly attemptHours: number;
  /** Training steps of a full run; checkpoints are written every `checkpointEvery` steps. */
  readonly totalSteps: number;
  readonly checkpointEvery: number;
  /** What the eval job writes to metrics.json. */
  readonly evalMetrics: EvalMetrics;
  /** Outcome of each eval attempt in turn; the last one repeats. @default ['success'] */
  readonly evalAttempts?: readonly AttemptOutcome[];
  /** Simulated hours one eval attempt runs (a reclaimed attempt runs half of it). @default 0.25 */
  readonly evalAttemptHours?: number;
}

/** What one simulated attempt did. */
interface AttemptResult {
  readonly succeeded: boolean;
  readonly hours: number;
  readonly statusReason: string;
  readonly reason: string;
  readonly exitCode: number | undefined;
}

/** The statusReason AWS Batch gives an attempt whose Spot instance was reclaimed. */
export const SPOT_RECLAIM_REASON = 'Host EC2 (instance i-0simulated0000001) terminated.';
const APP_ERROR_REASON = 'Essential container in task exited';
const TIMEOUT_REASON = 'Job attempt duration exceeded timeout';
/** Simulated hours an attempt that fails with an application error runs. */
const APP_ERROR_HOURS = 0.1;
const DEFAULT_EVAL_HOURS = 0.25;

/** An attempt that exits with an application error: Batch's retry rules end the job. */
const APP_ERROR: AttemptResult = { succeeded: false, hours: APP_ERROR_HOURS, statusReason: APP_ERROR_REASON, reason: 'Error: simulated application failure (exit 1)', exitCode: 1 };

/** An attempt whose Spot instance was reclaimed after `hours`: Batch's retry rules retry it. */
function spotReclaimed(hours: number): AttemptResult {
  return { succeeded: false, hours, statusReason: SPOT_RECLAIM_REASON, reason: 'Host terminated', exitCode: undefined };
}

/** Batch's glob: `*` only at the end, matching any suffix; otherwise exact. */
function globMatches(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined) return true;
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
}

/** Applies EvaluateOnExit: the first rule whose conditions all match decides; no match retries. */
export function shouldRetry(rules: readonly BatchRetryRule[], attempt: { statusReason: string; reason: string; exitCode: number | undefined }): boolean {
  for (const rule of rules) {
    const exitCode = attempt.exitCode === undefined ? '' : String(attempt.exitCode);
    if (globMatches(rule.OnStatusReason, attempt.statusReason) && globMatches(rule.OnReason, attempt.reason) && globMatches(rule.OnExitCode, exitCode)) {
      return rule.Action.toUpperCase() === 'RETRY';
    }
  }
  return true;
}

/** What the local pipeline needs of a Batch: `submitJob.sync`, and a record of the jobs it ran. */
export interface LocalBatch {
  readonly jobs: SimulatedJobRecord[];
  submitJob(input: SubmitJobInput): Promise<Record<string, unknown>>;
}

export interface SubmitJobInput {
  readonly JobDefinition: string;
  readonly JobName: string;
  readonly JobQueue: string;
  readonly ContainerOverrides?: { readonly Environment?: ReadonlyArray<{ Name: string; Value: string }> };
  readonly Timeout?: { readonly AttemptDurationSeconds?: number };
}

interface AttemptRecord {
  StartedAt: number;
  StoppedAt: number;
  StatusReason: string;
  Container: { ExitCode?: number; Reason?: string; LogStreamName: string };
}

/** One simulated job run: what every attempt did. */
export interface SimulatedJobRecord {
  readonly jobName: string;
  readonly mode: string;
  readonly attemptEnvironments: ReadonlyArray<Record<string, string>>;
  readonly resumedFromSteps: readonly number[];
  readonly status: 'SUCCEEDED' | 'FAILED';
}

export class SimulatedBatch implements LocalBatch {
  /** Every job submitted, for tests and the local report. */
  readonly jobs: SimulatedJobRecord[] = [];
  private sequence = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly definitions: (definitionRef: string) => SimulatedJobDefinition,
    private readonly scenario: SimulatedBatchScenario,
    private readonly clock: () => Date,
  ) {}

  /** Runs a job to completion the way `submitJob.sync` reports it. */
  async submitJob(input: SubmitJobInput): Promise<Record<string, unknown>> {
    const definition = this.definitions(input.JobDefinition);
    const env = Object.fromEntries((input.ContainerOverrides?.Environment ?? []).map((e) => [e.Name, e.Value]));
    const mode = env.SIAL_MODE ?? 'train';
    const jobId = `simulated-${++this.sequence}`;
    const attempts: AttemptRecord[] = [];
    const environments: Array<Record<string, string>> = [];
    const resumedFrom: number[] = [];
    let time = this.clock().getTime();
    let succeeded = false;

    for (let attempt = 1; attempt <= definition.attempts; attempt++) {
      const attemptEnv = { ...env, AWS_BATCH_JOB_ATTEMPT: String(attempt), AWS_BATCH_JOB_ID: jobId };
      environments.push(attemptEnv);
      const outcome = mode === 'eval' ? await this.runEvalAttempt(attempt, attemptEnv) : await this.runTrainAttempt(attempt, attemptEnv, input.Timeout?.AttemptDurationSeconds, resumedFrom);
      const startedAt = time;
      time += outcome.hours * 3_600_000;
      attempts.push({
        StartedAt: startedAt,
        StoppedAt: time,
        StatusReason: outcome.statusReason,
        Container: { ExitCode: outcome.exitCode, Reason: outcome.reason, LogStreamName: `simulated/${jobId}/${attempt}` },
      });
      if (outcome.succeeded) {
        succeeded = true;
        break;
      }
      if (!shouldRetry(definition.evaluateOnExit, { statusReason: outcome.statusReason, reason: outcome.reason, exitCode: outcome.exitCode })) break;
    }

    const last = attempts[attempts.length - 1];
    const description = {
      JobArn: `arn:aws:batch:local:000000000000:job/${jobId}`,
      JobId: jobId,
      JobName: input.JobName,
      JobQueue: input.JobQueue,
      JobDefinition: input.JobDefinition,
      Status: succeeded ? 'SUCCEEDED' : 'FAILED',
      StatusReason: succeeded ? 'Essential container in task exited' : last?.StatusReason,
      CreatedAt: attempts[0]?.StartedAt,
      StartedAt: last?.StartedAt,
      StoppedAt: last?.StoppedAt,
      Attempts: attempts,
      Container: { Environment: input.ContainerOverrides?.Environment ?? [], ExitCode: last?.Container.ExitCode },
      Tags: { simulated: 'true' },
    };
    this.jobs.push({ jobName: input.JobName, mode, attemptEnvironments: environments, resumedFromSteps: resumedFrom, status: succeeded ? 'SUCCEEDED' : 'FAILED' });
    if (!succeeded) throw new LocalTaskError('States.TaskFailed', JSON.stringify(description));
    return description;
  }

  private static outcomeOf(outcomes: readonly AttemptOutcome[], attempt: number): AttemptOutcome {
    return outcomes[Math.min(attempt - 1, outcomes.length - 1)] ?? 'success';
  }

  private async runTrainAttempt(attempt: number, env: Record<string, string>, timeoutSeconds: number | undefined, resumedFrom: number[]): Promise<AttemptResult> {
    const checkpoints = requireEnv(env, 'SIAL_CHECKPOINT_URI');
    const pointer = await this.store.getText(`${checkpoints}latest.json`);
    const startStep = pointer === undefined ? 0 : (JSON.parse(pointer) as { step: number }).step;
    resumedFrom.push(startStep);
    const outcome = SimulatedBatch.outcomeOf(this.scenario.trainAttempts, attempt);
    const { attemptHours, totalSteps, checkpointEvery } = this.scenario;

    if (timeoutSeconds !== undefined && attemptHours * 3600 > timeoutSeconds) {
      return { succeeded: false, hours: timeoutSeconds / 3600, statusReason: TIMEOUT_REASON, reason: TIMEOUT_REASON, exitCode: undefined };
    }
    if (outcome === 'app-error') return APP_ERROR;
    const endStep = outcome === 'spot-reclaim' ? Math.min(totalSteps, startStep + Math.floor((totalSteps - startStep) / 2)) : totalSteps;
    const lastCheckpoint = endStep - (endStep % checkpointEvery);
    if (lastCheckpoint > startStep) {
      await this.store.putText(`${checkpoints}step-${lastCheckpoint}/SIMULATED.txt`, `simulated checkpoint at step ${lastCheckpoint}\n`);
      await this.store.putText(`${checkpoints}latest.json`, JSON.stringify({ step: lastCheckpoint }));
    }
    const hours = outcome === 'spot-reclaim' ? attemptHours / 2 : attemptHours;
    if (outcome === 'spot-reclaim') return spotReclaimed(hours);

    const output = requireEnv(env, 'SIAL_OUTPUT_URI');
    await this.store.putText(`${output}model.tar.gz`, 'SIMULATED model artifacts: no weights were trained in local mode\n');
    await this.store.putText(
      `${output}training-summary.json`,
      JSON.stringify({ simulated: true, algorithm: env.SIAL_ALGORITHM, resumedFromStep: startStep, steps: totalSteps, attempt }, null, 2),
    );
    return { succeeded: true, hours, statusReason: 'Essential container in task exited', reason: 'exit 0', exitCode: 0 };
  }

  /** An eval attempt starts over (it keeps no checkpoint) and writes metrics.json only when it succeeds. */
  private async runEvalAttempt(attempt: number, env: Record<string, string>): Promise<AttemptResult> {
    const outcome = SimulatedBatch.outcomeOf(this.scenario.evalAttempts ?? ['success'], attempt);
    const hours = this.scenario.evalAttemptHours ?? DEFAULT_EVAL_HOURS;
    if (outcome === 'app-error') return APP_ERROR;
    if (outcome === 'spot-reclaim') return spotReclaimed(hours / 2);
    await this.store.putText(requireEnv(env, 'SIAL_METRICS_URI'), JSON.stringify(this.scenario.evalMetrics, null, 2));
    return { succeeded: true, hours, statusReason: 'Essential container in task exited', reason: 'exit 0', exitCode: 0 };
  }
}


function requireEnv(env: Record<string, string>, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new LocalTaskError('States.TaskFailed', `simulated Batch: the job has no ${name} in its environment`);
  return value;
}
