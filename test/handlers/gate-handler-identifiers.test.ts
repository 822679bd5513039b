/**
 * A personal value planted in any identifier-bearing field of any input format reaches no row, no
 * metric and no log line: identifiers that carry one are refused before a row exists, session ids are
 * written only as keyed pseudonyms, and everything the handler logs is captured here and searched.
 */
import { ComprehendClient, DetectPiiEntitiesCommand, type DetectPiiEntitiesCommandInput } from '@aws-sdk/client-comprehend';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { dev } from '../../config/stages/dev';
import type { FirehoseOutputRecord } from '../../lambdas/gate-score/firehose-records';
import { gateConfigDigest, gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import type * as GateHandlerModule from '../../lambdas/gate-score/handler';
import type * as ComprehendModule from '@aws-sdk/client-comprehend';
import type * as SecretsManagerModule from '@aws-sdk/client-secrets-manager';
import { createPseudonymiser, PSEUDONYM_PATTERN } from '../../lambdas/shared/pseudonymisation';
import { lambdaContext } from '../helpers/lambda-context';
import { PLANTED_VALUES, plantedRecords, type PlantedRecord } from '../helpers/planted-identifiers';

const KEY = 'pseudonymisation-test-key-0123456789abcdefghijklmnopqrstuvwxyz';
const comprehend = mockClient(ComprehendClient);
const secrets = mockClient(SecretsManagerClient);
secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
process.env.PSEUDONYMISATION_KEY_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pseudonymisation-AbCdEf';
process.env.GATE_CONFIG = JSON.stringify(
  gateConfigFromStage(dev, readRewardPolicy('v1'), { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit' }),
);
process.env.GATE_CONFIG_SHA256 = gateConfigDigest(process.env.GATE_CONFIG);
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'gate-score';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
// Dev mode writes logs and EMF through the global console, where the spies below capture them. The
// event is never logged, even when the environment asks for it.
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
// Dev mode turns metrics off unless told otherwise: their dimensions are searched too.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/gate-score/handler') as typeof GateHandlerModule;

const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
const spies = consoleMethods.map((method) => jest.spyOn(console, method).mockImplementation(() => undefined));
const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);

/** Everything written to the console or stdout since the spies were last cleared. */
function logged(): string {
  const calls = [...spies.flatMap((spy) => spy.mock.calls), ...stdout.mock.calls];
  return calls.map((args) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')).join('\n');
}

/** A Comprehend double that finds e-mail addresses (offsets in code points). */
function detectEmails(input: DetectPiiEntitiesCommandInput) {
  const text = input.Text ?? '';
  const entities = [];
  for (const match of text.matchAll(/[\w.+-]+@[\w-]+\.[\w.]+/g)) {
    const begin = [...text.slice(0, match.index)].length;
    entities.push({ Type: 'EMAIL' as const, Score: 0.99, BeginOffset: begin, EndOffset: begin + [...match[0]].length });
  }
  return { Entities: entities };
}

function event(records: readonly PlantedRecord[]): FirehoseTransformationEvent {
  return {
    invocationId: 'inv-planted',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/traces',
    region: 'us-east-1',
    records: records.map((r, i) => ({ recordId: `rec-${i}`, approximateArrivalTimestamp: 0, data: r.data.toString('base64') })),
  };
}

function decoded(record: FirehoseOutputRecord): string {
  return Buffer.from(record.data, 'base64').toString('utf8');
}

function describeRecord(record: PlantedRecord): string {
  return `${record.format} ${record.field} <- ${record.planted.label}${record.keepable ? '' : ' (no consent)'}`;
}

describe('gate handler: planted identifiers', () => {
  const planted = plantedRecords();
  let results: FirehoseOutputRecord[];
  let logs: string;
  let scanned: string;

  beforeAll(async () => {
    comprehend.reset();
    comprehend.on(DetectPiiEntitiesCommand).callsFake(detectEmails);
    for (const spy of [...spies, stdout]) spy.mockClear();
    const response = (await handler(event(planted), lambdaContext('gate-score'))) as { records: FirehoseOutputRecord[] };
    results = response.records;
    logs = logged();
    scanned = comprehend.commandCalls(DetectPiiEntitiesCommand).map((call) => call.args[0].input.Text ?? '').join('\n');
  });

  it('covers every format and every identifier-bearing field', () => {
    expect(new Set(planted.map((p) => p.format))).toEqual(new Set(['native', 'langfuse', 'otlp']));
    for (const format of ['native', 'langfuse', 'otlp'] as const) {
      const targets = new Set(planted.filter((p) => p.format === format).map((p) => p.target));
      for (const target of ['trace_id', 'request_id', 'agent_id', 'session_id', 'model.family', 'model.name', 'model.version', 'model.variant', 'data_region', 'language', 'route.tier', 'tool_calls.name'] as const) {
        expect([format, target, targets.has(target)]).toEqual([format, target, true]);
      }
    }
    expect(results).toHaveLength(planted.length);
  });

  it('refuses every record whose identifier carries the value, as a schema failure whose raw bytes go only to the error output', () => {
    planted.forEach((record, i) => {
      if (record.target === 'session_id' || record.target === 'none') return;
      const result = results[i]!;
      expect([describeRecord(record), result.result]).toEqual([describeRecord(record), 'ProcessingFailed']);
      // Firehose keeps a failed record's original bytes in the encrypted, expiring error output; no table sees them.
      expect(result.data).toBe(record.data.toString('base64'));
    });
  });

  it('keeps or audits records whose session id carries the value, with the session stored as its keyed pseudonym', () => {
    const expected = createPseudonymiser(Buffer.from(KEY, 'utf8'));
    planted.forEach((record, i) => {
      if (record.target !== 'session_id' && record.target !== 'none') return;
      const result = results[i]!;
      expect([describeRecord(record), result.result]).toEqual([describeRecord(record), 'Ok']);
      if (result.result !== 'Ok') return;
      const row = JSON.parse(decoded(result)) as Record<string, unknown>;
      const table = result.metadata.otfMetadata.destinationTableName;
      expect([describeRecord(record), table]).toEqual([describeRecord(record), record.keepable ? 'traces' : 'gate_audit']);
      if (table === 'traces') {
        expect(row.session_id).toMatch(PSEUDONYM_PATTERN);
        if (record.target === 'session_id') expect(row.session_id).toBe(expected.pseudonymise('session', record.planted.value));
      } else {
        expect(Object.keys(row)).not.toContain('session_id');
      }
    });
  });

  it('writes none of the planted values, nor a fragment of one, into any row', () => {
    const rows = results.filter((r) => r.result === 'Ok').map(decoded);
    expect(rows.length).toBeGreaterThan(0);
    for (const { needles } of PLANTED_VALUES) {
      for (const needle of needles) expect([needle, rows.filter((row) => row.includes(needle)).length]).toEqual([needle, 0]);
    }
  });

  it('logs none of them (diagnostics, metrics, Powertools context), and never the event', () => {
    expect(logs).toContain('record not delivered to traces');
    expect(logs).toContain('GateDrops');
    expect(logs).not.toContain('Lambda invocation event');
    for (const { needles } of PLANTED_VALUES) {
      for (const needle of needles) expect([needle, logs.includes(needle)]).toEqual([needle, false]);
    }
  });

  it('tags its log lines with the invocation (Powertools context), and its batch metrics reach the log as EMF', () => {
    // Dev mode pretty-prints each log record over several lines.
    expect(logs).toMatch(/"message":\s*"batch gated"/);
    expect(logs).toMatch(/"function_name":\s*"gate-score"/);
    expect(logs).toMatch(/"function_request_id":\s*"req-test"/);
    expect(logs).toMatch(/"_aws":\{"Timestamp":\d+,"CloudWatchMetrics":\[\{"Namespace":"Test"/);
  });

  it('names the field and the rule in each refusal, never the value', () => {
    const reasons = logs.split('\n').filter((line) => line.includes('schema: '));
    expect(reasons.length).toBeGreaterThan(0);
    expect(logs).toContain('must not contain personal data');
    expect(logs).toMatch(/may contain only letters, digits and/);
  });

  it('sends the scanner texts only: no session id, no identifier', () => {
    expect(scanned.length).toBeGreaterThan(0);
    for (const { needles } of PLANTED_VALUES) {
      for (const needle of needles) expect([needle, scanned.includes(needle)]).toEqual([needle, false]);
    }
  });
});

describe('gate handler: the pseudonymisation key', () => {
  it('gates nothing while the key cannot be read, and reads it again on the next invocation', async () => {
    let isolated: typeof GateHandlerModule | undefined;
    let isolatedSecrets: ReturnType<typeof mockClient> | undefined;
    let isolatedComprehend: ReturnType<typeof mockClient> | undefined;
    jest.isolateModules(() => {
      // A fresh environment: its own SDK classes, mocked before the handler module loads and starts the read.
      /* eslint-disable @typescript-eslint/no-require-imports */
      const sm = require('@aws-sdk/client-secrets-manager') as typeof SecretsManagerModule;
      const cp = require('@aws-sdk/client-comprehend') as typeof ComprehendModule;
      isolatedSecrets = mockClient(sm.SecretsManagerClient);
      isolatedSecrets.on(sm.GetSecretValueCommand).rejectsOnce(Object.assign(new Error('secret unavailable'), { name: 'AccessDeniedException' })).resolves({ SecretString: KEY });
      isolatedComprehend = mockClient(cp.ComprehendClient);
      isolatedComprehend.on(cp.DetectPiiEntitiesCommand).resolves({ Entities: [] });
      isolated = require('../../lambdas/gate-score/handler') as typeof GateHandlerModule;
      /* eslint-enable @typescript-eslint/no-require-imports */
    });
    const records = plantedRecords().filter((p) => p.target === 'session_id' && p.keepable).slice(0, 2);
    await expect(isolated!.handler(event(records), lambdaContext('gate-score'))).rejects.toThrow('secret unavailable');
    expect(isolatedComprehend!.calls()).toHaveLength(0);
    const response = (await isolated!.handler(event(records), lambdaContext('gate-score'))) as { records: FirehoseOutputRecord[] };
    expect(response.records.map((r) => r.result)).toEqual(['Ok', 'Ok']);
    expect(isolatedSecrets!.calls()).toHaveLength(2);
  });
});
