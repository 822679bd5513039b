import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FEEDBACK_ENV, handleFeedback, MAX_FEEDBACK_BODY_BYTES } from '../../lambdas/feedback/handle-feedback';
import { FeedbackApi } from '../../lib/constructs/feedback-api';
import { IcebergDeliveryStream } from '../../lib/constructs/iceberg-delivery-stream';
import { PseudonymisationKey } from '../../lib/constructs/pseudonymisation-key';
import { TraceLake } from '../../lib/constructs/trace-lake';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { actionsOf, bareApp, dataTemplate, resourcesOf, resourcesOfType, statementsOfRole, synthesizedStage } from '../helpers/app';

const template: Template = dataTemplate('prod-eu');

function single(type: string): { id: string; props: Record<string, unknown> } {
  const found = resourcesOfType(template, type);
  expect(found).toHaveLength(1);
  return { id: found[0]![0], props: found[0]![1].Properties! };
}

describe('feedback API (prod-eu)', () => {
  test('POST /agents/{agent-id}/feedback requires IAM authorization and the path parameter', () => {
    const validator = single('AWS::ApiGateway::RequestValidator');
    const method = single('AWS::ApiGateway::Method');
    expect(method.props).toMatchObject({
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
      RequestParameters: { 'method.request.path.agent-id': true },
      RequestValidatorId: { Ref: validator.id },
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
    });
    expect(validator.props).toMatchObject({ ValidateRequestParameters: true, ValidateRequestBody: false });
    const paths = resourcesOfType(template, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties!.PathPart);
    expect(paths).toEqual(['agents', '{agent-id}', 'feedback']);
  });

  test('the body is not validated at the edge, so a bad body gets the function\'s 400 naming the field', async () => {
    // No model and no gateway 400 of its own: API Gateway's validation message names no property for
    // enum, type, range or pattern violations, and would stand in for the function's answer.
    expect(single('AWS::ApiGateway::Method').props.RequestModels).toBeUndefined();
    expect(resourcesOfType(template, 'AWS::ApiGateway::Model')).toEqual([]);
    expect(resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse')).toEqual([]);
    // What such a body then gets: the function's own answer, with the field (README, "Sending traces and feedback").
    const response = await handleFeedback({ agentId: 'rag-qa-agent', body: JSON.stringify({ request_id: 'req-42', outcome: 'great' }) }, { put: async () => undefined }, new Date());
    expect(response).toEqual({ statusCode: 400, body: expect.objectContaining({ error: 'invalid_body', field: 'outcome' }) });
  });

  test('cdk-nag APIG2 (body not validated at the edge) is acknowledged on the API with the reason', () => {
    const { dataStack } = synthesizedStage('prod-eu');
    const acknowledged = dataStack.feedbackApi.api.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    const apig2 = acknowledged.filter(([id]) => id.endsWith('AwsSolutions-APIG2')).map(([, reason]) => reason);
    expect(apig2).toHaveLength(1);
    expect(apig2[0]).toContain('names the wrong field');
    expect(apig2[0]).toContain(`${MAX_FEEDBACK_BODY_BYTES} bytes`);
  });

  test('the stage has access logs, error-level execution logs without bodies, X-Ray and throttling', () => {
    const stage = single('AWS::ApiGateway::Stage').props;
    expect(stage).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
      // The log group ARN without the trailing :* (flag @aws-cdk/aws-apigateway:logGroupDestinationArnWithoutWildcard).
      AccessLogSetting: { DestinationArn: { 'Fn::Join': ['', [expect.any(String), { Ref: 'AWS::AccountId' }, ':log-group:', { Ref: expect.stringMatching(/^FeedbackApiAccessLogs/) }]] } },
      MethodSettings: [
        { HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', DataTraceEnabled: false, MetricsEnabled: true, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      ],
    });
    expect(JSON.parse((stage.AccessLogSetting as { Format: string }).Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });

  test('the function gets the feedback stream name and may put records on that stream only', () => {
    const fn = resourcesOfType(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('FeedbackApiFunction'));
    const props = fn![1].Properties!;
    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, Timeout: 10 });
    expect((props.Environment as { Variables: Record<string, unknown> }).Variables.FEEDBACK_STREAM_NAME).toEqual({ Ref: PINNED_LOGICAL_IDS.feedbackStream });
    const roleId = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policy = resourcesOfType(template, 'AWS::IAM::Policy').find(([, p]) => JSON.stringify(p.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]));
    const statements = (policy![1].Properties!.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement;
    const firehose = statements.filter((s) => JSON.stringify(s.Action).includes('firehose:'));
    expect(firehose).toEqual([{ Effect: 'Allow', Action: 'firehose:PutRecord', Resource: { 'Fn::GetAtt': [PINNED_LOGICAL_IDS.feedbackStream, 'Arn'] } }]);
  });
});

describe('FeedbackApi with lake.hashAgentIds', () => {
  const build = (withKey: boolean) => {
    const stack = new Stack(bareApp(), 'S');
    const lake = new TraceLake(stack, 'Lake', { databaseName: 'lake', production: true, errorOutputRetentionDays: 7, accessLogRetentionDays: 30 });
    const stream = new IcebergDeliveryStream(stack, 'Stream', { lake, label: 'feedback', tableNames: ['feedback'], bufferIntervalSeconds: 60, bufferSizeMiB: 64 });
    const key = new PseudonymisationKey(stack, 'Key', { stage: 't', encryptionKey: lake.key });
    new FeedbackApi(stack, 'Api', { stream, stage: 't', metricsNamespace: 'T', ...(withKey ? { agentPseudonymisationKey: key.secret } : {}) });
    const built = Template.fromStack(stack);
    const [, fn] = resourcesOfType(built, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))!;
    const roleId = (fn.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    return { env: (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables, statements: statementsOfRole(built, roleId), keyId: resourcesOfType(built, 'AWS::SecretsManager::Secret')[0]![0] };
  };

  test('with the key: the function is told the secret and may read that secret only', () => {
    const { env, statements, keyId } = build(true);
    expect(env[FEEDBACK_ENV.pseudonymisationKeySecretArn]).toEqual({ Ref: keyId });
    const secretReads = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    expect(secretReads.flatMap(resourcesOf)).toEqual([{ Ref: keyId }]);
    expect(secretReads.flatMap(actionsOf).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });

  test('without it (the default, and every shipped stage): no secret, no read', () => {
    const { env, statements } = build(false);
    expect(env[FEEDBACK_ENV.pseudonymisationKeySecretArn]).toBeUndefined();
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    const fn = resourcesOfType(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('FeedbackApiFunction'))!;
    expect(Object.keys((fn[1].Properties!.Environment as { Variables: Record<string, unknown> }).Variables)).not.toContain(FEEDBACK_ENV.pseudonymisationKeySecretArn);
  });
});

describe('FeedbackApi validation', () => {
  test('refuses a burst below the rate, naming both', () => {
    const stack = new Stack(bareApp(), 'S');
    const lake = new TraceLake(stack, 'Lake', { databaseName: 'lake', production: true, errorOutputRetentionDays: 7, accessLogRetentionDays: 30 });
    const stream = new IcebergDeliveryStream(stack, 'Stream', { lake, label: 'feedback', tableNames: ['feedback'], bufferIntervalSeconds: 60, bufferSizeMiB: 64 });
    expect(() => new FeedbackApi(stack, 'Api', { stream, stage: 't', metricsNamespace: 'T', throttlingRateLimit: 100, throttlingBurstLimit: 10 })).toThrow(
      'FeedbackApi: throttlingBurstLimit 10 is below throttlingRateLimit 100',
    );
  });
});
