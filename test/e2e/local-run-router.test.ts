/**
 * `sial local run --target router` end to end: the demo traffic through the gates into the local lake, the
 * router dataset built by the dataset SQL, the REAL router trainer (.venv, scikit-learn) trained on it
 * through the synthesized state machine, the router gate, registration, and the canary on a simulated
 * SageMaker endpoint: promoted when healthy, rolled back by the misroute alarm in the regression.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { ensurePythonEnvironment } from '../../local/pipeline/real-batch';

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env: {}, clock: () => new Date() };
  return { out, err, text: () => out.join('\n'), run: (...argv: string[]) => runCli(argv, context) };
}

function summaryOf(text: string): string {
  const at = text.indexOf('Outcome: ');
  expect(at).toBeGreaterThan(0);
  return text.slice(at);
}

let root: string;
beforeAll(() => {
  // The router trains for real, in the repository's Python environment. On a fresh clone npm test's
  // Python suite may be installing it right now: .venv/bin/python then exists before scikit-learn does,
  // so wait for the install (venv.sh serialises installers) rather than test for the file.
  ensurePythonEnvironment(() => undefined);
  root = mkdtempSync(join(tmpdir(), 'sial-local-router-'));
}, 900_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sial local run --target router', () => {
  it('healthy: the real router trainer beats the current router, the gate passes, the canary promotes (exit 0)', async () => {
    const c = cli();
    const lakeDir = join(root, 'healthy');
    expect(await c.run('local', 'run', '--target', 'router', '--lake-dir', lakeDir, '--auto-approve')).toBe(0);
    const text = c.text();
    const summary = summaryOf(text);
    expect(summary).toMatch(/^Outcome: promoted: .* \(exit code 0\)/);
    expect(summary).toMatch(/Scenario: {3}healthy; stage dev; model support-router/);
    expect(summary).toMatch(/Dataset: {4}ds-local-\d+: \d+ routed traces in the router file/);
    expect(summary).toMatch(/Router job: \[REAL ROUTER TRAINER, local CPU\] SUCCEEDED after 1 attempt\(s\): [\d.]+ vCPU-h at 2 vCPU \(no GPU budget\)/);
    expect(summary).toContain('Eval gate:  PASSED (router)');
    expect(summary).toMatch(/Registry: {3}arn:aws:sagemaker:local:000000000000:model-package\/sial-dev-support-router\/2 /);
    expect(summary).toContain('Canary:     3 of 3 step(s) (10 % -> 50 % -> 100 %) started, the candidate reached 100 %; ended in "Promoted"');
    expect(summary).not.toContain('GPU-h used');
    // The same approvals as an LLM, never the GPU budget; the real trainer ran twice (the current v1, the candidate).
    expect(text.indexOf('[training] Request training approval')).toBeLessThan(text.indexOf('[training] Train router'));
    expect(text).not.toContain('[training] Check GPU budget');
    expect(text.match(/\[real router trainer\] .*: exit 0 after/g)).toHaveLength(2);
    expect(text).toMatch(/SageMaker endpoint sial-dev-support-router: weights now support-router-v1=0, support-router-v2=100/);

    // The candidate the trainer wrote beats the majority-class baseline on the held-out split by a wide margin.
    const registry = JSON.parse(readFileSync(join(lakeDir, 'state', 'model-registry.json'), 'utf8')) as { packages: Array<{ version: number; approvalStatus: string; groupName: string; metricsUri: string; modelDataUrl: string }> };
    const candidate = registry.packages.find((p) => p.groupName === 'sial-dev-support-router' && p.version === 2)!;
    expect(candidate.approvalStatus).toBe('Approved');
    const objects = join(lakeDir, 'state', 'objects');
    const path = (uri: string) => join(objects, uri.replace(/^s3:\/\//, ''));
    expect(existsSync(path(candidate.modelDataUrl))).toBe(true);
    const metrics = JSON.parse(readFileSync(path(candidate.metricsUri), 'utf8')) as { gate: { passed: boolean }; holdout: { candidate: { accuracy: number }; baseline: { accuracy: number } } };
    expect(metrics.gate.passed).toBe(true);
    expect(metrics.holdout.candidate.accuracy - metrics.holdout.baseline.accuracy).toBeGreaterThan(0.15);

    // Its one Batch job, the Fargate router job, has its record: sial jobs shows it on the same directory.
    const jobs = cli();
    expect(await jobs.run('jobs', 'list', '--local', lakeDir, '--json')).toBe(0);
    expect(JSON.parse(jobs.out.join('\n'))).toEqual([
      expect.objectContaining({ jobKind: 'train-router', jobId: expect.stringMatching(/^train-router-/), targetModelId: 'support-router', status: 'succeeded', attempts: 1, history: [expect.objectContaining({ status: 'submitted' }), expect.objectContaining({ status: 'succeeded', attempts: 1 })] }),
    ]);
  }, 300_000);

  it('regression: the misroute alarm fires at 50 % and traffic rolls back to the current router (exit 8)', async () => {
    const c = cli();
    expect(await c.run('local', 'run', '--target', 'router', '--lake-dir', join(root, 'regression'), '--auto-approve', '--scenario', 'regression')).toBe(8);
    const summary = summaryOf(c.text());
    expect(summary).toMatch(/^Outcome: rolled back: .* \(exit code 8\)/);
    expect(summary).toContain('the candidate reached 50 %; ended in "Rolled back"');
    expect(summary).toMatch(/rollback by the alarm-lambda: canary alarm sial-dev-support-router-canary went into ALARM: \[SIMULATED\] candidate misroute rate 22 points above current \(threshold 10\)/);
    expect(summary).toMatch(/weights now current 100 % \/ candidate 0 %/);
  }, 300_000);

  it('refuses scenarios a router does not play, and an LLM named as a router', async () => {
    const c = cli();
    expect(await c.run('local', 'run', '--target', 'router', '--lake-dir', join(root, 'refused'), '--scenario', 'over-budget')).toBe(2);
    expect(c.err.join('\n')).toMatch(/--target router plays --scenario healthy or regression/);
    expect(await c.run('local', 'run', '--target', 'router', '--model', 'qwen3-4b', '--lake-dir', join(root, 'refused'))).toBe(2);
    expect(c.err.join('\n')).toMatch(/--model qwen3-4b is not a router of stage dev; its routers are support-router/);
    expect(await c.run('local', 'run', '--model', 'support-router', '--lake-dir', join(root, 'refused'))).toBe(2);
    expect(c.err.join('\n')).toMatch(/--model support-router is a router: run it with --target router/);
  });
});
