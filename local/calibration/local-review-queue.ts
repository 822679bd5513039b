/**
 * The local adapter of the ReviewQueue port: every item in `<lake dir>/review-queue.json`, changed
 * under the same lock as the local approvals (the CLI, the local review page and a local run may be
 * separate processes), with the rules the DynamoDB adapter states as conditions.
 */
import { join } from 'node:path';
import { parseReviewItem, type ReviewItem } from '../../lambdas/judge/calibration/review-item';
import { byWeekThenId, type ReviewQueue } from '../../lambdas/judge/calibration/review-queue';
import { LockedJsonFile } from '../pipeline/local-approval-json-file';

interface QueueDocument {
  readonly items: Readonly<Record<string, ReviewItem>>;
}

/** The file name inside the lake directory. */
export const LOCAL_REVIEW_QUEUE_FILE = 'review-queue.json';

const codec = {
  empty: (): QueueDocument => ({ items: {} }),
  parse(raw: unknown, where: string): QueueDocument {
    const items = (raw as { items?: unknown } | null)?.items;
    if (items === null || typeof items !== 'object' || Array.isArray(items)) throw new Error(`${where} is not a local review queue (no "items" object)`);
    return { items: Object.fromEntries(Object.entries(items).map(([id, item]) => [id, parseReviewItem(item, `${where} (${id})`)])) };
  },
};

/** ReviewQueue in `<dir>/review-queue.json`. */
export class LocalReviewQueue implements ReviewQueue {
  private readonly file: LockedJsonFile<QueueDocument>;

  constructor(readonly dir: string) {
    this.file = new LockedJsonFile(join(dir, LOCAL_REVIEW_QUEUE_FILE), codec);
  }

  add(items: readonly ReviewItem[]): Promise<ReviewItem[]> {
    return this.file.update((doc) => {
      const fresh = items.filter((i) => doc.items[i.itemId] === undefined);
      if (fresh.length === 0) return { result: [] };
      return { next: { items: { ...doc.items, ...Object.fromEntries(fresh.map((i) => [i.itemId, i])) } }, result: fresh };
    });
  }

  async get(itemId: string): Promise<ReviewItem | undefined> {
    return (await this.file.read()).items[itemId];
  }

  async listOpen(): Promise<ReviewItem[]> {
    return Object.values((await this.file.read()).items)
      .filter((i) => i.status === 'open')
      .sort(byWeekThenId);
  }

  complete(itemId: string, now: Date): Promise<ReviewItem | undefined> {
    return this.file.update((doc) => {
      const item = doc.items[itemId];
      if (item === undefined || item.status !== 'open') return { result: undefined };
      const done: ReviewItem = { ...item, status: 'done', reviewedAt: now.toISOString() };
      return { next: { items: { ...doc.items, [itemId]: done } }, result: done };
    });
  }

  async reopen(itemId: string): Promise<void> {
    await this.file.update((doc) => {
      const item = doc.items[itemId];
      if (item === undefined || item.status !== 'done') return { result: undefined };
      const { reviewedAt: _reviewedAt, ...rest } = item;
      return { next: { items: { ...doc.items, [itemId]: { ...rest, status: 'open' } } }, result: undefined };
    });
  }
}
