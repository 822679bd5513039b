/**
 * `sial local run` end to end: every scenario runs the whole local loop (ingest, the synthesized
 * training pipeline, the canary rollout or the drill) and must end with its own exit code and a summary
 * that says what happened. Most runs are in-process (the same command the CLI dispatches to); two go
 * through `npm run local` as a user types it, to prove the process exit code and --help.
 *
 * A run is made once and read by every test that needs it: the healthy run is the first run of the --keep
 * test too (and its lake is published for test/e2e/local-erase.test.ts, test/helpers/shared-local-lake.ts),
 * and the regression scenario's `npm run local` process is the run whose summary and events the regression
 * test reads.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { datasetManifestSchema, type DatasetManifest } from '../../lambdas/pipeline/contracts';
import { LAKE_MARKER } from '../../local/lake-dir';
import { readLocalEvents, validateEventDetail } from '../helpers/event-schemas';
import { HEALTHY_LAKE, announceSharedLake, type SharedLakeProducer } from '../helpers/shared-local-lake';

/** The model events the run put (`<lake>/state/events.jsonl`), each valid against its schema: `action` per event. */
function modelActions(lakeDir: string): string[] {
  const events = readLocalEvents(lakeDir).filter((e) => e['detail-type'] === 'sial.model.updated');
  for (const e of events) expect(validateEventDetail(e['detail-type'], e.detail)).toEqual([]);
  return events.map((e) => (e.detail as { action: string }).action);
}

const REPO = join(__dirname, '..', '..');

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env: {}, clock: () => new Date() };
  return { out, err, text: () => out.join('\n'), run: (...argv: string[]) => runCli(argv, context) };
}

let root: string;
let healthyLake: SharedLakeProducer | undefined;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sial-local-run-'));
  healthyLake = announceSharedLake(HEALTHY_LAKE);
});
afterAll(() => {
  healthyLake?.close();
  rmSync(root, { recursive: true, force: true });
});

/** The healthy run (`--auto-approve`, nothing else), made once on first use: its lake directory and output. */
let healthy: Promise<{ lakeDir: string; code: number; text: string }> | undefined;
function healthyRun(): Promise<{ lakeDir: string; code: number; text: string }> {
  healthy ??= (async () => {
    const c = cli();
    const lakeDir = join(root, 'healthy');
    const code = await c.run('local', 'run', '--lake-dir', lakeDir, '--auto-approve');
    if (code === 0) healthyLake?.publish(lakeDir);
    return { lakeDir, code, text: c.text() };
  })();
  return healthy;
}

/** The regression scenario through `npm run local` as a user types it, run once on first use. */
let npmRegression: { dir: string; result: SpawnSyncReturns<string> } | undefined;
function npmRegressionRun(): { dir: string; result: SpawnSyncReturns<string> } {
  if (npmRegression === undefined) {
    const dir = join(root, 'npm-regression');
    npmRegression = { dir, result: spawnSync('npm', ['run', '-s', 'local', '--', '--lake-dir', dir, '--auto-approve', '--scenario', 'regression'], { encoding: 'utf8', cwd: REPO }) };
  }
  return npmRegression;
}

/** The summary: everything from the outcome banner on. */
function summaryOf(text: string): string {
  const at = text.indexOf('Outcome: ');
  expect(at).toBeGreaterThan(0);
  return text.slice(at);
}

describe('sial local run --scenario, each ending with its exit code and summary', () => {
  it('healthy: promoted (exit 0), with the gate funnel, dataset, budget, eval comparison, canary and where things are', async () => {
    const run = await healthyRun();
    const lakeDir = run.lakeDir;
    const c = { text: () => run.text };
    expect(run.code).toBe(0);
    const summary = summaryOf(c.text());
    expect(summary).toMatch(/^Outcome: promoted: .* \(exit code 0\)/);
    expect(summary).toMatch(/Gates: {6}1504 records in -> \d+ kept in the lake, \d+ discarded by a gate, 3 malformed, 1 duplicate\(s\)/);
    expect(summary).toMatch(/Dataset: {4}ds-local-\d+: \d+ traces -> \d+ GRPO prompt groups/);
    expect(summary).toMatch(/Budget: {5}0 -> 20 of 100 GPU-h used/);
    expect(summary).toMatch(/\[SIMULATED\] train job SUCCEEDED after 2 attempt\(s\), attempts started at steps 0, 250/);
    expect(summary).toContain('Eval gate:  PASSED');
    expect(summary).toMatch(/candidate {3}faithfulness 0\.900/);
    expect(summary).toMatch(/production {2}faithfulness 0\.870/);
    expect(summary).toContain('Canary:     3 of 3 step(s) (10 % -> 50 % -> 100 %) started, the candidate reached 100 %; ended in "Promoted"');
    expect(summary).toContain(`lake (Parquet, Hive partitions): ${lakeDir}/{traces,gate_audit,feedback,judgments,reviews}`);
    // The judge's curation ran on the kept traces (simulated judge, labelled), before the dataset build.
    expect(summary).toMatch(/Judge: {6}\[SIMULATED\] \d+ trace\(s\) judged \(no weight in the reward under this policy\)/);
    expect(c.text().indexOf('Judge curation: [SIMULATED] judge')).toBeLessThan(c.text().indexOf('[training] Build dataset'));
    // The weekly review sample of those judgments, reviewed by the labelled simulated reviewer, with its report.
    expect(summary).toMatch(/Review: {5}\[SIMULATED\] reviewer, (\d+) of \1 sampled item\(s\) reviewed; .*report .*judge-calibration\/\d{4}-W\d{2}\/report\.html/);
    expect(c.text()).toMatch(/faithfulness: \d+ reviewed, Cohen's kappa \d\.\d\d \[/);
    expect(summary).toContain(`lake query "SELECT model_variant`);
    // The run's charts, self-contained (the browser suite checks that they draw).
    expect(summary).toContain(`report (charts, opens offline):  ${join(lakeDir, 'out', 'report.html')}`);
    const html = readFileSync(join(lakeDir, 'out', 'report.html'), 'utf8');
    expect(html).toContain('<script type="application/json" id="report-data">');
    expect(html).not.toMatch(/<script[^>]+src=/);
    // Progress comes before the summary, in order, and the raw execution JSON is gone.
    const text = c.text();
    expect(text.indexOf('[training] Validate request')).toBeLessThan(text.indexOf('[training] Train'));
    expect(text.indexOf('[training] Hand over to canary rollout')).toBeLessThan(text.indexOf('[rollout] Validate rollout'));
    expect(text.indexOf('[rollout] Promoted')).toBeLessThan(text.indexOf('Outcome: '));
    expect(text).not.toContain('{"modelPackageGroupName"');
    // The simulated endpoint's traffic, step by step on the virtual clock, labelled as simulated.
    expect(text).toMatch(/\[SIMULATED\] .*SageMaker endpoint sial-dev-qwen3-4b: weights now qwen3-4b-v1=90, qwen3-4b-v2=10/);
    expect(text).toMatch(/\[SIMULATED\] .*weights now qwen3-4b-v1=0, qwen3-4b-v2=100/);
    // The version's events: registered by the pipeline, promoted by the rollout, each printed as put.
    expect(modelActions(lakeDir)).toEqual(['registered', 'promoted']);
    expect(text.indexOf('[local event -> events.jsonl] sial.model.updated')).toBeLessThan(text.indexOf('[rollout] Notify promoted'));

    // The e-mails carry the evidence each approver needs: dataset, eligibility and budget for training,
    // the eval comparison with production for every deploy step.
    const mails = readFileSync(join(lakeDir, 'state', 'notifications.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { subject: string; message: string });
    const training = mails.find((m) => m.subject.includes('Approval needed: training run'))!.message;
    expect(training).toMatch(/datasetCounts\.tracesUsed: \d+/);
    expect(training).toMatch(/eligibility\.positiveFeedback: \d+/);
    expect(training).toMatch(/gpuBudget\.estimateGpuHours: 48/);
    const deploys = mails.filter((m) => m.subject.includes('Approval needed: deployment stage'));
    expect(deploys).toHaveLength(3);
    for (const deploy of deploys) {
      expect(deploy.message).toContain('evalEvidence.verdict: passed the eval gate against production version 1');
      expect(deploy.message).toContain('evalEvidence.faithfulness: 0.9 vs production 0.87');
      expect(deploy.message).toContain('evalEvidence.answer_relevance: 0.87 vs production 0.86');
    }

    // The command the summary suggests answers from the same lake.
    const q = cli();
    expect(await q.run('lake', 'query', 'SELECT model_variant, count(*)::INTEGER AS traces FROM traces GROUP BY ALL ORDER BY ALL', '--local', lakeDir)).toBe(0);
    expect(q.out[0]).toMatch(/^model_variant\s+traces$/);
    expect(q.out.slice(2, 4).map((l) => l.split(/\s+/)[0])).toEqual(['candidate', 'current']);
    expect(q.out.at(-1)).toBe('(2 rows)');
    // ...and the other commands take the same directory.
    const r = cli();
    expect(await r.run('rollout', 'status', '--model', 'qwen3-4b', '--local', lakeDir)).toBe(0);
    expect(r.out.join('\n')).toMatch(/current: +version 2 /);
    // Each Batch job of the run has its record, written by the executed state machine: sial jobs lists them.
    const runId = (readLocalEvents(lakeDir).find((e) => e['detail-type'] === 'sial.dataset.ready')!.detail as { runId: string }).runId;
    const jobs = cli();
    expect(await jobs.run('jobs', 'list', '--local', lakeDir)).toBe(0);
    expect(jobs.out.slice(2).map((l) => l.split(/\s+/).slice(0, 5))).toEqual([
      [`eval-${runId}`, 'eval', 'succeeded', '1', 'qwen3-4b'],
      [`train-${runId}`, 'train', 'succeeded', '2', 'qwen3-4b'],
    ]);
    const show = cli();
    expect(await show.run('jobs', 'show', `train-${runId}`, '--local', lakeDir)).toBe(0);
    expect(show.out.slice(-3)).toEqual(['history:', expect.stringMatching(/^ {2}\S+ \S+Z {2}submitted$/), expect.stringMatching(/^ {2}\S+ \S+Z {2}succeeded {2}attempts 2, batch job simulated-/)]);
  });

  it('regression: the canary alarm rolls the candidate back (exit 8), with the alarm and the rollback time', () => {
    // The run `npm run local` makes below (its exit code is checked there too): the same command in a process.
    const { dir, result } = npmRegressionRun();
    expect(result.status).toBe(8);
    expect(modelActions(dir)).toEqual(['registered', 'rolled-back']);
    const rolledBack = readLocalEvents(dir).find((e) => (e.detail as { action?: string }).action === 'rolled-back')!;
    expect(rolledBack.detail).toMatchObject({ reason: 'sial-dev-qwen3-4b-canary', rolledBackBy: 'alarm-lambda', servingModelPackageVersion: 1 });
    const summary = summaryOf(result.stdout);
    expect(summary).toMatch(/^Outcome: rolled back: .* \(exit code 8\)/);
    expect(summary).toContain('the candidate reached 50 %; ended in "Rolled back"');
    expect(summary).toMatch(/rollback by the alarm-lambda: canary alarm sial-dev-qwen3-4b-canary went into ALARM: \[SIMULATED\] candidate faithfulness 12 points below current/);
    expect(summary).toMatch(/\d+(\.\d)? s from the regression to 100 % previous version verified \(virtual clock\); weights now current 100 % \/ candidate 0 %/);
  });

  it('eval-fail: the eval gate refuses the candidate (exit 7), showing candidate against production', async () => {
    const c = cli();
    expect(await c.run('local', 'run', '--lake-dir', join(root, 'eval-fail'), '--auto-approve', '--scenario', 'eval-fail')).toBe(7);
    const summary = summaryOf(c.text());
    expect(summary).toMatch(/^Outcome: refused by the eval gate: .* \(exit code 7\)/);
    expect(summary).toContain('Eval gate:  REFUSED: faithfulness 0.78 is below the minimum 0.85');
    expect(summary).toMatch(/candidate {3}faithfulness 0\.780/);
    expect(summary).toMatch(/production {2}faithfulness 0\.870/);
    expect(summary).not.toContain('Registry:');
    expect(summary).not.toContain('Canary:');
  });

  it('over-budget: FinOps is asked and declines, nothing trains (exit 5)', async () => {
    const c = cli();
    expect(await c.run('local', 'run', '--lake-dir', join(root, 'over-budget'), '--auto-approve', '--scenario', 'over-budget')).toBe(5);
    const summary = summaryOf(c.text());
    expect(summary).toMatch(/^Outcome: stopped by the GPU budget: .* \(exit code 5\)/);
    expect(summary).toMatch(/Budget: {5}76 -> 76 of 100 GPU-h used in \d{4}-\d{2}; estimate 48 GPU-h, OVER the ceiling/);
    expect(summary).toContain('booked: nothing (no GPU job ran)');
    expect(c.text()).toContain('[training] Request FinOps approval');
    expect(c.text()).not.toContain('[training] Train');
    // No job was submitted, so none is recorded.
    const jobs = cli();
    expect(await jobs.run('jobs', 'list', '--local', join(root, 'over-budget'))).toBe(0);
    expect(jobs.out).toEqual([`No jobs are recorded (local run ${join(root, 'over-budget')}).`]);
  });

  it('spot-storm: every attempt but the last is reclaimed, each resumes from its checkpoint, and it still promotes (exit 0)', async () => {
    const c = cli();
    expect(await c.run('local', 'run', '--lake-dir', join(root, 'spot-storm'), '--auto-approve', '--scenario', 'spot-storm')).toBe(0);
    const summary = summaryOf(c.text());
    expect(summary).toMatch(/^Outcome: promoted: /);
    expect(summary).toContain('train job SUCCEEDED after 3 attempt(s), attempts started at steps 0, 250, 350');
    expect(summary).toContain('booked: train 24 GPU-h (3 attempt(s), 2 Spot reclaim(s)); eval 3 GPU-h (2 attempt(s), 1 Spot reclaim(s))');
  });

  it('game-day: the drill breaches the alarm on the serving version and is rolled back within the bound (exit 0)', async () => {
    const c = cli();
    expect(await c.run('local', 'run', '--lake-dir', join(root, 'game-day'), '--auto-approve', '--scenario', 'game-day', '--traces', '200')).toBe(0);
    const summary = summaryOf(c.text());
    expect(summary).toMatch(/^Outcome: game day passed: .* \(exit code 0\)/);
    expect(summary).toMatch(/Game day: {3}qwen3-4b: breach to verified 100 % current in [\d.]+ s \(bound 300 s, target 90 s\): passed/);
    expect(c.text()).not.toContain('[training]');
  });

  it('a person rejecting through sial approvals --local on the same directory ends the run as rejected (exit 3)', async () => {
    const lakeDir = join(root, 'rejected');
    const c = cli();
    const running = c.run('local', 'run', '--lake-dir', lakeDir, '--traces', '1500');
    let approvalId: string | undefined;
    for (let i = 0; i < 600 && approvalId === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const list = cli();
      if (!existsSync(join(lakeDir, 'state', 'approvals'))) continue;
      if ((await list.run('approvals', 'list', '--local', lakeDir, '--json')) !== 0) continue;
      approvalId = (JSON.parse(list.out.join('\n')) as Array<{ approvalId: string; kind: string }>).find((a) => a.kind === 'train')?.approvalId;
    }
    expect(approvalId).toBeDefined();
    const decide = cli();
    expect(await decide.run('approvals', 'reject', approvalId!, '--local', lakeDir, '--comment', 'not this week')).toBe(0);
    expect(await running).toBe(3);
    expect(summaryOf(c.text())).toMatch(/^Outcome: rejected: .* \(exit code 3\)/);
    expect(c.text()).toContain(`approvals list --local ${lakeDir}`);
  });

  it('an approval nobody decides in time expires (exit 6)', async () => {
    const c = cli();
    expect(await c.run('local', 'run', '--lake-dir', join(root, 'expired'), '--approval-wait', '1')).toBe(6);
    expect(summaryOf(c.text())).toMatch(/^Outcome: approval expired: .* \(exit code 6\)/);
  });

  it('--stage prod-kr trains the stage\'s own target model without --model, and masks Korean names with the simulated endpoint', async () => {
    const c = cli();
    expect(await c.run('local', 'run', '--lake-dir', join(root, 'prod-kr'), '--auto-approve', '--stage', 'prod-kr')).toBe(0);
    expect(c.text()).toContain('model qwen3-4b-ko');
    expect(c.text()).toMatch(/\[SIMULATED\] ko named-entity endpoint: \d+ call\(s\)/);
    expect(summaryOf(c.text())).toMatch(/^Outcome: promoted: /);
  });

  it('--keep on the same lake: the re-delivered demo traces change nothing in the dataset', async () => {
    // The first run is the healthy run (the same command; its test has read its lake by now).
    const first = await healthyRun();
    const lakeDir = first.lakeDir;
    expect(first.code).toBe(0);
    // The second run ingests the same demo traces again: every kept trace now has two copies in the lake.
    expect(await cli().run('local', 'run', '--lake-dir', lakeDir, '--auto-approve', '--keep')).toBe(0);
    const runsDir = join(lakeDir, 'state', 'objects', 'sial-local-artifacts', 'runs');
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
  }, 600_000);

  it('a lake too small to train on is not eligible (exit 4)', async () => {
    const c = cli();
    expect(await c.run('local', 'run', '--lake-dir', join(root, 'small'), '--auto-approve', '--traces', '100')).toBe(4);
    const summary = summaryOf(c.text());
    expect(summary).toMatch(/^Outcome: not eligible: .* \(exit code 4\)/);
    expect(summary).toMatch(/NOT eligible: .*positive feedback/);
  });
});

describe('sial local run refuses before touching anything', () => {
  it('a --lake-dir holding files it did not create is refused and left as it was (exit 2)', async () => {
    const mine = join(root, 'my-files');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'mine');
    const c = cli();
    expect(await c.run('local', 'run', '--lake-dir', mine, '--auto-approve')).toBe(2);
    expect(c.err[0]).toContain(`--lake-dir ${mine} already holds files that sial local run did not create`);
    expect(readFileSync(join(mine, 'notes.txt'), 'utf8')).toBe('mine');
    expect(c.out).toEqual([]);
  });

  it('the checkout itself (--lake-dir .) is refused', async () => {
    const c = cli();
    const cwd = process.cwd();
    try {
      process.chdir(REPO);
      expect(await c.run('local', 'run', '--lake-dir', '.', '--skip-training')).toBe(2);
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync(join(REPO, 'package.json'))).toBe(true);
    expect(existsSync(join(REPO, LAKE_MARKER))).toBe(false);
  });

  it('a model that is not a target of the stage is a usage error, before the lake directory is created', async () => {
    const c = cli();
    const lakeDir = join(root, 'never-created');
    expect(await c.run('local', 'run', '--stage', 'prod-kr', '--model', 'qwen3-4b', '--lake-dir', lakeDir)).toBe(2);
    expect(c.err[0]).toBe('sial local: --model qwen3-4b is not a target model of stage prod-kr; its target models are qwen3-4b-ko');
    expect(existsSync(lakeDir)).toBe(false);
    for (const [args, message] of [
      [['--scenario', 'nope'], '--scenario must be one of healthy, regression, eval-fail, over-budget, spot-storm, game-day; received "nope"'],
      [['--traces', '1e3'], '--traces must be a whole number from 1 to 100,000; received "1e3"'],
      [['--scenario', 'regression', '--trainer', 'real'], '--scenario regression scripts the simulated Batch or the canary, so it cannot run with --trainer real'],
      [['--bogus'], "Unknown option '--bogus'"],
    ] as const) {
      const d = cli();
      expect(await d.run('local', 'run', '--lake-dir', lakeDir, ...args)).toBe(2);
      expect(d.err[0]).toContain(message);
    }
    expect(existsSync(lakeDir)).toBe(false);
  });
});

describe('npm run local, as a user types it', () => {
  it('--help prints the options, the scenarios and the exit codes', () => {
    const output = execFileSync('npm', ['run', '-s', 'local', '--', '--help'], { encoding: 'utf8', cwd: REPO });
    expect(output).toContain('sial local run [options]');
    expect(output).toMatch(/--scenario NAME/);
    expect(output).toMatch(/ 8 {2}rolled-back/);
  });

  it('exits with the outcome\'s code: the regression scenario exits 8', () => {
    const { dir, result } = npmRegressionRun();
    expect(result.status).toBe(8);
    expect(result.stdout).toContain('Outcome: rolled back');
    expect(readFileSync(join(dir, LAKE_MARKER), 'utf8')).toContain('sial local run');
  });

  it('runs the real trainer and evaluator through the same state machine with --trainer real, and says so', () => {
    const dir = join(root, 'real');
    const result = spawnSync('npm', ['run', '-s', 'local', '--', '--lake-dir', dir, '--auto-approve', '--trainer', 'real'], { encoding: 'utf8', cwd: REPO });
    const output = result.stdout;
    expect(output).toContain('[REAL TRAINER, local CPU]');
    expect(output).not.toContain('[SIMULATED] SimulatedBatch');
    expect(output).toMatch(/\[real trainer\] train job .* attempt 1: exit 0/);
    expect(output).toMatch(/\[REAL TRAINER, local CPU\] train job SUCCEEDED/);
    expect(output).toMatch(/\[REAL TRAINER, local CPU\] eval job SUCCEEDED/);
    // A tiny model cannot pass the faithfulness floor: the real metrics reach the gate, which refuses them.
    expect(output).toContain('Eval gate:  REFUSED');
    expect(result.status).toBe(7);
  }, 600_000);
});
