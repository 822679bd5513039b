/**
 * The reward-policy backtest end to end on the real SQL: DuckDB over a local lake written with
 * LocalLake.append (traces, judgments, reviews), v1 against v2, every figure checked against numbers
 * worked out by hand below.
 *
 * Seven traces, components (feedback, errors, latency, groundedness); v1 weighs them .4/.2/.1/.3 (judge
 * 0), v2 .35/.2/.1/.15 with judge .2 (judge = faithfulness x .7 + relevance x .3, renormalised):
 *   agent A, prompt "refund" (one group):
 *     T1 (1, 1, 1, .5), success; judged (1, .5) -> judge .85   v1 .85      v2 .35+.2+.1+.075+.17 = .895
 *        (an older judgment (0, 0) of T1 must lose to the latest)
 *     T2 (-, 1, .5, 1); judged (0, -) -> judge 0             v1 .55/.6 = .916667   v2 .4/.65 = .615385
 *     T3 (0, 1, 1, 0); no judgment under v2's prompts: re-judged by the simulated judge, no contexts so
 *        no faithfulness; relevance = shared words of "What is our refund policy?" (what, our, refund,
 *        policy) found in "Our refund policy: none." = 3/4 -> judge .75   v1 .3   v2 .3+.15 = .45
 *   agent A, prompt "hours" (one group):
 *     T4 (1, 1, 1, 1); judged (1, 1) -> 1                    v1 1        v2 1
 *     T5 (1, 1, 1, .5); judged (0, 0) -> 0                   v1 .85      v2 .725
 *   agent B, two prompts (groups of one, never paired):
 *     T6, T7 as T5; T6 success                               v1 .85      v2 .725
 * High quality at .8: v1 T1 T2 T4 T5 T6 T7 (6), v2 T1 T4 (2): 4 cross down, none up.
 * DPO (margin .2): v1 refund T2 over T3 (spread .62), hours spread .15: none -> 1 pair.
 *                  v2 refund T1 over T3 (changed), hours T4 over T5 (.275, gained) -> 2 pairs.
 * Eligibility (1 positive feedback, 2 high-quality): A eligible under both (4, 2); B under v1 (2), not v2 (0).
 * Spearman of (v1, v2): ranks (3.5, 6, 1, 7, 3.5, 3.5, 3.5) and (6, 2, 1, 7, 4, 4, 4): 0.531610.
 * Reviews (latest per trace), person's score with v2's combine: T1 (1, 1) 1; T2 (.2, .4) .26 (an older
 *   review of T2 says 1); T3 (-, .5) .5; T5 (.9, .9) .9. Pass at .8: person T F F T; v1 T T F T (kappa .5,
 *   TPR 1, TNR .5, Spearman -0.316228); v2 T F F F (kappa .5, TPR .5, TNR 1, Spearman .8).
 */
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { awsClients, stageBackend } from '../../bin/cli/policy-backend';
import { loadStageConfig } from '../../config';
import { judgeStageSchema } from '../../config/judge';
import { readPolicyFile, readRewardPolicy, REWARD_POLICY_DIR } from '../../config/reward-policies/read';
import { rewardPolicyHash } from '../../config/reward-policies/policy-hash';
import type { TraceLakeRow } from '../../lambdas/gate-score/lake-rows';
import { judgePromptHash } from '../../lambdas/judge/judge-policy';
import { runBacktest, type BacktestJudge } from '../../lambdas/reward-backtest/run-backtest';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { LAKE_MARKER } from '../../local/lake-dir';
import { LocalLake } from '../../local/local-lake';
import { SimulatedJudgeModel } from '../../local/simulated-judge';
import { lakeTraceRow } from '../helpers/lake-trace-row';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const AT_ISO = '2026-11-10T09:00:00.000Z';
const AT = Date.parse(AT_ISO) * 1000;
const current = readRewardPolicy('v1');
const candidate = readPolicyFile(join(REWARD_POLICY_DIR, 'v2.json'));
const candidateJudge = candidate.judge!;
const V2_PROMPTS = judgePromptHash(candidateJudge);
const dev = loadStageConfig('dev');
const stage = {
  stage: 'dev',
  dataBoundary: dev.dataBoundary,
  eligibility: { ...dev.eligibility, minPositiveFeedback: 1, minHighQualityTraces: 2, highQualityReward: 0.8 },
  dataset: { ...dev.dataset, dpoMinRewardMargin: 0.2 },
};

type Components = [number | null, number, number | null, number | null];

function trace(id: string, agent: string, question: string, output: string, [feedback, errors, latency, groundedness]: Components, outcome: string | null = null): TraceLakeRow {
  return lakeTraceRow(id, AT_ISO, {
    agent_id: agent,
    input_messages: [{ role: 'user', content: question }],
    output,
    feedback_outcome: outcome,
    // What v1 stored; the backtest re-scores from the components, never from this.
    reward: 0.5,
    reward_components: { feedback, errors, latency, groundedness, judge: null },
  });
}

function judgment(traceId: string, agent: string, faithfulness: number | null, relevance: number | null, judgedAtMinutes: number, promptHash = V2_PROMPTS): object {
  return {
    trace_id: traceId,
    trace_ts: AT,
    agent_id: agent,
    model: 'qwen3-4b',
    model_variant: 'current',
    route_tier: null,
    reward_policy_version: 'v1',
    judge_model: candidateJudge.model,
    judge_endpoint: 'openai-compatible',
    judge_prompt_hash: promptHash,
    faithfulness,
    answer_relevance: relevance,
    misrouted: null,
    claims: 2,
    // Deliberately not the combination: the backtest combines the dimensions with the policy's weights.
    judge_score: 0.123,
    no_judgment: null,
    input_tokens: 100,
    output_tokens: 20,
    judged_at: AT + judgedAtMinutes * 60_000_000,
  };
}

function review(id: string, traceId: string, faithfulness: number | null, relevance: number | null, reviewedAtMinutes: number): object {
  return {
    review_id: id,
    trace_id: traceId,
    agent_id: 'agent-a',
    review_week: '2026-W46',
    score_band: 'high',
    judge_prompt_hash: V2_PROMPTS,
    reviewer: 'hmac-sha256:' + 'a'.repeat(64),
    faithfulness,
    answer_relevance: relevance,
    misrouted: null,
    sampled_at: AT + 60_000_000,
    reviewed_at: AT + reviewedAtMinutes * 60_000_000,
  };
}

const REFUND = 'What is our refund policy?';

async function fillLake(lake: LocalLake): Promise<void> {
  await lake.append('traces', [
    trace('t1', 'agent-a', REFUND, 'Refunds within 30 days.', [1, 1, 1, 0.5], 'success'),
    trace('t2', 'agent-a', REFUND, 'Ask the shop.', [null, 1, 0.5, 1]),
    trace('t3', 'agent-a', REFUND, 'Our refund policy: none.', [0, 1, 1, 0]),
    trace('t4', 'agent-a', 'When are you open?', 'Nine to five.', [1, 1, 1, 1]),
    trace('t5', 'agent-a', 'When are you open?', 'Often.', [1, 1, 1, 0.5]),
    trace('t6', 'agent-b', 'Where is the office?', 'Berlin.', [1, 1, 1, 0.5], 'success'),
    trace('t7', 'agent-b', 'Who runs the office?', 'Anna.', [1, 1, 1, 0.5]),
  ]);
  await lake.append('judgments', [
    judgment('t1', 'agent-a', 0, 0, 10),
    judgment('t1', 'agent-a', 1, 0.5, 20),
    judgment('t2', 'agent-a', 0, null, 10),
    judgment('t3', 'agent-a', 1, 1, 10, 'sha256:' + '0'.repeat(64)),
    judgment('t4', 'agent-a', 1, 1, 10),
    judgment('t5', 'agent-a', 0, 0, 10),
    judgment('t6', 'agent-b', 0, 0, 10),
    judgment('t7', 'agent-b', 0, 0, 10),
  ]);
  await lake.append('reviews', [
    review('r1', 't1', 1, 1, 100),
    review('r2-old', 't2', 1, 1, 100),
    review('r2', 't2', 0.2, 0.4, 200),
    review('r3', 't3', null, 0.5, 100),
    review('r5', 't5', 0.9, 0.9, 100),
  ]);
}

const simulatedJudge = (maxTraces: number): BacktestJudge => ({
  model: new SimulatedJudgeModel(candidateJudge),
  simulated: true,
  controls: { samplingRate: 1, maxTracesPerDay: maxTraces, maxTokensPerDay: 1_000_000, maxConcurrency: 2 },
  routeTiers: [],
});

describe('sial policy backtest on a local lake', () => {
  let dir: string;
  let lake: LocalLake;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-backtest-'));
    lake = await LocalLake.open(dir);
    await fillLake(lake);
  });
  afterAll(() => {
    lake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (judge?: BacktestJudge) =>
    runBacktest({
      sql: new DuckDbSqlEngine(lake),
      tables: { reviews: 'reviews' },
      stage,
      current: { policy: current, hash: rewardPolicyHash(current) },
      candidate: { policy: candidate, hash: rewardPolicyHash(candidate) },
      days: 30,
      now: NOW,
      lakeSource: dir,
      workPrefix: 's3://local/backtest/',
      ...(judge === undefined ? {} : { judge }),
    });

  it('re-scores both policies, replays stored judgments and re-judges the rest within the budget', async () => {
    const report = await run(simulatedJudge(10));
    expect(report.current).toMatchObject({ version: 'v1', hash: rewardPolicyHash(current), owner: 'platform-mlops-lead', judgePromptHash: null });
    expect(report.candidate).toMatchObject({ version: 'v2', hash: rewardPolicyHash(candidate), judgePromptHash: V2_PROMPTS });

    const { scores } = report;
    expect(scores.traces).toBe(7);
    expect(scores.current.mean).toBeCloseTo((0.85 * 4 + 0.55 / 0.6 + 0.3 + 1) / 7, 9);
    expect(scores.candidate.mean).toBeCloseTo((0.895 + 0.4 / 0.65 + 0.45 + 1 + 0.725 * 3) / 7, 9);
    expect(scores.current.histogram).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 4, 2]);
    expect(scores.candidate.histogram).toEqual([0, 0, 0, 0, 1, 0, 1, 3, 1, 1]);
    expect(scores.current.quantiles['0.5']).toBeCloseTo(0.85, 9);
    expect(scores.candidate.quantiles['0.5']).toBeCloseTo(0.725, 9);
    expect(scores.candidate.quantiles['0.05']).toBeCloseTo(0.45 + 0.3 * (0.4 / 0.65 - 0.45), 9);
    expect(scores.spearman).toBeCloseTo(0.531609533, 8);
    expect(scores.highQuality).toEqual({ threshold: 0.8, current: 6, candidate: 2, crossedUp: 0, crossedDown: 4 });

    expect(report.judge.current).toMatchObject({ mode: 'stored component', sources: { none: 7 } });
    expect(report.judge.candidate).toMatchObject({ mode: 'replayed and re-judged', sources: { replayed: 6, rejudged: 1 } });
    expect(report.judge.candidate.rejudge).toMatchObject({ simulated: true, withoutStoredJudgment: 1, offered: 1, judged: 1, overBudget: 0 });
    expect(report.judge.candidate.rejudge?.judge).toMatch(/^simulated-judge/);
    expect(report.notes.join('\n')).toMatch(/SIMULATED judge/);

    expect(report.dpoPairs).toEqual({ current: 1, candidate: 2, gained: 1, lost: 0, changed: 1, unchanged: 0, minMargin: 0.2 });
    expect(report.eligibility).toEqual([
      { agentId: 'agent-a', current: { positiveFeedback: 1, highQualityTraces: 4, eligible: true }, candidate: { positiveFeedback: 1, highQualityTraces: 2, eligible: true }, changed: false },
      { agentId: 'agent-b', current: { positiveFeedback: 1, highQualityTraces: 2, eligible: true }, candidate: { positiveFeedback: 1, highQualityTraces: 0, eligible: false }, changed: true },
    ]);

    const agreement = report.humanAgreement;
    expect(agreement.reviewed).toBe(4);
    expect(agreement.current.kappa?.kappa).toBeCloseTo(0.5, 9);
    expect(agreement.current.truePositiveRate).toBe(1);
    expect(agreement.current.trueNegativeRate).toBe(0.5);
    expect(agreement.current.spearman).toBeCloseTo(-0.316227766, 8);
    expect(agreement.candidate.kappa?.kappa).toBeCloseTo(0.5, 9);
    expect(agreement.candidate.truePositiveRate).toBe(0.5);
    expect(agreement.candidate.trueNegativeRate).toBe(1);
    expect(agreement.candidate.spearman).toBeCloseTo(0.8, 9);
  });

  it('scores a trace the budget could not judge without a judge component, and says so', async () => {
    const report = await run(simulatedJudge(0));
    // T3 under v2 without a judge: (.35 x 0 + .2 + .1 + .15 x 0) / .8 = .375 instead of .45.
    expect(report.scores.candidate.mean).toBeCloseTo((0.895 + 0.4 / 0.65 + 0.375 + 1 + 0.725 * 3) / 7, 9);
    expect(report.judge.candidate).toMatchObject({ mode: 'replayed', sources: { replayed: 6, none: 1 } });
    expect(report.judge.candidate.rejudge).toMatchObject({ withoutStoredJudgment: 1, offered: 0, judged: 0, overBudget: 1 });
    expect(report.notes.join('\n')).toMatch(/covered 0 of 1/);
  });

  it('without a judge, re-judges nothing and notes the traces left without a judge component', async () => {
    const report = await run();
    expect(report.judge.candidate.rejudge).toBeUndefined();
    expect(report.judge.candidate.sources).toEqual({ replayed: 6, none: 1 });
    expect(report.notes.join('\n')).toMatch(/1 traces have no stored judgment/);
  });
});

describe('sial policy backtest, the command', () => {
  let dir: string;
  let lake: LocalLake;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-backtest-cli-'));
    lake = await LocalLake.open(join(dir, 'lake'));
    await fillLake(lake);
    lake.close();
    writeFileSync(join(dir, 'lake', LAKE_MARKER), JSON.stringify({ createdBy: 'test' }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function cli() {
    const out: string[] = [];
    const err: string[] = [];
    const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env: {}, clock: () => NOW };
    return { out, err, run: (...argv: string[]) => runCli(['policy', ...argv], context) };
  }
  const v2File = join(REWARD_POLICY_DIR, 'v2.json');

  it('writes the JSON report and its HTML summary, and prints the text summary', async () => {
    const { out, err, run } = cli();
    const reportFile = join(dir, 'v2.backtest.json');
    expect(await run('backtest', '--candidate', v2File, '--local', join(dir, 'lake'), '--out', reportFile)).toBe(0);
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(report.candidate).toMatchObject({ version: 'v2', hash: rewardPolicyHash(candidate), owner: candidate.owner });
    expect(report.current.version).toBe('v1');
    expect(report.scores.traces).toBe(7);
    expect(existsSync(join(dir, 'v2.backtest.html'))).toBe(true);
    expect(out.join('\n')).toContain('re-judged by the SIMULATED judge');
    expect(err).toEqual([`report written to ${reportFile} and ${join(dir, 'v2.backtest.html')}`]);
  });

  it('refuses a wrong command line with its usage, and a bad candidate with where it breaks', async () => {
    let c = cli();
    expect(await c.run('backtest', '--local', join(dir, 'lake'))).toBe(2);
    expect(c.err[0]).toBe('sial policy: --candidate FILE is required');
    c = cli();
    expect(await c.run('backtest', '--candidate', v2File, '--days', '0')).toBe(2);
    expect(c.err[0]).toBe('sial policy: --days: received "0"; expected a whole number of at least 1');
    c = cli();
    const broken = join(dir, 'v3.json');
    writeFileSync(broken, '{\n  "version": "v3",\n}\n');
    expect(await c.run('backtest', '--candidate', broken, '--local', join(dir, 'lake'))).toBe(1);
    expect(c.err[0]).toMatch(/^sial policy: Reward policy .*v3.json is not valid JSON at line 3, column 1/);
    c = cli();
    expect(await c.run('backtest', '--candidate', join(REWARD_POLICY_DIR, 'v1.json'), '--local', join(dir, 'lake'))).toBe(1);
    expect(c.err[0]).toMatch(/is version v1, the stage's current policy/);
    c = cli();
    expect(await c.run('backtest', '--candidate', v2File, '--local', dir)).toBe(1);
    expect(c.err[0]).toMatch(/is not a local lake directory/);
    c = cli();
    expect(await c.run('backtest', '--candidate', v2File)).toBe(2);
    expect(c.err[0]).toMatch(/say which lake: --local DIR .* or --stage NAME/);
    c = cli();
    expect(await c.run('backtest', '--candidate', v2File, '--stage', 'prod-eu')).toBe(2);
    expect(c.err[0]).toMatch(/needs --work-prefix/);
    c = cli();
    expect(await c.run('backtest', '--candidate', v2File, '--stage', 'prod-eu', '--work-prefix', 's3://bucket/no-slash')).toBe(2);
    expect(c.err[0]).toBe('sial policy: --work-prefix: received "s3://bucket/no-slash"; expected an s3://bucket/prefix/ URI ending in / (e.g. s3://<ArtifactBucketName>/backtests/)');
  });

  it("on a stage, queries that stage's lake with Athena in the dataset build's workgroup", async () => {
    const athena = mockClient(AthenaClient);
    athena.on(StartQueryExecutionCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    try {
      const c = cli();
      expect(await c.run('backtest', '--candidate', v2File, '--stage', 'prod-eu', '--work-prefix', 's3://sial-artifacts/backtests/')).toBe(1);
      expect(c.err[0]).toMatch(/^sial policy: .*User is not authorized/);
      const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
      const prodEu = loadStageConfig('prod-eu');
      expect(start.WorkGroup).toBe('sial-prod-eu-dataset-build');
      expect(start.QueryExecutionContext?.Database).toBe(prodEu.lake.databaseName);
      expect(start.QueryString).toMatch(/^CREATE TABLE "sial_build_backtest_candidates_\w+" WITH \(format = 'PARQUET', external_location = 's3:\/\/sial-artifacts\/backtests\/backtest-20261120T120000000Z\/candidates\/'\)/);
    } finally {
      athena.restore();
    }
  });

  it("re-judges on a stage with the stage's own judge endpoint within the budget, never the simulated one", () => {
    const prodEu = loadStageConfig('prod-eu');
    const judge = judgeStageSchema.parse({ endpoint: { kind: 'bedrock', modelId: 'eu.example.judge' }, samplingRate: 0.1, maxTracesPerDay: 10, maxTokensPerDay: 1000, maxConcurrency: 2, routeTiers: ['small', 'large'] });
    const budget = { maxTraces: 5, maxTokens: 100, maxConcurrency: 1 };
    const backend = stageBackend({ ...prodEu, judge }, candidate, budget, 's3://bucket/backtests/', awsClients(prodEu.region));
    // Every trace within the budget is judged: the budget, not the daily sample, bounds the cost.
    expect(backend.judge).toMatchObject({ simulated: false, controls: { samplingRate: 1, maxTracesPerDay: 5, maxTokensPerDay: 100, maxConcurrency: 1 }, routeTiers: ['small', 'large'] });
    expect(backend.judge?.model.name).toBe('bedrock:eu.example.judge');
    expect(backend.lakeSource).toBe(`athena ${prodEu.lake.databaseName} (stage prod-eu)`);
    // A stage without a judge re-judges nothing; the report then counts the traces left without one.
    expect(stageBackend(prodEu, candidate, budget, 's3://bucket/backtests/', awsClients(prodEu.region)).judge).toBeUndefined();
  });
});
