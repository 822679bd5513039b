/**
 * Recording a person's review of a queue item: their own faithfulness, answer relevance and misroute
 * verdicts, one row in the `reviews` lake table under a keyed pseudonym of the reviewer, and the item
 * marked done. The item is claimed first (a conditional open -> done), so two submissions of one item
 * (a double click, a replayed form, the page and the CLI at once) write one row; if the row cannot be
 * written, the claim is released and the person can submit again.
 */
import * as z from '../../shared/zod-mini';
import { guardRow } from '../../gate-score/row-guard';
import { REVIEWS_TABLE } from '../../shared/lake-tables';
import type { Pseudonymiser } from '../../shared/pseudonymisation';
import type { ReviewItem } from './review-item';
import type { ReviewQueue } from './review-queue';

/** A score a person gives, 0..1 (two decimals are plenty for a human judgement). */
const score = z.pipe(
  // Form and CLI values are text; an empty field is missing, not 0 (which plain coercion would make it).
  z.transform((value: unknown) => (typeof value === 'string' ? (value.trim() === '' ? undefined : Number(value)) : value)),
  z.number({ message: 'must be a number from 0 to 1' }).check(z.gte(0, 'must be at least 0'), z.lte(1, 'must be at most 1')),
);

/** What the form or the CLI submits. `misrouted` is `na` for a request without a route tier, or when the person cannot tell. */
export const reviewInputSchema = z.strictObject({
  faithfulness: score,
  answerRelevance: score,
  misrouted: z.enum(['yes', 'no', 'na'], { message: 'must be yes, no or na' }),
  /** Who reviews: a name typed on the page, the IAM principal, or the OS user locally. Only its pseudonym is stored. */
  reviewer: z.string().check(z.trim(), z.minLength(1, 'is required'), z.maxLength(256)),
});

export type ReviewInput = z.infer<typeof reviewInputSchema>;

/** Where review rows go: the ReviewStream (Firehose Direct PUT) in AWS, `LocalLake.append('reviews', ...)` locally. */
export interface ReviewRowSink {
  put(row: ReviewRow): Promise<void>;
}

/** A row of the `reviews` lake table (timestamps in epoch microseconds, Firehose's Iceberg contract). */
export interface ReviewRow {
  readonly review_id: string;
  readonly trace_id: string;
  readonly agent_id: string;
  readonly review_week: string;
  readonly score_band: string;
  readonly judge_prompt_hash: string;
  readonly reviewer: string;
  readonly faithfulness: number;
  readonly answer_relevance: number;
  readonly misrouted: boolean | null;
  readonly sampled_at: number;
  readonly reviewed_at: number;
}

const micros = (iso: string | Date): number => (typeof iso === 'string' ? Date.parse(iso) : iso.getTime()) * 1000;

/**
 * The lake row of a review: ids and labels from the item, the person's scores, the reviewer's pseudonym.
 * Checked against the table's column classes before it leaves (the item's ids came from a queue, not
 * from this code).
 *
 * @throws RowGuardError when a column would hold what its definition does not allow
 */
export function reviewRow(item: ReviewItem, input: ReviewInput, pseudonymiser: Pseudonymiser, reviewedAt: Date): ReviewRow {
  const row: ReviewRow = {
    review_id: item.itemId,
    trace_id: item.traceId,
    agent_id: item.agentId,
    review_week: item.week,
    score_band: item.band,
    judge_prompt_hash: item.judgePromptHash,
    reviewer: pseudonymiser.pseudonymise('reviewer', input.reviewer),
    faithfulness: input.faithfulness,
    answer_relevance: input.answerRelevance,
    misrouted: input.misrouted === 'na' ? null : input.misrouted === 'yes',
    sampled_at: micros(item.sampledAt),
    reviewed_at: micros(reviewedAt),
  };
  guardRow(REVIEWS_TABLE, row);
  return row;
}

export interface SubmitReviewDeps {
  readonly queue: ReviewQueue;
  readonly sink: ReviewRowSink;
  readonly pseudonymiser: () => Promise<Pseudonymiser>;
  readonly clock: () => Date;
}

export type SubmitOutcome =
  | { readonly kind: 'recorded'; readonly item: ReviewItem; readonly row: ReviewRow }
  | { readonly kind: 'already-reviewed'; readonly item: ReviewItem }
  | { readonly kind: 'not-found' };

/** Records one review; refuses an item that is done or unknown. Errors of the sink propagate after the claim is released. */
export async function submitReview(itemId: string, input: ReviewInput, deps: SubmitReviewDeps): Promise<SubmitOutcome> {
  const now = deps.clock();
  // The key is read before the claim: a missing key must not leave an item claimed and unwritten.
  const pseudonymiser = await deps.pseudonymiser();
  const claimed = await deps.queue.complete(itemId, now);
  if (claimed === undefined) {
    const item = await deps.queue.get(itemId);
    return item === undefined ? { kind: 'not-found' } : { kind: 'already-reviewed', item };
  }
  const row = reviewRow(claimed, input, pseudonymiser, now);
  try {
    await deps.sink.put(row);
  } catch (error) {
    await deps.queue.reopen(itemId);
    throw error;
  }
  return { kind: 'recorded', item: claimed, row };
}
