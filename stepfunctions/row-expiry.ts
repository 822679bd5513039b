/**
 * The lake's daily row expiry as a Standard workflow, JSONPath only: one Athena task per table with a
 * row retention (`Expire <table>`), each `DELETE FROM <table> WHERE <time column> < <cutoff>` through
 * Step Functions' native Athena integration (startQueryExecution.sync: the state waits for the query
 * and fails when it fails), in table order, then `Expired`. No Lambda: the statements are fixed at
 * synthesis and Athena computes the cutoff when each one runs.
 *
 * A failed statement ends in `Expiry failed` with the error at `$.error`; tables already expired stay
 * expired, and the next run deletes what this one left (a DELETE of already-deleted rows is a no-op).
 * Iceberg DELETE writes delete files; the deleted rows' bytes go when the table maintenance compacts
 * the table and expires the old snapshots.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { renderAthenaRetentionDelete, type RowRetentionRule } from '../lambdas/shared/row-retention';

export const ROW_EXPIRY_STATES = {
  expire: (table: string): string => `Expire ${table}`,
  expired: 'Expired',
  expiryFailed: 'Expiry failed',
} as const;

export interface RowExpiryDefinitionProps {
  readonly databaseName: string;
  readonly workGroupName: string;
  /** At least one. */
  readonly rules: readonly RowRetentionRule[];
}

/** The native integration that starts a query and waits for its end. */
export const ATHENA_START_QUERY_SYNC = 'arn:aws:states:::athena:startQueryExecution.sync';

export function buildRowExpiryDefinition(scope: Construct, props: RowExpiryDefinitionProps): sfn.IChainable {
  const [first, ...rest] = props.rules;
  if (first === undefined) throw new Error('buildRowExpiryDefinition: no table has a row retention; expected at least one rule');
  const S = ROW_EXPIRY_STATES;
  const failed = new sfn.Fail(scope, S.expiryFailed, { comment: 'The statement that failed; tables expired before it stay expired', errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const task = (rule: RowRetentionRule): sfn.CustomState => {
    // CustomState rather than tasks.AthenaStartQueryExecution: that task grants itself glue:Delete*/Create* on
    // every table of the database and s3 on *, where this workflow needs a DELETE on its tables only.
    const state = new sfn.CustomState(scope, S.expire(rule.table), {
      stateJson: {
        Type: 'Task',
        Comment: `Rows of ${rule.table} whose ${rule.timeColumn} is more than ${rule.days} days old`,
        Resource: ATHENA_START_QUERY_SYNC,
        Parameters: {
          QueryString: renderAthenaRetentionDelete(props.databaseName, rule),
          WorkGroup: props.workGroupName,
          QueryExecutionContext: { Database: props.databaseName },
        },
        ResultPath: null,
      },
    });
    // A concurrent commit to the same table (Firehose delivers all day) fails the Iceberg commit: retry.
    state.addRetry({ errors: [sfn.Errors.TASKS_FAILED, 'Athena.TooManyRequestsException'], interval: Duration.minutes(1), maxAttempts: 3, backoffRate: 2 });
    state.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    return state;
  };
  const done = new sfn.Succeed(scope, S.expired, { comment: 'Every table with a row retention expired its old rows' });
  let chain: sfn.INextable & sfn.IChainable = task(first);
  const start = chain;
  for (const rule of rest) {
    const next = task(rule);
    chain.next(next);
    chain = next;
  }
  chain.next(done);
  return start;
}
