import { ComprehendClient, DetectPiiEntitiesCommand, type DetectPiiEntitiesCommandInput } from '@aws-sdk/client-comprehend';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type * as GateHandlerModule from '../../lambdas/gate-score/handler';
import { dev } from '../../config/stages/dev';
import { readRewardPolicy } from '../../config/reward-policies/read';
import type { FirehoseOutputRecord } from '../../lambdas/gate-score/firehose-records';
import { gateConfigDigest, gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import { hostileCorpus } from '../helpers/hostile-corpus';
import { lambdaContext } from '../helpers/lambda-context';
import { makeTrace } from '../helpers/trace-factory';

const comprehend = mockClient(ComprehendClient);
const secrets = mockClient(SecretsManagerClient);
secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k'.repeat(64) });
process.env.PSEUDONYMISATION_KEY_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pseudonymisation-AbCdEf';
process.env.GATE_CONFIG = JSON.stringify(
  gateConfigFromStage(dev, readRewardPolicy('v1'), { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit' }),
);
process.env.GATE_CONFIG_SHA256 = gateConfigDigest(process.env.GATE_CONFIG);
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'gate-score';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
// Powertools writes through the global console in dev mode, which the spies below silence.
process.env.POWERTOOLS_DEV = 'true';

// Imported after the environment is set: the module reads GATE_CONFIG at load, as at a cold start.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/gate-score/handler') as typeof GateHandlerModule;

jest.spyOn(console, 'log').mockImplementation(() => undefined);
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);

/** A Comprehend double that finds e-mail addresses, with offsets in code points as the real service gives. */
function detectEmails(input: DetectPiiEntitiesCommandInput) {
  const text = input.Text ?? '';
  const entities = [];
  for (const match of text.matchAll(/[\w.+-]+@[\w-]+\.[\w.]+/g)) {
    const begin = [...text.slice(0, match.index)].length;
    entities.push({ Type: 'EMAIL' as const, Score: 0.99, BeginOffset: begin, EndOffset: begin + [...match[0]].length });
  }
  return { Entities: entities };
}

function event(records: Buffer[]): FirehoseTransformationEvent {
  return {
    invocationId: 'inv-1',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/traces',
    region: 'us-east-1',
    records: records.map((data, i) => ({ recordId: `rec-${i}`, approximateArrivalTimestamp: 0, data: data.toString('base64') })),
  };
}

async function invoke(records: Buffer[]): Promise<FirehoseOutputRecord[]> {
  const result = (await handler(event(records), lambdaContext('gate-score'))) as { records: FirehoseOutputRecord[] };
  return result.records;
}

function rowOf(record: FirehoseOutputRecord | undefined): Record<string, unknown> {
  if (record === undefined) throw new Error('missing record');
  return JSON.parse(Buffer.from(record.data, 'base64').toString('utf8')) as Record<string, unknown>;
}

function tableOf(record: FirehoseOutputRecord | undefined): string | undefined {
  return record?.result === 'Ok' ? record.metadata.otfMetadata.destinationTableName : undefined;
}

const goodTrace = (i: number) =>
  Buffer.from(JSON.stringify(makeTrace({ trace_id: `good-${i}`, output: `Write to support.${i}@example.com for help.` })));

beforeEach(() => {
  comprehend.reset();
  comprehend.on(DetectPiiEntitiesCommand).callsFake(detectEmails);
});

describe('gate handler: the Firehose contract', () => {
  it('delivers every good neighbour of a hostile corpus and gives each hostile record exactly one result', async () => {
    const corpus = hostileCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(100);
    const records: Buffer[] = [];
    corpus.forEach((hostile, i) => records.push(goodTrace(i), hostile.data));
    records.push(goodTrace(corpus.length));

    const results = await invoke(records);

    expect(results.map((r) => r.recordId)).toEqual(records.map((_, i) => `rec-${i}`));
    corpus.forEach((hostile, i) => {
      const good = results[2 * i];
      expect([hostile.name, 'neighbour', tableOf(good)]).toEqual([hostile.name, 'neighbour', 'traces']);
      const result = results[2 * i + 1];
      const outcome = result?.result === 'ProcessingFailed' ? 'failed' : tableOf(result) === 'gate_audit' ? `audit:${String(rowOf(result).gate)}` : result?.result;
      expect([hostile.name, outcome]).toEqual([hostile.name, hostile.expected]);
    });
    expect(tableOf(results.at(-1))).toBe('traces');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('masks PII in delivered rows and writes the audit row without content', async () => {
    const results = await invoke([goodTrace(1), Buffer.from(JSON.stringify(makeTrace({ consent: false, output: 'mail jane@example.com' })))]);
    const row = rowOf(results[0]);
    expect(row.output).toBe('Write to [EMAIL] for help.');
    expect(row.pii_entities_masked).toBe(1);
    expect(row.pii_scanner).toBe('comprehend');
    const audit = rowOf(results[1]);
    expect(audit).toEqual(expect.objectContaining({ gate: 'consent', reason: 'consent_withheld: consent=false' }));
    expect(JSON.stringify(audit)).not.toContain('jane');
  });

  it('writes a duplicate trace id once and drops the repeat', async () => {
    const results = await invoke([goodTrace(7), goodTrace(7)]);
    expect(results.map((r) => r.result)).toEqual(['Ok', 'Dropped']);
  });

  it('sends only traces that passed the local gates to Comprehend, packed into one call', async () => {
    await invoke([goodTrace(1), goodTrace(2), Buffer.from(JSON.stringify(makeTrace({ consent: false, output: 'secret@example.com' })))]);
    const calls = comprehend.commandCalls(DetectPiiEntitiesCommand);
    expect(calls).toHaveLength(1);
    const text = calls[0]!.args[0].input.Text ?? '';
    expect(text).toContain('support.1@example.com');
    expect(text).toContain('support.2@example.com');
    expect(text).not.toContain('secret@example.com');
  });
});

describe('gate handler: Comprehend failures fail closed', () => {
  it('retries throttling with backoff and then delivers masked rows', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    comprehend.reset();
    comprehend.on(DetectPiiEntitiesCommand).rejectsOnce(throttled).rejectsOnce(throttled).callsFake(detectEmails);
    const results = await invoke([goodTrace(1), goodTrace(2)]);
    expect(comprehend.commandCalls(DetectPiiEntitiesCommand)).toHaveLength(3);
    expect(results.map(tableOf)).toEqual(['traces', 'traces']);
    expect(rowOf(results[0]).output).toBe('Write to [EMAIL] for help.');
  });

  it('discards (audits) the traces of a call that keeps failing and never writes them unmasked', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    comprehend.reset();
    comprehend.on(DetectPiiEntitiesCommand).rejects(throttled);
    const results = await invoke([goodTrace(1), goodTrace(2)]);
    expect(comprehend.commandCalls(DetectPiiEntitiesCommand)).toHaveLength(dev.pii.maxAttempts);
    for (const result of results) {
      expect(tableOf(result)).toBe('gate_audit');
      expect(rowOf(result)).toEqual(expect.objectContaining({ gate: 'pii', reason: expect.stringMatching(/^pii_scan_failed:/) }));
      expect(Buffer.from(result.data, 'base64').toString()).not.toContain('@example.com');
    }
  }, 30_000);

  it('on a partial failure discards only the traces of the failed call and delivers the rest', async () => {
    // Each trace opens with a 60 KB message, so two traces cannot share one 100 KB call: two calls,
    // each holding one whole trace, and the first fails for good.
    const big = (i: number) =>
      Buffer.from(
        JSON.stringify(
          makeTrace({
            trace_id: `big-${i}`,
            input_messages: [{ role: 'user', content: 'lorem ipsum '.repeat(5_000) }],
            retrieved_contexts: [],
            output: `reach me at big${i}@example.com`,
          }),
        ),
      );
    comprehend.reset();
    comprehend
      .on(DetectPiiEntitiesCommand)
      .rejectsOnce(Object.assign(new Error('bad request'), { name: 'InvalidRequestException', $metadata: { httpStatusCode: 400 } }))
      .callsFake(detectEmails);
    const results = await invoke([big(1), big(2)]);
    expect(comprehend.commandCalls(DetectPiiEntitiesCommand)).toHaveLength(2);
    const tables = results.map(tableOf).sort();
    expect(tables).toEqual(['gate_audit', 'traces']);
    const delivered = results.find((r) => tableOf(r) === 'traces');
    expect(String(rowOf(delivered).output)).toMatch(/^reach me at \[EMAIL\]$/);
  });
});
