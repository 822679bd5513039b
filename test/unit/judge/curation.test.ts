/**
 * The daily curation's steps on the real SQL: DuckDB over a local lake, candidate files written by the
 * engine, the simulated judge, judgments appended to the lake and read back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgePolicySchema, judgePromptHash, type JudgePolicy } from '../../../lambdas/judge/judge-policy';
import { curationWindow, judgeNextLines, judgedVariantMetrics, selectCandidates, type CurationState } from '../../../lambdas/judge/curation/curation';
import { curationSettingsSchema, type CurationSettings } from '../../../lambdas/judge/curation/settings';
import type { JudgmentLakeRow } from '../../../lambdas/judge/judgment-row';
import type { TraceLakeRow } from '../../../lambdas/gate-score/lake-rows';
import { LocalLake } from '../../../local/local-lake';
import { DuckDbSqlEngine } from '../../../local/pipeline/duckdb-sql-engine';
import { FsObjectStore } from '../../../local/pipeline/fs-object-store';
import { SimulatedJudgeModel } from '../../../local/simulated-judge';
import { lakeTraceRow, micros } from '../../helpers/lake-trace-row';

const policy: JudgePolicy = judgePolicySchema.parse(JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'config', 'judge-prompts', 'ragas-style-v1.json'), 'utf8')));
const STARTED = new Date('2026-11-21T01:30:00.000Z');

function settingsWith(judge: Partial<CurationSettings['judge']> = {}, linesPerInvocation = 3): CurationSettings {
  return curationSettingsSchema.parse({
    stage: 'dev',
    boundary: 'US',
    rewardPolicyVersion: 'v1',
    judgePolicy: policy,
    judge: {
      endpoint: { kind: 'sagemaker', endpointName: 'sial-dev-judge' },
      samplingRate: 1,
      maxTracesPerDay: 1000,
      maxTokensPerDay: 10_000_000,
      maxConcurrency: 2,
      routeTiers: ['small', 'medium'],
      curation: { schedule: 'cron(30 1 * * ? *)', windowHours: 24 },
      ...judge,
    },
    linesPerInvocation,
    metricsNamespace: 'SelfImprovingAgentLoop',
    lake: { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' },
  });
}

function trace(id: string, at: string, overrides: Partial<TraceLakeRow> = {}): TraceLakeRow {
  return lakeTraceRow(id, at, {
    input_messages: [
      { role: 'system', content: 'Answer from the documents.' },
      { role: 'user', content: 'What is the refund window for annual plans?' },
    ],
    retrieved_contexts: ['Annual plans can be refunded within 30 days of purchase.'],
    output: 'Annual plans can be refunded within 30 days of purchase.',
    route_tier: 'small',
    reward: 0.8,
    reward_components: { feedback: null, errors: 1, latency: 1, groundedness: 1, judge: null },
    ...overrides,
  });
}

describe('daily curation', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sial-curation-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function withLake<T>(name: string, rows: TraceLakeRow[], body: (ctx: { lake: LocalLake; sql: DuckDbSqlEngine; store: FsObjectStore; written: JudgmentLakeRow[] }) => Promise<T>): Promise<T> {
    const lake = await LocalLake.open(join(dir, name, 'lake'));
    const store = new FsObjectStore(join(dir, name, 's3'));
    try {
      await lake.append('traces', rows);
      return await body({ lake, sql: new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri)), store, written: [] });
    } finally {
      lake.close();
    }
  }

  async function runAll(ctx: { lake: LocalLake; sql: DuckDbSqlEngine; store: FsObjectStore; written: JudgmentLakeRow[] }, settings: CurationSettings, run: string, model = new SimulatedJudgeModel(policy)): Promise<{ state: CurationState; invocations: number }> {
    let state = await selectCandidates({ startedAt: STARTED, workPrefix: `s3://artifacts/curation/${run}/` }, { sql: ctx.sql, settings, clock: () => STARTED });
    let invocations = 0;
    while (!state.done) {
      invocations += 1;
      state = await judgeNextLines(state, {
        files: ctx.store,
        sink: {
          write: async (rows) => {
            ctx.written.push(...rows);
            await ctx.lake.append('judgments', rows);
          },
        },
        model,
        endpoint: 'simulated',
        settings,
        clock: () => STARTED,
      });
    }
    return { state, invocations };
  }

  it('judges the window\'s kept traces (latest copy, right boundary, in the window) in bounded invocations, and a re-run judges nothing again', async () => {
    const rows = [
      trace('t1', '2026-11-20T03:00:00.000Z'),
      trace('t1', '2026-11-20T03:00:00.000Z', { gated_at: micros('2026-11-20T06:00:00.000Z'), output: 'Refunds take 30 days.' }), // re-delivered: one judgment
      trace('t2', '2026-11-20T10:00:00.000Z', { model_variant: 'candidate', output: 'Our office is in Paris.' }),
      trace('t3', '2026-11-20T23:59:59.000Z', { route_tier: null }),
      trace('t4', '2026-11-20T12:00:00.000Z', { agent_id: 'code-reviewer' }),
      trace('t5', '2026-11-20T12:00:00.000Z', { data_boundary: 'EU', data_region: 'eu-west-1' }), // another boundary
      trace('t6', '2026-11-19T23:59:59.000Z'), // before the window
      trace('t7', '2026-11-21T01:00:00.000Z'), // after: the window ends at the run's hour
    ];
    await withLake('window', rows, async (ctx) => {
      const settings = settingsWith();
      const { state, invocations } = await runAll(ctx, settings, 'r1');
      expect(state.window).toEqual({ from: '2026-11-20T01:00:00.000Z', to: '2026-11-21T01:00:00.000Z' });
      expect(ctx.written.map((r) => r.trace_id).sort()).toEqual(['t1', 't2', 't3', 't4']);
      expect(invocations).toBe(2); // 4 lines, 3 per invocation
      expect(state.progress).toEqual({ read: 4, judged: 4, notSampled: 0, stoppedByCeiling: 0, withNoJudgment: expect.any(Number) });
      const t1 = ctx.written.find((r) => r.trace_id === 't1')!;
      expect(t1).toEqual(expect.objectContaining({ judge_prompt_hash: judgePromptHash(policy), judge_endpoint: 'simulated', model_variant: 'current', trace_ts: micros('2026-11-20T03:00:00.000Z') }));
      // The latest copy's answer ("Refunds take 30 days.") is not supported by the context word for word.
      expect(t1.faithfulness).toBe(0);
      expect(ctx.written.find((r) => r.trace_id === 't4')!.faithfulness).toBe(1);
      // No route tier: misroute not judged.
      expect(ctx.written.find((r) => r.trace_id === 't3')!.misrouted).toBeNull();
      expect(state.usage.traces).toBe(4);

      const again = await runAll(ctx, settings, 'r2');
      expect(again.state.progress.read).toBe(0);
      expect(ctx.written).toHaveLength(4);

      const metrics = await judgedVariantMetrics(state, ctx.sql);
      expect(metrics).toEqual([
        { model: 'qwen3-4b', variant: 'candidate', faithfulnessJudged: 1, faithfulnessMean: 0, misrouteJudged: 1, misrouteRate: expect.any(Number) },
        { model: 'qwen3-4b', variant: 'current', faithfulnessJudged: 3, faithfulnessMean: 2 / 3, misrouteJudged: 2, misrouteRate: expect.any(Number) },
      ]);
    });
  });

  it('stops the run at the daily trace ceiling, counting earlier runs of the day', async () => {
    const rows = Array.from({ length: 7 }, (_, i) => trace(`c${i}`, '2026-11-20T05:00:00.000Z'));
    await withLake('ceiling', rows, async (ctx) => {
      // Two judgments already made today by another run.
      const earlier = (id: string): JudgmentLakeRow => ({
        ...({} as JudgmentLakeRow),
        trace_id: id,
        trace_ts: micros('2026-11-19T05:00:00.000Z'),
        agent_id: 'rag-qa-agent',
        model: 'qwen3-4b',
        model_variant: 'current',
        route_tier: null,
        reward_policy_version: 'v1',
        judge_model: policy.model,
        judge_endpoint: 'simulated',
        judge_prompt_hash: judgePromptHash(policy),
        faithfulness: 1,
        answer_relevance: 1,
        misrouted: null,
        claims: 1,
        judge_score: 1,
        no_judgment: null,
        input_tokens: 10,
        output_tokens: 5,
        judged_at: micros('2026-11-21T00:10:00.000Z'),
      });
      await ctx.lake.append('judgments', [earlier('old-1'), earlier('old-2')]);
      const { state } = await runAll(ctx, settingsWith({ maxTracesPerDay: 5, maxConcurrency: 1 }), 'ceiling');
      expect(state.stoppedBy).toBe('daily_trace_ceiling');
      expect(state.progress.judged).toBe(3);
      expect(state.usage.traces).toBe(5);
      expect(state.done).toBe(true);
    });
  });

  it('judges only the sampled share, deterministically', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => trace(`s${i}`, '2026-11-20T05:00:00.000Z'));
    await withLake('sampled', rows, async (ctx) => {
      const { state } = await runAll(ctx, settingsWith({ samplingRate: 0.25 }, 100), 'sampled');
      expect(state.progress.read).toBe(40);
      expect(state.progress.judged + state.progress.notSampled).toBe(40);
      expect(state.progress.judged).toBeGreaterThan(2);
      expect(state.progress.judged).toBeLessThan(20);
    });
  });

  it('places the window at the start of the run\'s hour, or ends it where asked', () => {
    expect(curationWindow(new Date('2026-11-21T01:59:00.000Z'), 24)).toEqual({ from: new Date('2026-11-20T01:00:00.000Z'), to: new Date('2026-11-21T01:00:00.000Z') });
    expect(curationWindow(STARTED, 6, new Date('2026-11-20T12:00:00.000Z'))).toEqual({ from: new Date('2026-11-20T06:00:00.000Z'), to: new Date('2026-11-20T12:00:00.000Z') });
  });
});
