/**
 * The datasets the AWS lineage step searches: the dataset of every run that registered a version (the
 * package's `runId` metadata gives `runs/<runId>/dataset/manifest.json`, see run-uris.ts), with the
 * trace-id lists the manifest names. A dataset whose run registered nothing trained no version, so the
 * model flags are complete; such a dataset is not listed in the AWS report (local mode lists every one).
 */
import { gunzipSync } from 'node:zlib';
import type { ObjectBytesReader } from '../pipeline/ports';
import { MODEL_METADATA, type RegisteredModelPackage } from '../pipeline/register-model/model-registry';
import { runUris } from '../pipeline/validate-request/run-uris';
import type { DatasetTraceList } from './lineage';

interface ManifestFields {
  readonly datasetId: string;
  readonly manifestUri: string;
  readonly targetModelId: string;
  readonly createdAt: string;
  readonly files: { readonly traceIds: readonly string[] };
}

function isManifest(value: unknown): value is ManifestFields {
  const m = value as Partial<ManifestFields> | null;
  return (
    typeof m === 'object' && m !== null &&
    typeof m.datasetId === 'string' && typeof m.manifestUri === 'string' && typeof m.targetModelId === 'string' && typeof m.createdAt === 'string' &&
    Array.isArray(m.files?.traceIds) && m.files.traceIds.every((u) => typeof u === 'string')
  );
}

/** Athena writes gzip parts, local mode plain text: told apart by the magic bytes. */
export function traceIdLines(bytes: Uint8Array): string[] {
  const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString('utf8') : Buffer.from(bytes).toString('utf8');
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** The datasets of the runs that registered `packages`; a run without a readable manifest is an error (lineage would be incomplete). */
export async function registeredDatasets(reader: ObjectBytesReader, artifactBucket: string, packages: readonly RegisteredModelPackage[]): Promise<DatasetTraceList[]> {
  const runIds = [...new Set(packages.map((p) => p.metadata[MODEL_METADATA.runId]).filter((id): id is string => id !== undefined && id !== ''))].sort();
  const datasets: DatasetTraceList[] = [];
  for (const runId of runIds) {
    const uri = `${runUris(artifactBucket, runId).datasetPrefix}manifest.json`;
    const bytes = await reader.getBytes(uri);
    if (bytes === undefined) throw new Error(`run ${runId} registered a version but its dataset manifest ${uri} is missing`);
    const manifest: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (!isManifest(manifest)) throw new Error(`${uri} is not a dataset manifest`);
    const traceIds = new Set<string>();
    for (const file of manifest.files.traceIds) {
      const part = await reader.getBytes(file);
      if (part === undefined) throw new Error(`${uri} lists the trace-id file ${file}, which is missing`);
      traceIdLines(part).forEach((id) => traceIds.add(id));
    }
    datasets.push({ datasetId: manifest.datasetId, manifestUri: manifest.manifestUri, targetModelId: manifest.targetModelId, createdAt: manifest.createdAt, traceIds });
  }
  return datasets;
}
