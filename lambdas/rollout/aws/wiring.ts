/**
 * The rollout Lambdas' adapters, built from the environment (ROLLOUT_ENV) at cold start. SDK clients are
 * created once per execution environment; each handler asks only for what it uses, so a
 * function is never given a client (or a variable) it has no permission for.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SageMakerModelRegistry } from '../../pipeline/aws/sagemaker-model-registry';
import { SnsNotifier } from '../../pipeline/aws/sns-notifier';
import { requiredEnv, type PipelineSettings } from '../../pipeline/settings';
import { ROLLOUT_ENV } from '../env';
import type { TrafficRouter } from '../ports';
import { DispatchingTrafficRouter, type RoutersByKind } from '../traffic/dispatching-router';
import { CloudWatchAlarmReader } from './cloudwatch-alarm-reader';
import { DynamoDbDeploymentStore } from './dynamodb-deployment-store';
import { describeEksClusterWith } from './eks-cluster-connection';
import { EksRouteRouter } from './eks-route-router';
import { SageMakerTrafficRouter } from './sagemaker-traffic-router';

/** The deployments table (DEPLOYMENTS_TABLE). */
export function deploymentStoreFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoDbDeploymentStore {
  return new DynamoDbDeploymentStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), requiredEnv(ROLLOUT_ENV.deploymentsTable, env));
}

/** SageMaker endpoints; with the execution role (SAGEMAKER_EXECUTION_ROLE_ARN) when it deploys variants. */
export function sageMakerRouterFromEnv(options: { readonly deploys: boolean }, env: NodeJS.ProcessEnv = process.env): SageMakerTrafficRouter {
  const client = new SageMakerClient({});
  return new SageMakerTrafficRouter(client, options.deploys ? { executionRoleArn: requiredEnv(ROLLOUT_ENV.sageMakerExecutionRoleArn, env) } : {});
}

/**
 * HTTPRoutes through the clusters' Kubernetes API, found with EKS DescribeCluster. Tokens are signed
 * with the function's own credentials (the SDK's provider chain, as the STS client resolves it) for the
 * function's region.
 */
export function eksRouterFromEnv(env: NodeJS.ProcessEnv = process.env): EksRouteRouter {
  const sts = new STSClient({});
  const describeCluster = describeEksClusterWith(new EKSClient({}));
  return new EksRouteRouter({ region: requiredEnv('AWS_REGION', env), credentials: () => sts.config.credentials(), describeCluster });
}

/** A router for every target kind the stage's models use. */
export function trafficRouterFromEnv(settings: Pick<PipelineSettings, 'targetModels'>, env: NodeJS.ProcessEnv = process.env): TrafficRouter {
  const kinds = new Set(settings.targetModels.map((m) => m.rollout.kind));
  const routers: RoutersByKind = {
    ...(kinds.has('sagemaker') ? { sagemaker: sageMakerRouterFromEnv({ deploys: false }, env) } : {}),
    ...(kinds.has('eks') ? { eks: eksRouterFromEnv(env) } : {}),
  };
  return new DispatchingTrafficRouter(routers);
}

export function alarmReader(): CloudWatchAlarmReader {
  return new CloudWatchAlarmReader(new CloudWatchClient({}));
}

export function modelRegistry(): SageMakerModelRegistry {
  return new SageMakerModelRegistry(new SageMakerClient({}));
}

/** SNS topics of the environment (NOTIFICATIONS_TOPIC_ARN for the rollout). */
export function notifierFromEnv(env: NodeJS.ProcessEnv = process.env): SnsNotifier {
  return SnsNotifier.fromEnv(new SNSClient({}), env);
}
