/**
 * `Build dataset`: the whole build runs in the SQL engine (Athena in AWS, DuckDB locally, the same query
 * files): it de-duplicates re-delivered traces, folds late feedback into the reward, re-scores rows of
 * older accepted policy versions, decontaminates against the golden set, applies per-agent eligibility,
 * forms GRPO groups and DPO pairs, and writes the files straight under the run's dataset prefix. This
 * module only starts queries, waits, and writes the manifest from two small summary queries and a
 * streamed hash of the written files: no dataset row passes through its memory.
 */
import { createHash } from 'node:crypto';
import { datasetManifestSchema, type DatasetManifest, type ValidatedRequest } from '../contracts';
import type { Clock, ObjectConcatenator, ObjectDigester, ObjectStore } from '../ports';
import type { PipelineSettings } from '../settings';
import { goldenNgrams, ngramsLiteral } from './decontamination';
import { countRouterRows, materializeRouterMembers, materializeSelection, queryAgentEligibility, queryDatasetSummary, queryDiscardsByGate, unloadDatasetFile, type BuildTables, type TraceSelection } from './dataset-queries';
import type { AgentIdentities } from '../../shared/agent-pseudonyms';
import type { SqlEngine } from './sql-engine';

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
  /** A router build also joins the engine's parts into the one file the router job reads. */
  readonly store: ObjectStore & ObjectDigester & Partial<ObjectConcatenator>;
  readonly settings: PipelineSettings;
  readonly clock: Clock;
  /**
   * Where golden sets live (`<goldenSetsUri><targetModelId>/golden.jsonl`); the target's set is what the
   * dataset is decontaminated against. Without one (or when the target has none), nothing is excluded
   * and the manifest says so (`decontamination.goldenSet: null`).
   */
  readonly goldenSetsUri?: string;
  /**
   * How the lake stores agent ids (`settings.hashedAgents`: pseudonyms under the stage's key). The
   * manifest's per-agent eligibility figures show a declared agent's configured name where the rows hold
   * its pseudonym, and the pseudonym for any other agent. Eligibility itself is per stored id and needs
   * no name. Default: plain (the ids as stored).
   */
  readonly agents?: AgentIdentities;
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

/**
 * The folder one build attempt writes into: UNLOAD refuses a prefix that holds anything, so a retried
 * build (same run) writes beside the earlier attempt instead of failing on its leftovers; the manifest,
 * written last, names the attempt that completed.
 */
export function attemptPrefix(datasetPrefix: string, startedAt: Date): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace('.', '');
  return childUri(datasetPrefix, `build-${stamp}/`);
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
 * Builds the run's dataset under `request.uris.datasetPrefix`: the engine writes grpo/, dpo/ and
 * trace-ids/ of one build attempt; manifest.json is written last, so a manifest only ever describes files
 * that exist. Both training file sets are always written (either may be empty).
 */
export async function buildDataset(request: ValidatedRequest, deps: BuildDatasetDeps): Promise<DatasetManifest> {
  const { sql, store, settings, clock } = deps;
  checkRequest(request, settings);
  const scoring = settings.rewardScoring;
  if (scoring === undefined) throw new Error('Build dataset needs the reward policy (settings.rewardScoring) to re-score rows; the construct and local mode pass it');
  const startedAt = clock();
  const windowDays = settings.eligibility.positiveFeedbackWindowDays;
  const window = datasetWindow(request.requestedAt, windowDays);
  const { decontamination } = settings.dataset;
  const golden =
    deps.goldenSetsUri === undefined
      ? { goldenSet: null, ngrams: new Set<string>() }
      : await goldenNgrams(store, childUri(deps.goldenSetsUri, `${request.targetModelId}/`), decontamination.ngramWords);
  const selection: TraceSelection = {
    boundary: request.boundary,
    internalOnly: request.internalOnly,
    from: window.from,
    to: window.to,
    scoring,
    dataset: settings.dataset,
    eligibility: settings.eligibility,
    dpoMinMargin: settings.dataset.dpoMinRewardMargin - REWARD_GAP_TOLERANCE,
    goldenNgrams: ngramsLiteral(golden.ngrams),
  };

  const attempt = attemptPrefix(request.uris.datasetPrefix, startedAt);
  const isRouter = request.targetKind === 'router';
  const prefixes = { grpo: `${attempt}grpo/`, dpo: `${attempt}dpo/`, traceIds: `${attempt}trace-ids/`, router: `${attempt}router/`, routerFile: `${attempt}router-file/` };
  const none = Promise.resolve({ files: [] as string[] });
  let outputs;
  try {
    // The heavy part once: every file, the lineage and the counts then read the same materialised rows.
    let tables: BuildTables = await materializeSelection(sql, selection, `${attempt}work/`);
    if (isRouter) tables = await materializeRouterMembers(sql, selection, tables, `${attempt}work/`);
    // Independent queries; an engine may run them at once (DuckDB on two connections of the lake). A
    // router run writes the router file and its own lineage instead of the LLM files.
    outputs = await allSettledOrThrow([
      isRouter ? none : unloadDatasetFile(sql, 'grpo', tables, prefixes.grpo),
      isRouter ? none : unloadDatasetFile(sql, 'dpo', tables, prefixes.dpo),
      unloadDatasetFile(sql, isRouter ? 'routerTraceIds' : 'traceIds', tables, prefixes.traceIds),
      isRouter ? unloadDatasetFile(sql, 'router', tables, prefixes.router) : none,
      isRouter ? countRouterRows(sql, tables) : Promise.resolve(undefined),
      queryDatasetSummary(sql, selection, tables),
      queryAgentEligibility(sql, selection, tables),
      queryDiscardsByGate(sql, selection),
    ] as const);
  } finally {
    await sql.release();
  }
  const [grpo, dpo, traceIds, router, routerRows, summary, agents, discardedByGate] = outputs;
  // The router job reads one plain file; Athena writes several gzip parts: they are joined, streamed.
  let routerFiles: string[] = [];
  if (isRouter) {
    if (store.concatenate === undefined) throw new Error('a router dataset needs an object store that can concatenate the engine\'s parts');
    const joined = `${prefixes.routerFile}router.jsonl`;
    await store.concatenate(router.files, joined);
    routerFiles = [joined];
  }
  const files = { grpo: [...grpo.files], dpo: [...dpo.files], traceIds: [...traceIds.files], ...(isRouter ? { router: routerFiles } : {}) };
  const contentSha256 = await store.sha256Of(isRouter ? [...routerFiles, ...files.traceIds] : [...files.grpo, ...files.dpo, ...files.traceIds]);

  const manifest = datasetManifestSchema.parse({
    datasetId: datasetIdFor(request.runId),
    boundary: request.boundary,
    targetModelId: request.targetModelId,
    rewardPolicyVersion: scoring.version,
    acceptedRewardPolicyVersions: settings.dataset.acceptedRewardPolicyVersions,
    createdAt: startedAt.toISOString(),
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    manifestUri: childUri(request.uris.datasetPrefix, 'manifest.json'),
    grpoUri: prefixes.grpo,
    dpoUri: prefixes.dpo,
    traceIdsUri: prefixes.traceIds,
    ...(isRouter ? { routerUri: prefixes.routerFile } : {}),
    files,
    contentSha256,
    dpoMinRewardMargin: settings.dataset.dpoMinRewardMargin,
    counts: {
      tracesUsed: summary.traces_used,
      grpoGroups: summary.grpo_groups,
      grpoCompletions: summary.grpo_completions,
      dpoPairs: summary.dpo_pairs,
      ...(routerRows === undefined ? {} : { routerRows }),
      rowsInWindow: summary.rows_in_window,
      duplicateCopies: summary.duplicate_copies,
      excludedPolicyVersion: summary.excluded_policy_version,
      excludedNoUserTurn: summary.excluded_no_user_turn,
      excludedGoldenOverlap: summary.excluded_golden_overlap,
      excludedIneligibleAgent: summary.excluded_ineligible_agent,
      lateFeedbackApplied: summary.late_feedback_applied,
      rescoredOlderPolicy: summary.rescored_older_policy,
      discardedByGate,
    },
    decontamination: { goldenSet: golden.goldenSet, ngramWords: decontamination.ngramWords, maxOverlap: decontamination.maxOverlap },
    eligibility: {
      positiveFeedback: agents.reduce((n, a) => n + a.positiveFeedback, 0),
      positiveFeedbackWindowDays: windowDays,
      highQualityTraces: agents.reduce((n, a) => n + a.highQualityTraces, 0),
      highQualityReward: settings.eligibility.highQualityReward,
      agents: agents.map((a) => ({ ...a, agentId: deps.agents?.displayName(a.agentId) ?? a.agentId })),
    },
  });
  await store.putText(manifest.manifestUri, `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');
  return manifest;
}
