/**
 * BENCHMARK BASELINE ONLY: the former in-memory build, end to end: three queries, every completion row
 * read into the process, groups and pairs assembled and hashed in JavaScript, files written by the
 * process. Its selection is the former one (the current policy only, no de-duplication, no
 * decontamination, stage-wide eligibility): the benchmark compares cost, not rules.
 */
import type { ObjectStore } from '../../lambdas/pipeline/ports';
import type { SqlEngine } from '../../lambdas/pipeline/dataset/sql-engine';
import { assembleDataset, contentSha256, dpoJsonl, grpoJsonl, traceIdList, traceIdsText } from './dataset-files';
import { queryCompletions, queryDiscardsByGate, queryEligibilityCounts, type TraceSelection } from './dataset-queries';

export interface InMemoryBuildResult {
  readonly groups: number;
  readonly completions: number;
  readonly pairs: number;
  readonly contentSha256: string;
}

/** Builds and writes grpo.jsonl, dpo.jsonl and trace-ids.txt under `prefix` the former way. */
export async function buildInMemory(sql: SqlEngine, store: ObjectStore, selection: TraceSelection, prefix: string): Promise<InMemoryBuildResult> {
  const rows = await queryCompletions(sql, selection, 0.2 - 1e-9);
  await queryEligibilityCounts(sql, selection, 0.8);
  await queryDiscardsByGate(sql, selection);
  const { groups, pairs } = assembleDataset(rows);
  const grpo = grpoJsonl(groups);
  const dpo = dpoJsonl(pairs);
  const ids = traceIdsText(traceIdList(groups));
  await store.putText(`${prefix}grpo.jsonl`, grpo);
  await store.putText(`${prefix}dpo.jsonl`, dpo);
  await store.putText(`${prefix}trace-ids.txt`, ids);
  return { groups: groups.length, completions: rows.length, pairs: pairs.length, contentSha256: contentSha256(grpo, dpo, ids) };
}
