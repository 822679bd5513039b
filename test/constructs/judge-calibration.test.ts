/**
 * The judge-calibration construct in the loop stack: the review queue table (data stack, lake key,
 * PITR), the review page on the approvals API, the weekly schedules, least-privilege grants per job,
 * and the agreement alarms with the stage's thresholds.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { synthesizedStage } from '../helpers/app';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

describe('JudgeCalibration (dev)', () => {
  const { loopStack, template: data, loopTemplate: loop } = synthesizedStage('dev');
  const config = loadStageConfig('dev').judgeCalibration;
  const calibration = loopStack.judgeCalibration;

  /** Every action a role's policies allow. */
  function actionsOf(role: { node: { path: string } }, logicalIdPrefix: string): string[] {
    const policies = loop.findResources('AWS::IAM::Policy');
    const actions: string[] = [];
    for (const [id, policy] of Object.entries(policies)) {
      if (!id.startsWith(logicalIdPrefix)) continue;
      for (const s of (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement) actions.push(...[s.Action].flat());
    }
    expect(role).toBeDefined();
    return actions;
  }

  test('the review queue table is encrypted with the lake key, recoverable, with the sparse open-items index', () => {
    data.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'itemId', KeyType: 'HASH' }],
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [PINNED_LOGICAL_IDS.lakeKey, 'Arn'] } },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'open-items', KeySchema: [{ AttributeName: 'openWeek', KeyType: 'HASH' }, { AttributeName: 'itemId', KeyType: 'RANGE' }] })],
      }),
    });
    expect(data.toJSON().Resources[PINNED_LOGICAL_IDS.reviewQueueTable]?.Type).toBe('AWS::DynamoDB::Table');
  });

  test('GET and POST /reviews/{id} on the approvals API, no IAM authoriser, id required', () => {
    for (const method of ['GET', 'POST']) {
      loop.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: method,
        AuthorizationType: 'NONE',
        RequestParameters: { 'method.request.path.id': true },
        ResourceId: { Ref: loopStack.getLogicalId(calibration.reviewResource.node.defaultChild as never) },
      });
    }
  });

  test('sampling and report run weekly on the configured expression, disabled with the stage schedules', () => {
    const schedules = loop.findResources('AWS::Scheduler::Schedule', { Properties: { ScheduleExpression: config.schedule } });
    expect(Object.keys(schedules)).toHaveLength(2);
    for (const s of Object.values(schedules)) expect((s as { Properties: { State: string } }).Properties.State).toBe('DISABLED');
  });

  test('each job gets only what it uses', () => {
    const sample = actionsOf(calibration.roles.sample, loopStack.getLogicalId(calibration.roles.sample.node.findChild('DefaultPolicy').node.defaultChild as never).slice(0, -8));
    expect(sample).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'sns:Publish', 'athena:StartQueryExecution']));
    expect(sample).not.toEqual(expect.arrayContaining(['dynamodb:UpdateItem']));
    expect(sample.some((a) => a.startsWith('firehose:'))).toBe(false);
    const page = actionsOf(calibration.roles.page, loopStack.getLogicalId(calibration.roles.page.node.findChild('DefaultPolicy').node.defaultChild as never).slice(0, -8));
    expect(page).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'firehose:PutRecord']));
    expect(page).not.toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Scan', 's3:PutObject']));
    const report = actionsOf(calibration.roles.report, loopStack.getLogicalId(calibration.roles.report.node.findChild('DefaultPolicy').node.defaultChild as never).slice(0, -8));
    expect(report).toEqual(expect.arrayContaining(['s3:PutObject', 'athena:StartQueryExecution']));
    expect(report.some((a) => a.startsWith('dynamodb:') || a.startsWith('firehose:'))).toBe(false);
  });

  test('the report function reads only judgments and reviews, the page only traces', () => {
    const glueTables = (role: string) =>
      JSON.stringify(
        Object.entries(loop.findResources('AWS::IAM::Policy'))
          .filter(([id]) => id.startsWith(role))
          .map(([, p]) => p),
      ).match(/table\/[a-z_]+\/(traces|judgments|reviews|gate_audit|feedback)/g) ?? [];
    const prefix = (r: { node: { findChild(id: string): { node: { defaultChild?: unknown } } } }) => loopStack.getLogicalId(r.node.findChild('DefaultPolicy').node.defaultChild as never).slice(0, -8);
    expect(new Set(glueTables(prefix(calibration.roles.report)).map((t) => t.split('/')[2]))).toEqual(new Set(['judgments', 'reviews']));
    expect(new Set(glueTables(prefix(calibration.roles.page)).map((t) => t.split('/')[2]))).toEqual(new Set(['traces']));
  });

  test('alarms per dimension: kappa below the stage floor, and too few reviews, to the pipeline notifications', () => {
    for (const dimension of ['faithfulness', 'answer_relevance', 'misroute']) {
      loop.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'JudgeHumanKappa',
        Dimensions: Match.arrayWith([{ Name: 'Dimension', Value: dimension }, { Name: 'service', Value: 'judge-calibration-report' }]),
        Threshold: config.minKappa,
        ComparisonOperator: 'LessThanThreshold',
        Statistic: 'Minimum',
        Period: 86400,
        EvaluationPeriods: 7,
        TreatMissingData: 'notBreaching',
        AlarmActions: [Match.anyValue()],
      });
      loop.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'JudgeItemsReviewed',
        Dimensions: Match.arrayWith([{ Name: 'Dimension', Value: dimension }]),
        Threshold: config.minReviewed,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    }
    expect(Object.keys(calibration.alarms)).toHaveLength(6);
  });

  test('the functions get the validated settings, and the review topic is KMS-encrypted and TLS-only', () => {
    loop.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CALIBRATION_SETTINGS: Match.stringLikeRegexp('"minKappa":0.6'), REVIEW_QUEUE_TABLE: Match.anyValue() }) },
    });
    loop.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'sial dev judge reviews', KmsMasterKeyId: Match.anyValue() });
    loop.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ml-reviewers@example.com' });
  });
});
