import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetManifestSchema, type DatasetManifest } from '../../lambdas/pipeline/contracts';
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

describe('npm run local', () => {
  it('runs the whole local loop from the command line, labelling the simulated parts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sial-cli-'));
    try {
      const output = execFileSync('npx', ['tsx', 'local/run-local.ts', '--lake-dir', dir, '--auto-approve'], { encoding: 'utf8', cwd: join(__dirname, '..', '..') });
      expect(output).toContain('[SIMULATED] Amazon Comprehend');
      expect(output).toMatch(/delivered to traces: \d+/);
      expect(output).toContain('Lake partitions of traces');
      expect(output).toContain('[SIMULATED] scripted approver');
      expect(output).toMatch(/\[SIMULATED\] Batch train job .*: SUCCEEDED after 2 attempt\(s\), starting from steps 0, 250/);
      expect(output).toContain('Pipeline succeeded');
      // The handed-over canary rollout runs on the simulated endpoint, step by step, to promotion.
      expect(output).toMatch(/\[SIMULATED\] .*SageMaker endpoint .*weights now .*=10\b/);
      expect(output).toContain('Rollout ended: Promoted');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs twice on one lake with --keep: the re-delivered demo traces change nothing in the dataset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sial-cli-keep-'));
    const run = (...extra: string[]): string => execFileSync('npx', ['tsx', 'local/run-local.ts', '--lake-dir', dir, '--auto-approve', ...extra], { encoding: 'utf8', cwd: join(__dirname, '..', '..') });
    try {
      const first = run();
      // The second run ingests the same demo traces again: every kept trace now has two copies in the lake.
      const second = run('--keep');
      for (const output of [first, second]) {
        expect(output).toContain('Pipeline succeeded');
        expect(output).toContain('Rollout ended: Promoted');
      }
      const runsDir = join(dir, 'state', 'objects', 'sial-local-artifacts', 'runs');
      const manifests = readdirSync(runsDir)
        .sort()
        .map((run) => datasetManifestSchema.parse(JSON.parse(readFileSync(join(runsDir, run, 'dataset', 'manifest.json'), 'utf8'))));
      expect(manifests).toHaveLength(2);
      const [before, after] = manifests as [DatasetManifest, DatasetManifest];
      expect(before.counts.duplicateCopies).toBe(0);
      expect(after.counts.duplicateCopies).toBe(before.counts.rowsInWindow);
      expect(after.counts.tracesUsed).toBeGreaterThan(0);
      expect({ ...after.counts, rowsInWindow: 0, duplicateCopies: 0 }).toEqual({ ...before.counts, rowsInWindow: 0, duplicateCopies: 0 });
      expect(after.contentSha256).toBe(before.contentSha256);
      // Discards re-delivered are audited twice but counted once.
      expect(after.counts.discardedByGate).toEqual(before.counts.discardedByGate);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('runs the real trainer and evaluator through the same state machine with --trainer real, and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sial-cli-real-'));
    try {
      const output = execFileSync('npx', ['tsx', 'local/run-local.ts', '--lake-dir', dir, '--auto-approve', '--trainer', 'real'], { encoding: 'utf8', cwd: join(__dirname, '..', '..') });
      expect(output).toContain('[REAL TRAINER, local CPU]');
      expect(output).not.toContain('[SIMULATED] SimulatedBatch');
      expect(output).toMatch(/\[real trainer\] train job .* attempt 1: exit 0/);
      expect(output).toMatch(/\[REAL TRAINER, local CPU\] Batch train job .*: SUCCEEDED/);
      expect(output).toMatch(/\[REAL TRAINER, local CPU\] Batch eval job .*: SUCCEEDED/);
      // A tiny model cannot pass the faithfulness floor: the real metrics reach the gate, which refuses them.
      expect(output).toContain('Pipeline failed with the real trainer and evaluator (tiny model, CPU): EvalGateFailed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
