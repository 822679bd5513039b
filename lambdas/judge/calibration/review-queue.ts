/**
 * The ReviewQueue port: DynamoDB in AWS, a JSON file under the lake directory locally. Adding is
 * idempotent by item id; completing is a conditional change from open to done, so a link or a CLI
 * call reviews an item once, whoever comes second is refused.
 */
import type { ReviewItem } from './review-item';

export interface ReviewQueue {
  /** Adds the items whose id is new; resolves to those added (existing items stay as they are). */
  add(items: readonly ReviewItem[]): Promise<ReviewItem[]>;
  /** The item, or undefined. */
  get(itemId: string): Promise<ReviewItem | undefined>;
  /** Items still waiting for a review, oldest week first. */
  listOpen(): Promise<ReviewItem[]>;
  /** Marks an open item done; the item as written, or undefined when it is not open (reviewed already, or unknown). */
  complete(itemId: string, now: Date): Promise<ReviewItem | undefined>;
  /** Opens a done item again: only when the review could not be written after `complete` claimed it. */
  reopen(itemId: string): Promise<void>;
}

/** Open items in a stable order: week, then id. */
export function byWeekThenId(a: ReviewItem, b: ReviewItem): number {
  return a.week === b.week ? a.itemId.localeCompare(b.itemId) : a.week.localeCompare(b.week);
}
