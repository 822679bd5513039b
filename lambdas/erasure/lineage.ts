/**
 * The lineage of an erasure: which datasets listed the erased traces (each dataset manifest's trace-id
 * list), which model and router versions were trained on those datasets (the registry's `datasetId`
 * metadata), and what the retraining policy asks of each. Models are never deleted here: the report
 * flags them and a person decides, because retention (the last approved versions stay deployable for
 * rollback) wins over automatic deletion.
 *
 * Pure: the caller reads manifests, trace-id lists and registry packages through its ports.
 */
import { MODEL_METADATA, type ModelApprovalStatus, type RegisteredModelPackage } from '../pipeline/register-model/model-registry';

/** Registry metadata key a flagged version carries: the erasure ids whose data it was trained on. */
export const ERASED_DATA_METADATA_KEY = 'erasure.trainedOnErasedData';

/** A dataset as the lineage sees it: its id, manifest, target and trace-id list. */
export interface DatasetTraceList {
  readonly datasetId: string;
  readonly manifestUri: string;
  readonly targetModelId: string;
  readonly createdAt: string;
  readonly traceIds: ReadonlySet<string>;
}

export interface DatasetFinding {
  readonly datasetId: string;
  readonly manifestUri: string;
  readonly targetModelId: string;
  /** How many of the erased traces the dataset listed. */
  readonly erasedTraces: number;
}

export interface VersionFinding {
  readonly arn: string;
  readonly groupName: string;
  readonly version: number;
  readonly targetModelId: string;
  readonly datasetId: string;
  readonly approvalStatus: ModelApprovalStatus;
  /** True when retention keeps this version deployable (one of the newest approved versions of its target). */
  readonly protectedByRetention: boolean;
}

export interface LineageReport {
  readonly datasets: readonly DatasetFinding[];
  readonly models: readonly VersionFinding[];
  readonly routers: readonly VersionFinding[];
  /** What the retraining policy requires, one line per affected target; empty when nothing was trained on the data. */
  readonly retraining: readonly string[];
}

export interface LineageInputs {
  readonly erasedTraceIds: ReadonlySet<string>;
  readonly datasets: readonly DatasetTraceList[];
  readonly packages: readonly RegisteredModelPackage[];
  /** True for a router target (`kind: 'router'` in the stage config). */
  readonly isRouter: (targetModelId: string) => boolean;
  /** ARNs retention protects (register-model/retention.ts over the same packages). */
  readonly protectedArns: ReadonlySet<string>;
}

/** The report: every dataset that listed an erased trace, every version trained on one of them. */
export function erasureLineage(inputs: LineageInputs): LineageReport {
  const datasets: DatasetFinding[] = [];
  for (const d of inputs.datasets) {
    let erasedTraces = 0;
    for (const id of inputs.erasedTraceIds) if (d.traceIds.has(id)) erasedTraces += 1;
    if (erasedTraces > 0) datasets.push({ datasetId: d.datasetId, manifestUri: d.manifestUri, targetModelId: d.targetModelId, erasedTraces });
  }
  const affected = new Set(datasets.map((d) => d.datasetId));
  const versions: VersionFinding[] = inputs.packages
    .filter((p) => affected.has(p.metadata[MODEL_METADATA.datasetId] ?? ''))
    .map((p) => ({
      arn: p.arn,
      groupName: p.groupName,
      version: p.version,
      targetModelId: p.metadata[MODEL_METADATA.targetModelId] ?? '(no targetModelId)',
      datasetId: p.metadata[MODEL_METADATA.datasetId] ?? '',
      approvalStatus: p.approvalStatus,
      protectedByRetention: inputs.protectedArns.has(p.arn),
    }))
    .sort((a, b) => a.groupName.localeCompare(b.groupName) || a.version - b.version);
  const models = versions.filter((v) => !inputs.isRouter(v.targetModelId));
  const routers = versions.filter((v) => inputs.isRouter(v.targetModelId));
  return { datasets: datasets.sort((a, b) => a.datasetId.localeCompare(b.datasetId)), models, routers, retraining: retrainingLines(versions) };
}

/**
 * The retraining policy, per affected target: datasets built after the erasure cannot hold the
 * erased rows, so the next training run of the target is the retraining; a version that is approved
 * (serving or a rollback target) stays until a person retires it, because retention keeps it deployable.
 */
function retrainingLines(versions: readonly VersionFinding[]): string[] {
  const byTarget = new Map<string, VersionFinding[]>();
  for (const v of versions) byTarget.set(v.targetModelId, [...(byTarget.get(v.targetModelId) ?? []), v]);
  return [...byTarget.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([target, list]) => {
      const approved = list.filter((v) => v.approvalStatus === 'Approved');
      const kept = approved.filter((v) => v.protectedByRetention).map((v) => `v${v.version}`);
      const head = `${target}: ${list.length} version(s) trained on erased data; retrain it (its next training run builds its dataset from the erased lake)`;
      if (approved.length === 0) return `${head}; none is approved, so none serves.`;
      const keptText = kept.length > 0 ? ` ${kept.join(', ')} ${kept.length === 1 ? 'is' : 'are'} kept deployable by retention.` : '';
      return `${head}, then a person decides whether to retire the approved version(s) ${approved.map((v) => `v${v.version}`).join(', ')} (reject them in the registry or roll back to an unflagged version).${keptText}`;
    });
}

/** The statement every report carries, whatever it found. */
export const MODELS_NOT_DELETED =
  'Models are not deleted automatically: retention keeps approved versions deployable for rollback, so the versions above are flagged in the registry ("trained on erased data") and a person decides what happens to them.';

/** The report as text lines, for the CLI and the ledger's notification. */
export function lineageLines(report: LineageReport): string[] {
  const lines: string[] = [];
  lines.push(`Datasets that listed the erased traces: ${report.datasets.length}`);
  for (const d of report.datasets) lines.push(`  ${d.datasetId} (target ${d.targetModelId}): ${d.erasedTraces} erased trace(s); manifest ${d.manifestUri}`);
  const versionLine = (v: VersionFinding): string =>
    `  ${v.groupName} v${v.version} (${v.targetModelId}, ${v.approvalStatus}${v.protectedByRetention ? ', kept by retention' : ''}) trained on ${v.datasetId}: flagged "trained on erased data"`;
  lines.push(`Model versions trained on them: ${report.models.length}`);
  report.models.forEach((v) => lines.push(versionLine(v)));
  lines.push(`Router versions trained on them: ${report.routers.length}`);
  report.routers.forEach((v) => lines.push(versionLine(v)));
  lines.push('Retraining:');
  if (report.retraining.length === 0) lines.push('  none required: no version was trained on the erased traces.');
  report.retraining.forEach((l) => lines.push(`  ${l}`));
  lines.push(MODELS_NOT_DELETED);
  return lines;
}
