/**
 * `sial erase --local DIR --subject X` on a lake produced by `sial local run` (what `npm run local`
 * runs): the subject's rows leave every table (checked by querying the lake), nobody else's do, the
 * ledger records a verified request without the raw id, and the lineage report names the dataset and
 * the model version trained on the subject's traces, which the registry now flags.
 *
 * The lake is a copy of the healthy run test/e2e/local-run.test.ts makes with the same command, when that
 * file made it in this jest run (test/helpers/shared-local-lake.ts); otherwise this file runs it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { ERASED_DATA_METADATA_KEY } from '../../lambdas/erasure/lineage';
import { createPseudonymiser } from '../../lambdas/shared/pseudonymisation';
import { LocalLake } from '../../local/local-lake';
import { LocalPseudonymisationKeyProvider } from '../../local/local-pseudonymisation-key';
import { HEALTHY_LAKE, copySharedLake } from '../helpers/shared-local-lake';

jest.setTimeout(600_000);

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env: {}, clock: () => new Date() };
  return { out, err, text: () => out.join('\n'), run: (...argv: string[]) => runCli(argv, context) };
}

const SUBJECT = 'demo-user-7@example.com';
let root: string;
let lakeDir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sial-erase-'));
  lakeDir = join(root, 'lake');
  if (await copySharedLake(HEALTHY_LAKE, lakeDir)) return;
  const c = cli();
  expect(await c.run('local', 'run', '--lake-dir', lakeDir, '--auto-approve')).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Counts {
  traces: number;
  gate_audit: number;
  judgments: number;
  feedback: number;
  reviews: number;
  allTraces: number;
  allAudit: number;
}

async function counts(subjectKey: string, traceIds: readonly string[]): Promise<Counts> {
  const lake = await LocalLake.open(lakeDir);
  try {
    const ids = traceIds.length === 0 ? "''" : traceIds.map((id) => `'${id}'`).join(', ');
    const n = async (sql: string): Promise<number> => Number((await lake.query(sql))[0]!.n);
    return {
      traces: await n(`SELECT count(*) AS n FROM traces WHERE subject_key = '${subjectKey}'`),
      gate_audit: await n(`SELECT count(*) AS n FROM gate_audit WHERE subject_key = '${subjectKey}'`),
      judgments: await n(`SELECT count(*) AS n FROM judgments WHERE trace_id IN (${ids})`),
      feedback: await n(`SELECT count(*) AS n FROM feedback WHERE trace_id IN (${ids})`),
      reviews: await n(`SELECT count(*) AS n FROM reviews WHERE trace_id IN (${ids})`),
      allTraces: await n('SELECT count(*) AS n FROM traces'),
      allAudit: await n('SELECT count(*) AS n FROM gate_audit'),
    };
  } finally {
    lake.close();
  }
}

async function subjectTraceIds(subjectKey: string): Promise<string[]> {
  const lake = await LocalLake.open(lakeDir);
  try {
    const rows = await lake.query(`SELECT trace_id FROM traces WHERE subject_key = '${subjectKey}' UNION SELECT trace_id FROM gate_audit WHERE subject_key = '${subjectKey}'`);
    return rows.map((r) => String(r.trace_id));
  } finally {
    lake.close();
  }
}

describe('sial erase --local on a local run\'s lake', () => {
  it('removes the subject\'s rows from every table, only theirs, verifies, and reports and flags the lineage', async () => {
    const key = createPseudonymiser(await new LocalPseudonymisationKeyProvider(lakeDir).key()).pseudonymise('subject', SUBJECT);
    const traceIds = await subjectTraceIds(key);
    const before = await counts(key, traceIds);
    expect(before.traces).toBeGreaterThan(0);
    expect(before.gate_audit).toBeGreaterThan(0);
    expect(before.judgments).toBeGreaterThan(0);

    const c = cli();
    expect(await c.run('erase', '--local', lakeDir, '--subject', SUBJECT)).toBe(0);
    const text = c.text();
    expect(text).not.toContain(SUBJECT);
    expect(text).toContain(`Trace ids reached: ${traceIds.length}`);
    expect(text).toMatch(/^Verified: no row of the target is left/m);
    expect(text).toMatch(/Datasets that listed the erased traces: 1\n\s+ds-local-\d+ \(target qwen3-4b\): [1-9]\d* erased trace\(s\)/);
    expect(text).toMatch(/Model versions trained on them: 1\n\s+sial-dev-qwen3 v2 \(qwen3-4b, Approved, kept by retention\) trained on ds-local-\d+: flagged "trained on erased data"/);
    expect(text).toContain('Models are not deleted automatically');

    const after = await counts(key, traceIds);
    expect(after).toEqual({ traces: 0, gate_audit: 0, judgments: 0, feedback: 0, reviews: 0, allTraces: before.allTraces - before.traces, allAudit: before.allAudit - before.gate_audit });

    const registry = JSON.parse(readFileSync(join(lakeDir, 'state', 'model-registry.json'), 'utf8')) as { packages: Array<{ version: number; metadata: Record<string, string> }> };
    const ledgerText = readFileSync(join(lakeDir, 'state', 'erasure-ledger.json'), 'utf8');
    const ledger = JSON.parse(ledgerText) as { entries: Array<{ erasureId: string; status: string; target: string; rowsDeleted: Record<string, number> }> };
    expect(ledgerText).not.toContain(SUBJECT);
    expect(ledger.entries).toHaveLength(1);
    const entry = ledger.entries[0]!;
    expect([entry.status, entry.target, entry.rowsDeleted.traces]).toEqual(['verified', `subject:${key}`, before.traces]);
    expect(registry.packages.map((p) => [p.version, p.metadata[ERASED_DATA_METADATA_KEY]])).toEqual([
      [1, undefined],
      [2, entry.erasureId],
    ]);

    // Run again: nothing left to delete, still verified, the flag is not repeated.
    const again = cli();
    expect(await again.run('erase', '--local', lakeDir, '--subject', SUBJECT)).toBe(0);
    expect(again.text()).toContain('Trace ids reached: 0');
    const ledgerCli = cli();
    expect(await ledgerCli.run('erase', '--ledger', '--local', lakeDir)).toBe(0);
    expect(ledgerCli.text()).toContain('2 request(s); 0 past the deadline');
  });
});
