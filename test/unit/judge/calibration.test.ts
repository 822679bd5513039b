/**
 * The calibration's pure parts: ISO weeks, the queue items of a sample, the review input, submission
 * (single use, the claim released when the row cannot be written), the report and its HTML, and the
 * stage configuration of the thresholds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStageConfig } from '../../../config';
import { DEFAULT_JUDGE_CALIBRATION } from '../../../config/governance-defaults';
import { judgeCalibrationSchema } from '../../../config/schema';
import type { ReviewedPair } from '../../../lambdas/judge/calibration/calibration-queries';
import { buildCalibrationReport, calibrationMetrics } from '../../../lambdas/judge/calibration/calibration-report';
import { calibrationSettingsFromEnv, calibrationSettingsOf } from '../../../lambdas/judge/calibration/calibration-settings';
import { isoWeek, isoWeekStart } from '../../../lambdas/judge/calibration/iso-week';
import { renderCalibrationReportHtml } from '../../../lambdas/judge/calibration/report-html';
import { reviewItemId, type ReviewItem } from '../../../lambdas/judge/calibration/review-item';
import { reviewItemsOf, sampleWindow } from '../../../lambdas/judge/calibration/sample-week';
import { reviewInputSchema, submitReview, type ReviewRow } from '../../../lambdas/judge/calibration/submit-review';
import { createPseudonymiser, PSEUDONYM_PATTERN } from '../../../lambdas/shared/pseudonymisation';
import { LocalReviewQueue } from '../../../local/calibration/local-review-queue';
import { PROMPT_HASH } from '../../helpers/calibration-lake';

const SETTINGS = calibrationSettingsOf({ ...DEFAULT_JUDGE_CALIBRATION, reviewerEmails: [] });

describe('ISO weeks', () => {
  it.each([
    ['2026-01-01T12:00:00Z', '2026-W01'],
    ['2027-01-01T00:00:00Z', '2026-W53'],
    ['2026-12-28T00:00:00Z', '2026-W53'],
    ['2026-11-30T06:00:00Z', '2026-W49'],
    ['2021-01-03T23:59:59Z', '2020-W53'],
  ])('%s is in %s (checked against Python isocalendar)', (instant, week) => {
    expect(isoWeek(new Date(instant))).toBe(week);
  });

  it.each([
    ['2026-W53', '2026-12-28T00:00:00.000Z'],
    ['2020-W53', '2020-12-28T00:00:00.000Z'],
    ['2026-W01', '2025-12-29T00:00:00.000Z'],
  ])('%s starts on Monday %s', (week, monday) => {
    expect(isoWeekStart(week).toISOString()).toBe(monday);
    expect(isoWeek(isoWeekStart(week))).toBe(week);
  });

  it('samples the 7 whole days before the week began', () => {
    expect(sampleWindow('2026-W49')).toEqual({ from: new Date('2026-11-23T00:00:00.000Z'), to: new Date('2026-11-30T00:00:00.000Z') });
    expect(() => isoWeekStart('2026-49')).toThrow('is not an ISO week');
  });
});

describe('reviewItemsOf', () => {
  const candidates = [
    ...Array.from({ length: 300 }, (_, i) => ({ traceId: `t-${i}`, agentId: 'rag-qa-agent', judgePromptHash: 'hash-a', faithfulness: i % 2 === 0 ? 0.95 : 0.2 })),
    { traceId: 'rare', agentId: 'rare-agent', judgePromptHash: 'hash-a', faithfulness: 0.9 },
    { traceId: 'unjudged', agentId: 'rag-qa-agent', judgePromptHash: 'hash-a', faithfulness: null },
    // The same trace judged under a second policy is sampled in that policy's own draw.
    { traceId: 't-0', agentId: 'rag-qa-agent', judgePromptHash: 'hash-b', faithfulness: 0.95 },
  ];
  const at = new Date('2026-11-30T06:00:00.000Z');

  it('takes 2 % of every stratum per prompt hash, at least one, with ids and the band only', () => {
    const items = reviewItemsOf(candidates, SETTINGS, '2026-W49', at);
    const count = (agent: string, band: string, hash = 'hash-a') => items.filter((i) => i.agentId === agent && i.band === band && i.judgePromptHash === hash).length;
    expect(count('rag-qa-agent', 'band-2')).toBe(3); // ceil(0.02 x 150)
    expect(count('rag-qa-agent', 'band-0')).toBe(3);
    expect(count('rare-agent', 'band-2')).toBe(1);
    expect(count('rag-qa-agent', 'unjudged')).toBe(1);
    expect(count('rag-qa-agent', 'band-2', 'hash-b')).toBe(1);
    const item = items.find((i) => i.traceId === 'rare') as ReviewItem;
    expect(item).toEqual({ itemId: reviewItemId('2026-W49', 'rare', 'hash-a'), traceId: 'rare', agentId: 'rare-agent', week: '2026-W49', band: 'band-2', judgePromptHash: 'hash-a', sampledAt: at.toISOString(), status: 'open' });
    expect(Object.keys(item)).not.toContain('faithfulness');
  });

  it('draws the same items for the same week, other items for another week', () => {
    const ids = (week: string) => reviewItemsOf(candidates, SETTINGS, week, at).map((i) => i.traceId);
    expect(ids('2026-W49')).toEqual(ids('2026-W49'));
    expect(ids('2026-W50')).not.toEqual(ids('2026-W49'));
  });
});

describe('review input', () => {
  const base = { faithfulness: '0.8', answerRelevance: '1', misrouted: 'na', reviewer: 'Jane' };
  it('accepts scores as text and refuses empty, out-of-range and unknown values', () => {
    expect(reviewInputSchema.parse(base)).toEqual({ faithfulness: 0.8, answerRelevance: 1, misrouted: 'na', reviewer: 'Jane' });
    expect(reviewInputSchema.safeParse({ ...base, faithfulness: '' }).success).toBe(false);
    expect(reviewInputSchema.safeParse({ ...base, faithfulness: '1.2' }).success).toBe(false);
    expect(reviewInputSchema.safeParse({ ...base, answerRelevance: 'high' }).success).toBe(false);
    expect(reviewInputSchema.safeParse({ ...base, misrouted: 'maybe' }).success).toBe(false);
    expect(reviewInputSchema.safeParse({ ...base, reviewer: '  ' }).success).toBe(false);
  });
});

describe('submitReview', () => {
  let dir: string;
  let queue: LocalReviewQueue;
  const item: ReviewItem = { itemId: reviewItemId('2026-W49', 'trace-1', PROMPT_HASH), traceId: 'trace-1', agentId: 'rag-qa-agent', week: '2026-W49', band: 'band-0', judgePromptHash: PROMPT_HASH, sampledAt: '2026-11-30T06:00:00.000Z', status: 'open' };
  const input = reviewInputSchema.parse({ faithfulness: '0.25', answerRelevance: '0.5', misrouted: 'yes', reviewer: 'Jane Doe' });
  const pseudonymiser = async () => createPseudonymiser(Buffer.alloc(32, 7));
  const clock = () => new Date('2026-12-01T10:00:00.000Z');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-review-'));
    queue = new LocalReviewQueue(dir);
    await expect(queue.add([item])).resolves.toEqual([item]);
    await expect(queue.add([{ ...item, sampledAt: '2026-12-01T00:00:00.000Z' }])).resolves.toEqual([]);
    await expect(queue.get(item.itemId)).resolves.toEqual(item);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one row under the reviewer pseudonym and refuses a second submission', async () => {
    const rows: ReviewRow[] = [];
    const deps = { queue, sink: { put: async (r: ReviewRow) => void rows.push(r) }, pseudonymiser, clock };
    const outcome = await submitReview(item.itemId, input, deps);
    expect(outcome.kind).toBe('recorded');
    expect(rows).toEqual([
      {
        review_id: item.itemId,
        trace_id: 'trace-1',
        agent_id: 'rag-qa-agent',
        review_week: '2026-W49',
        score_band: 'band-0',
        judge_prompt_hash: PROMPT_HASH,
        reviewer: expect.stringMatching(PSEUDONYM_PATTERN),
        faithfulness: 0.25,
        answer_relevance: 0.5,
        misrouted: true,
        sampled_at: Date.parse(item.sampledAt) * 1000,
        reviewed_at: Date.parse('2026-12-01T10:00:00.000Z') * 1000,
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain('Jane');
    await expect(submitReview(item.itemId, input, deps)).resolves.toMatchObject({ kind: 'already-reviewed', item: { status: 'done', reviewedAt: '2026-12-01T10:00:00.000Z' } });
    await expect(submitReview(reviewItemId('2026-W49', 'other', 'h'), input, deps)).resolves.toEqual({ kind: 'not-found' });
    expect(rows).toHaveLength(1);
  });

  it('releases the item when the row cannot be written, so the reviewer can submit again', async () => {
    const failing = { queue, sink: { put: async () => Promise.reject(new Error('stream unavailable')) }, pseudonymiser, clock };
    await expect(submitReview(item.itemId, input, failing)).rejects.toThrow('stream unavailable');
    await expect(queue.get(item.itemId)).resolves.toMatchObject({ status: 'open' });
    expect((await queue.get(item.itemId))?.reviewedAt).toBeUndefined();
    const rows: ReviewRow[] = [];
    await expect(submitReview(item.itemId, input, { ...failing, sink: { put: async (r: ReviewRow) => void rows.push(r) } })).resolves.toMatchObject({ kind: 'recorded' });
    expect(rows).toHaveLength(1);
  });
});

describe('the agreement report', () => {
  const pair = (i: number, judge: number | null, human: number | null, misrouted: [boolean | null, boolean | null] = [null, null]): ReviewedPair => ({
    reviewId: `rv-${i}`,
    traceId: `t-${i}`,
    agentId: 'a',
    judgePromptHash: PROMPT_HASH,
    judge: { faithfulness: judge, answerRelevance: judge, misrouted: misrouted[0] },
    human: { faithfulness: human, answerRelevance: human === null ? 0.9 : human, misrouted: misrouted[1] },
  });
  const window = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };

  it('counts a pair for a dimension only when both sides judged it, and alarms per dimension', () => {
    const pairs = [pair(1, 0.9, 0.9, [false, false]), pair(2, 0.2, 0.1, [true, true]), pair(3, 0.9, 0.2), pair(4, null, 0.8), pair(5, 0.3, null), pair(6, 0.1, 0.9)];
    const report = buildCalibrationReport(pairs, { passAt: 0.7, minKappa: 0.6, minReviewed: 3 }, window, window.to);
    expect(report.reviews).toBe(6);
    expect(report.dimensions.faithfulness.reviewed).toBe(4);
    expect(report.dimensions.answer_relevance.reviewed).toBe(5);
    expect(report.dimensions.misroute.reviewed).toBe(2);
    // faithfulness: judge pass/fail [T, F, T, F] vs human [T, F, F, T]: observed 0.5, expected 0.5.
    expect(report.dimensions.faithfulness.kappa?.kappa).toBeCloseTo(0, 10);
    expect(report.alarms).toContain('faithfulness: kappa 0.00 is below 0.6');
    expect(report.alarms).toContain('misroute: only 2 items reviewed in the window; at least 3 are needed');
    expect(report.window.days).toBe(30);
    expect(calibrationMetrics(report)).toEqual([
      { dimension: 'faithfulness', kappa: expect.closeTo(0, 10), reviewed: 4 },
      { dimension: 'answer_relevance', kappa: expect.any(Number), reviewed: 5 },
      { dimension: 'misroute', kappa: 1, reviewed: 2 },
    ]);
  });

  it('renders self-contained, escaped HTML', () => {
    const report = buildCalibrationReport([pair(1, 0.9, 0.1), pair(2, 0.1, 0.9)], { passAt: 0.7, minKappa: 0.6, minReviewed: 100 }, window, window.to, '<script>alert(1)</script>');
    const html = renderCalibrationReportHtml(report);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;sha256-/);
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(html).toContain('only 2 items reviewed in the window');
  });
});

describe('calibration configuration', () => {
  it('every stage has thresholds, validated', () => {
    for (const stage of ['dev', 'prod-eu', 'prod-kr']) {
      const config = loadStageConfig(stage).judgeCalibration;
      expect(config).toMatchObject({ minKappa: 0.6, minReviewed: 100, windowDays: 30, passAt: 0.7 });
      expect(config.samplingRate).toBeGreaterThanOrEqual(0.01);
      expect(config.samplingRate).toBeLessThanOrEqual(0.02);
    }
  });

  it('refuses bands that are not ascending or do not end at 1, and rates outside the range', () => {
    const base = { ...DEFAULT_JUDGE_CALIBRATION, reviewerEmails: ['r@example.com'] };
    expect(judgeCalibrationSchema.safeParse(base).success).toBe(true);
    const issues = (value: object) => (judgeCalibrationSchema.safeParse(value).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ ...base, bandUpperBounds: [0.8, 0.5, 1] })).toEqual(['bandUpperBounds: must be strictly ascending']);
    expect(issues({ ...base, bandUpperBounds: [0.5, 0.8] })).toEqual(['bandUpperBounds: must end with 1, so every score falls in a band']);
    expect(issues({ ...base, samplingRate: 0.5 })).toHaveLength(1);
    expect(issues({ ...base, passAt: 1 })).toHaveLength(1);
    expect(issues({ ...base, reviewerEmails: ['not-an-address'] })).toHaveLength(1);
  });

  it('reads the settings from the function environment and names what is wrong', () => {
    expect(calibrationSettingsFromEnv({ CALIBRATION_SETTINGS: JSON.stringify(SETTINGS) })).toEqual(SETTINGS);
    expect(() => calibrationSettingsFromEnv({})).toThrow('CALIBRATION_SETTINGS is not set');
    expect(() => calibrationSettingsFromEnv({ CALIBRATION_SETTINGS: JSON.stringify({ ...SETTINGS, minKappa: 3 }) })).toThrow('minKappa');
  });
});
