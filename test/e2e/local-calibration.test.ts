/**
 * Judge calibration end to end on a local lake: a week of judged traces, the weekly sample into the
 * local review queue, the SIMULATED reviewer's reviews through the same submission the page and the
 * CLI use, and the agreement report (JSON and HTML) with its alarms.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CalibrationSettings } from '../../lambdas/judge/calibration/calibration-settings';
import { PSEUDONYM_PATTERN } from '../../lambdas/shared/pseudonymisation';
import { runLocalCalibration } from '../../local/calibration/run-local-calibration';
import { LocalReviewQueue } from '../../local/calibration/local-review-queue';
import { LocalLake } from '../../local/local-lake';
import { writeCalibrationLake, weekOfTraces } from '../helpers/calibration-lake';

const MONDAY = '2026-11-30T00:00:00.000Z'; // 2026-W49
const SAMPLING_TIME = new Date('2026-11-30T06:00:00.000Z');

const SETTINGS: CalibrationSettings = {
  samplingRate: 0.2,
  bandUpperBounds: [0.5, 0.8, 1],
  minPerStratum: 1,
  passAt: 0.7,
  minKappa: 0.6,
  minReviewed: 20,
  windowDays: 30,
  linkExpiryHours: 168,
};

describe('runLocalCalibration', () => {
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-calibration-'));
    const lake = await LocalLake.open(dir);
    try {
      await writeCalibrationLake(lake, weekOfTraces(200, MONDAY));
      // Outside the sampled week (the Monday itself and 8 days before): never sampled.
      await writeCalibrationLake(lake, [
        { id: 'late-trace', agent: 'rag-qa-agent', at: '2026-11-30T01:00:00.000Z', question: 'q', contexts: ['c'], answer: 'a' },
        { id: 'early-trace', agent: 'rag-qa-agent', at: '2026-11-22T23:00:00.000Z', question: 'q', contexts: ['c'], answer: 'a' },
      ]);
    } finally {
      lake.close();
    }
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function reviews(): Promise<Record<string, unknown>[]> {
    const lake = await LocalLake.open(dir);
    try {
      return await lake.query('SELECT review_id, trace_id, reviewer, faithfulness, answer_relevance, misrouted, review_week, score_band FROM reviews ORDER BY review_id');
    } finally {
      lake.close();
    }
  }

  it('samples every stratum of the week, reviews each item once and reports perfect agreement when the reviewer agrees', async () => {
    const result = await runLocalCalibration(dir, SETTINGS, () => SAMPLING_TIME);
    expect(result.sample.week).toBe('2026-W49');
    expect(result.sample.candidates).toBe(200);
    const traceIds = result.sample.items.map((i) => i.traceId);
    expect(traceIds).not.toContain('late-trace');
    expect(traceIds).not.toContain('early-trace');
    // Two agents x two occupied bands (unsupported answers in band-0, supported in band-2), 20 % of each, rounded up.
    const strata = new Set(result.sample.items.map((i) => `${i.agentId}/${i.band}`));
    expect([...strata].sort()).toEqual(['code-reviewer/band-0', 'code-reviewer/band-2', 'rag-qa-agent/band-0', 'rag-qa-agent/band-2']);
    expect(result.sample.sampled).toBe(41);
    expect(result.sample.added).toHaveLength(41);
    expect(result.reviewed).toBe(41);
    expect(result.missingTraces).toBe(0);

    const rows = await reviews();
    expect(rows).toHaveLength(41);
    for (const row of rows) expect(String(row.reviewer)).toMatch(PSEUDONYM_PATTERN);
    expect(new Set(rows.map((r) => r.reviewer)).size).toBe(1);

    const { report } = result;
    expect(report.label).toBe('SIMULATED');
    expect(report.reviews).toBe(41);
    expect(report.dimensions.faithfulness.reviewed).toBe(41);
    expect(report.dimensions.faithfulness.kappa?.kappa).toBeCloseTo(1, 10);
    expect(report.dimensions.faithfulness.alarms).toEqual([]);
    // Misroute is judged only for routed requests: few of them, so its count alarm fires.
    expect(report.dimensions.misroute.reviewed).toBeLessThan(SETTINGS.minReviewed);
    expect(report.alarms.some((a) => a.startsWith('misroute: only'))).toBe(true);

    const json = JSON.parse(readFileSync(result.json, 'utf8')) as typeof report;
    expect(json.dimensions.faithfulness.reviewed).toBe(41);
    expect(result.json).toBe(join(dir, 'judge-calibration', '2026-W49', 'report.json'));
    const html = readFileSync(result.html, 'utf8');
    expect(html).toContain('SIMULATED');
    expect(html).not.toMatch(/<script|https?:\/\//i);
  });

  it('re-running the same week adds no item and no review twice', async () => {
    const first = await runLocalCalibration(dir, SETTINGS, () => SAMPLING_TIME);
    const again = await runLocalCalibration(dir, SETTINGS, () => new Date('2026-12-02T18:00:00.000Z'));
    expect(again.sample.week).toBe('2026-W49');
    expect(again.sample.items.map((i) => i.itemId)).toEqual(first.sample.items.map((i) => i.itemId));
    expect(again.sample.added).toEqual([]);
    expect(again.reviewed).toBe(0);
    expect(await reviews()).toHaveLength(41);
    expect(await new LocalReviewQueue(dir).listOpen()).toEqual([]);
  });

  it('finds the disagreement of a reviewer who flips half the verdicts, and the kappa alarm fires', async () => {
    const result = await runLocalCalibration(dir, SETTINGS, () => SAMPLING_TIME, { disagreement: 0.5 });
    const faithfulness = result.report.dimensions.faithfulness;
    expect(faithfulness.reviewed).toBe(41);
    expect(faithfulness.kappa?.kappa).toBeLessThan(SETTINGS.minKappa);
    expect(result.report.alarms).toContainEqual(expect.stringMatching(/^faithfulness: kappa -?\d\.\d\d is below 0\.6$/));
  });
});
