/**
 * Approvals (signing secret, topics, approval page API) and the GPU budget alarm of the loop stack.
 */
import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import { approverEmailLists } from '../../lambdas/pipeline/approvals/approval-recipients';
import { BUDGET_METRIC } from '../../lambdas/pipeline/budget/budget-metrics';
import { PIPELINE_ENV } from '../../lambdas/pipeline/settings';
import { Approvals } from '../../lib/constructs/approvals';
import { GpuBudget } from '../../lib/constructs/gpu-budget';
import { STAGE_NAMES, actionsOf, bareApp, loopTemplate, resourcesOf, resourcesOfType, statementsOfRole } from '../helpers/app';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function only(template: Template, type: string, prefix: string): [string, Record<string, unknown>] {
  const found = resourcesOfType(template, type).filter(([id]) => id.startsWith(prefix));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return [found[0]![0], found[0]![1].Properties!];
}

describe.each(STAGE_NAMES)('approvals of %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = loopTemplate(stage);
  const resources = template.toJSON().Resources as Resources;
  const [keyId] = only(template, 'AWS::KMS::Key', 'ApprovalsKey');
  // The approvals construct's own topics (judge calibration adds a reviewers' topic under the same key).
  const topics = resourcesOfType(template, 'AWS::SNS::Topic').filter(([id]) => id.startsWith('Approvals'));

  test('three topics, each KMS-encrypted with the approvals key and TLS-only', () => {
    expect(topics.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['ApprovalsApprovalsTopic', 'ApprovalsFinopsTopic', 'ApprovalsNotificationsTopic']);
    for (const [id, topic] of topics) {
      expect({ id, key: topic.Properties!.KmsMasterKeyId }).toEqual({ id, key: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: id }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  test('e-mail subscriptions come from the configuration, one audience per topic', () => {
    const subscriptions = resourcesOfType(template, 'AWS::SNS::Subscription')
      .filter(([id]) => id.startsWith('Approvals'))
      .map(([, s]) => ({
      topic: (s.Properties!.TopicArn as { Ref: string }).Ref.replace(/[0-9A-F]{8}$/, ''),
      protocol: s.Properties!.Protocol,
      endpoint: s.Properties!.Endpoint,
    }));
    const expected = [
      ...config.approvals.approverEmails.map((e) => ({ topic: 'ApprovalsApprovalsTopic', protocol: 'email', endpoint: e })),
      ...config.approvals.finopsEmails.map((e) => ({ topic: 'ApprovalsFinopsTopic', protocol: 'email', endpoint: e })),
      ...config.approvals.notificationEmails.map((e) => ({ topic: 'ApprovalsNotificationsTopic', protocol: 'email', endpoint: e })),
    ];
    expect(subscriptions).toEqual(expect.arrayContaining(expected));
    expect(subscriptions).toHaveLength(expected.length);
  });

  test("each approver's subscription gets only its own personal links (and messages without a recipient, such as the budget alarm)", () => {
    for (const [, sub] of resourcesOfType(template, 'AWS::SNS::Subscription').filter(([id]) => id.startsWith('Approvals'))) {
      const topic = (sub.Properties!.TopicArn as { Ref: string }).Ref;
      const endpoint = sub.Properties!.Endpoint as string;
      if (topic.startsWith('ApprovalsNotificationsTopic')) expect(sub.Properties!.FilterPolicy).toBeUndefined();
      else expect(sub.Properties!.FilterPolicy).toEqual({ recipient: [endpoint.toLowerCase(), { exists: false }] });
    }
  });

  test('CloudWatch alarms of this account may publish to the FinOps topic and use the key', () => {
    const finops = topics.find(([id]) => id.startsWith('ApprovalsFinopsTopic'))![0];
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: finops }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }),
        ]),
      },
    });
    const keyPolicy = resources[keyId]!.Properties.KeyPolicy as { Statement: Array<{ Principal: unknown; Action: unknown; Condition?: unknown }> };
    // Only on behalf of this account's alarms (confused deputy): the one statement for CloudWatch carries the condition.
    expect(keyPolicy.Statement.filter((st) => JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com'))).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
  });

  test('the signing secret is 64 generated alphanumerics, encrypted with the approvals key', () => {
    const [, secret] = only(template, 'AWS::SecretsManager::Secret', 'ApprovalsSigningSecret');
    expect(secret).toMatchObject({
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
  });

  test('GET and POST /approvals/{id} (and the review page /reviews/{id}): no IAM authorization, the id required, Lambda proxy', () => {
    const methods = resourcesOfType(template, 'AWS::ApiGateway::Method').map(([, m]) => m.Properties!);
    expect(methods.map((m) => m.HttpMethod).sort()).toEqual(['GET', 'GET', 'POST', 'POST']);
    const [validatorId, validator] = only(template, 'AWS::ApiGateway::RequestValidator', 'ApprovalsValidator');
    expect(validator).toMatchObject({ ValidateRequestParameters: true });
    for (const method of methods) {
      expect(method).toMatchObject({
        AuthorizationType: 'NONE',
        RequestParameters: { 'method.request.path.id': true },
        RequestValidatorId: { Ref: validatorId },
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
    }
    const paths = resourcesOfType(template, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties!.PathPart);
    expect(paths).toEqual(['approvals', '{id}', 'reviews', '{id}']);
  });

  test('the stage is throttled for humans, traced, logs errors without bodies and access without callers', () => {
    const [, apiStage] = only(template, 'AWS::ApiGateway::Stage', 'ApprovalsApi');
    expect(apiStage).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', DataTraceEnabled: false, ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 }],
    });
    const format = JSON.parse((apiStage.AccessLogSetting as { Format: string }).Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    // The query string carries the link signature: nothing in the access log may echo it.
    expect(JSON.stringify(format)).not.toMatch(/querystring|caller|user\b/i);
    // The data stack owns the account's API Gateway CloudWatch role.
    expect(resourcesOfType(template, 'AWS::ApiGateway::Account')).toEqual([]);
  });

  test('the page function reads the approvals table and the secret, and completes tasks of the state machines that wait for approvals only', () => {
    const [, fn] = resourcesOfType(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApprovalsFunction'))!;
    const env = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual([PIPELINE_ENV.signingSecretArn, PIPELINE_ENV.approvalsTable, PIPELINE_ENV.approverEmails, 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'].sort());
    // The page enforces the stage's approver e-mail lists.
    expect(JSON.parse(env[PIPELINE_ENV.approverEmails] as string)).toEqual(approverEmailLists(config.approvals));
    const roleId = (fn.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(template, roleId);
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(JSON.stringify(dynamo.flatMap(resourcesOf))).toContain('ApprovalsTable');
    const states = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    const [machineId] = only(template, 'AWS::StepFunctions::StateMachine', 'PipelineStateMachine');
    const [rolloutId] = only(template, 'AWS::StepFunctions::StateMachine', 'RolloutStateMachine');
    // Training and FinOps approvals, and the canary rollout's step approvals: one statement.
    expect(states).toEqual([{ Effect: 'Allow', Action: ['states:SendTaskFailure', 'states:SendTaskSuccess'], Resource: [{ Ref: machineId }, { Ref: rolloutId }] }]);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('sns:'))).toEqual([]);
  });
});

describe.each(STAGE_NAMES)('GPU budget alarm of %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = loopTemplate(stage);

  test(`alarms FinOps at ${config.gpuBudget.alarmAtFraction} of the ceiling on the metric the budget Lambdas publish`, () => {
    const [, alarm] = only(template, 'AWS::CloudWatch::Alarm', 'GpuBudgetUsedFractionAlarm');
    const finops = resourcesOfType(template, 'AWS::SNS::Topic').find(([id]) => id.startsWith('ApprovalsFinopsTopic'))![0];
    expect(alarm).toMatchObject({
      Namespace: config.metricsNamespace,
      MetricName: BUDGET_METRIC.usedFraction,
      Dimensions: [{ Name: 'Stage', Value: stage }],
      Statistic: 'Maximum',
      Threshold: config.gpuBudget.alarmAtFraction,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: finops }],
    });
  });
});

describe('Approvals and GpuBudget validation', () => {
  function table(stack: Stack): dynamodb.Table {
    return new dynamodb.Table(stack, 'T', {
      partitionKey: { name: 'approvalId', type: dynamodb.AttributeType.STRING },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: new kms.Key(stack, 'K'),
    });
  }
  const base = { stage: 't', metricsNamespace: 'T', approverEmails: ['a@example.com'], finopsEmails: ['f@example.com'], notificationEmails: ['n@example.com'] };

  test('Approvals refuses addresses that are not e-mail addresses and a burst below the rate', () => {
    const s = new Stack(bareApp(), 'S');
    expect(() => new Approvals(s, 'A', { ...base, table: table(s), finopsEmails: ['finops'] })).toThrow('Approvals: finopsEmails contains "finops"; expected e-mail addresses');
    const s2 = new Stack(bareApp(), 'S');
    expect(() => new Approvals(s2, 'A', { ...base, table: table(s2), throttlingRateLimit: 10, throttlingBurstLimit: 5 })).toThrow('expected a positive rate and a whole burst of at least the rate');
  });

  test('Approvals refuses a table without a customer managed key (records hold task tokens)', () => {
    const s = new Stack(bareApp(), 'S');
    const plain = new dynamodb.Table(s, 'T', { partitionKey: { name: 'approvalId', type: dynamodb.AttributeType.STRING } });
    expect(() => new Approvals(s, 'A', { ...base, table: plain })).toThrow('the approvals table has no customer managed key');
  });

  test('Approvals.grantPublish refuses a topic it does not own', () => {
    const s = new Stack(bareApp(), 'S');
    const approvals = new Approvals(s, 'A', { ...base, table: table(s) });
    expect(() => approvals.grantPublish(new sns.Topic(s, 'Other'), approvals.role)).toThrow('is not one of this construct\'s topics');
  });

  test("CloudWatch may use the approvals key only for the stack's own account, pinned or not", () => {
    const s = new Stack(bareApp(), 'S', { env: { account: '111122223333', region: 'eu-central-1' } });
    const approvals = new Approvals(s, 'A', { ...base, table: table(s) });
    const statements = (s.resolve((approvals.key.node.defaultChild as kms.CfnKey).keyPolicy) as { Statement: Array<{ Principal: unknown; Condition?: unknown }> }).Statement;
    expect(statements.filter((st) => JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com')).map((st) => st.Condition)).toEqual([
      { StringEquals: { 'aws:SourceAccount': '111122223333' } },
    ]);
  });

  test('GpuBudget refuses an alarm fraction outside (0, 1)', () => {
    const s = new Stack(bareApp(), 'S');
    expect(
      () =>
        new GpuBudget(s, 'B', {
          stage: 't',
          gpuBudget: { monthlyCeilingGpuHours: 100, alarmAtFraction: 1 },
          ledgerTable: table(s),
          metricsNamespace: 'T',
          alarmTopic: new sns.Topic(s, 'Topic'),
        }),
    ).toThrow('GpuBudget: alarmAtFraction is 1; expected a share of the ceiling strictly between 0 and 1');
  });
});
