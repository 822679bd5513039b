/**
 * Row retention on a local lake (`sial lake expire --local DIR`): exactly the rows older than each
 * table's cutoff leave the Parquet files, the rest stay; a dry run deletes nothing; the CLI applies the
 * stage's lake.rowRetentionDays.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { loadStageConfig } from '../../config';
import { prepareLakeDir } from '../../local/lake-dir';
import { runLocalIngest } from '../../local/local-ingest';
import { LocalLake } from '../../local/local-lake';
import { expireLocalRows } from '../../local/local-row-expiry';
import { generateOperatingRecords } from '../../local/operating-traffic';

jest.setTimeout(300_000);

const END = new Date('2026-12-04T06:00:00Z');
const DAY_MS = 86_400_000;
let root: string;
let lakeDir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sial-expire-'));
  lakeDir = prepareLakeDir(join(root, 'lake'), { keep: false }).lakeDir;
  await runLocalIngest({ stage: 'dev', lakeDir, traceCount: 0, comprehendLatencyMs: 0, comprehendTps: 10_000, clock: () => END, records: (now, boundary) => generateOperatingRecords({ end: now, boundary }) });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function withLake<T>(body: (lake: LocalLake) => Promise<T>): Promise<T> {
  const lake = await LocalLake.open(lakeDir);
  try {
    return await body(lake);
  } finally {
    lake.close();
  }
}

const count = (lake: LocalLake, sql: string): Promise<number> => lake.query(sql).then((rows) => Number(rows[0]!.n));

describe('local row expiry', () => {
  it('counts in a dry run and deletes nothing', async () => {
    await withLake(async (lake) => {
      const before = await count(lake, 'SELECT count(*) AS n FROM traces');
      const [traces] = await expireLocalRows(lake, { traces: 10 }, END, { dryRun: true });
      expect(traces!.rowsExpired).toBeGreaterThan(0);
      expect(await count(lake, 'SELECT count(*) AS n FROM traces')).toBe(before);
    });
  });

  it('deletes exactly the rows before midnight UTC ten days back, per table, and keeps the rest', async () => {
    await withLake(async (lake) => {
      const cutoff = `TIMESTAMP '${new Date(Math.floor(END.getTime() / DAY_MS) * DAY_MS - 10 * DAY_MS).toISOString().replace('T', ' ').replace('Z', '')}'`;
      const older = { traces: await count(lake, `SELECT count(*) AS n FROM traces WHERE ts < ${cutoff}`), feedback: await count(lake, `SELECT count(*) AS n FROM feedback WHERE received_at < ${cutoff}`) };
      const kept = { traces: await count(lake, `SELECT count(*) AS n FROM traces WHERE ts >= ${cutoff}`), feedback: await count(lake, `SELECT count(*) AS n FROM feedback WHERE received_at >= ${cutoff}`) };
      expect(older.traces).toBeGreaterThan(0);
      expect(kept.traces).toBeGreaterThan(0);
      const results = await expireLocalRows(lake, { traces: 10, feedback: 10 }, END, { dryRun: false });
      expect(results.map((r) => [r.table, r.rowsExpired])).toEqual([['traces', older.traces], ['feedback', older.feedback]]);
      expect(await count(lake, `SELECT count(*) AS n FROM traces WHERE ts < ${cutoff}`)).toBe(0);
      expect(await count(lake, 'SELECT count(*) AS n FROM traces')).toBe(kept.traces);
      expect(await count(lake, 'SELECT count(*) AS n FROM feedback')).toBe(kept.feedback);
      // A second run finds nothing more.
      const again = await expireLocalRows(lake, { traces: 10, feedback: 10 }, END, { dryRun: false });
      expect(again.map((r) => r.rowsExpired)).toEqual([0, 0]);
    });
  });

  it('sial lake expire applies the stage\'s retention: a dry run, then the deletion', async () => {
    const days = loadStageConfig('dev').lake.rowRetentionDays!.traces!;
    const later = new Date(END.getTime() + (days + 1) * DAY_MS);
    const run = async (...argv: string[]): Promise<{ code: number; out: string }> => {
      const out: string[] = [];
      const code = await runCli(argv, { io: { out: (l: string) => out.push(l), err: (l: string) => out.push(l) }, env: {}, clock: () => later });
      return { code, out: out.join('\n') };
    };
    const before = await withLake((lake) => count(lake, 'SELECT count(*) AS n FROM traces'));
    const dry = await run('lake', 'expire', '--local', lakeDir, '--dry-run', '--json');
    expect(dry.out).toContain('"dryRun"');
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.out) as { dryRun: boolean; tables: { table: string; rowsExpired: number }[] };
    expect(planned.dryRun).toBe(true);
    expect(planned.tables.find((t) => t.table === 'traces')!.rowsExpired).toBe(before);
    expect(await withLake((lake) => count(lake, 'SELECT count(*) AS n FROM traces'))).toBe(before);
    const real = await run('lake', 'expire', '--local', lakeDir);
    expect(real.code).toBe(0);
    expect(real.out).toContain('traces');
    expect(await withLake((lake) => count(lake, 'SELECT count(*) AS n FROM traces'))).toBe(0);
    const bad = await run('lake', 'expire', 'extra', '--local', lakeDir);
    expect(bad.code).not.toBe(0);
  });
});
