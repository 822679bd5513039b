/**
 * The weekly sampling job: the judgments of the 7 days before this ISO week began (latest per trace
 * and prompt hash, traces started Monday to Sunday of the previous week), the
 * stratified sample of review-sample.ts salted by the ISO week, into the review queue. Each prompt
 * hash is sampled on its own, so a week in which the judge's policy changed reviews both policies.
 * Re-running a week draws the same items and the queue adds none of them twice.
 */
import type { SqlEngine } from '../../pipeline/dataset/sql-engine';
import { scoreBand, selectReviewSample } from '../review-sample';
import { loadJudgedCandidates, SAMPLE_DAYS, type CalibrationTables, type JudgedCandidate } from './calibration-queries';
import type { CalibrationSettings } from './calibration-settings';
import { isoWeek, isoWeekStart } from './iso-week';
import { reviewItemId, type ReviewItem } from './review-item';
import type { ReviewQueue } from './review-queue';

export interface SampleWeekDeps {
  readonly engine: SqlEngine;
  readonly tables: CalibrationTables;
  readonly queue: ReviewQueue;
  readonly clock: () => Date;
  /**
   * Runs with the items not yet in the queue, before they are added (the reviewers' e-mail in AWS). If it
   * fails nothing is added, so a retry announces them again: the e-mail is at least once, the queue
   * exactly once.
   */
  readonly beforeAdd?: (fresh: readonly ReviewItem[]) => Promise<void>;
}

export interface SampleWeekResult {
  readonly week: string;
  /** Judged traces in the window (per prompt hash). */
  readonly candidates: number;
  /** Items the sample holds. */
  readonly sampled: number;
  /** Items new to the queue (none when the week was sampled before): the ones to send links for. */
  readonly added: readonly ReviewItem[];
  /** The sample's items, in stratum order. */
  readonly items: readonly ReviewItem[];
}

/** The sample's queue items for one week's candidates (pure; exported for tests). */
export function reviewItemsOf(candidates: readonly JudgedCandidate[], settings: CalibrationSettings, week: string, sampledAt: Date): ReviewItem[] {
  const byHash = new Map<string, JudgedCandidate[]>();
  for (const c of candidates) {
    const group = byHash.get(c.judgePromptHash);
    if (group === undefined) byHash.set(c.judgePromptHash, [c]);
    else group.push(c);
  }
  const items: ReviewItem[] = [];
  for (const hash of [...byHash.keys()].sort()) {
    const group = byHash.get(hash) as JudgedCandidate[];
    const sample = selectReviewSample(
      group.map((c) => ({ traceId: c.traceId, agentId: c.agentId, score: c.faithfulness })),
      { rate: settings.samplingRate, bandUpperBounds: settings.bandUpperBounds, minPerStratum: settings.minPerStratum },
      week,
    );
    for (const picked of sample) {
      items.push({
        itemId: reviewItemId(week, picked.traceId, hash),
        traceId: picked.traceId,
        agentId: picked.agentId,
        week,
        band: scoreBand(picked.score, settings.bandUpperBounds),
        judgePromptHash: hash,
        sampledAt: sampledAt.toISOString(),
        status: 'open',
      });
    }
  }
  return items;
}

/**
 * The traces a week's sample is drawn from: the 7 days before the week's Monday, whole days, so a
 * re-run later in the week draws exactly the same sample.
 */
export function sampleWindow(week: string): { readonly from: Date; readonly to: Date } {
  const to = isoWeekStart(week);
  return { from: new Date(to.getTime() - SAMPLE_DAYS * 86_400_000), to };
}

/** Samples this ISO week's window into the queue. */
export async function sampleReviewWeek(settings: CalibrationSettings, deps: SampleWeekDeps): Promise<SampleWeekResult> {
  const now = deps.clock();
  const week = isoWeek(now);
  const { from, to } = sampleWindow(week);
  const candidates = await loadJudgedCandidates(deps.engine, deps.tables, from, to);
  const items = reviewItemsOf(candidates, settings, week, now);
  if (deps.beforeAdd !== undefined) {
    const known = await Promise.all(items.map((i) => deps.queue.get(i.itemId)));
    const fresh = items.filter((_, index) => known[index] === undefined);
    if (fresh.length > 0) await deps.beforeAdd(fresh);
  }
  const added = await deps.queue.add(items);
  return { week, candidates: candidates.length, sampled: items.length, added, items };
}
