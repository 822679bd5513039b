/**
 * A local lake written with `lake.hashAgentIds` (dev with the option and its acknowledgement): the local
 * gate and feedback API store pseudonyms, and the readers still find the configured agents by name: the
 * operating reports workflow (as synthesized for that stage), `sial report --agent`'s filter, a dataset
 * build's per-agent eligibility figures. No row of any lake table holds a declared agent's raw id.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseStageConfig } from '../../config';
import { dev } from '../../config/stages/dev';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { agentRegressionReports, type OperatingReportSettings } from '../../lambdas/operations/operating-reports';
import { regressionsPerSeries, type ReportFigures } from '../../lambdas/operations/report-metrics';
import type { OperatingReportsConfig } from '../../lambdas/operations/report-settings';
import { reportRunId, writeOperatingReports } from '../../lambdas/operations/write-reports';
import { buildDataset } from '../../lambdas/pipeline/dataset/build-dataset';
import { pipelineSettingsFromStage, rewardScoringOf } from '../../lambdas/pipeline/settings';
import { LAKE_TABLES } from '../../lambdas/shared/lake-tables';
import { PSEUDONYM_PATTERN } from '../../lambdas/shared/pseudonymisation';
import { runLocalIngest } from '../../local/local-ingest';
import { LocalLake } from '../../local/local-lake';
import { runLocalOperatingReports } from '../../local/local-operating-reports';
import { localAgentIdentities } from '../../local/local-pseudonymisation-key';
import { generateOperatingRecords, OPERATING_AGENTS } from '../../local/operating-traffic';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';

const hashed = parseStageConfig({ ...dev, lake: { ...dev.lake, hashAgentIds: true, acceptAgentHistorySplit: true } }, 'test: dev with lake.hashAgentIds');
const declared = hashed.agents.map((a) => a.id);
const END = new Date('2026-12-04T05:00:00.000Z');

describe('a local lake written with lake.hashAgentIds', () => {
  let root: string;
  let lakeDir: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sial-hashed-agents-'));
    lakeDir = join(root, 'lake');
    const ingest = { stage: 'dev', config: hashed, lakeDir, comprehendLatencyMs: 0, comprehendTps: 10_000, clock: () => END } as const;
    // The operating demo (two declared agents, one regressing), then the small demo with its feedback
    // API events (rag-qa-agent, code-reviewer, and support-bot, which dev does not declare).
    await runLocalIngest({ ...ingest, traceCount: 0, records: (now, boundary) => generateOperatingRecords({ end: now, boundary }) });
    await runLocalIngest({ ...ingest, traceCount: 40 });
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('the operating reports workflow names the declared agents: regression files and message, costs.csv, confidence.json; the table keeps pseudonyms', async () => {
    const run = await runLocalOperatingReports({ stage: 'dev', config: hashed, lakeDir, startTime: END, clock: () => new Date('2026-12-04T05:00:01.000Z') });
    expect(run.status).toBe('SUCCEEDED');
    const report = run.report!;
    expect(report.regressedAgents).toEqual([OPERATING_AGENTS.regressing]);
    expect(report.message).toContain(`- ${OPERATING_AGENTS.regressing}: `);
    expect(report.regressionReports).toEqual(expect.arrayContaining(Object.values(OPERATING_AGENTS).map((a) => `${report.reportPrefix}regressions-${a}.json`)));
    const store = new FsObjectStore(lakeDir);
    const csvAgents = readFileSync(store.pathOf(report.costsCsv), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[0]!);
    expect(csvAgents).toEqual(expect.arrayContaining([...Object.values(OPERATING_AGENTS), 'rag-qa-agent']));
    // An undeclared agent is shown by its pseudonym: its raw id is in no row.
    for (const agent of csvAgents) expect(declared.includes(agent) || PSEUDONYM_PATTERN.test(agent)).toBe(true);
    expect(csvAgents.some((a) => PSEUDONYM_PATTERN.test(a))).toBe(true);
    const confidence = JSON.parse(readFileSync(store.pathOf(report.confidenceJson), 'utf8')) as Array<{ agent_id: string }>;
    expect(confidence.map((c) => c.agent_id)).toEqual(expect.arrayContaining(Object.values(OPERATING_AGENTS)));
    const lake = await LocalLake.open(lakeDir);
    try {
      const tableAgents = (await lake.query('SELECT DISTINCT agent_id FROM confidence_scores')).map((r) => r.agent_id as string);
      expect(tableAgents.length).toBeGreaterThan(0);
      for (const agent of tableAgents) expect(agent).toMatch(PSEUDONYM_PATTERN);
      // The cost Parquet is written from SQL and keeps the stored form too.
      const parquetAgents = (await lake.query(`SELECT agent_id FROM read_parquet('${dirname(store.pathOf(`${report.costsParquetPrefix}part-00000.parquet`))}/*.parquet')`)).map((r) => r.agent_id as string);
      for (const agent of parquetAgents) expect(agent).toMatch(PSEUDONYM_PATTERN);
    } finally {
      lake.close();
    }
  }, 120_000);

  it('sial report --agent finds one declared agent by its configured id (matched through its pseudonym); the published figures keep the declared agents\' series', async () => {
    const identities = await localAgentIdentities({ agents: declared, hashAgentIds: true }, lakeDir);
    const lake = await LocalLake.open(lakeDir);
    try {
      const ops = hashed.operations;
      const settings: OperatingReportSettings = {
        end: END,
        currentWindowDays: ops.regression.currentWindowDays,
        baselineWindowDays: ops.regression.baselineWindowDays,
        thresholdPoints: ops.regression.thresholdPoints,
        minRequests: ops.regression.minRequests,
        maxAffectedTraceIds: ops.regression.maxAffectedTraceIds,
        latencyPercentile: 0.95,
        confidence: ops.confidence,
        confidenceLookbackDays: 90,
        agentId: OPERATING_AGENTS.regressing,
        identities,
      };
      const reports = await agentRegressionReports(new DuckDbSqlEngine(lake), settings);
      expect(reports.map((r) => r.target)).toEqual([OPERATING_AGENTS.regressing]);
      expect(reports[0]!.regressions.length).toBeGreaterThan(0);

      // The figures the report function publishes as metrics: the declared agents keep their own series.
      const published: ReportFigures[] = [];
      const store = new FsObjectStore(join(root, 'figures'));
      const config: OperatingReportsConfig = {
        stage: 'dev',
        lake: { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments', confidenceTable: 'confidence_scores' },
        ...ops.regression,
        confidence: ops.confidence,
        agents: declared,
        models: [],
        hashAgentIds: true,
      };
      await writeOperatingReports(new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri)), store, config, END, 's3://artifacts/reports/', {
        runId: reportRunId(new Date('2026-12-04T06:00:00.000Z')),
        confidenceTable: { location: 'none', merge: async () => undefined },
        identities,
        publish: (figures) => published.push(figures),
      });
      const series = regressionsPerSeries(published[0]!.regressions, new Set(declared));
      expect(series.get(OPERATING_AGENTS.regressing)).toBeGreaterThan(0);
      expect(series.get(OPERATING_AGENTS.steady)).toBe(0);
      expect(published[0]!.confidence.map((c) => c.agent_id)).toEqual(expect.arrayContaining(Object.values(OPERATING_AGENTS)));
    } finally {
      lake.close();
    }
  }, 60_000);

  it('a dataset build\'s manifest gives the per-agent eligibility figures under the configured names', async () => {
    const settings = pipelineSettingsFromStage(
      hashed,
      { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' },
      rewardScoringOf(readRewardPolicy(hashed.rewardPolicyVersion)),
    );
    expect(settings.hashedAgents).toEqual(declared);
    const lake = await LocalLake.open(lakeDir);
    const store = new FsObjectStore(join(root, 's3'));
    try {
      const base = 's3://artifacts/runs/run-hashed';
      const manifest = await buildDataset(
        {
          runId: 'run-hashed',
          mode: 'train',
          stage: 'dev',
          boundary: hashed.dataBoundary,
          targetModelId: 'qwen3-4b',
          modelFamily: 'qwen3',
          internalOnly: false,
          algorithm: 'grpo',
          baseModelUri: 's3://models/base/qwen3-4b/',
          requestedBy: 'test',
          requestedAt: END.toISOString(),
          uris: { datasetPrefix: `${base}/dataset/`, output: `${base}/output/`, checkpoints: `${base}/checkpoints/`, evalOutput: `${base}/eval/`, metrics: `${base}/eval/metrics.json` },
        },
        { sql: new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri)), store, settings, clock: () => END, agents: await localAgentIdentities({ agents: declared, hashAgentIds: true }, lakeDir) },
      );
      const names = manifest.eligibility.agents.map((a) => a.agentId);
      // The demo's agents in the window: two declared ones by name, support-bot (undeclared) by its pseudonym.
      expect(names).toEqual(expect.arrayContaining(['rag-qa-agent', 'code-reviewer']));
      expect(names.filter((n) => PSEUDONYM_PATTERN.test(n))).toHaveLength(1);
      for (const name of names) expect(declared.includes(name) || PSEUDONYM_PATTERN.test(name)).toBe(true);
      expect(manifest.eligibility.agents.find((a) => a.agentId === 'rag-qa-agent')!.positiveFeedback).toBeGreaterThan(0);
    } finally {
      lake.close();
    }
  }, 120_000);

  it('no row of any lake table holds a declared agent\'s raw id; every agent_id is a pseudonym', async () => {
    const lake = await LocalLake.open(lakeDir);
    try {
      const withAgent = LAKE_TABLES.filter((t) => t.fields.some((f) => f.name === 'agent_id'));
      expect(withAgent.map((t) => t.name)).toEqual(expect.arrayContaining(['traces', 'gate_audit', 'feedback', 'judgments', 'reviews', 'confidence_scores']));
      let seen = 0;
      for (const table of withAgent) {
        const rows = await lake.query(`SELECT agent_id, count(*)::INTEGER AS n FROM ${table.name} WHERE agent_id IS NOT NULL GROUP BY agent_id`);
        for (const row of rows) {
          expect({ table: table.name, agent: row.agent_id }).toEqual({ table: table.name, agent: expect.stringMatching(PSEUDONYM_PATTERN) });
          seen += row.n as number;
        }
        const raw = await lake.query(`SELECT count(*)::INTEGER AS n FROM ${table.name} WHERE agent_id IN (${[...declared, 'support-bot'].map((a) => `'${a}'`).join(', ')})`);
        expect({ table: table.name, raw: raw[0]!.n }).toEqual({ table: table.name, raw: 0 });
      }
      expect(seen).toBeGreaterThan(0);
      const feedback = await lake.query('SELECT count(*)::INTEGER AS n FROM feedback');
      expect(feedback[0]!.n).toBeGreaterThan(0);
    } finally {
      lake.close();
    }
  }, 60_000);
});
