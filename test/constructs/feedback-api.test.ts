import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { z } from 'zod';
import { feedbackBodySchema } from '../../lambdas/feedback/feedback-event';
import { FeedbackApi } from '../../lib/constructs/feedback-api';
import { IcebergDeliveryStream } from '../../lib/constructs/iceberg-delivery-stream';
import { apiGatewayModelSchema } from '../../lib/constructs/private/json-schema';
import { TraceLake } from '../../lib/constructs/trace-lake';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { bareApp, dataTemplate, resourcesOfType } from '../helpers/app';

const template: Template = dataTemplate('prod-eu');

function single(type: string): { id: string; props: Record<string, unknown> } {
  const found = resourcesOfType(template, type);
  expect(found).toHaveLength(1);
  return { id: found[0]![0], props: found[0]![1].Properties! };
}

describe('feedback API (prod-eu)', () => {
  test('POST /agents/{agent-id}/feedback requires IAM authorization, the path parameter and a valid body', () => {
    const validator = single('AWS::ApiGateway::RequestValidator');
    const model = single('AWS::ApiGateway::Model');
    const method = single('AWS::ApiGateway::Method');
    expect(method.props).toMatchObject({
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
      RequestParameters: { 'method.request.path.agent-id': true },
      RequestValidatorId: { Ref: validator.id },
      RequestModels: { 'application/json': { Ref: model.id } },
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
    });
    expect(validator.props).toMatchObject({ ValidateRequestParameters: true, ValidateRequestBody: true });
    const paths = resourcesOfType(template, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties!.PathPart);
    expect(paths).toEqual(['agents', '{agent-id}', 'feedback']);
  });

  test('the body model is the Lambda contract rendered as JSON Schema draft 4', () => {
    const model = single('AWS::ApiGateway::Model').props;
    const expected = z.toJSONSchema(feedbackBodySchema, { target: 'draft-4' });
    expect(model.ContentType).toBe('application/json');
    expect(model.Schema).toEqual(expected);
    expect((model.Schema as { required: string[] }).required).toEqual(['request_id', 'outcome']);
    expect((model.Schema as { additionalProperties: boolean }).additionalProperties).toBe(false);
  });

  test('a body the model rejects gets a 400 that says what is wrong', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('\\$context\\.error\\.validationErrorString') },
    });
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

describe('FeedbackApi validation', () => {
  test('refuses a burst below the rate, naming both', () => {
    const stack = new Stack(bareApp(), 'S');
    const lake = new TraceLake(stack, 'Lake', { databaseName: 'lake', production: true, errorOutputRetentionDays: 7, accessLogRetentionDays: 30 });
    const stream = new IcebergDeliveryStream(stack, 'Stream', { lake, label: 'feedback', tableNames: ['feedback'], bufferIntervalSeconds: 60, bufferSizeMiB: 64 });
    expect(() => new FeedbackApi(stack, 'Api', { stream, stage: 't', metricsNamespace: 'T', throttlingRateLimit: 100, throttlingBurstLimit: 10 })).toThrow(
      'FeedbackApi: throttlingBurstLimit 10 is below throttlingRateLimit 100',
    );
  });

  test('model conversion keeps draft-4 keywords, tuples included, and refuses the ones API Gateway lacks', () => {
    expect(apiGatewayModelSchema(z.object({ a: z.tuple([z.string()]).rest(z.number()) }))).toMatchObject({
      schema: 'http://json-schema.org/draft-04/schema#',
      properties: { a: { type: 'array', items: [{ type: 'string' }], additionalItems: { type: 'number' }, minItems: 1 } },
    });
    expect(() => apiGatewayModelSchema(z.object({ a: z.string().meta({ examples: ['q'] }) }))).toThrow(
      'JSON schema at (root).properties.a uses "examples", which API Gateway\'s draft-4 models do not support',
    );
  });
});
