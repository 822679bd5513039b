/**
 * The judge's daily curation as a Standard workflow, JSONPath only, states named exactly as
 * JUDGE_CURATION_STATES (a contract with local mode and the tests):
 *
 *   Select candidates -> $.curation (the window's unjudged kept traces, written as files by Athena)
 *   Judge next lines -> $.curation (one bounded slice per invocation) / More to judge? (loop)
 *   Wait for delivery (the judgment stream's buffer, so the rows are queryable)
 *   Publish judged metrics -> $.metrics -> Curated
 *
 * Any failure ends in `Curation failed` with the error at `$.error`; judgments already written stay
 * (a re-run skips the traces they cover).
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { invokeForResult } from './lambda-tasks';

export const JUDGE_CURATION_STATES = {
  selectCandidates: 'Select candidates',
  judgeNextLines: 'Judge next lines',
  moreToJudge: 'More to judge?',
  waitForDelivery: 'Wait for delivery',
  publishJudgedMetrics: 'Publish judged metrics',
  curated: 'Curated',
  curationFailed: 'Curation failed',
} as const;

export interface JudgeCurationFunctions {
  readonly selectCandidates: lambda.IFunction;
  readonly judgeNextLines: lambda.IFunction;
  readonly publishJudgedMetrics: lambda.IFunction;
}

export interface JudgeCurationDefinitionProps {
  readonly functions: JudgeCurationFunctions;
  /** How long Firehose may hold judgments before they are committed (the stream's buffer interval plus margin). */
  readonly deliveryWait: Duration;
}

const J = sfn.JsonPath;

/** The states, built in `scope`; returns the chain from `Select candidates`. */
export function buildJudgeCurationDefinition(scope: Construct, props: JudgeCurationDefinitionProps): sfn.IChainable {
  const S = JUDGE_CURATION_STATES;
  const failed = new sfn.Fail(scope, S.curationFailed, { comment: 'The error that stopped the run; judgments written so far stay', errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const onFailure = <T extends sfn.TaskStateBase>(task: T): T => {
    task.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    return task;
  };
  const curation = { curation: J.objectAt('$.curation') };

  const select = onFailure(
    invokeForResult(scope, S.selectCandidates, props.functions.selectCandidates, { startedAt: J.stringAt('$$.Execution.StartTime'), executionName: J.executionName, input: J.entirePayload }, '$.curation'),
  );
  const judge = onFailure(invokeForResult(scope, S.judgeNextLines, props.functions.judgeNextLines, curation, '$.curation'));
  // The judge endpoint may be briefly overloaded: a whole slice is retried. Judgments of a slice that
  // reached the stream before it failed are written again; readers take the latest per trace.
  judge.addRetry({ errors: ['TransientJudgeError', 'States.Timeout'], interval: Duration.seconds(30), maxAttempts: 3, backoffRate: 2 });
  const moreToJudge = new sfn.Choice(scope, S.moreToJudge);
  const wait = new sfn.Wait(scope, S.waitForDelivery, { time: sfn.WaitTime.duration(props.deliveryWait) });
  const publish = onFailure(invokeForResult(scope, S.publishJudgedMetrics, props.functions.publishJudgedMetrics, curation, '$.metrics'));
  const curated = new sfn.Succeed(scope, S.curated, { comment: 'Judgments written; judged metrics published' });

  select.next(moreToJudge);
  judge.next(moreToJudge);
  moreToJudge.when(sfn.Condition.booleanEquals('$.curation.done', false), judge).otherwise(wait);
  wait.next(publish).next(curated);
  return select;
}
