/**
 * The two shapes every Lambda Task of the loop's state machines takes, so that the training pipeline,
 * the canary rollout and the game day invoke their functions one way: request-response with the
 * function's return value as the state's result, and wait-for-task-token for approvals. Both retry
 * the transient Lambda errors and nothing else; each caller adds its own Catch.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** Transient Lambda invoke errors worth a retry (the function itself did not fail). */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

function retryTransient(task: tasks.LambdaInvoke): tasks.LambdaInvoke {
  task.addRetry({ errors: [...LAMBDA_TRANSIENT_ERRORS], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
  return task;
}

/** Invokes `lambdaFunction` with `payload`; its return value (a contract object) lands at `resultPath`. */
export function invokeForResult(
  scope: Construct,
  id: string,
  lambdaFunction: lambda.IFunction,
  payload: Record<string, unknown>,
  resultPath: string | undefined,
  extra: Partial<tasks.LambdaInvokeProps> = {},
): tasks.LambdaInvoke {
  return retryTransient(
    new tasks.LambdaInvoke(scope, id, {
      lambdaFunction,
      // The function's return value is the state's result: ResultPaths hold the contract objects.
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject(payload),
      resultPath,
      retryOnServiceExceptions: false,
      ...extra,
    }),
  );
}

/**
 * Waits for a human's decision on the approval at `approvalPath` (its `approvalId`). The token goes to
 * the request-approval function (and on to the approvals table) only; the page link is already in the
 * state's input at `approvalPath`, for operators in the console. Times out with the approval.
 */
export function awaitApprovalDecision(
  scope: Construct,
  id: string,
  props: { readonly requestApproval: lambda.IFunction; readonly approvalPath: string; readonly timeout: Duration; readonly resultPath: string },
): tasks.LambdaInvoke {
  return retryTransient(
    new tasks.LambdaInvoke(scope, id, {
      lambdaFunction: props.requestApproval,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({ taskToken: sfn.JsonPath.taskToken, approvalId: sfn.JsonPath.stringAt(`${props.approvalPath}.approvalId`) }),
      taskTimeout: sfn.Timeout.duration(props.timeout),
      resultPath: props.resultPath,
      retryOnServiceExceptions: false,
    }),
  );
}
