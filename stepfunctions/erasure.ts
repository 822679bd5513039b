/**
 * The erasure workflow of a stage as a Standard workflow, JSONPath only, states named exactly as
 * ERASURE_STATES (a contract with the tests). Every Task invokes the erasure function with its step
 * (lambdas/erasure/erasure-steps.ts):
 *
 *   Receive request -> Record request ($.run: erasure id, target) -> Resolve targets (trace ids, the
 *   files holding the rows) -> Delete rows (Athena DELETE) -> Rewrite files (OPTIMIZE, VACUUM age) ->
 *   Wait out snapshot age -> Vacuum -> Expire versions (noncurrent S3 versions) -> Verify ->
 *   Flag lineage -> Erased
 *
 * Any failure: `Mark failed` (ledger status failed) -> `Notify failure` (the stage's notifications
 * topic) -> `Erasure failed`. The notification names the execution and the error, never a target.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { ErasureStep } from '../lambdas/erasure/erasure-steps';
import { invokeForResult } from './lambda-tasks';

export const ERASURE_STATES = {
  receive: 'Receive request',
  record: 'Record request',
  resolve: 'Resolve targets',
  delete: 'Delete rows',
  rewrite: 'Rewrite files',
  waitSnapshotAge: 'Wait out snapshot age',
  vacuum: 'Vacuum',
  expireVersions: 'Expire versions',
  verify: 'Verify',
  lineage: 'Flag lineage',
  erased: 'Erased',
  markFailed: 'Mark failed',
  notifyFailure: 'Notify failure',
  failed: 'Erasure failed',
} as const;

export interface ErasureDefinitionProps {
  readonly erasureFunction: lambda.IFunction;
  readonly alarmTopic: sns.ITopic;
  /** How long to wait between the rewrite and VACUUM: the tables' VACUUM snapshot age plus a margin. */
  readonly snapshotAgeWait: Duration;
}

const J = sfn.JsonPath;

/** The states, built in `scope`; returns the chain from `Receive request`. */
export function buildErasureDefinition(scope: Construct, props: ErasureDefinitionProps): sfn.IChainable {
  const S = ERASURE_STATES;
  const fn = props.erasureFunction;
  const step = (id: string, name: ErasureStep, resultPath: string, extra: Record<string, unknown> = {}): tasks.LambdaInvoke =>
    invokeForResult(scope, id, fn, { step: name, state: J.objectAt('$.run'), ...extra }, resultPath);

  const failed = new sfn.Fail(scope, S.failed, { comment: 'The ledger says failed; the notifications topic was told', errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const notify = new tasks.SnsPublish(scope, S.notifyFailure, {
    topic: props.alarmTopic,
    subject: 'sial erasure failed',
    message: sfn.TaskInput.fromObject({
      text: 'An erasure execution failed: the ledger entry says failed. Read the execution, fix the cause and start the request again (sial erase).',
      execution: J.executionId,
      error: J.stringAt('$.error.Error'),
      ledger: J.objectAt('$.failed'),
    }),
    resultPath: J.DISCARD,
  });
  notify.next(failed);
  const markFailed = step(S.markFailed, 'mark-failed', '$.failed', { failure: J.objectAt('$.error'), execution: J.executionId });
  // When the ledger cannot be written either, the notification still goes out, carrying that error.
  markFailed.addCatch(notify, { errors: [sfn.Errors.ALL], resultPath: '$.failed' });
  markFailed.next(notify);
  const onFailure = <T extends sfn.TaskStateBase>(task: T): T => {
    task.addCatch(markFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    return task;
  };

  // $.run exists from the start, so the failure path can pass it even when Record request failed.
  const receive = new sfn.Pass(scope, S.receive, { parameters: { input: J.entirePayload, run: {} } });
  const record = onFailure(invokeForResult(scope, S.record, fn, { step: 'record', input: J.objectAt('$.input'), startedAt: J.stringAt('$$.Execution.StartTime') }, '$.run'));
  const resolve = onFailure(step(S.resolve, 'resolve', '$.run'));
  const deleteRows = onFailure(step(S.delete, 'delete', '$.run'));
  const rewrite = onFailure(step(S.rewrite, 'rewrite', J.DISCARD));
  const wait = new sfn.Wait(scope, S.waitSnapshotAge, { time: sfn.WaitTime.duration(props.snapshotAgeWait) });
  const vacuum = onFailure(step(S.vacuum, 'vacuum', J.DISCARD));
  const expire = onFailure(step(S.expireVersions, 'expire-versions', '$.expired'));
  const verify = onFailure(step(S.verify, 'verify', '$.verification'));
  const lineage = onFailure(step(S.lineage, 'lineage', '$.lineage'));
  const erased = new sfn.Succeed(scope, S.erased, { comment: 'Rows deleted, files rewritten and expired, versions deleted, verified; lineage flagged' });

  // Athena's Iceberg commits can conflict with the streams' commits: a statement is retried, and
  // every step is safe to run again (DELETE of deleted rows, OPTIMIZE, VACUUM and expiry are idempotent).
  for (const task of [deleteRows, rewrite, vacuum, expire]) task.addRetry({ errors: ['AthenaQueryError', 'States.Timeout'], interval: Duration.seconds(60), maxAttempts: 3, backoffRate: 2 });

  receive.next(record).next(resolve).next(deleteRows).next(rewrite).next(wait).next(vacuum).next(expire).next(verify).next(lineage).next(erased);
  return receive;
}
