/**
 * `sial.job.updated` around each Batch job of a run: `submitted` right before the job, then `succeeded`
 * or `failed` once its hours are booked (the booking is what reads the job's attempts, and on failure
 * the only state that parses them out of the error). Ids and counts only: no trace content, no error
 * cause (a failed job's cause is Batch's job description; the error name says what kind of failure).
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { putEventTask, type EventTarget } from './event-tasks';
import { PIPELINE_EVENT_TYPES, type JobEventKind, type JobEventStatus } from './pipeline-events';
import type { TrainingStateName } from './training-pipeline-states';

const J = sfn.JsonPath;

/** Where one job's states and results are. */
export interface JobEventSpec {
  readonly kind: JobEventKind;
  /** The three states' names. */
  readonly names: Readonly<Record<JobEventStatus, TrainingStateName>>;
  /** The job's `.sync` result (the Batch job description), present after it succeeded. */
  readonly jobPath: string;
  /** The booking's result (GpuUsage or RouterCpuUsage: `attempts`), present after the booking. */
  readonly usagePath: string;
}

export interface JobEventStates {
  readonly submitted: tasks.EventBridgePutEvents;
  readonly succeeded: tasks.EventBridgePutEvents;
  readonly failed: tasks.EventBridgePutEvents;
}

/** The three putEvents states of one job; the caller wires and catches them. */
export function jobEventStates(scope: Construct, target: EventTarget, spec: JobEventSpec): JobEventStates {
  // Everything here exists from `Build dataset` on: the jobs run long after it.
  const common = (status: JobEventStatus): Record<string, unknown> => ({
    runId: J.stringAt('$.request.runId'),
    executionName: J.executionName,
    targetModelId: J.stringAt('$.request.targetModelId'),
    datasetId: J.stringAt('$.dataset.datasetId'),
    jobKind: spec.kind,
    // The job's name as submitted (`<kind>-<runId>`): what aws.batch events carry.
    jobName: J.format(`${spec.kind}-{}`, J.stringAt('$.request.runId')),
    status,
    // Where the run's model is written (train jobs) or read from (the eval job).
    modelOutputUri: J.stringAt('$.request.uris.output'),
  });
  const put = (status: JobEventStatus, extra: Record<string, unknown>): tasks.EventBridgePutEvents =>
    putEventTask(scope, spec.names[status], target, PIPELINE_EVENT_TYPES.jobUpdated, { ...common(status), ...extra });
  return {
    submitted: put('submitted', {}),
    succeeded: put('succeeded', { jobId: J.stringAt(`${spec.jobPath}.JobId`), attempts: J.numberAt(`${spec.usagePath}.attempts`) }),
    // $.error is the job's caught error (the booking after a failure keeps it there).
    failed: put('failed', { attempts: J.numberAt(`${spec.usagePath}.attempts`), error: J.stringAt('$.error.Error') }),
  };
}
