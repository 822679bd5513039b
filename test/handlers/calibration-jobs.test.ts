/**
 * The weekly sampling and report Lambdas with mocked AWS clients: the sample goes into the queue with
 * conditional puts and the reviewers get one e-mail of signed links (none on a re-run); the report goes
 * to S3 and its kappa and counts out as EMF metrics.
 */
import { AthenaClient, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type * as ReportModule from '../../lambdas/judge/calibration/aws/report-handler';
import type * as SampleModule from '../../lambdas/judge/calibration/aws/sample-handler';
import { CALIBRATION_METRICS } from '../../lambdas/judge/calibration/calibration-report';
import { lambdaContext } from '../helpers/lambda-context';
import { athenaPage, athenaReturns, setCalibrationEnv, SIGNING_KEY, SIGNING_SECRET_ARN } from './calibration-helpers';
import { PROMPT_HASH } from '../helpers/calibration-lake';

const ddb = mockClient(DynamoDBDocumentClient);
const athena = mockClient(AthenaClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);
// The report function's service name: the alarms' metrics carry it as a dimension.
setCalibrationEnv(CALIBRATION_METRICS.service);
// Dev mode disables metrics unless told not to; the EMF lines go through the spied console.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
/* eslint-disable @typescript-eslint/no-require-imports */
const { handler: sample } = require('../../lambdas/judge/calibration/aws/sample-handler') as typeof SampleModule;
const { handler: report } = require('../../lambdas/judge/calibration/aws/report-handler') as typeof ReportModule;
/* eslint-enable @typescript-eslint/no-require-imports */

const logged: string[] = [];
jest.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)));
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);
jest.spyOn(console, 'error').mockImplementation(() => undefined);

beforeEach(() => {
  for (const m of [ddb, athena, sns, s3, secrets]) m.reset();
  logged.length = 0;
  secrets.on(GetSecretValueCommand, { SecretId: SIGNING_SECRET_ARN, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: SIGNING_KEY });
  secrets.on(GetSecretValueCommand, { SecretId: SIGNING_SECRET_ARN, VersionStage: 'AWSPREVIOUS' }).rejects(new ResourceNotFoundException({ message: 'none', $metadata: {} }));
});

const CANDIDATES = athenaPage(
  [['trace_id', 'varchar'], ['agent_id', 'varchar'], ['judge_prompt_hash', 'varchar'], ['faithfulness', 'double']],
  [['t-1', 'rag-qa-agent', 'h', '0.9'], ['t-2', 'rag-qa-agent', 'h', '0.2'], ['t-3', 'code-reviewer', 'h', undefined]],
);

describe('sample handler', () => {
  it('queues one item per stratum with conditional puts and e-mails one signed link per new item', async () => {
    athenaReturns(athena, CANDIDATES);
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: 'm1' });
    const result = await sample({}, lambdaContext('judge-calibration'));
    expect(result).toMatchObject({ candidates: 3, sampled: 3, added: 3 });
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(3);
    for (const put of puts) {
      expect(put.ConditionExpression).toBe('attribute_not_exists(#id)');
      expect(put.Item).toMatchObject({ status: 'open', openWeek: put.Item?.week });
      expect(Object.keys(put.Item ?? {}).sort()).toEqual(['agentId', 'band', 'itemId', 'judgePromptHash', 'openWeek', 'sampledAt', 'status', 'traceId', 'week']);
    }
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(start?.QueryString).toContain('FROM "judgments"');
    expect(start?.WorkGroup).toBe('sial-dev-judge-calibration');
    const mail = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(mail?.TopicArn).toBe('arn:aws:sns:us-east-1:123456789012:reviewers');
    const links = (mail?.Message ?? '').match(/^https:\/\/abc\.execute-api\.us-east-1\.amazonaws\.com\/v1\/reviews\/rv-[0-9a-f]{32}\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/gm) ?? [];
    expect(links).toHaveLength(3);
    expect(mail?.Message).not.toMatch(/0\.9|0\.2/);
  });

  it('a re-run of the week adds nothing and sends no e-mail', async () => {
    athenaReturns(athena, CANDIDATES);
    ddb.on(GetCommand).callsFake(async (input: { Key: { itemId: string } }) => ({ Item: { itemId: input.Key.itemId, traceId: 't', agentId: 'a', week: '2026-W49', band: 'band-0', judgePromptHash: PROMPT_HASH, sampledAt: '2026-11-30T06:00:00.000Z', status: 'done' } }));
    ddb.on(PutCommand).rejects(Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException' }));
    await expect(sample({}, lambdaContext('judge-calibration'))).resolves.toMatchObject({ sampled: 3, added: 0 });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('when the e-mail cannot be sent nothing is queued, so the scheduler\'s retry announces the items again', async () => {
    athenaReturns(athena, CANDIDATES);
    ddb.on(GetCommand).resolves({});
    sns.on(PublishCommand).rejects(new Error('SNS throttled'));
    await expect(sample({}, lambdaContext('judge-calibration'))).rejects.toThrow('SNS throttled');
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('report handler', () => {
  it('writes JSON and HTML to the artifact bucket and publishes kappa and reviewed counts per dimension', async () => {
    const columns: Array<[string, string]> = [
      ['review_id', 'varchar'], ['trace_id', 'varchar'], ['agent_id', 'varchar'], ['judge_prompt_hash', 'varchar'],
      ['judge_faithfulness', 'double'], ['human_faithfulness', 'double'], ['judge_answer_relevance', 'double'], ['human_answer_relevance', 'double'],
      ['judge_misrouted', 'boolean'], ['human_misrouted', 'boolean'],
    ];
    const row = (i: number, j: string, h: string): Array<string | undefined> => [`rv-${i}`, `t-${i}`, 'a', 'h', j, h, j, h, undefined, undefined];
    athenaReturns(athena, athenaPage(columns, [row(1, '0.9', '0.9'), row(2, '0.1', '0.2'), row(3, '0.8', '0.95'), row(4, '0.3', '0.1')]));
    s3.on(PutObjectCommand).resolves({});
    const result = await report({}, lambdaContext('judge-calibration'));
    expect(result.reviews).toBe(4);
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(keys.map((k) => k.Key)).toEqual([expect.stringMatching(/^judge-calibration\/\d{4}-W\d{2}\/report\.json$/), expect.stringMatching(/^judge-calibration\/\d{4}-W\d{2}\/report\.html$/)]);
    expect(keys.map((k) => k.ContentType)).toEqual(['application/json', 'text/html; charset=utf-8']);
    const emf = logged.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const values = (dimension: string) => Object.assign({}, ...emf.filter((m) => m.Dimension === dimension)) as Record<string, unknown>;
    expect(values('faithfulness')).toMatchObject({ JudgeHumanKappa: 1, JudgeItemsReviewed: 4 });
    // Misroute was never judged here: a count of 0 and no kappa at all.
    expect(values('misroute')).toMatchObject({ JudgeItemsReviewed: 0 });
    expect(values('misroute')).not.toHaveProperty('JudgeHumanKappa');
    // The alarms watch exactly these dimensions (service and Dimension): anything else would leave them without data.
    for (const m of emf) {
      expect((m._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'Dimension']]);
      expect(m.service).toBe(CALIBRATION_METRICS.service);
    }
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(1);
  });
});
