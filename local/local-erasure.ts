/**
 * The erasure workflow over a local run's lake (what `sial erase --local DIR` runs): the same steps as
 * the stage's state machine, on DuckDB and Parquet instead of Athena and Iceberg.
 *
 * 1. record the request in the ledger (`state/erasure-ledger.json`);
 * 2. find the trace ids the target reaches (traces and gate_audit, by subject key, session or trace id);
 * 3. delete the rows from every lake table: each Parquet file holding a matching row is rewritten
 *    without it (or removed when nothing is left) and renamed over the original, so the erased bytes
 *    are gone from the directory; the local lake keeps no snapshots or older versions, so there is
 *    nothing to expire;
 * 4. verify: no row of any table matches any more;
 * 5. lineage: every dataset manifest that listed an erased trace, every model and router version in the
 *    registry trained on one, flagged "trained on erased data" (never deleted).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { erasureDeadlineDays, isRouterTarget, type StageConfig } from '../config/schema';
import { erasureTarget, reachedQuery, reachedRows, rowPredicate, targetKey, type ErasureSelector } from '../lambdas/erasure/erasure-request';
import { reportAndFlagLineage } from '../lambdas/erasure/flag-lineage';
import { traceIdLines } from '../lambdas/erasure/registered-datasets';
import type { DatasetTraceList, LineageReport } from '../lambdas/erasure/lineage';
import { erasureDeadline, erasureId, type ErasureLedgerEntry } from '../lambdas/erasure/ledger';
import { datasetManifestSchema } from '../lambdas/pipeline/contracts';
import { SUBJECT_TABLES } from '../lambdas/shared/lake-tables';
import { createPseudonymiser } from '../lambdas/shared/pseudonymisation';
import type { LakeLayout } from './lake-dir';
import { LocalErasureLedger } from './local-erasure-ledger';
import { LocalLake } from './local-lake';
import { countMatching, deleteParquetRows, REWRITE_SUFFIX } from './parquet-row-delete';
import { LocalPseudonymisationKeyProvider } from './local-pseudonymisation-key';
import { FsObjectStore } from './pipeline/fs-object-store';
import { LocalModelRegistry } from './pipeline/local-model-registry';

export interface LocalErasureResult {
  readonly entry: ErasureLedgerEntry;
  readonly lineage: LineageReport;
  /** Parquet files rewritten or removed, per table. */
  readonly filesRewritten: Readonly<Record<string, number>>;
}

async function columnsOf(lake: LocalLake, relation: string): Promise<Set<string>> {
  const rows = await lake.query(`DESCRIBE SELECT * FROM ${relation}`);
  return new Set(rows.map((r) => String(r.column_name)));
}

/** Every dataset manifest in the local object store, with its trace-id list. */
function localDatasets(objectsDir: string): DatasetTraceList[] {
  const store = new FsObjectStore(objectsDir);
  const manifests = readdirSync(objectsDir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && e.name === 'manifest.json');
  const datasets: DatasetTraceList[] = [];
  for (const file of manifests) {
    const parsed = datasetManifestSchema.safeParse(JSON.parse(readFileSync(join(file.parentPath, file.name), 'utf8')));
    if (!parsed.success) continue; // another kind of manifest (a run's, a calibration's)
    const m = parsed.data;
    const traceIds = new Set<string>();
    for (const uri of m.files.traceIds) {
      traceIdLines(readFileSync(store.pathOf(uri))).forEach((id) => traceIds.add(id));
    }
    datasets.push({ datasetId: m.datasetId, manifestUri: m.manifestUri, targetModelId: m.targetModelId, createdAt: m.createdAt, traceIds });
  }
  return datasets;
}

/** Runs the whole workflow; resolves to the ledger entry as it ends, the lineage and the rewrite counts. */
export async function runLocalErasure(layout: LakeLayout, stage: StageConfig, selector: ErasureSelector, now: () => Date): Promise<LocalErasureResult> {
  const pseudonymiser = createPseudonymiser(await new LocalPseudonymisationKeyProvider(layout.lakeDir).key());
  const target = erasureTarget(selector, pseudonymiser);
  const ledger = new LocalErasureLedger(join(layout.stateDir, 'erasure-ledger.json'));
  const requestedAt = now();
  const key = targetKey(target);
  let entry: ErasureLedgerEntry = {
    erasureId: erasureId(requestedAt, key),
    target: key,
    kind: target.kind,
    requestedAt: requestedAt.toISOString(),
    deadline: erasureDeadline(requestedAt, erasureDeadlineDays(stage)).toISOString(),
    status: 'requested',
    updatedAt: requestedAt.toISOString(),
    traceIds: 0,
    rowsDeleted: {},
    snapshotIds: {},
    verification: null,
    lineage: null,
  };
  await ledger.put(entry);

  const lake = await LocalLake.open(layout.lakeDir);
  try {
    const reached = reachedRows(await lake.query(reachedQuery(target, { traces: 'traces', gateAudit: 'gate_audit' })));
    const { traceIds } = reached;
    const rowsDeleted: Record<string, number> = {};
    const filesRewritten: Record<string, number> = {};
    for (const { table } of SUBJECT_TABLES) {
      const deletion = await deleteParquetRows(lake, lake.tableDir(table.name), async (relation) =>
        rowPredicate(table, target, reached, { hasSubjectKey: (await columnsOf(lake, relation)).has('subject_key') }),
      );
      rowsDeleted[table.name] = deletion.rows;
      filesRewritten[table.name] = deletion.files;
    }
    entry = { ...entry, status: 'rows-deleted', updatedAt: now().toISOString(), traceIds: traceIds.length, rowsDeleted };
    await ledger.put(entry);

    // Verify through the same views every query uses: the current tables hold no matching row.
    const remainingRows: Record<string, number> = {};
    for (const { table } of SUBJECT_TABLES) {
      const predicate = rowPredicate(table, target, reached, { hasSubjectKey: (await columnsOf(lake, table.name)).has('subject_key') });
      remainingRows[table.name] = await countMatching(lake, table.name, predicate);
    }
    const leftoverFiles = SUBJECT_TABLES.flatMap(({ table }) => readdirSync(lake.tableDir(table.name), { recursive: true }).filter((f) => String(f).endsWith(REWRITE_SUFFIX))).length;
    const verified = Object.values(remainingRows).every((n) => n === 0) && leftoverFiles === 0;

    const lineage = await reportAndFlagLineage(
      new LocalModelRegistry(layout.registryFile, now),
      async () => localDatasets(layout.objectsDir),
      { routerTargetIds: new Set(stage.targetModels.filter(isRouterTarget).map((m) => m.id)), retainApprovedModelVersions: stage.retainApprovedModelVersions, retainApprovedRouterVersions: stage.retainApprovedRouterVersions },
      new Set(traceIds),
      entry.erasureId,
    );

    entry = {
      ...entry,
      status: verified ? 'verified' : 'verification-failed',
      updatedAt: now().toISOString(),
      verification: { verified, checkedAt: now().toISOString(), remainingRows, leftoverFiles },
      lineage: { datasets: lineage.datasets.map((d) => d.datasetId), versions: [...lineage.models, ...lineage.routers].map((v) => v.arn) },
    };
    await ledger.put(entry);
    return { entry, lineage, filesRewritten };
  } finally {
    lake.close();
  }
}
