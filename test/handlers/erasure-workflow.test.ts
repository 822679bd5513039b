/**
 * The erasure state machine EXECUTED through its paths with the real step code and AWS adapters
 * (lambdas/erasure/erasure-steps.ts, the DynamoDB ledger, Athena statements, S3 version expiry) over
 * mocked Athena, S3 and DynamoDB: the synthesized ASL runs locally, every Task calls runErasureStep.
 * The mocked lake holds one subject row in traces (in one data file) and a noncurrent version of it.
 */
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { gzipSync } from 'node:zlib';
import { athenaLakeStatements } from '../../lambdas/erasure/aws/athena-lake-statements';
import { DynamoDbErasureLedger } from '../../lambdas/erasure/aws/dynamodb-erasure-ledger';
import { S3LakeObjectVersions } from '../../lambdas/erasure/aws/s3-lake-object-versions';
import { checkErasureDeadlines } from '../../lambdas/erasure/deadline-handler';
import { runErasureStep, type ErasureStepDeps } from '../../lambdas/erasure/erasure-steps';
import type { ErasureLedgerEntry } from '../../lambdas/erasure/ledger';
import type { RegisteredModelPackage } from '../../lambdas/pipeline/register-model/model-registry';
import { ERASURE_STATES as S } from '../../stepfunctions/erasure';
import { renderAsl, stateMachineLogicalIds } from '../../stepfunctions/render-asl';
import { execute, type Json, type TaskStub } from '../constructs/asl-execution';
import { loopTemplate } from '../helpers/app';

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);

const asl = (() => {
  const json = loopTemplate('dev').toJSON() as unknown;
  return renderAsl(json, stateMachineLogicalIds(json).find((i) => i.startsWith('Erasure'))!);
})();

const SUBJECT = `hmac-sha256:${'b'.repeat(64)}`;
const FILE = 'tables/traces/data/ts_day=2026-12-01/00001.parquet';
const OTHER_FILE = 'tables/traces/data/ts_day=2026-12-01/00002.parquet';

interface Lake {
  subjectRows: number;
  failOn?: RegExp;
  denyVersionDeletes?: boolean;
  versions: { Key: string; VersionId: string; IsLatest: boolean }[];
  statements: string[];
  ledger: Map<string, ErasureLedgerEntry>;
}

function mockAws(lake: Lake): void {
  athena.reset();
  s3.reset();
  ddb.reset();
  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
    lake.statements.push(input.QueryString);
    return { QueryExecutionId: `q${lake.statements.length - 1}` };
  });
  const textOf = (id: string): string => lake.statements[Number(id.slice(1))]!;
  athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
    const text = textOf(input.QueryExecutionId);
    if (lake.failOn?.test(text) === true) return { QueryExecution: { Status: { State: 'FAILED', AthenaError: { ErrorMessage: 'simulated failure' } } } };
    // The DELETE removes the subject's row; OPTIMIZE and VACUUM leave the current rows as they are.
    if (text.startsWith('DELETE FROM lake_db.traces')) lake.subjectRows = 0;
    return { QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: {} } };
  });
  athena.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string }) => {
    const text = textOf(input.QueryExecutionId);
    const result = (columns: string[], rows: string[][]) => ({
      ResultSet: { ResultSetMetadata: { ColumnInfo: columns.map((Name) => ({ Name, Type: Name === 'n' ? 'bigint' : 'varchar' })) }, Rows: [{ Data: columns.map((c) => ({ VarCharValue: c })) }, ...rows.map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) }))] },
    });
    if (text.startsWith('SELECT trace_id, agent_id, request_id FROM lake_db.traces')) return result(['trace_id', 'agent_id', 'request_id'], lake.subjectRows > 0 ? [['t-1', 'agent-1', 'r-1']] : []);
    if (text.startsWith('SELECT DISTINCT "$path" AS path FROM lake_db.traces')) return result(['path'], lake.subjectRows > 0 ? [[`s3://lake-bucket/${FILE}`]] : []);
    if (text.startsWith('SELECT DISTINCT')) return result(['path'], []);
    if (text.startsWith('SELECT count(*) AS n FROM lake_db.traces')) return result(['n'], [[String(lake.subjectRows)]]);
    if (text.startsWith('SELECT count(*)')) return result(['n'], [['0']]);
    throw new Error(`unexpected query ${text}`);
  });
  s3.on(ListObjectVersionsCommand).callsFake((input: { Prefix: string }) => ({ Versions: lake.versions.filter((v) => v.Key.startsWith(input.Prefix)), IsTruncated: false }));
  s3.on(DeleteObjectsCommand).callsFake((input: { Delete: { Objects: { Key: string; VersionId: string }[] } }) => {
    if (lake.denyVersionDeletes === true) return { Errors: input.Delete.Objects.map((o) => ({ ...o, Code: 'AccessDenied' })) };
    for (const o of input.Delete.Objects) lake.versions = lake.versions.filter((v) => !(v.Key === o.Key && v.VersionId === o.VersionId && !v.IsLatest));
    return { Errors: [] };
  });
  ddb.on(PutCommand).callsFake((input: { Item: ErasureLedgerEntry }) => {
    lake.ledger.set(input.Item.erasureId, structuredClone(input.Item));
    return {};
  });
  ddb.on(GetCommand).callsFake((input: { Key: { erasureId: string } }) => ({ Item: lake.ledger.get(input.Key.erasureId) }));
  ddb.on(ScanCommand).callsFake(() => ({ Items: [...lake.ledger.values()] }));
}

const PACKAGE: RegisteredModelPackage = {
  arn: 'arn:aws:sagemaker:eu-central-1:123456789012:model-package/sial-dev-llama/3',
  groupName: 'sial-dev-llama',
  version: 3,
  approvalStatus: 'Approved',
  createdAt: new Date('2026-11-01T00:00:00Z'),
  metadata: { runId: 'run-7', datasetId: 'ds-7', targetModelId: 'llama' },
};
/** The artifact bucket of the run that registered PACKAGE: its manifest and trace-id file (gzip, as Athena writes it). */
const ARTIFACTS: Record<string, Uint8Array> = {
  's3://artifact-bucket/runs/run-7/dataset/manifest.json': Buffer.from(JSON.stringify({ datasetId: 'ds-7', manifestUri: 's3://artifact-bucket/runs/run-7/dataset/manifest.json', targetModelId: 'llama', createdAt: '2026-10-31T00:00:00Z', files: { traceIds: ['s3://artifact-bucket/runs/run-7/dataset/trace-ids/part-0.gz'] } })),
  's3://artifact-bucket/runs/run-7/dataset/trace-ids/part-0.gz': gzipSync('t-0\nt-1\n'),
};

function deps(flagged: { arn: string; entries: Readonly<Record<string, string>> }[]): ErasureStepDeps {
  const packages: RegisteredModelPackage[] = [PACKAGE];
  return {
    workflow: {
      ledger: new DynamoDbErasureLedger(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-central-1' })), 'erasure-ledger'),
      athena: athenaLakeStatements(new AthenaClient({ region: 'eu-central-1' }), { workGroup: 'wg', database: 'lake_db', sleep: async () => undefined }),
      versions: new S3LakeObjectVersions(new S3Client({ region: 'eu-central-1' }), 'lake-bucket'),
      database: 'lake_db',
      bucket: 'lake-bucket',
      tablePrefix: (t) => `tables/${t}/`,
      deadlineDays: 30,
      now: () => new Date('2026-12-04T10:00:00Z'),
    },
    registry: { listAllPackages: async () => packages, setMetadata: async (arn, entries) => void flagged.push({ arn, entries }) },
    datasets: { getBytes: async (uri) => ARTIFACTS[uri] },
    artifactBucket: 'artifact-bucket',
    lineagePolicy: { routerTargetIds: new Set(), retainApprovedModelVersions: 2, retainApprovedRouterVersions: 2 },
  };
}

async function run(lake: Lake, flagged: { arn: string; entries: Readonly<Record<string, string>> }[] = []): Promise<{ result: Awaited<ReturnType<typeof execute>>; notified: Json[] }> {
  mockAws(lake);
  const d = deps(flagged);
  const notified: Json[] = [];
  const step: TaskStub = (input) => runErasureStep(d, input) as unknown as Json;
  const stubs: Record<string, TaskStub> = Object.fromEntries(
    [S.record, S.resolve, S.delete, S.rewrite, S.vacuum, S.expireVersions, S.verify, S.lineage, S.markFailed].map((name) => [name, step]),
  );
  stubs[S.notifyFailure] = (input) => {
    notified.push(input);
    return {};
  };
  const result = await execute(asl, { target: { kind: 'subject', subjectKey: SUBJECT } }, stubs, 'erase-1');
  return { result, notified };
}

function freshLake(): Lake {
  return {
    subjectRows: 1,
    versions: [
      { Key: FILE, VersionId: 'v-old', IsLatest: false },
      { Key: OTHER_FILE, VersionId: 'v-current', IsLatest: true },
    ],
    statements: [],
    ledger: new Map(),
  };
}

describe('the erasure state machine with the real steps over mocked Athena, S3 and DynamoDB', () => {
  it('erases, expires the old versions, verifies and records verified in the ledger', async () => {
    const lake = freshLake();
    const flagged: { arn: string; entries: Readonly<Record<string, string>> }[] = [];
    const { result, notified } = await run(lake, flagged);
    expect(result.status).toBe('SUCCEEDED');
    expect(notified).toEqual([]);
    const [entry] = [...lake.ledger.values()];
    // The registered version whose run's dataset listed the erased trace is flagged with the erasure id, not deleted.
    expect(flagged).toEqual([{ arn: PACKAGE.arn, entries: { 'erasure.trainedOnErasedData': entry!.erasureId } }]);
    expect(entry!.lineage).toEqual({ datasets: ['ds-7'], versions: [PACKAGE.arn] });
    expect(entry).toMatchObject({ status: 'verified', target: `subject:${SUBJECT}`, traceIds: 1, rowsDeleted: { traces: 1, gate_audit: 0 } });
    expect(entry!.verification).toMatchObject({ verified: true, leftoverFiles: 0, remainingRows: { traces: 0 } });
    // DELETE only where rows matched; OPTIMIZE, the VACUUM age and VACUUM on every table, in that order.
    const kinds = lake.statements.map((s) => s.split(' ')[0]);
    expect(lake.statements.filter((s) => s.startsWith('DELETE'))).toEqual([expect.stringMatching(/^DELETE FROM lake_db\.traces WHERE \(subject_key = 'hmac-sha256:b+' OR trace_id IN \('t-1'\)\)$/)]);
    expect(kinds.filter((k) => ['OPTIMIZE', 'VACUUM'].includes(k!))).toHaveLength(10);
    expect(kinds.lastIndexOf('OPTIMIZE')).toBeLessThan(kinds.indexOf('VACUUM'));
    expect(lake.statements).toContain("ALTER TABLE lake_db.traces SET TBLPROPERTIES ('vacuum_max_snapshot_age_seconds'='300')");
    // The noncurrent version is gone; the current version of another file is untouched.
    expect(lake.versions).toEqual([{ Key: OTHER_FILE, VersionId: 'v-current', IsLatest: true }]);
  });

  it('a failed VACUUM (after its retries) marks the ledger entry failed and notifies', async () => {
    const lake = { ...freshLake(), failOn: /^VACUUM lake_db\.feedback$/ };
    const { result, notified } = await run(lake);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('AthenaQueryError');
    const [entry] = [...lake.ledger.values()];
    expect(entry).toMatchObject({ status: 'failed', failure: { error: 'AthenaQueryError' }, rowsDeleted: { traces: 1 } });
    expect(entry!.failure!.execution).toContain('erase-1');
    expect(notified).toHaveLength(1);
    expect(JSON.stringify(notified[0])).not.toContain(SUBJECT);
    // Versions are not expired after a failed VACUUM: the run stopped there.
    expect(lake.versions).toHaveLength(2);
  });

  it('versions that cannot be deleted (a role without s3:DeleteObjectVersion) fail the run and leave the ledger failed', async () => {
    const lake = { ...freshLake(), denyVersionDeletes: true };
    const { result, notified } = await run(lake);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Error');
    expect([...lake.ledger.values()][0]!.status).toBe('failed');
    expect(lake.versions.some((v) => v.Key === FILE)).toBe(true);
    expect(notified).toHaveLength(1);
  });

  it('refuses a raw id as the target: nothing is recorded, the failure is still notified', async () => {
    const lake = freshLake();
    mockAws(lake);
    const d = deps([]);
    const notified: Json[] = [];
    const step: TaskStub = (input) => runErasureStep(d, input) as unknown as Json;
    const result = await execute(asl, { target: { kind: 'subject', subjectKey: 'alice@example.com' } }, { [S.record]: step, [S.markFailed]: step, [S.notifyFailure]: (i) => (notified.push(i), {}) });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ErasureInputError');
    expect(lake.ledger.size).toBe(0);
    expect(JSON.stringify(notified)).not.toContain('alice@example.com');
    expect(lake.statements).toEqual([]);
  });

  it('the deadline check counts requests past their deadline that are not verified', async () => {
    const lake = { ...freshLake(), failOn: /^VACUUM/ };
    await run(lake);
    const ledger = deps([]).workflow.ledger;
    const [entry] = await ledger.list();
    const deadline = Date.parse(entry!.deadline);
    expect(deadline - Date.parse(entry!.requestedAt)).toBe(30 * 86_400_000);
    expect(await checkErasureDeadlines(ledger, new Date(deadline - 1000))).toEqual({ overdue: 0, erasureIds: [] });
    expect(await checkErasureDeadlines(ledger, new Date(deadline + 1000))).toEqual({ overdue: 1, erasureIds: [entry!.erasureId] });
  });
});
