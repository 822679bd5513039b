/**
 * One item of the weekly review queue: which judged trace a person should score, and from which
 * stratum it was drawn. Ids and labels only: the trace's text stays in the lake (already masked) and
 * is read when the item is opened; the judge's scores stay in `judgments` and are never shown first.
 */
import { createHash } from 'node:crypto';
import * as z from '../../shared/zod-mini';
import { ISO_WEEK_PATTERN } from './iso-week';

/** `rv-` and 32 hex digits: derived from week, trace and prompt hash, so re-sampling a week adds nothing twice. */
export const reviewItemIdSchema = z.string().check(z.regex(/^rv-[0-9a-f]{32}$/, 'must be a review item id (rv- and 32 hex digits)'));

const instant = z.iso.datetime({ offset: false });

export const reviewItemSchema = z.object({
  itemId: reviewItemIdSchema,
  traceId: z.string().check(z.minLength(1), z.maxLength(256)),
  agentId: z.string().check(z.minLength(1), z.maxLength(256)),
  week: z.string().check(z.regex(ISO_WEEK_PATTERN)),
  band: z.string().check(z.regex(/^(band-\d+|unjudged)$/)),
  judgePromptHash: z.string().check(z.minLength(1), z.maxLength(128)),
  sampledAt: instant,
  status: z.enum(['open', 'done']),
  reviewedAt: z.optional(instant),
});

export type ReviewItem = z.infer<typeof reviewItemSchema>;

/** Parses a stored item; the message names where it came from. Unknown attributes (index keys) are dropped. */
export function parseReviewItem(raw: unknown, where: string): ReviewItem {
  const parsed = reviewItemSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${where} holds an invalid review item: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The item id of a trace judged under a prompt hash, sampled in a week. */
export function reviewItemId(week: string, traceId: string, judgePromptHash: string): string {
  return `rv-${createHash('sha256').update(`${week}\u0000${traceId}\u0000${judgePromptHash}`).digest('hex').slice(0, 32)}`;
}

/** DynamoDB layout of the queue table: the item id as key, and a sparse index of the open items. */
export const REVIEW_QUEUE_TABLE_SCHEMA = {
  partitionKey: 'itemId',
  openIndex: { name: 'open-items', partitionKey: 'openWeek', sortKey: 'itemId' },
} as const;
