/**
 * The daily operating reports as a Standard workflow, JSONPath only, states named exactly as
 * OPERATING_REPORT_STATES (a contract with the tests):
 *
 *   Write operating reports -> $.report (costs, confidence file and table, one regression report per
 *                              agent, on Athena)
 *   Emit reports ready -> `sial.reports.ready` on the default bus (where each report is, the counts)
 *   Regression found? -> Notify regression (SNS, the summary with the report files) -> Reported
 *                     -> Reported
 *
 * A failure of the reports or the notification ends in `Reports failed` with the error at `$.error`;
 * files already written stay (a rerun for the same day writes the same files again, the Parquet cost
 * report into a run folder of its own, and merges equal confidence scores as no change). The event is
 * put after the reports are written, so an event that cannot be put (after its retries) does not undo
 * them: its error is kept at `$.eventError` and the run goes on to the regression check.
 */
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { putEventTask } from './event-tasks';
import { invokeForResult } from './lambda-tasks';
import { PIPELINE_EVENT_TYPES } from './pipeline-events';

export const OPERATING_REPORT_STATES = {
  writeReports: 'Write operating reports',
  emitReportsReady: 'Emit reports ready',
  regressionFound: 'Regression found?',
  notifyRegression: 'Notify regression',
  reported: 'Reported',
  reportsFailed: 'Reports failed',
} as const;

export interface OperatingReportsDefinitionProps {
  readonly writeReports: lambda.IFunction;
  readonly topic: sns.ITopic;
  readonly stage: string;
  /** Where `sial.reports.ready` is put (the account's default bus). */
  readonly eventBus: events.IEventBus;
}

/** Where an event that could not be put is kept when the run goes on without it. */
export const REPORTS_EVENT_ERROR_PATH = '$.eventError';

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
  // Locations and counts only: every path below is in every result of the write step.
  const ready = putEventTask(scope, S.emitReportsReady, { stage: props.stage, eventBus: props.eventBus }, PIPELINE_EVENT_TYPES.reportsReady, {
    stage: props.stage,
    reportDate: J.stringAt('$.report.reportDate'),
    executionName: J.executionName,
    reportPrefix: J.stringAt('$.report.reportPrefix'),
    costs: { csv: J.stringAt('$.report.costsCsv'), parquetPrefix: J.stringAt('$.report.costsParquetPrefix') },
    confidence: { json: J.stringAt('$.report.confidenceJson'), table: J.stringAt('$.report.confidenceTable') },
    regressionReports: J.listAt('$.report.regressionReports'),
    agents: J.numberAt('$.report.agents'),
    regressions: J.numberAt('$.report.regressions'),
    regressedAgents: J.listAt('$.report.regressedAgents'),
  });
  const regressionFound = new sfn.Choice(scope, S.regressionFound).when(sfn.Condition.numberGreaterThan('$.report.regressions', 0), notify.next(reported)).otherwise(reported);
  // The reports are written by now: a lost event must not fail them.
  ready.addCatch(regressionFound, { errors: [sfn.Errors.ALL], resultPath: REPORTS_EVENT_ERROR_PATH });
  write.next(ready).next(regressionFound);
  return write;
}
