/**
 * A Standard state machine of Lambda steps as the loop builds them: X-Ray tracing, execution events
 * logged without their data (the state holds URIs and ids, never needed in the logs), and the cdk-nag
 * acknowledgements the role needs (the logging and tracing actions on *, the invoke on each function's
 * versions and aliases).
 */
import type { CfnElement, RemovalPolicy } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './acknowledge';

export interface LambdaStateMachineProps {
  readonly comment: string;
  readonly definition: sfn.IChainable;
  /** The functions its tasks invoke, by step name (for the acknowledgements' reasons). */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

export function createLambdaStateMachine(scope: Construct, props: LambdaStateMachineProps): sfn.StateMachine {
  const logGroup = new logs.LogGroup(scope, 'StateMachineLogs', { retention: props.logRetention, removalPolicy: props.logRemovalPolicy });
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    comment: props.comment,
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });
  Validations.of(stateMachine.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'On * only what has no resource-level permissions: the CloudWatch Logs delivery actions of execution logging and the X-Ray actions of tracing.',
  });
  for (const [step, fn] of Object.entries(props.functions)) {
    acknowledgeWildcardResource(stateMachine.role, fn.node.defaultChild as CfnElement, 'Arn', ':*', `lambda:InvokeFunction on the versions and aliases of the ${step} function (function-arn:*), as the invoke task grants it.`);
  }
  return stateMachine;
}
