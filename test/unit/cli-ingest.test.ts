/**
 * `sial ingest`: reading trace files, batching within PutRecordBatch's limits, re-sending only failed
 * records, and the summary and exit code; Firehose mocked with aws-sdk-client-mock.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { createIngestCommand } from '../../bin/cli/ingest';
import { batchesOf, putRecordBatches } from '../../lambdas/shared/aws/put-record-batches';
import { MAX_RECORD_BYTES, parseTraceFile } from '../../bin/cli/trace-files';

const firehose = mockClient(FirehoseClient);
beforeEach(() => firehose.reset());

const trace = (i: number) => ({ trace_id: `tr-${i}`, agent_id: 'rag-qa-agent', output: 'x' });
const noSleep = async (): Promise<void> => undefined;

function cli(dir: string) {
  const out: string[] = [];
  const err: string[] = [];
  const command = createIngestCommand(() => new FirehoseClient({ region: 'us-east-1' }), { sleep: noSleep });
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env: {}, clock: () => new Date() };
  return { out, err, run: (...argv: string[]) => runCli(argv, context, [command]), dir };
}

describe('reading trace files', () => {
  it('reads JSON Lines, arrays and single objects; reports a bad line by place, never by content, and keeps its neighbours', () => {
    const lines = parseTraceFile('a.jsonl', `${JSON.stringify(trace(1))}\n\n{"secret": jane@example.com\n${JSON.stringify(trace(2))}\n[1]\n`);
    expect(lines.records.map((r) => r.source)).toEqual(['a.jsonl:1', 'a.jsonl:4']);
    expect(lines.problems).toEqual([
      { source: 'a.jsonl:3', problem: 'not valid JSON' },
      { source: 'a.jsonl:5', problem: 'not a JSON object (one trace per record)' },
    ]);
    expect(parseTraceFile('b.json', JSON.stringify([trace(1), trace(2)])).records.map((r) => r.source)).toEqual(['b.json[0]', 'b.json[1]']);
    expect(parseTraceFile('otlp.json', JSON.stringify({ resourceSpans: [] })).records).toHaveLength(1);
    expect(parseTraceFile('c.json', 'nope').problems[0]?.problem).toContain('not valid JSON');
  });

  it('refuses a record over Firehose\'s 1,000 KiB limit', () => {
    const big = { ...trace(1), output: 'x'.repeat(MAX_RECORD_BYTES) };
    expect(parseTraceFile('big.json', JSON.stringify(big)).problems[0]?.problem).toMatch(/more than Firehose's 1024000 per record/);
  });
});

describe('batching', () => {
  it('keeps every batch within 500 records and 4 MiB, in order', () => {
    const small = Array.from({ length: 1_201 }, (_, i) => ({ data: Buffer.alloc(10), i }));
    expect(batchesOf(small).map((b) => b.length)).toEqual([500, 500, 201]);
    const large = Array.from({ length: 9 }, (_, i) => ({ data: Buffer.alloc(1_000_000), i }));
    const batches = batchesOf(large);
    expect(batches.map((b) => b.length)).toEqual([4, 4, 1]);
    expect(batches.flat().map((r) => r.i)).toEqual(large.map((r) => r.i));
  });
});

describe('sending', () => {
  it('re-sends only the records a call reports as failed, until they are delivered', async () => {
    let call = 0;
    firehose.on(PutRecordBatchCommand).callsFake((input: { Records: { Data: Uint8Array }[] }) => {
      call += 1;
      // First call: every third record throttled; later calls: all delivered.
      return {
        FailedPutCount: 0,
        RequestResponses: input.Records.map((_, i) => (call === 1 && i % 3 === 0 ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' } : { RecordId: `id-${call}-${i}` })),
      };
    });
    const records = Array.from({ length: 10 }, (_, i) => ({ source: `f:${i + 1}`, data: Buffer.from(JSON.stringify(trace(i))) }));
    const summary = await putRecordBatches(records, { client: new FirehoseClient({ region: 'us-east-1' }), streamName: 's', sleep: noSleep });
    expect(summary).toMatchObject({ sent: 10, delivered: 10, calls: 2, resent: 4, failedByCode: {} });
    const second = firehose.commandCalls(PutRecordBatchCommand)[1]?.args[0].input.Records?.map((r) => JSON.parse(Buffer.from(r.Data as Uint8Array).toString()).trace_id);
    expect(second).toEqual(['tr-0', 'tr-3', 'tr-6', 'tr-9']);
  });

  it('gives up after the attempts and names what was not delivered; a throttled call is retried whole', async () => {
    let call = 0;
    firehose.on(PutRecordBatchCommand).callsFake((input: { Records: { Data: Uint8Array }[] }) => {
      call += 1;
      if (call === 1) throw Object.assign(new Error('throttled'), { name: 'ServiceUnavailableException' });
      // The record marked "bad" fails every time; the other is delivered.
      return { RequestResponses: input.Records.map((r) => (Buffer.from(r.Data).toString().includes('bad') ? { ErrorCode: 'InternalFailure' } : { RecordId: 'ok' })) };
    });
    const records = ['good', 'bad'].map((kind, i) => ({ source: `f:${i + 1}`, data: Buffer.from(JSON.stringify({ kind })) }));
    const summary = await putRecordBatches(records, { client: new FirehoseClient({ region: 'us-east-1' }), streamName: 's', sleep: noSleep, maxAttempts: 3 });
    expect(summary).toMatchObject({ delivered: 1, failedByCode: { InternalFailure: 1 }, failedSources: ['f:2'], calls: 3 });
  });

  it('stops on an error that is not worth retrying', async () => {
    firehose.on(PutRecordBatchCommand).rejects(Object.assign(new Error('no such stream'), { name: 'ResourceNotFoundException' }));
    await expect(putRecordBatches([{ source: 'f:1', data: Buffer.from('{}') }], { client: new FirehoseClient({ region: 'us-east-1' }), streamName: 's', sleep: noSleep })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('sial ingest', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sial-ingest-'));
    writeFileSync(join(dir, 'traces.jsonl'), [trace(1), trace(2)].map((t) => JSON.stringify(t)).join('\n'));
    writeFileSync(join(dir, 'broken.jsonl'), `${JSON.stringify(trace(3))}\nnot json\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sends every record to the named stream and exits 0', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => ({ FailedPutCount: 0, RequestResponses: input.Records.map((_, i) => ({ RecordId: `r${i}` })) }));
    const c = cli(dir);
    expect(await c.run('ingest', join(dir, 'traces.jsonl'), '--stage', 'dev', '--stream', 'sial-dev-traces')).toBe(0);
    expect(c.out).toContain('Sent to sial-dev-traces (us-east-1): 2 of 2 delivered in 1 call(s), 0 re-sent after a failure.');
    expect(firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.DeliveryStreamName).toBe('sial-dev-traces');
  });

  it('exits 1 when a record could not be read, after sending its neighbours', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => ({ FailedPutCount: 0, RequestResponses: input.Records.map((_, i) => ({ RecordId: `r${i}` })) }));
    const c = cli(dir);
    expect(await c.run('ingest', join(dir, 'broken.jsonl'), '--stage', 'dev', '--stream', 's')).toBe(1);
    expect(c.err.join('\n')).toContain('broken.jsonl:2: not valid JSON');
    expect(c.out.join('\n')).toContain('1 of 1 delivered');
  });

  it('is a usage error without a stream, a stage or files; --dry-run sends nothing', async () => {
    const c = cli(dir);
    expect(await c.run('ingest', join(dir, 'traces.jsonl'), '--stage', 'dev')).toBe(2);
    expect(c.err.join('\n')).toContain('stack output TraceStreamName of sial-dev-data');
    expect(await c.run('ingest', join(dir, 'traces.jsonl'), '--stream', 's')).toBe(2);
    expect(await c.run('ingest', '--stage', 'dev', '--stream', 's')).toBe(2);
    expect(await c.run('ingest', join(dir, 'traces.jsonl'), '--stage', 'dev', '--stream', 's', '--dry-run')).toBe(0);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });
});
