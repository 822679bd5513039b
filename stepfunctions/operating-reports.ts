/**
 * The daily operating reports as a Standard workflow, JSONPath only, states named exactly as
 * OPERATING_REPORT_STATES (a contract with the tests):
 *
 *   Write operating reports -> $.report (costs, confidence, one regression report per agent, on Athena)
 *   Regression found? -> Notify regression (SNS, the summary with the report files) -> Reported
 *                     -> Reported
 *
 * Any failure ends in `Reports failed` with the error at `$.error`; files already written stay (a rerun
 * for the same day writes the same files again, and the Parquet cost report into a run folder of its own).
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { invokeForResult } from './lambda-tasks';

export const OPERATING_REPORT_STATES = {
  writeReports: 'Write operating reports',
  regressionFound: 'Regression found?',
  notifyRegression: 'Notify regression',
  reported: 'Reported',
  reportsFailed: 'Reports failed',
} as const;

export interface OperatingReportsDefinitionProps {
  readonly writeReports: lambda.IFunction;
  readonly topic: sns.ITopic;
  readonly stage: string;
}

const J = sfn.JsonPath;

export function buildOperatingReportsDefinition(scope: Construct, props: OperatingReportsDefinitionProps): sfn.IChainable {
  const S = OPERATING_REPORT_STATES;
  const failed = new sfn.Fail(scope, S.reportsFailed, { comment: 'The error that stopped the reports; files written so far stay', errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const write = invokeForResult(scope, S.writeReports, props.writeReports, { startedAt: J.stringAt('$$.Execution.StartTime') }, '$.report');
  write.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  const notify = new tasks.SnsPublish(scope, S.notifyRegression, {
    topic: props.topic,
    subject: `sial ${props.stage}: agent regression detected`,
    message: sfn.TaskInput.fromJsonPathAt('$.report.message'),
    resultPath: sfn.JsonPath.DISCARD,
  });
  notify.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  const reported = new sfn.Succeed(scope, S.reported, { comment: 'Reports written; people told of any regression' });
  write.next(new sfn.Choice(scope, S.regressionFound).when(sfn.Condition.numberGreaterThan('$.report.regressions', 0), notify.next(reported)).otherwise(reported));
  return write;
}
