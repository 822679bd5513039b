import { parseStageConfig } from '../../config';
import { loadStageConfig } from '../../config';
import { LAKE_TABLES, RETENTION_TIME_COLUMNS } from '../../lambdas/shared/lake-tables';
import { localRetentionPredicate, renderAthenaRetentionDelete, retentionCutoff, rowRetentionRules } from '../../lambdas/shared/row-retention';

describe('retention time columns', () => {
  it('name every lake table, each by a required timestamp column the table is partitioned by day on', () => {
    expect(Object.keys(RETENTION_TIME_COLUMNS).sort()).toEqual(LAKE_TABLES.map((t) => t.name).sort());
    for (const table of LAKE_TABLES) {
      const column = RETENTION_TIME_COLUMNS[table.name as keyof typeof RETENTION_TIME_COLUMNS];
      const field = table.fields.find((f) => f.name === column);
      expect({ table: table.name, type: field?.type, required: field?.required }).toEqual({ table: table.name, type: 'timestamp', required: true });
      expect(table.partitions).toContainEqual(expect.objectContaining({ sourceName: column, transform: 'day' }));
    }
  });
});

describe('row retention rules and statements', () => {
  it('list the tables with a retention in table order, and none for an empty setting', () => {
    expect(rowRetentionRules({ feedback: 365, traces: 90 })).toEqual([
      { table: 'traces', timeColumn: 'ts', days: 90 },
      { table: 'feedback', timeColumn: 'received_at', days: 365 },
    ]);
    expect(rowRetentionRules({})).toEqual([]);
  });

  it('refuse a day count below 1 or not whole', () => {
    expect(() => rowRetentionRules({ traces: 0 })).toThrow('row retention of traces: 0 days; expected a whole number of at least 1');
    expect(() => rowRetentionRules({ reviews: 1.5 })).toThrow('reviews');
  });

  it('render the Athena DELETE on the time column with the cutoff at midnight UTC, days back', () => {
    const [rule] = rowRetentionRules({ gate_audit: 365 });
    expect(renderAthenaRetentionDelete('sial_dev', rule!)).toBe(`DELETE FROM "sial_dev"."gate_audit" WHERE "discarded_at" < date_add('day', -365, CAST(current_date AS timestamp))`);
  });

  it('put the local cutoff at the start of the UTC day, days back, whatever the hour', () => {
    const [rule] = rowRetentionRules({ traces: 90 });
    expect(retentionCutoff(rule!, new Date('2026-12-04T23:59:59.999Z')).toISOString()).toBe('2026-09-05T00:00:00.000Z');
    expect(retentionCutoff(rule!, new Date('2026-12-04T00:00:00.000Z')).toISOString()).toBe('2026-09-05T00:00:00.000Z');
    expect(localRetentionPredicate(rule!, new Date('2026-12-04T06:00:00Z'))).toBe(`"ts" < TIMESTAMP '2026-09-05 00:00:00.000'`);
  });
});

describe('lake.rowRetentionDays in the stage configuration', () => {
  const dev = loadStageConfig('dev');
  const withRetention = (rowRetentionDays: unknown): unknown => ({ ...dev, lake: { ...dev.lake, rowRetentionDays } });

  it('accepts whole days of at least 1 per table, and no setting at all', () => {
    expect(parseStageConfig(withRetention({ traces: 1, feedback: 365 }), 'test').lake.rowRetentionDays).toEqual({ traces: 1, feedback: 365 });
    expect(parseStageConfig({ ...dev, lake: { ...dev.lake, rowRetentionDays: undefined } }, 'test').lake.rowRetentionDays).toBeUndefined();
  });

  it('refuses 0 days, a fraction and a table the lake does not have, naming the key', () => {
    expect(() => parseStageConfig(withRetention({ traces: 0 }), 'test')).toThrow('lake.rowRetentionDays.traces');
    expect(() => parseStageConfig(withRetention({ judgments: 2.5 }), 'test')).toThrow('lake.rowRetentionDays.judgments');
    expect(() => parseStageConfig(withRetention({ sessions: 30 }), 'test')).toThrow('sessions');
  });
});
