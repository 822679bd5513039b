/**
 * The alarm rollback Lambda end to end inside the process: a real-shaped EventBridge event, the
 * DynamoDB deployment store on an in-memory table, SageMaker answering from a SIMULATED endpoint, SNS
 * mocked, and the EMF it prints read back for RollbackSeconds.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeEndpointCommand, SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type * as AlarmHandlerModule from '../../lambdas/rollout/alarm-rollback/handler';
import { DynamoDbDeploymentStore } from '../../lambdas/rollout/aws/dynamodb-deployment-store';
import { ROLLOUT_METRIC } from '../../lambdas/rollout/rollout-metrics';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { lambdaContext } from '../helpers/lambda-context';
import { fakeDeploymentsTable } from './fake-deployments-table';
import { alarmEvent, sageMakerPlan, settings } from './helpers';

const ddb = mockClient(DynamoDBDocumentClient);
const sagemaker = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);

process.env.PIPELINE_SETTINGS = JSON.stringify(settings);
process.env.DEPLOYMENTS_TABLE = 'deployments';
process.env.NOTIFICATIONS_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:sial-dev-notifications';
process.env.AWS_REGION = 'us-east-1';
process.env.TRAFFIC_SETTLE_TIMEOUT_SECONDS = '30';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'SialTest';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

/* eslint-disable-next-line @typescript-eslint/no-require-imports */
const handler = (require('../../lambdas/rollout/alarm-rollback/handler') as typeof AlarmHandlerModule).handler;

const plan = sageMakerPlan();
const printed: string[] = [];
let endpoint: SimulatedSageMakerEndpoint;

function emfDocuments(): Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string; Unit?: string }> }> } }> {
  return printed.flatMap((line) => {
    try {
      const doc = JSON.parse(line) as Record<string, unknown>;
      return '_aws' in doc ? [doc as never] : [];
    } catch {
      return [];
    }
  });
}

beforeEach(async () => {
  ddb.reset();
  sagemaker.reset();
  sns.reset();
  printed.length = 0;
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
  jest.spyOn(console, 'info').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'debug').mockImplementation(() => undefined);
  fakeDeploymentsTable(ddb);
  // Weights apply at once here: the handler waits in real time.
  endpoint = new SimulatedSageMakerEndpoint({ endpointName: 'sial-dev-qwen3-4b', variants: [{ name: 'AllTraffic', weight: 90 }, { name: 'qwen3-4b-v4', weight: 10 }], clock: () => new Date(), weightUpdateSeconds: 0 });
  sagemaker.on(DescribeEndpointCommand).callsFake((input) => endpoint.describeEndpoint(input));
  sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).callsFake((input) => endpoint.updateEndpointWeightsAndCapacities(input));
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  const store = new DynamoDbDeploymentStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'deployments');
  await store.seedCurrent(plan.targetModelId, plan.current, new Date());
  await store.setActiveRollout(plan.targetModelId, plan);
});
afterEach(() => jest.restoreAllMocks());

describe('alarm rollback handler', () => {
  it('rolls back on the EventBridge alarm event, publishes RollbackSeconds and notifies', async () => {
    const breach = new Date(Date.now() - 3000).toISOString().replace('Z', '+0000');
    const outcome = await handler(alarmEvent({ alarmName: plan.alarmName, timestamp: breach }), lambdaContext('alarm-rollback'));
    expect(outcome.action).toBe('rolled-back');
    expect(endpoint.split('AllTraffic', 'qwen3-4b-v4')).toEqual({ current: 100, candidate: 0 });
    expect(sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]!.args[0].input.DesiredWeightsAndCapacities).toEqual([
      { VariantName: 'AllTraffic', DesiredWeight: 100 },
      { VariantName: 'qwen3-4b-v4', DesiredWeight: 0 },
    ]);

    const seconds = emfDocuments().find((d) => d._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === ROLLOUT_METRIC.rollbackSeconds))!;
    expect(seconds._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['Stage', 'Model']]);
    expect(seconds._aws.CloudWatchMetrics[0]!.Metrics[0]!.Unit).toBe('Seconds');
    expect(seconds.Model).toBe('qwen3-4b');
    expect(seconds[ROLLOUT_METRIC.rollbackSeconds]).toBeGreaterThanOrEqual(3);
    expect(seconds[ROLLOUT_METRIC.rollbackSeconds]).toBeLessThan(30);

    const publish = sns.commandCalls(PublishCommand);
    expect(publish).toHaveLength(1);
    expect(publish[0]!.args[0].input.TopicArn).toBe('arn:aws:sns:us-east-1:123456789012:sial-dev-notifications');
    expect(publish[0]!.args[0].input.Subject).toBe('Rolled back qwen3-4b to version 3 (canary alarm)');
  });

  it('is idempotent when called twice with the same event', async () => {
    const event = alarmEvent({ alarmName: plan.alarmName });
    const first = await handler(event, lambdaContext('alarm-rollback'));
    printed.length = 0;
    const second = await handler(event, lambdaContext('alarm-rollback'));
    expect(second).toEqual({ action: 'already-rolled-back', record: first.action === 'rolled-back' ? first.record : undefined });
    expect(sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)).toHaveLength(1);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(emfDocuments().some((d) => d._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === ROLLOUT_METRIC.rollbackSeconds))).toBe(false);
  });

  it('ignores a return to OK', async () => {
    expect(await handler(alarmEvent({ alarmName: plan.alarmName, value: 'OK' }), lambdaContext('alarm-rollback'))).toEqual({ action: 'ignored', reason: `${plan.alarmName} changed to OK, not ALARM` });
    expect(sagemaker.commandCalls(DescribeEndpointCommand)).toHaveLength(0);
  });
});
