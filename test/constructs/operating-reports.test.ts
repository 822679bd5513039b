/**
 * The daily operating reports workflow: synthesized in the loop stack (function, grants, state machine,
 * schedule, the event on the default bus), executed on the local Step Functions engine (a regression
 * notifies, none does not, a failure ends in Reports failed, a lost event does not), its step run for
 * real on a local lake with the operating demo, and the whole synthesized workflow executed locally
 * (the event schema-validated, the confidence table's rows, a rerun of the day changing nothing).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadStageConfig } from '../../config';
import { COST_REPORT_COLUMNS } from '../../lambdas/operations/cost';
import { reportRunId, writeOperatingReports } from '../../lambdas/operations/write-reports';
import { isRegressionReport } from '../../lambdas/operations/regression';
import type { ReportFigures } from '../../lambdas/operations/report-metrics';
import { OPERATING_REPORTS_ENV, parseOperatingReportsConfig } from '../../lambdas/operations/report-settings';
import { PIPELINE_ENV } from '../../lambdas/pipeline/settings';
import { CONFIDENCE_TABLE_COLUMNS } from '../../lambdas/operations/confidence-table';
import { CONFIDENCE_SCORES_TABLE } from '../../lambdas/shared/lake-tables';
import { LocalConfidenceTable } from '../../local/local-confidence-table';
import { runLocalIngest } from '../../local/local-ingest';
import { runLocalOperatingReports } from '../../local/local-operating-reports';
import { readLocalEvents } from '../../local/pipeline/local-event-log';
import { validateEventDetail } from '../helpers/event-schemas';
import { LocalLake } from '../../local/local-lake';
import { generateOperatingRecords, OPERATING_AGENTS } from '../../local/operating-traffic';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';
import { renderAsl, stateMachineLogicalIds } from '../../stepfunctions/render-asl';
import { OPERATING_REPORT_STATES as S } from '../../stepfunctions/operating-reports';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { Template } from 'aws-cdk-lib/assertions';
import { actionsOf, buildTestApp, dataTemplate, loopTemplate, resourcesOf, resourcesOfType, statementsOfRole } from '../helpers/app';
import { execute, named, type Json } from './asl-execution';

const template = loopTemplate('dev');
const config = loadStageConfig('dev');

function reportFunction(): { id: string; env: Record<string, string> } {
  const [id, fn] = resourcesOfType(template, 'AWS::Lambda::Function').find(([, r]) => JSON.stringify(r.Properties).includes('Write operating reports'))!;
  return { id, env: ((fn.Properties as { Environment: { Variables: Record<string, string> } }).Environment.Variables) };
}

describe('operating reports workflow (dev, synthesized)', () => {
  it('passes the function its settings from the stage, validated by the function\'s own parser', () => {
    const settings = parseOperatingReportsConfig(reportFunction().env[OPERATING_REPORTS_ENV.settings]);
    expect(settings).toEqual(expect.objectContaining({ stage: 'dev', thresholdPoints: config.operations.regression.thresholdPoints, currentWindowDays: 7, baselineWindowDays: 28, confidence: config.operations.confidence }));
  });

  it('names the stage\'s agents and models (the only ones with metric series of their own) and the metrics namespace the dashboard reads', () => {
    const { env } = reportFunction();
    const settings = parseOperatingReportsConfig(env[OPERATING_REPORTS_ENV.settings]);
    expect(settings.agents).toEqual(config.agents.map((a) => a.id));
    expect(settings.models).toEqual([...new Set([...config.targetModels.map((m) => m.id), ...Object.keys(config.operations.modelPrices)])].sort());
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(config.metricsNamespace);
  });

  it('refuses settings without the lists of agents and models', () => {
    const settings = JSON.parse(reportFunction().env[OPERATING_REPORTS_ENV.settings]!) as Record<string, unknown>;
    expect(() => parseOperatingReportsConfig(JSON.stringify({ ...settings, agents: undefined }))).toThrow(`${OPERATING_REPORTS_ENV.settings}.agents must be a list of names`);
    expect(() => parseOperatingReportsConfig(JSON.stringify({ ...settings, models: [1] }))).toThrow(`${OPERATING_REPORTS_ENV.settings}.models must be a list of names`);
  });

  it('lets the function write only under reports/, query through Athena, and publish nothing itself', () => {
    const roleId = (resourcesOfType(template, 'AWS::Lambda::Function').find(([id]) => id === reportFunction().id)![1].Properties as { Role: { 'Fn::GetAtt': [string] } }).Role['Fn::GetAtt'][0];
    const statements = statementsOfRole(template, roleId);
    const puts = statements.filter((s) => actionsOf(s).includes('s3:PutObject')).flatMap(resourcesOf);
    expect(JSON.stringify(puts)).toContain('/reports/*');
    expect(JSON.stringify(puts)).not.toMatch(/runs\/|golden-sets\/|curation\//);
    expect(statements.some((s) => actionsOf(s).includes('athena:StartQueryExecution'))).toBe(true);
    expect(statements.some((s) => actionsOf(s).some((a) => a.startsWith('sns:')))).toBe(false);
  });

  it('lets Athena UNLOAD the Parquet cost report with the function\'s own grants, and grants nothing broader for it', () => {
    const roleId = (resourcesOfType(template, 'AWS::Lambda::Function').find(([id]) => id === reportFunction().id)![1].Properties as { Role: { 'Fn::GetAtt': [string] } }).Role['Fn::GetAtt'][0];
    const statements = statementsOfRole(template, roleId);
    const onObjects = (suffix: string) => statements.filter((s) => JSON.stringify(resourcesOf(s)).includes(`"${suffix}"`)).flatMap(actionsOf).sort();
    // The UNLOAD files under reports/ (written with the function's credentials): put, and abort an
    // unfinished multipart upload; no read, no delete (a rerun writes a new run= folder instead).
    expect(onObjects('/reports/*')).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    // Query results and the UNLOAD's data manifest, which the engine reads to learn the files' names.
    expect(onObjects('/athena-results/*')).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject']);
    // UNLOAD checks that its prefix is empty: listing the bucket, not reading its objects.
    const bucketLevel = statements.filter((s) => resourcesOf(s).some((r) => JSON.stringify(r).includes('ArtifactBucketArn') && !JSON.stringify(r).includes('/')));
    expect(bucketLevel.flatMap(actionsOf).sort()).toEqual(['s3:GetBucketLocation', 's3:ListBucket']);
    // The workgroup encrypts UNLOAD output with the bucket's key (SSE-KMS): data keys, nothing else.
    const kms = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kms.flatMap(actionsOf).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    const everything = statements.flatMap(actionsOf);
    expect(everything.filter((a) => /^s3:(Delete|PutObjectAcl|PutBucket|\*)|^s3:\*$|^kms:\*$|^athena:\*$/.test(a))).toEqual([]);
    expect(statements.flatMap(resourcesOf).some((r) => JSON.stringify(r).includes('/*"') && !/\/(reports|athena-results|tables\/(traces|feedback|judgments|confidence_scores))\/\*"/.test(JSON.stringify(r)))).toBe(false);
  });

  it('lets the function write the confidence_scores table and no other: Glue update of that table, read and write of its prefix, no delete', () => {
    const roleId = (resourcesOfType(template, 'AWS::Lambda::Function').find(([id]) => id === reportFunction().id)![1].Properties as { Role: { 'Fn::GetAtt': [string] } }).Role['Fn::GetAtt'][0];
    const statements = statementsOfRole(template, roleId);
    const updated = statements.filter((s) => actionsOf(s).includes('glue:UpdateTable')).flatMap(resourcesOf).map((r) => JSON.stringify(r));
    const updatedTables = updated.map((r) => /:table\/[^"]*\/([a-z_]+)"/.exec(r)?.[1]).filter((t) => t !== undefined);
    expect(updatedTables).toEqual([CONFIDENCE_SCORES_TABLE.name]);
    const onLake = (action: string) => statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf).map((r) => JSON.stringify(r)).filter((r) => r.includes('LakeBucket'));
    expect(onLake('s3:PutObject').map((r) => /"\/tables\/([a-z_]+)\/\*"/.exec(r)?.[1])).toEqual([CONFIDENCE_SCORES_TABLE.name]);
    expect(onLake('s3:GetObject').map((r) => /"\/tables\/([a-z_]+)\/\*"/.exec(r)?.[1]).sort()).toEqual([CONFIDENCE_SCORES_TABLE.name, 'feedback', 'judgments', 'traces'].sort());
    expect(statements.flatMap(actionsOf).filter((a) => /^s3:Delete|^glue:(Delete|Create)/.test(a))).toEqual([]);
  });

  it('maintains the confidence_scores table like every lake table: pinned logical id, compaction, snapshot retention, orphan files', () => {
    const data = dataTemplate('dev').toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    expect(data.Resources[PINNED_LOGICAL_IDS.confidenceScoresTable]).toEqual(expect.objectContaining({ Type: 'AWS::Glue::Table' }));
    const optimizers = Object.values(data.Resources).filter((r) => r.Type === 'AWS::Glue::TableOptimizer' && r.Properties.TableName === CONFIDENCE_SCORES_TABLE.name);
    expect(optimizers.map((r) => r.Properties.Type).sort()).toEqual(['compaction', 'orphan_file_deletion', 'retention']);
  });

  it('lets the state machine put events on the default bus only (sial.reports.ready)', () => {
    const machine = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').find(([id]) => id.startsWith('OperatingReportsStateMachine'))!;
    const roleId = (machine[1].Properties as { RoleArn: { 'Fn::GetAtt': [string] } }).RoleArn['Fn::GetAtt'][0];
    const puts = statementsOfRole(template, roleId).filter((s) => actionsOf(s).some((a) => a.startsWith('events:')));
    expect(puts.flatMap(actionsOf)).toEqual(['events:PutEvents']);
    expect(puts.flatMap(resourcesOf)).toEqual([{ 'Fn::Join': ['', [`arn:aws:events:${config.region}:`, { Ref: 'AWS::AccountId' }, ':event-bus/default']] }]);
  });

  it('runs on the configured schedule, off while the stage\'s schedules are off', () => {
    const schedule = resourcesOfType(template, 'AWS::Scheduler::Schedule').find(([id]) => id.startsWith('OperatingReports'))![1].Properties as { ScheduleExpression: string; State: string };
    expect(schedule.ScheduleExpression).toBe(config.operations.reportSchedule);
    expect(schedule.State).toBe(config.schedules.enabled ? 'ENABLED' : 'DISABLED');
  });
});

describe('the loop stack with lake.hashAgentIds: the readers that name agents may read the key, no other', () => {
  let hashedTemplate: Template | undefined;
  const hashedLoop = (): Template => {
    hashedTemplate ??= Template.fromStack(buildTestApp('dev', { config: { ...config, lake: { ...config.lake, hashAgentIds: true } } }).loopStack);
    return hashedTemplate;
  };
  function roleOf(built: Template, description: string): { env: Record<string, unknown>; statements: ReturnType<typeof statementsOfRole> } {
    const [, fn] = resourcesOfType(built, 'AWS::Lambda::Function').find(([, r]) => JSON.stringify(r.Properties).includes(description))!;
    const roleId = (fn.Properties!.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    return { env: (fn.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables, statements: statementsOfRole(built, roleId) };
  }
  const secretReads = (statements: ReturnType<typeof statementsOfRole>) => statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));

  it('Write operating reports: told the option and the key secret, and may read that secret only', () => {
    const { env, statements } = roleOf(hashedLoop(), 'Write operating reports');
    expect(parseOperatingReportsConfig(env[OPERATING_REPORTS_ENV.settings] as string).hashAgentIds).toBe(true);
    expect(JSON.stringify(env[OPERATING_REPORTS_ENV.pseudonymisationKeySecretArn])).toContain('PseudonymisationKey');
    expect(secretReads(statements).flatMap(actionsOf).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(secretReads(statements).flatMap(resourcesOf)).toHaveLength(1);
    expect(JSON.stringify(secretReads(statements).flatMap(resourcesOf))).toContain('PseudonymisationKey');
  }, 120_000);

  it('Build dataset: told the declared agents and the key secret, and may read that secret only; its sibling steps may not', () => {
    const built = hashedLoop();
    const { env, statements } = roleOf(built, 'Build dataset:');
    expect(JSON.parse(env[PIPELINE_ENV.settings] as string).hashedAgents).toEqual(config.agents.map((a) => a.id));
    expect(JSON.stringify(env[PIPELINE_ENV.pseudonymisationKeySecretArn])).toContain('PseudonymisationKey');
    expect(secretReads(statements).flatMap(actionsOf).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    const other = roleOf(built, 'Check eligibility:');
    expect(other.env[PIPELINE_ENV.pseudonymisationKeySecretArn]).toBeUndefined();
    expect(secretReads(other.statements)).toEqual([]);
  }, 120_000);

  it('without it (every shipped stage): no key, no secret read', () => {
    for (const description of ['Write operating reports', 'Build dataset:']) {
      const { env, statements } = roleOf(template, description);
      expect(env[OPERATING_REPORTS_ENV.pseudonymisationKeySecretArn]).toBeUndefined();
      expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    }
    expect(parseOperatingReportsConfig(roleOf(template, 'Write operating reports').env[OPERATING_REPORTS_ENV.settings] as string).hashAgentIds).toBeUndefined();
  });
});

describe('the operating reports state machine, executed', () => {
  const asl = (() => {
    const json = template.toJSON() as unknown;
    return renderAsl(json, stateMachineLogicalIds(json).find((i) => i.startsWith('OperatingReportsStateMachine'))!);
  })();

  it('notifies when an agent regressed', async () => {
    const result = await execute(asl, {}, {
      [S.writeReports]: () => writeResult({ regressedAgents: ['chat-assistant'], regressions: 4, message: 'chat-assistant regressed' }),
      [S.emitReportsReady]: () => ({}),
      [S.notifyRegression]: () => ({}),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).toEqual([S.writeReports, S.emitReportsReady, S.regressionFound, S.notifyRegression, S.reported]);
    expect(result.inputs[S.notifyRegression]).toEqual(expect.objectContaining({ Message: 'chat-assistant regressed' }));
    expect(Object.keys(result.inputs[S.writeReports] as object)).toEqual(['startedAt']);
  });

  it('does not notify when nothing regressed, and ends in Reports failed when the reports fail', async () => {
    const quiet = await execute(asl, {}, { [S.writeReports]: () => writeResult({}), [S.emitReportsReady]: () => ({}) });
    expect(quiet.visited).toEqual([S.writeReports, S.emitReportsReady, S.regressionFound, S.reported]);
    const failing = await execute(asl, {}, { [S.writeReports]: () => named('Error', 'athena said no') });
    expect(failing.status).toBe('FAILED');
    expect(failing.visited.at(-1)).toBe(S.reportsFailed);
    expect(failing.cause).toContain('athena said no');
    // No event for reports that were not written.
    expect(failing.visited).not.toContain(S.emitReportsReady);
  });

  it('puts sial.reports.ready on the default bus with the locations and counts, schema-valid', async () => {
    const result = await execute(asl, {}, { [S.writeReports]: () => writeResult({}), [S.emitReportsReady]: () => ({}) }, 'reports-1');
    const entries = (result.inputs[S.emitReportsReady] as { Entries: { Source: string; DetailType: string; EventBusName: string; Detail: unknown }[] }).Entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toEqual(expect.objectContaining({ Source: 'sial.dev', DetailType: 'sial.reports.ready', EventBusName: expect.stringMatching(/:event-bus\/default$/) }));
    const detail = entries[0]!.Detail;
    expect(validateEventDetail('sial.reports.ready', detail)).toEqual([]);
    expect(detail).toEqual(expect.objectContaining({ stage: 'dev', reportDate: '2026-12-04', executionName: 'reports-1', agents: 2, regressions: 0, confidence: { json: 's3://b/reports/2026-12-04/confidence.json', table: 'sial_dev.confidence_scores' } }));
  });

  it('keeps an event that cannot be put at $.eventError and still notifies: the reports are written', async () => {
    const result = await execute(asl, {}, {
      [S.writeReports]: () => writeResult({ regressedAgents: ['chat-assistant'], regressions: 1, message: 'chat-assistant regressed' }),
      [S.emitReportsReady]: () => named('EventBridge.AccessDeniedException', 'no'),
      [S.notifyRegression]: () => ({}),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).toEqual([S.writeReports, S.emitReportsReady, S.regressionFound, S.notifyRegression, S.reported]);
    expect(result.outputs.get(S.emitReportsReady)).toMatchObject({ eventError: { Error: 'EventBridge.AccessDeniedException' } });
  });
});

/** A write step's result as the function returns it, with `overrides`. */
function writeResult(overrides: { [key: string]: Json }): Json {
  const prefix = 's3://b/reports/2026-12-04/';
  return {
    reportDate: '2026-12-04',
    reportPrefix: prefix,
    costsCsv: `${prefix}costs.csv`,
    costsParquetPrefix: `${prefix}costs.parquet/run=20261204T050001.250Z/`,
    confidenceJson: `${prefix}confidence.json`,
    confidenceTable: 'sial_dev.confidence_scores',
    regressionReports: [`${prefix}regressions-a.json`, `${prefix}regressions-b.json`],
    agents: 2,
    regressedAgents: [],
    regressions: 0,
    message: '',
    ...overrides,
  };
}

describe('the report step on a local lake', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sial-ops-sfn-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the three reports and a notification naming the regressing agent', async () => {
    const lakeDir = join(root, 'lake');
    const end = new Date('2026-12-04T05:00:00.000Z');
    await runLocalIngest({ stage: 'dev', lakeDir, traceCount: 0, comprehendLatencyMs: 0, comprehendTps: 10_000, clock: () => end, records: (now, boundary) => generateOperatingRecords({ end: now, boundary }) });
    const settings = parseOperatingReportsConfig(reportFunction().env[OPERATING_REPORTS_ENV.settings]);
    const lake = await LocalLake.open(lakeDir);
    const store = new FsObjectStore(join(root, 's3'));
    try {
      const published: ReportFigures[] = [];
      const sql = new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri));
      const runId = reportRunId(new Date('2026-12-04T05:00:01.250Z'));
      const confidenceTable = new LocalConfidenceTable(lake);
      const result = await writeOperatingReports(sql, store, settings, end, 's3://artifacts/reports/', { runId, confidenceTable, publish: (figures) => published.push(figures) });
      expect(result.reportPrefix).toBe('s3://artifacts/reports/2026-12-04/');
      expect(result.costsParquetPrefix).toBe('s3://artifacts/reports/2026-12-04/costs.parquet/run=20261204T050001.250Z/');
      expect(result.regressedAgents).toEqual([OPERATING_AGENTS.regressing]);
      expect(result.message).toContain(`- ${OPERATING_AGENTS.regressing}: `);
      const report: unknown = JSON.parse(readFileSync(store.pathOf(`${result.reportPrefix}regressions-${OPERATING_AGENTS.regressing}.json`), 'utf8'));
      expect(isRegressionReport(report)).toBe(true);
      expect(readFileSync(store.pathOf(`${result.reportPrefix}costs.csv`), 'utf8')).toMatch(/^agent_id,tokens_in,tokens_out,cost_usd/);
      const confidence: unknown = JSON.parse(readFileSync(store.pathOf(`${result.reportPrefix}confidence.json`), 'utf8'));
      expect(confidence).toHaveLength(2);
      // The metrics the dashboard shows are the files' figures, handed over once.
      expect(published).toHaveLength(1);
      expect(published[0]!.confidence).toEqual(confidence);
      expect(published[0]!.regressions.map((r) => [r.target, r.regressions.length > 0])).toEqual(
        expect.arrayContaining([[OPERATING_AGENTS.regressing, true], [OPERATING_AGENTS.steady, false]]),
      );
      expect(published[0]!.regressions.reduce((n, r) => n + r.regressions.length, 0)).toBe(result.regressions);

      // The Parquet cost report: written by DuckDB from the same query, the CSV's rows, columns and types.
      const csvRows = readFileSync(store.pathOf(`${result.reportPrefix}costs.csv`), 'utf8').trim().split('\n').map((line) => line.split(','));
      const parquet = await parquetRows(lake, store.pathOf(`${result.costsParquetPrefix}part-00000.parquet`));
      expect(csvRows[0]).toEqual([...COST_REPORT_COLUMNS]);
      expect(parquet.columns).toEqual([...COST_REPORT_COLUMNS]);
      expect(parquet.types).toEqual(['VARCHAR', 'BIGINT', 'BIGINT', 'DOUBLE', 'BIGINT', 'BIGINT']);
      expect(parquet.rows).toEqual(csvRows.slice(1).map(([agent, ...numbers]) => [agent, ...numbers.map(Number)]));
      expect(csvRows.slice(1).map(([agent]) => agent)).toEqual([...Object.values(OPERATING_AGENTS)].sort());

      // A rerun of the day (a later invocation) succeeds: the CSV is rewritten, the Parquet goes to a run
      // folder of its own, and the day's Parquet sets are each complete and equal.
      const rerun = await writeOperatingReports(sql, store, settings, end, 's3://artifacts/reports/', { runId: reportRunId(new Date('2026-12-04T07:30:00.000Z')), confidenceTable });
      expect(rerun.costsParquetPrefix).toBe('s3://artifacts/reports/2026-12-04/costs.parquet/run=20261204T073000.000Z/');
      const runs = readdirSync(dirname(dirname(store.pathOf(`${rerun.costsParquetPrefix}part-00000.parquet`)))).sort();
      expect(runs).toEqual(['run=20261204T050001.250Z', 'run=20261204T073000.000Z']);
      const latest = await parquetRows(lake, store.pathOf(`${rerun.costsParquetPrefix}part-00000.parquet`));
      expect(latest.rows).toEqual(parquet.rows);
      // Read as one set, the folder name is a Hive partition column: a reader picks the day's latest run.
      const day = dirname(dirname(store.pathOf(`${rerun.costsParquetPrefix}part-00000.parquet`)));
      const perRun = await lake.query(`SELECT run, count(*) AS agents FROM read_parquet('${day}/*/*.parquet', hive_partitioning = true) GROUP BY run ORDER BY run`);
      expect(perRun.map((r) => [r.run, Number(r.agents)])).toEqual([['20261204T050001.250Z', parquet.rows.length], ['20261204T073000.000Z', parquet.rows.length]]);
      // The same run id twice is refused by the engine, as Athena refuses a non-empty UNLOAD prefix.
      await expect(writeOperatingReports(sql, store, settings, end, 's3://artifacts/reports/', { runId, confidenceTable })).rejects.toThrow('is not empty');
    } finally {
      lake.close();
    }
  }, 120_000);
});

describe('the operating reports workflow, executed locally as synthesized', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sial-ops-run-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the reports and the confidence table, puts a schema-valid sial.reports.ready, and a rerun of the day changes no row', async () => {
    const lakeDir = join(root, 'lake');
    const end = new Date('2026-12-04T05:00:00.000Z');
    await runLocalIngest({ stage: 'dev', lakeDir, traceCount: 0, comprehendLatencyMs: 0, comprehendTps: 10_000, clock: () => end, records: (now, boundary) => generateOperatingRecords({ end: now, boundary }) });
    const first = await runLocalOperatingReports({ stage: 'dev', lakeDir, startTime: end, clock: () => new Date('2026-12-04T05:00:01.250Z'), executionName: 'reports-1' });
    expect(first.status).toBe('SUCCEEDED');
    expect(first.visited).toEqual([S.writeReports, S.emitReportsReady, S.regressionFound, S.notifyRegression, S.reported]);

    // The event, as a subscriber on the default bus receives it, in the local event log.
    const events = readLocalEvents(lakeDir);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toEqual(expect.objectContaining({ source: 'sial.dev', 'detail-type': 'sial.reports.ready' }));
    expect(event!['event-bus-name']).toMatch(/default$/);
    expect(validateEventDetail('sial.reports.ready', event!.detail)).toEqual([]);
    const detail = event!.detail as { confidence: { json: string; table: string }; costs: { csv: string; parquetPrefix: string }; regressionReports: string[]; agents: number; regressions: number; reportDate: string };
    expect(detail).toEqual(expect.objectContaining({ reportDate: '2026-12-04', agents: 2, regressions: first.report!.regressions, regressedAgents: [OPERATING_AGENTS.regressing] }));
    expect(detail.regressions).toBeGreaterThan(0);
    const store = new FsObjectStore(lakeDir);
    for (const file of [detail.costs.csv, detail.confidence.json, ...detail.regressionReports]) expect(readFileSync(store.pathOf(file), 'utf8').length).toBeGreaterThan(0);
    expect(detail.regressionReports).toHaveLength(2);
    expect(detail.confidence.table).toBe(join(lakeDir, CONFIDENCE_SCORES_TABLE.name));

    // The table holds the JSON export's scores, keyed by the report day.
    const json = JSON.parse(readFileSync(store.pathOf(detail.confidence.json), 'utf8')) as Record<string, unknown>[];
    const tableRows = async () => {
      const lake = await LocalLake.open(lakeDir);
      try {
        return await lake.query(`SELECT ${CONFIDENCE_TABLE_COLUMNS.map((c) => `CAST("${c}" AS VARCHAR) AS "${c}"`).join(', ')}, report_day FROM confidence_scores ORDER BY agent_id, model`);
      } finally {
        lake.close();
      }
    };
    const rows = await tableRows();
    expect(first.confidenceRowsChanged).toBe(json.length);
    expect(rows).toHaveLength(json.length);
    expect(rows.map((r) => [r.agent_id, r.model, Number(r.score), Number(r.feedback_count), r.needs_review === 'true'])).toEqual(json.map((c) => [c.agent_id, c.model, c.score, c.feedback_count, c.needs_review]));
    expect(new Set(rows.map((r) => `${String(r.report_date)} ${String(r.report_day)}`))).toEqual(new Set(['2026-12-04 00:00:00 2026-12-04']));
    const files = () => readdirSync(join(lakeDir, CONFIDENCE_SCORES_TABLE.name), { recursive: true }).map(String).sort();
    const filesBefore = files();

    // A rerun of the same day (a later execution, same scores): nothing inserted or updated, same files.
    const rerun = await runLocalOperatingReports({ stage: 'dev', lakeDir, startTime: end, clock: () => new Date('2026-12-04T07:30:00.000Z'), executionName: 'reports-2' });
    expect(rerun.status).toBe('SUCCEEDED');
    expect(rerun.confidenceRowsChanged).toBe(0);
    expect(await tableRows()).toEqual(rows);
    expect(files()).toEqual(filesBefore);
    expect(readLocalEvents(lakeDir)).toHaveLength(2);
  }, 180_000);
});

/** A Parquet file's column names, DuckDB types and rows, read by DuckDB itself. */
async function parquetRows(lake: LocalLake, path: string): Promise<{ columns: string[]; types: string[]; rows: unknown[][] }> {
  const reader = await lake.run(`SELECT * FROM read_parquet('${path}', hive_partitioning = false) ORDER BY agent_id`);
  return {
    columns: reader.columnNames(),
    types: reader.columnTypes().map((t) => t.toString()),
    rows: reader.getRowsJson().map((row) => row.map((v) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v))),
  };
}
