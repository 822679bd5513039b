/**
 * The operating reports end to end on the lake of `sial local run`: its operating demo traffic has one
 * agent (chat-assistant) whose new model version regresses in the current week, and
 * `sial report regressions --local DIR` must find it, print and write the report in its fixed shape;
 * the cost and confidence reports work on the same lake.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { isRegressionReport, type RegressionReport } from '../../lambdas/operations/regression';
import { reportRunId } from '../../lambdas/operations/write-reports';
import { LocalLake } from '../../local/local-lake';
import { OPERATING_AGENTS } from '../../local/operating-traffic';
import { readLocalEvents, validateEventDetail } from '../helpers/event-schemas';

function cli(clock: () => Date) {
  const out: string[] = [];
  const err: string[] = [];
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env: {}, clock };
  return { out, err, run: (...argv: string[]) => runCli(argv, context) };
}

describe('sial report on the lake of sial local run', () => {
  let root: string;
  let lakeDir: string;
  const now = new Date();
  const clock = () => now;
  const reportDir = () => join(lakeDir, 'reports', now.toISOString().slice(0, 10));

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sial-report-'));
    lakeDir = join(root, 'lake');
    // The smallest local run that writes the lake: the demo batch, the judge, then the operating demo.
    expect(await cli(clock).run('local', 'run', '--lake-dir', lakeDir, '--skip-training', '--traces', '200')).toBe(0);
  }, 300_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('sial report regressions --local DIR finds the regressing agent, prints and writes the report JSON', async () => {
    const c = cli(clock);
    expect(await c.run('report', 'regressions', '--local', lakeDir)).toBe(0);
    const file = join(reportDir(), `regressions-${OPERATING_AGENTS.regressing}.json`);
    const report = JSON.parse(readFileSync(file, 'utf8')) as RegressionReport;
    expect(isRegressionReport(report)).toBe(true);
    expect(Object.keys(report)).toEqual(['target', 'window', 'regressions']);
    expect(report.target).toBe(OPERATING_AGENTS.regressing);
    const dimensions = report.regressions.map((r) => r.dimension);
    expect(dimensions).toEqual(expect.arrayContaining(['error_rate', 'positive_feedback_rate', 'latency_percentile', 'cost_per_request']));
    for (const regression of report.regressions) {
      expect(Object.keys(regression)).toEqual(['dimension', 'baseline', 'current', 'delta_pp', 'affected_trace_ids', 'hypothesized_cause']);
      expect(regression.affected_trace_ids.length).toBeGreaterThan(0);
      expect(regression.hypothesized_cause).toContain('version 2026-11-28');
    }
    const errors = report.regressions.find((r) => r.dimension === 'error_rate');
    expect(errors!.current - errors!.baseline).toBeGreaterThanOrEqual(0.05);
    expect(errors!.delta_pp).toBeGreaterThanOrEqual(5);

    // The affected traces are real traces of that agent in the current window.
    const lake = await LocalLake.open(lakeDir);
    try {
      const ids = errors!.affected_trace_ids.map((id) => `'${id}'`).join(', ');
      const rows = await lake.query(`SELECT DISTINCT agent_id, error FROM traces WHERE trace_id IN (${ids})`);
      expect(rows).toEqual([{ agent_id: OPERATING_AGENTS.regressing, error: true }]);
    } finally {
      lake.close();
    }

    // Printed as well: the table line and the JSON.
    const printed = c.out.join('\n');
    expect(printed).toMatch(/chat-assistant\s+error_rate\s+/);
    expect(printed).toContain(`"target": "${OPERATING_AGENTS.regressing}"`);

    // The steady agent's report is the "no regression detected" report.
    const steady = JSON.parse(readFileSync(join(reportDir(), `regressions-${OPERATING_AGENTS.steady}.json`), 'utf8')) as RegressionReport;
    expect(isRegressionReport(steady)).toBe(true);
    expect(steady.regressions).toEqual([]);
    expect(printed).toContain(`${OPERATING_AGENTS.steady}: no regression detected`);
  });

  it('--agent narrows the report to one agent; --window takes days, anything else is a usage error', async () => {
    const c = cli(clock);
    expect(await c.run('report', 'regressions', '--local', lakeDir, '--agent', OPERATING_AGENTS.steady, '--window', '7d')).toBe(0);
    expect(c.out.join('\n')).not.toContain(`"target": "${OPERATING_AGENTS.regressing}"`);
    const bad = cli(clock);
    expect(await bad.run('report', 'regressions', '--local', lakeDir, '--window', 'a week')).toBe(2);
    expect(bad.err[0]).toContain('--window: window "a week" is not a number of days');
  });

  it('sial report costs writes agent_id, tokens_in, tokens_out, cost_usd as CSV and Parquet', async () => {
    const c = cli(clock);
    expect(await c.run('report', 'costs', '--local', lakeDir)).toBe(0);
    const csv = readFileSync(join(reportDir(), 'costs.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('agent_id,tokens_in,tokens_out,cost_usd,requests,unpriced_requests');
    const chat = csv.find((l) => l.startsWith(`${OPERATING_AGENTS.regressing},`))!.split(',');
    // Every operating trace reports tokens and no cost: the gate priced all of them.
    expect(Number(chat[3])).toBeGreaterThan(0);
    expect(chat[5]).toBe('0');
    // The Parquet copy, in the workflow's layout: a folder per run, named after the time the report ran.
    const parquet = join(reportDir(), 'costs.parquet', `run=${reportRunId(now)}`, 'part-00000.parquet');
    expect(existsSync(parquet)).toBe(true);
    expect(c.out.join('\n')).toContain(`written: ${join(reportDir(), 'costs.csv')}, ${parquet}`);
    // --agent narrows both files; a second run of the day writes a run folder of its own.
    const later = new Date(now.getTime() + 1);
    const one = cli(() => later);
    expect(await one.run('report', 'costs', '--local', lakeDir, '--agent', OPERATING_AGENTS.steady)).toBe(0);
    const laterDir = join(lakeDir, 'reports', later.toISOString().slice(0, 10));
    const steadyCsv = readFileSync(join(laterDir, 'costs.csv'), 'utf8').trim().split('\n');
    const lake = await LocalLake.open(lakeDir);
    try {
      const rows = await lake.query(`SELECT agent_id, cost_usd FROM read_parquet('${parquet}') WHERE agent_id = '${OPERATING_AGENTS.regressing}'`);
      expect(rows).toEqual([{ agent_id: OPERATING_AGENTS.regressing, cost_usd: Number(chat[3]) }]);
      const steady = await lake.query(`SELECT agent_id, cost_usd FROM read_parquet('${join(laterDir, 'costs.parquet', `run=${reportRunId(later)}`, '*.parquet')}')`);
      expect(steadyCsv.slice(1).map((l) => l.split(',')).map(([agent, , , cost]) => ({ agent_id: agent, cost_usd: Number(cost) }))).toEqual(steady);
      expect(steady.map((r) => r.agent_id)).toEqual([OPERATING_AGENTS.steady]);
    } finally {
      lake.close();
    }
  });

  it('sial report confidence scores each agent x model from its feedback and writes the JSON', async () => {
    const c = cli(clock);
    expect(await c.run('report', 'confidence', '--local', lakeDir)).toBe(0);
    const scores = JSON.parse(readFileSync(join(reportDir(), 'confidence.json'), 'utf8')) as Array<{ agent_id: string; model: string; score: number; global_score: number; weight: number }>;
    const chat = scores.find((s) => s.agent_id === OPERATING_AGENTS.regressing && s.model === 'qwen3-4b')!;
    const steady = scores.find((s) => s.agent_id === OPERATING_AGENTS.steady && s.model === 'qwen3-4b')!;
    expect(chat.weight).toBe(1);
    // The regressing agent's rejected answers pull its score below the steady one's, both around the same prior.
    expect(chat.score).toBeLessThan(steady.score);
    expect(chat.global_score).toBe(steady.global_score);

    // The same scores in the lake's confidence_scores table, keyed by the report day; the local run's own
    // report workflow wrote the day's rows already, so equal scores change nothing, new ones are merged.
    expect(c.out.join('\n')).toMatch(/merged into .*confidence_scores: \d+ row\(s\) inserted or updated/);
    const lake = await LocalLake.open(lakeDir);
    try {
      const day = `${now.toISOString().slice(0, 10)} 00:00:00`;
      const rows = await lake.query(`SELECT agent_id, model, score FROM confidence_scores WHERE CAST(report_date AS VARCHAR) = '${day}' ORDER BY agent_id, model`);
      expect(rows).toEqual(scores.map((s) => ({ agent_id: s.agent_id, model: s.model, score: s.score })).sort((a, b) => a.agent_id.localeCompare(b.agent_id) || a.model.localeCompare(b.model)));
    } finally {
      lake.close();
    }
    const again = cli(clock);
    expect(await again.run('report', 'confidence', '--local', lakeDir)).toBe(0);
    expect(again.out.join('\n')).toContain('confidence_scores: 0 row(s) inserted or updated');
  });

  it('the local run executed the report workflow: files, the confidence table, and a schema-valid sial.reports.ready', () => {
    const events = readLocalEvents(lakeDir).filter((e) => e['detail-type'] === 'sial.reports.ready');
    expect(events).toHaveLength(1);
    expect(validateEventDetail('sial.reports.ready', events[0]!.detail)).toEqual([]);
    const detail = events[0]!.detail as { agents: number; regressedAgents: string[]; confidence: { table: string } };
    // The demo batch's agents and the operating demo's two.
    expect(detail.agents).toBeGreaterThanOrEqual(2);
    expect(detail.regressedAgents).toContain(OPERATING_AGENTS.regressing);
    expect(detail.regressedAgents).not.toContain(OPERATING_AGENTS.steady);
    expect(detail.confidence.table).toBe(join(lakeDir, 'confidence_scores'));
  });
});
