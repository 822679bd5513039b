/**
 * `Build dataset`: selects this stage's training traces (every gate passed, this boundary, the current
 * reward policy, the target's training scope, the window), writes GRPO groups, DPO pairs, the trace-id
 * list and the manifest under the run's dataset prefix, and returns the manifest. No AWS SDK here: the
 * lake is a SqlEngine, the bucket an ObjectStore.
 */
import { createHash } from 'node:crypto';
import { datasetManifestSchema, type DatasetManifest, type ValidatedRequest } from '../contracts';
import type { Clock, ObjectStore } from '../ports';
import type { PipelineSettings } from '../settings';
import { queryCompletions, queryDiscardsByGate, queryEligibilityCounts, type TraceSelection } from './dataset-queries';
import { assembleDataset, contentSha256, dpoJsonl, grpoJsonl, traceIdList, traceIdsText } from './dataset-files';
import type { SqlEngine } from './sql-engine';

/**
 * Smallest reward difference between the chosen and the rejected completion of a DPO pair. Rewards are
 * in [0, 1] and blend feedback, errors, latency and groundedness; below 0.2 a difference is mostly
 * latency jitter or the lexical groundedness estimate's noise, and DPO would learn that noise as a
 * preference. (docs/decisions.md, "Dataset build".)
 */
export const DPO_MIN_REWARD_GAP = 0.2;

/**
 * Rewards are doubles: 0.7 - 0.5 is 0.19999999999999996. A gap equal to the minimum up to this
 * tolerance counts as meeting it.
 */
export const REWARD_GAP_TOLERANCE = 1e-9;

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_ID_LENGTH = 128;

/** What buildDataset needs. */
export interface BuildDatasetDeps {
  readonly sql: SqlEngine;
  readonly store: ObjectStore;
  readonly settings: PipelineSettings;
  readonly clock: Clock;
}

/**
 * The dataset id of a run: `ds-<runId>`, or, when that would pass the 128-character id limit, a prefix of
 * the run id plus a hash of all of it (still one id per run, still readable).
 */
export function datasetIdFor(runId: string): string {
  const plain = `ds-${runId}`;
  if (plain.length <= MAX_ID_LENGTH) return plain;
  const digest = createHash('sha256').update(runId).digest('hex').slice(0, 24);
  return `ds-${runId.slice(0, MAX_ID_LENGTH - 3 - 1 - digest.length)}-${digest}`;
}

/**
 * The inclusive window a run reads: the `days` before the request was made. Anchored on `requestedAt`
 * rather than the build's clock, so a retried build of the same run reads the same window.
 */
export function datasetWindow(requestedAt: string, days: number): { from: Date; to: Date } {
  const to = new Date(requestedAt);
  if (Number.isNaN(to.getTime())) throw new Error(`requestedAt "${requestedAt}" is not a valid instant`);
  return { from: new Date(to.getTime() - days * DAY_MS), to };
}

/**
 * Like Promise.all, but waits for every query to end before rejecting with the first failure: a caller
 * that gives up early must not leave queries running against a connection it is about to close (DuckDB
 * crashes the process) or scanning unobserved (Athena bills them).
 */
async function allSettledOrThrow<T extends readonly unknown[]>(promises: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function childUri(prefix: string, name: string): string {
  return `${prefix.endsWith('/') ? prefix : `${prefix}/`}${name}`;
}

/** Refuses a request this stage must not build for; the Validate request state should already have. */
function checkRequest(request: ValidatedRequest, settings: PipelineSettings): void {
  if (request.boundary !== settings.boundary) {
    throw new Error(`request ${request.runId} is for boundary ${request.boundary} but this stage serves ${settings.boundary}: a dataset never crosses its boundary`);
  }
  const target = settings.targetModels.find((m) => m.id === request.targetModelId);
  if (target === undefined) {
    throw new Error(`request ${request.runId} names target model ${request.targetModelId}, which this stage does not list (${settings.targetModels.map((m) => m.id).join(', ')})`);
  }
  if (target.internalOnly !== request.internalOnly) {
    throw new Error(`request ${request.runId} says internalOnly=${String(request.internalOnly)} but the stage configures ${target.id} with internalOnly=${String(target.internalOnly)}`);
  }
}

/**
 * Builds the run's dataset and writes it under `request.uris.datasetPrefix`: grpo.jsonl, dpo.jsonl,
 * trace-ids.txt, then manifest.json last, so a manifest only ever describes files that exist.
 * Both training files are always written (either may be empty): the approval summary shows both counts.
 */
export async function buildDataset(request: ValidatedRequest, deps: BuildDatasetDeps): Promise<DatasetManifest> {
  const { sql, store, settings, clock } = deps;
  checkRequest(request, settings);
  const windowDays = settings.eligibility.positiveFeedbackWindowDays;
  const window = datasetWindow(request.requestedAt, windowDays);
  const selection: TraceSelection = {
    boundary: request.boundary,
    rewardPolicyVersion: settings.rewardPolicyVersion,
    internalOnly: request.internalOnly,
    from: window.from,
    to: window.to,
  };

  // Three independent queries; an engine may run them at once. The lineage and both files come from the
  // one completions result, so the trace-id list matches the files even if the lake changes meanwhile.
  const [rows, figures, discardedByGate] = await allSettledOrThrow([
    queryCompletions(sql, selection, DPO_MIN_REWARD_GAP - REWARD_GAP_TOLERANCE),
    queryEligibilityCounts(sql, selection, settings.eligibility.highQualityReward),
    queryDiscardsByGate(sql, selection),
  ] as const);

  const { groups, pairs } = assembleDataset(rows);
  const grpo = grpoJsonl(groups);
  const dpo = dpoJsonl(pairs);
  const traceIds = traceIdList(groups);
  const idsText = traceIdsText(traceIds);

  const prefix = request.uris.datasetPrefix;
  const manifest = datasetManifestSchema.parse({
    datasetId: datasetIdFor(request.runId),
    boundary: request.boundary,
    targetModelId: request.targetModelId,
    rewardPolicyVersion: settings.rewardPolicyVersion,
    createdAt: clock().toISOString(),
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    manifestUri: childUri(prefix, 'manifest.json'),
    grpoUri: childUri(prefix, 'grpo.jsonl'),
    dpoUri: childUri(prefix, 'dpo.jsonl'),
    traceIdsUri: childUri(prefix, 'trace-ids.txt'),
    contentSha256: contentSha256(grpo, dpo, idsText),
    counts: {
      tracesUsed: traceIds.length,
      grpoGroups: groups.length,
      grpoCompletions: groups.reduce((n, g) => n + g.completions.length, 0),
      dpoPairs: pairs.length,
      discardedByGate,
    },
    eligibility: {
      positiveFeedback: figures.positiveFeedbackEvents + figures.positiveTraceFeedback,
      positiveFeedbackWindowDays: windowDays,
      highQualityTraces: figures.highQualityTraces,
      highQualityReward: settings.eligibility.highQualityReward,
    },
  });

  await store.putText(manifest.grpoUri, grpo, 'application/x-ndjson');
  await store.putText(manifest.dpoUri, dpo, 'application/x-ndjson');
  await store.putText(manifest.traceIdsUri, idsText, 'text/plain; charset=utf-8');
  await store.putText(manifest.manifestUri, `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');
  return manifest;
}
