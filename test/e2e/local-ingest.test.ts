import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLocalIngest, type LocalIngestSummary } from '../../local/local-ingest';
import { LocalLake } from '../../local/local-lake';

describe('local mode: ingest into the local lake', () => {
  let dir: string;
  let summary: LocalIngestSummary;
  let lake: LocalLake;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-lake-'));
    summary = await runLocalIngest({ stage: 'dev', lakeDir: dir, traceCount: 250, comprehendLatencyMs: 0, comprehendTps: 1000, clock: () => new Date('2026-11-21T09:00:00.000Z') });
    lake = await LocalLake.open(dir);
  });

  afterAll(() => {
    lake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives every record one outcome', () => {
    expect(summary.recordsIn).toBe(254);
    expect(summary.delivered + summary.discarded + summary.failed + summary.duplicates).toBe(summary.recordsIn);
    expect(summary.failed).toBe(3);
    expect(summary.duplicates).toBe(1);
    expect(summary.delivered).toBeGreaterThan(100);
  });

  it('writes the traces table partitioned by day, model and consent', async () => {
    expect(existsSync(join(dir, 'traces', 'ts_day=2026-11-20', 'model=qwen3-4b', 'consent=true'))).toBe(true);
    const [count] = await lake.query('SELECT count(*)::INTEGER AS n, count(DISTINCT consent)::INTEGER AS consents FROM traces');
    expect(count).toEqual({ n: summary.delivered, consents: 1 });
  });

  it('audits every discarded trace without content', async () => {
    const [audit] = await lake.query('SELECT count(*)::INTEGER AS n FROM gate_audit');
    expect(audit?.n).toBe(summary.discarded);
    const columns = await lake.query("SELECT column_name FROM (DESCRIBE gate_audit)");
    expect(columns.map((c) => c.column_name)).not.toContain('output');
  });

  it('never lands an unmasked e-mail, phone, card or SSN from the demo data', async () => {
    const [leaks] = await lake.query(
      `SELECT count(*)::INTEGER AS n FROM traces
        WHERE regexp_matches(to_json(input_messages)::VARCHAR || output || to_json(retrieved_contexts)::VARCHAR,
                             'jane\\.doe@example\\.com|555 0134|4111 1111|536-22-1234|010-1234-5678')`,
    );
    expect(leaks?.n).toBe(0);
    const [masked] = await lake.query('SELECT count(*)::INTEGER AS n FROM traces WHERE pii_entities_masked > 0');
    expect(masked?.n).toBeGreaterThan(0);
  });

  it('stores session ids only as keyed pseudonyms, under the lake directory\'s local key', async () => {
    const [sessions] = await lake.query(
      `SELECT count(session_id)::INTEGER AS n, count(*) FILTER (WHERE NOT regexp_matches(session_id, '^hmac-sha256:[0-9a-f]{64}$'))::INTEGER AS raw FROM traces`,
    );
    expect(sessions?.n).toBe(summary.delivered);
    expect(sessions?.raw).toBe(0);
    const [leaks] = await lake.query("SELECT count(*)::INTEGER AS n FROM traces WHERE to_json(traces)::VARCHAR LIKE '%whatsapp%' OR to_json(traces)::VARCHAR LIKE '%415555%'");
    expect(leaks?.n).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'pseudonymisation-key.local.json'), 'utf8'))).toEqual(expect.objectContaining({ label: 'local' }));
  });

  it('stamps the reward policy version and keeps rewards in [0, 1]', async () => {
    const [stats] = await lake.query('SELECT min(reward) AS lo, max(reward) AS hi, count(DISTINCT reward_policy_version)::INTEGER AS versions, any_value(reward_policy_version) AS version FROM traces');
    expect(stats).toEqual(expect.objectContaining({ versions: 1, version: 'v1' }));
    expect(Number(stats?.lo)).toBeGreaterThanOrEqual(0);
    expect(Number(stats?.hi)).toBeLessThanOrEqual(1);
  });

  it('keeps malformed records apart, like Firehose error output', () => {
    const lines = readFileSync(join(dir, 'errors', 'processing-failed.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(summary.failed);
    expect(JSON.parse(lines[0]!)).toEqual(expect.objectContaining({ reason: expect.stringMatching(/^schema: /) }));
  });

  it('writes feedback events joinable to traces by request id', async () => {
    const [joined] = await lake.query('SELECT count(*)::INTEGER AS n FROM feedback f JOIN traces t USING (request_id)');
    const [all] = await lake.query('SELECT count(*)::INTEGER AS n FROM feedback');
    expect(all?.n).toBe(10);
    expect(joined?.n).toBeGreaterThan(0);
  });
});
