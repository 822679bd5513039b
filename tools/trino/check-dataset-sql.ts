/**
 * `npx tsx tools/trino/check-dataset-sql.ts --lake-dir DIR [--trino http://127.0.0.1:8089]`
 *
 * Builds the datasets of a local lake twice with the shipped code: once with the DuckDB engine (what local
 * mode runs) and once with the Athena engine, its queries executed by a real Trino server (the engine
 * Athena's SQL dialect comes from), then compares the two builds: every manifest count, every GRPO group,
 * DPO pair, trace id and router line. It is how the Trino spelling of the dataset SQL (regular
 * expressions with Unicode classes, CAST ... AS JSON of nested rows, ExecutionParameters, CTAS) is checked
 * without an AWS account. Not part of `npm test` (it needs a Trino server and Java); the README says how
 * to run one. Exits 1 when the builds differ.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AthenaClient } from '@aws-sdk/client-athena';
import { loadStageConfig } from '../../config';
import { readRewardPolicy } from '../../config/reward-policies/read';
import type { DatasetManifest, ValidatedRequest } from '../../lambdas/pipeline/contracts';
import { AthenaSqlEngine } from '../../lambdas/pipeline/dataset/athena-sql-engine';
import { buildDataset } from '../../lambdas/pipeline/dataset/build-dataset';
import type { SqlEngine } from '../../lambdas/pipeline/dataset/sql-engine';
import { LAKE_TABLES } from '../../lambdas/shared/lake-tables';
import { pipelineSettingsFromStage, rewardScoringOf, type PipelineSettings } from '../../lambdas/pipeline/settings';
import { lakeLayout } from '../../local/lake-dir';
import { LocalLake } from '../../local/local-lake';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';
import { LOCAL_ARTIFACT_BUCKET, LOCAL_GOLDEN_SETS_URI } from '../../local/pipeline/local-pipeline';
import { copyLakeToTrino } from './copy-lake';
import { addEdgeRows } from './edge-rows';
import { TrinoBackedAthena } from './trino-athena';
import { TrinoClient } from './trino-client';

const FLOAT_TOLERANCE = 1e-9;

function option(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

/** The folder of an s3:// prefix in a local object store (pathOf names objects only). */
function folderOf(store: FsObjectStore, prefix: string): string {
  return dirname(store.pathOf(`${prefix}_`));
}

/** Sorts object keys and rounds nothing: a canonical text for set comparison. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** The first difference between two JSON values (floats equal within the tolerance), or undefined. */
function difference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= FLOAT_TOLERANCE ? undefined : `${path}: ${a} vs ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: ${a.length} items vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = difference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return a === b ? undefined : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

/** The lines of a build's files of one kind, parsed, in a canonical order. */
async function lines(store: FsObjectStore, uris: readonly string[], json: boolean): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const uri of uris) {
    const body = (await store.getText(uri)) ?? '';
    for (const line of body.split('\n')) if (line.trim() !== '') out.push(json ? canonical(JSON.parse(line)) : line.trim());
  }
  return out.sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
}

function request(runId: string, targetModelId: string, requestedAt: string, router: boolean): ValidatedRequest {
  const base = `s3://${LOCAL_ARTIFACT_BUCKET}/runs/${runId}/`;
  return {
    runId,
    mode: 'dataset-only',
    stage: 'dev',
    boundary: 'US',
    targetModelId,
    modelFamily: router ? targetModelId : 'qwen3',
    internalOnly: false,
    algorithm: router ? 'router' : 'grpo',
    ...(router ? { targetKind: 'router' as const } : { baseModelUri: 's3://sial-local-artifacts/base/' }),
    requestedBy: 'trino-check',
    requestedAt,
    uris: { datasetPrefix: `${base}dataset/`, output: `${base}output/`, checkpoints: `${base}checkpoints/`, evalOutput: `${base}eval/`, metrics: `${base}eval/metrics.json` },
  } as ValidatedRequest;
}

interface Build {
  readonly manifest: DatasetManifest;
  readonly store: FsObjectStore;
}

async function build(sql: SqlEngine, store: FsObjectStore, settings: PipelineSettings, req: ValidatedRequest): Promise<Build> {
  const manifest = await buildDataset(req, { sql, store, settings, clock: () => new Date(req.requestedAt), goldenSetsUri: LOCAL_GOLDEN_SETS_URI });
  return { manifest, store };
}

/** Compares two builds of one request: the differences found, and the lines compared per file kind. */
async function compare(duck: Build, trino: Build): Promise<{ found: string[]; compared: string }> {
  const found: string[] = [];
  const compared: string[] = [];
  const counts = difference(duck.manifest.counts, trino.manifest.counts, 'counts');
  if (counts !== undefined) found.push(counts);
  const eligibility = difference(canonical(duck.manifest.eligibility), canonical(trino.manifest.eligibility), 'eligibility');
  if (eligibility !== undefined) found.push(eligibility);
  for (const kind of ['grpo', 'dpo', 'traceIds', 'router'] as const) {
    const a = await lines(duck.store, duck.manifest.files[kind] ?? [], kind !== 'traceIds');
    const b = await lines(trino.store, trino.manifest.files[kind] ?? [], kind !== 'traceIds');
    const d = difference(a, b, kind);
    if (d !== undefined) found.push(d);
    compared.push(`${kind} ${a.length}/${b.length}`);
  }
  return { found, compared: compared.join(', ') };
}

async function main(argv: readonly string[]): Promise<number> {
  const lakeDir = option(argv, '--lake-dir');
  if (lakeDir === undefined || !existsSync(lakeDir)) throw new Error('--lake-dir DIR: a lake written by `sial local run` is required');
  const trinoUri = option(argv, '--trino') ?? 'http://127.0.0.1:8089';
  const layout = lakeLayout(lakeDir);
  const stage = loadStageConfig('dev');
  const settings = pipelineSettingsFromStage(
    stage,
    { databaseName: 'default', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' },
    rewardScoringOf(readRewardPolicy(stage.rewardPolicyVersion)),
  );
  const work = mkdtempSync(join(tmpdir(), 'sial-trino-check-'));
  // The edge rows go into a copy: the user's lake is only read.
  const lakeCopy = join(work, 'lake');
  for (const table of LAKE_TABLES) if (existsSync(join(layout.lakeDir, table.name))) cpSync(join(layout.lakeDir, table.name), join(lakeCopy, table.name), { recursive: true });
  const lake = await LocalLake.open(lakeCopy);
  const trino = new TrinoClient(trinoUri, 'memory', 'default');
  let failures = 0;
  try {
    const added = await addEdgeRows(lake);
    console.log(`Edge rows added to a copy of the lake: ${added.traces} traces (Unicode prompts, a re-delivered copy, an unaccepted policy version), ${added.feedback} late feedback events`);
    const copied = await copyLakeToTrino(lake, trino);
    console.log(`Copied the lake into Trino ${trinoUri} (memory.default): ${Object.entries(copied).map(([t, n]) => `${t} ${n}`).join(', ')}`);
    const [{ latest }] = (await lake.query('SELECT CAST(max(ts) AS VARCHAR) AS latest FROM traces')) as [{ latest: string }];
    const requestedAt = new Date(Date.parse(`${latest.replace(' ', 'T')}Z`) + 60_000).toISOString();
    const stores = { duckdb: new FsObjectStore(join(work, 'duckdb')), trino: new FsObjectStore(join(work, 'trino')) };
    const golden = folderOf(new FsObjectStore(layout.objectsDir), LOCAL_GOLDEN_SETS_URI);
    for (const store of Object.values(stores)) if (existsSync(golden)) cpSync(golden, folderOf(store, LOCAL_GOLDEN_SETS_URI), { recursive: true });
    const athena = new TrinoBackedAthena(trino, stores.trino, `s3://${LOCAL_ARTIFACT_BUCKET}/athena-results/`);
    const engines = (): { duckdb: SqlEngine; trino: SqlEngine } => ({
      duckdb: new DuckDbSqlEngine(lake, (uri) => stores.duckdb.pathOf(uri)),
      trino: new AthenaSqlEngine(athena as unknown as AthenaClient, {
        workGroup: 'trino-check',
        database: 'default',
        catalog: 'memory',
        tables: { traces: 'traces', gate_audit: 'gate_audit', feedback: 'feedback', judgments: 'judgments' },
        pollInitialMs: 1,
        readText: (uri) => stores.trino.getText(uri),
        deletePrefix: async (prefix) => rmSync(folderOf(stores.trino, prefix), { recursive: true, force: true }),
      }),
    });
    const targets = stage.targetModels.filter((m) => !m.internalOnly);
    for (const target of targets) {
      const router = 'kind' in target && target.kind === 'router';
      const req = request(`trino-check-${target.id}`, target.id, requestedAt, router);
      const sql = engines();
      const duck = await build(sql.duckdb, stores.duckdb, settings, req);
      const viaTrino = await build(sql.trino, stores.trino, settings, req);
      const { found, compared } = await compare(duck, viaTrino);
      const c = duck.manifest.counts;
      console.log(
        `\n${target.id} (${router ? 'router' : 'LLM'}): DuckDB ${c.tracesUsed} traces used, ${c.grpoGroups} groups, ${c.dpoPairs} pairs${c.routerRows === undefined ? '' : `, ${c.routerRows} router rows`}; ` +
          `${c.duplicateCopies} duplicate copies, ${c.lateFeedbackApplied} late feedback, ${c.excludedGoldenOverlap} golden overlaps`,
      );
      console.log(`  lines compared (DuckDB/Trino): ${compared}`);
      if (found.length === 0) console.log('  Trino build: identical (every count, group, pair, trace id and router line)');
      for (const d of found) console.log(`  DIFFERS ${d}`);
      failures += found.length;
    }
  } finally {
    lake.close();
    rmSync(work, { recursive: true, force: true });
  }
  return failures === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  },
);
