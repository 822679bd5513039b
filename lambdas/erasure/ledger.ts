/**
 * The erasure ledger: one entry per request, from request to verified deletion (DynamoDB in AWS, a JSON
 * file locally, behind {@link ErasureLedger}). An entry holds what was erased (the target's pseudonym or
 * the hash of its trace-id list, never a raw id), the status, timestamps, the snapshot ids of the
 * delete commits, the verification and the lineage found; its deadline drives the deadline alarm.
 */
import type { ErasureTarget } from './erasure-request';

export const ERASURE_STATUSES = ['requested', 'rows-deleted', 'verified', 'verification-failed', 'failed'] as const;
export type ErasureStatus = (typeof ERASURE_STATUSES)[number];

export interface ErasureVerification {
  /** True when no current row of any table matches and no file of an expired snapshot is left. */
  readonly verified: boolean;
  readonly checkedAt: string;
  /** Rows still matching, per table (all zero when verified). */
  readonly remainingRows: Readonly<Record<string, number>>;
  /** Data files of expired snapshots still stored (AWS: S3 versions under the table prefixes; local: none kept). */
  readonly leftoverFiles: number;
}

export interface ErasureLedgerEntry {
  readonly erasureId: string;
  /** What is erased, as stored: `subject:<pseudonym>`, `session:<pseudonym>` or `trace-ids:sha256:<hex>`. */
  readonly target: string;
  readonly kind: ErasureTarget['kind'];
  readonly requestedAt: string;
  readonly deadline: string;
  readonly status: ErasureStatus;
  readonly updatedAt: string;
  /** How many trace ids the target reached. */
  readonly traceIds: number;
  readonly rowsDeleted: Readonly<Record<string, number>>;
  /** Snapshot ids committed by the deletes and rewrites, per table (Iceberg; empty locally, which has no snapshots). */
  readonly snapshotIds: Readonly<Record<string, readonly string[]>>;
  readonly verification: ErasureVerification | null;
  /** Datasets and model versions the lineage report flagged. */
  readonly lineage: { readonly datasets: readonly string[]; readonly versions: readonly string[] } | null;
  /** Set when a step of the AWS workflow failed (status `failed`): the error name and the execution, never row data. */
  readonly failure?: { readonly error: string; readonly execution: string };
}

/** Where ledger entries live. */
export interface ErasureLedger {
  put(entry: ErasureLedgerEntry): Promise<void>;
  get(erasureId: string): Promise<ErasureLedgerEntry | undefined>;
  list(): Promise<ErasureLedgerEntry[]>;
}

/** The deadline of a request made at `requestedAt`. */
export function erasureDeadline(requestedAt: Date, deadlineDays: number): Date {
  return new Date(requestedAt.getTime() + deadlineDays * 86_400_000);
}

/** The id of a request: time-ordered, and the same for the same target in the same second (a retried command). */
export function erasureId(requestedAt: Date, target: string): string {
  let hash = 0;
  for (let i = 0; i < target.length; i += 1) hash = (hash * 31 + target.charCodeAt(i)) >>> 0;
  return `er-${requestedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${hash.toString(16).padStart(8, '0')}`;
}

/** Entries past their deadline without a verified deletion: what the deadline alarm counts. */
export function overdueErasures(entries: readonly ErasureLedgerEntry[], now: Date): ErasureLedgerEntry[] {
  return entries.filter((e) => e.status !== 'verified' && Date.parse(e.deadline) < now.getTime());
}
