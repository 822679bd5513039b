/**
 * The job record of each Batch job of a run (lambdas/pipeline/jobs/job-record.ts), written by the state
 * machine itself: a native `dynamodb:updateItem` Task (no Lambda) right before each `sial.job.updated`
 * event, `submitted` before the job and `succeeded` or `failed` once its hours are booked. EventBridge
 * keeps nothing an operator can list later, so the record goes to a table the state machine may only
 * update.
 *
 * Each write sets the job's identity whole and appends one history entry. It is conditioned on the
 * status not being the one it writes, so a write retried after an ambiguous failure (it did land) fails
 * that condition instead of appending the entry twice; the caller treats that as done.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { JOB_RECORDS_TABLE_SCHEMA, type JobKind, type JobStatus } from '../lambdas/pipeline/jobs/job-record';
import type { TrainingStateName } from './training-pipeline-states';

const J = sfn.JsonPath;
const V = tasks.DynamoAttributeValue;

/** Throttling and service errors of `dynamodb:updateItem`, retried before the state's Catch applies. */
export const DYNAMODB_TRANSIENT_ERRORS = [
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.RequestLimitExceeded',
  'DynamoDB.ThrottlingException',
  'DynamoDB.InternalServerErrorException',
  'DynamoDB.AmazonDynamoDBException',
] as const;

/** The write's condition failed: this status is already recorded (a retried write that had landed). */
export const JOB_RECORD_ALREADY_WRITTEN = 'DynamoDB.ConditionalCheckFailedException';

/** Where one job's record states read from. */
export interface JobRecordSpec {
  readonly kind: JobKind;
  /** The three states' names. */
  readonly names: Readonly<Record<JobStatus, TrainingStateName>>;
  /** The job's `.sync` result (the Batch job description), present after it succeeded. */
  readonly jobPath: string;
  /** The booking's result (`attempts`), present after the booking. */
  readonly usagePath: string;
}

export interface JobRecordStates {
  readonly submitted: tasks.DynamoUpdateItem;
  readonly succeeded: tasks.DynamoUpdateItem;
  readonly failed: tasks.DynamoUpdateItem;
}

/** Attribute values by attribute name, written with `SET #name = :name`. */
type Values = Record<string, tasks.DynamoAttributeValue>;

/** The UpdateItem parameters of one write: identity and status set, end fields set, one entry appended. */
function updateOf(identity: Values, ended: Values, entry: Values, submitted: boolean): Pick<tasks.DynamoUpdateItemProps, 'updateExpression' | 'conditionExpression' | 'expressionAttributeNames' | 'expressionAttributeValues'> {
  const assigned = { ...identity, ...ended };
  const clauses = [
    ...Object.keys(assigned).map((name) => `#${name} = :${name}`),
    '#updatedAt = :at',
    // The first submission's time stays, whatever is written later.
    ...(submitted ? ['#submittedAt = if_not_exists(#submittedAt, :at)'] : ['#endedAt = :at']),
    '#history = list_append(if_not_exists(#history, :noHistory), :entry)',
  ];
  const names = [...Object.keys(assigned), 'updatedAt', submitted ? 'submittedAt' : 'endedAt', 'history'];
  return {
    updateExpression: `SET ${clauses.join(', ')}`,
    conditionExpression: 'attribute_not_exists(#status) OR #status <> :status',
    expressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
    expressionAttributeValues: {
      ...Object.fromEntries(Object.entries(assigned).map(([name, value]) => [`:${name}`, value])),
      ':at': V.fromString(J.stringAt('$$.State.EnteredTime')),
      ':noHistory': V.fromList([]),
      ':entry': V.fromList([V.fromMap(entry)]),
    },
  };
}

/** The three updateItem states of one job; the caller wires and catches them. */
export function jobRecordStates(scope: Construct, table: dynamodb.ITable, spec: JobRecordSpec): JobRecordStates {
  // Everything here exists from `Build dataset` on, as for the job's events.
  const identity = (status: JobStatus): Values => ({
    jobKind: V.fromString(spec.kind),
    runId: V.fromString(J.stringAt('$.request.runId')),
    executionName: V.fromString(J.executionName),
    targetModelId: V.fromString(J.stringAt('$.request.targetModelId')),
    datasetId: V.fromString(J.stringAt('$.dataset.datasetId')),
    modelOutputUri: V.fromString(J.stringAt('$.request.uris.output')),
    status: V.fromString(status),
  });
  const at = V.fromString(J.stringAt('$$.State.EnteredTime'));
  // DynamoDB numbers travel as strings; the booking's count is a JSON number.
  const attempts = V.numberFromString(J.jsonToString(J.numberAt(`${spec.usagePath}.attempts`)));
  const write = (status: JobStatus, ended: Values): tasks.DynamoUpdateItem => {
    const task = new tasks.DynamoUpdateItem(scope, spec.names[status], {
      table,
      key: { [JOB_RECORDS_TABLE_SCHEMA.partitionKey]: V.fromString(J.format(`${spec.kind}-{}`, J.stringAt('$.request.runId'))) },
      ...updateOf(identity(status), ended, { status: V.fromString(status), at, ...ended }, status === 'submitted'),
      // A record is a side effect: what follows still needs the state's data.
      resultPath: J.DISCARD,
    });
    task.addRetry({ errors: [...DYNAMODB_TRANSIENT_ERRORS], interval: Duration.seconds(2), maxAttempts: 4, backoffRate: 2 });
    return task;
  };
  return {
    submitted: write('submitted', {}),
    succeeded: write('succeeded', { attempts, batchJobId: V.fromString(J.stringAt(`${spec.jobPath}.JobId`)) }),
    // $.error is the job's caught error; its name only (the cause is Batch's job description).
    failed: write('failed', { attempts, error: V.fromString(J.stringAt('$.error.Error')) }),
  };
}

/**
 * Goes on to `next` when the write found its status already recorded (a retry of a write that landed),
 * keeping the state's data as it was.
 */
export function treatAlreadyWrittenAsDone(state: tasks.DynamoUpdateItem, next: sfn.IChainable): void {
  state.addCatch(next, { errors: [JOB_RECORD_ALREADY_WRITTEN], resultPath: J.DISCARD });
}
