/**
 * The confidence_scores MERGE: its literals (every value checked against its column, ids within the
 * identifier rules) and its semantics on the local lake, which runs the very statement Athena runs:
 * insert a new pair, leave a pair with equal scores alone (computed_at included), update one whose
 * scores changed, keep other days and pairs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfidenceScore } from '../../lambdas/operations/confidence';
import { CONFIDENCE_TABLE_COLUMNS, confidenceTableRows, renderConfidenceMerge, reportDateOf } from '../../lambdas/operations/confidence-table';
import { CONFIDENCE_SCORES_TABLE } from '../../lambdas/shared/lake-tables';
import { LocalConfidenceTable } from '../../local/local-confidence-table';
import { LocalLake } from '../../local/local-lake';

const score = (agent: string, model: string, value: number): ConfidenceScore => ({
  agent_id: agent,
  model,
  score: value,
  global_score: 0.6,
  observed_rate: value,
  feedback_count: 40,
  weight: 0.8,
  idle_days: 1,
  divergence_pp: Math.round((value - 0.6) * 1e4) / 100,
  needs_review: false,
  last_feedback_at: '2026-12-03T10:00:00.000Z',
});

describe('renderConfidenceMerge', () => {
  const rows = confidenceTableRows(new Date('2026-12-04T05:00:00.000Z'), [score('chat-assistant', 'Qwen/Qwen3-4B', 0.5)]);

  it('merges keyed by report day, agent and model, updating only rows whose values differ', () => {
    const sql = renderConfidenceMerge('"sial_dev"."confidence_scores"', rows);
    expect(sql).toContain('MERGE INTO "sial_dev"."confidence_scores" AS t');
    expect(sql).toContain('ON t.report_date = s.report_date AND t.agent_id = s.agent_id AND t.model = s.model');
    expect(sql).toContain('WHEN MATCHED AND (t.score IS DISTINCT FROM s.score OR ');
    expect(sql).toContain("(TIMESTAMP '2026-12-04 00:00:00.000000', 'chat-assistant', 'Qwen/Qwen3-4B', CAST(0.5 AS DOUBLE)");
    expect(sql).not.toContain('?');
  });

  it('names every column of the table, in its order', () => {
    expect([...CONFIDENCE_TABLE_COLUMNS]).toEqual(CONFIDENCE_SCORES_TABLE.fields.map((f) => f.name));
  });

  it('refuses a value that does not fit its column, no rows, or rows of two days', () => {
    expect(() => renderConfidenceMerge('t', [{ ...rows[0]!, agent_id: "x' OR '1'='1" }])).toThrow('agent_id');
    expect(() => renderConfidenceMerge('t', [{ ...rows[0]!, score: Number.NaN }])).toThrow('score');
    expect(() => renderConfidenceMerge('t', [{ ...rows[0]!, feedback_count: 1.5 }])).toThrow('feedback_count');
    expect(() => renderConfidenceMerge('t', [{ ...rows[0]!, last_feedback_at: 'yesterday' }])).toThrow('last_feedback_at');
    expect(() => renderConfidenceMerge('t', [])).toThrow('no rows');
    expect(() => renderConfidenceMerge('t', [rows[0]!, { ...rows[0]!, report_date: reportDateOf(new Date('2026-12-05T01:00:00Z')) }])).toThrow('more than one report day');
  });
});

describe('LocalConfidenceTable', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sial-confidence-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('inserts, leaves equal scores alone, updates changed ones, and keeps other days', async () => {
    const lake = await LocalLake.open(join(root, 'lake'));
    const table = new LocalConfidenceTable(lake);
    const rowsOf = async () =>
      (await lake.query('SELECT CAST(report_date AS VARCHAR) AS day, agent_id, model, score, CAST(computed_at AS VARCHAR) AS computed_at FROM confidence_scores ORDER BY day, agent_id, model')).map((r) => [r.day, r.agent_id, r.model, r.score, r.computed_at]);
    try {
      const morning = new Date('2026-12-04T05:00:00.000Z');
      await table.merge(confidenceTableRows(morning, [score('a', 'm1', 0.5), score('b', 'm1', 0.7)]));
      expect(table.lastChanged).toBe(2);
      await table.merge(confidenceTableRows(new Date('2026-12-03T05:00:00.000Z'), [score('a', 'm1', 0.4)]));
      const first = await rowsOf();

      // The same day again, same scores, later: nothing changes, not even computed_at.
      await table.merge(confidenceTableRows(new Date('2026-12-04T09:00:00.000Z'), [score('a', 'm1', 0.5), score('b', 'm1', 0.7)]));
      expect(table.lastChanged).toBe(0);
      expect(await rowsOf()).toEqual(first);

      // New feedback moved one pair, and a new pair appeared: one update, one insert; the rest stays.
      await table.merge(confidenceTableRows(new Date('2026-12-04T11:00:00.000Z'), [score('a', 'm1', 0.55), score('c', 'm2', 0.9)]));
      expect(table.lastChanged).toBe(2);
      expect(await rowsOf()).toEqual([
        ['2026-12-03 00:00:00', 'a', 'm1', 0.4, '2026-12-03 05:00:00'],
        ['2026-12-04 00:00:00', 'a', 'm1', 0.55, '2026-12-04 11:00:00'],
        ['2026-12-04 00:00:00', 'b', 'm1', 0.7, '2026-12-04 05:00:00'],
        ['2026-12-04 00:00:00', 'c', 'm2', 0.9, '2026-12-04 11:00:00'],
      ]);
      await table.merge([]);
      expect(table.lastChanged).toBe(0);
    } finally {
      lake.close();
    }
  });
});
