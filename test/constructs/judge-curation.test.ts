/**
 * The judge's curation as synthesized for a stage with a judge: functions, grants, schedule, cdk-nag,
 * and the state machine EXECUTED through its paths (the synthesized ASL, run locally over a lake filled
 * by the real ingest path, with the simulated judge).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import type { JudgeStageConfig } from '../../config/judge';
import type { StageConfig } from '../../config/schema';
import { judgePolicySchema } from '../../lambdas/judge/judge-policy';
import { curationSettingsFromStage } from '../../lambdas/judge/curation/settings';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, JUDGMENTS_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import { runLocalCuration } from '../../local/local-curation';
import { runLocalIngest } from '../../local/local-ingest';
import { LocalLake } from '../../local/local-lake';
import { synthesizePipeline } from '../../local/pipeline/synthesized-pipeline';
import { JUDGE_CURATION_STATES as S } from '../../stepfunctions/judge-curation';
import { renderAsl, stateMachineLogicalIds } from '../../stepfunctions/render-asl';
import { buildTestApp, REPO_ROOT, rewardPolicyFor, statementsOfRole, actionsOf, resourcesOf } from '../helpers/app';
import { execute, named } from './asl-execution';

const judgeSection = judgePolicySchema.parse(JSON.parse(readFileSync(join(REPO_ROOT, 'config', 'judge-prompts', 'ragas-style-v1.json'), 'utf8')));
const dev = loadStageConfig('dev');
const policy: RewardPolicy = { ...rewardPolicyFor(dev), judge: judgeSection };

function withJudge(endpoint: JudgeStageConfig['endpoint'], base: StageConfig = dev): StageConfig {
  return {
    ...base,
    judge: { endpoint, samplingRate: 1, maxTracesPerDay: 20_000, maxTokensPerDay: 40_000_000, maxConcurrency: 4, routeTiers: ['small', 'medium', 'large'], curation: { schedule: 'cron(30 1 * * ? *)', windowHours: 24 } },
  };
}

const sagemakerStage = withJudge({ kind: 'sagemaker', endpointName: 'sial-dev-judge' });
const built = buildTestApp('dev', { config: sagemakerStage, rewardPolicy: policy });
const template = Template.fromStack(built.loopStack);
const loopStack = built.loopStack;

function roleOf(step: 'selectCandidates' | 'judgeNextLines' | 'publishJudgedMetrics'): string {
  return loopStack.getLogicalId(loopStack.judgeCuration!.roles[step].node.defaultChild as never);
}

describe('JudgeCuration construct', () => {
  it('is absent for a stage without a judge, and refused for a judge whose policy defines none', () => {
    expect(buildTestApp('dev').loopStack.judgeCuration).toBeUndefined();
    expect(() => buildTestApp('dev', { config: sagemakerStage })).toThrow(/configures a judge, but its reward policy v1 defines none/);
  });

  it('builds three functions, the state machine and a schedule that follows the stage\'s schedules switch', () => {
    const curation = loopStack.judgeCuration!;
    expect(Object.keys(curation.functions).sort()).toEqual(['judgeNextLines', 'publishJudgedMetrics', 'selectCandidates']);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 * * ? *)',
      State: dev.schedules.enabled ? 'ENABLED' : 'DISABLED',
      Target: Match.objectLike({ Arn: { Ref: loopStack.getLogicalId(curation.stateMachine.node.defaultChild as never) } }),
    });
  });

  it('lets only the judge function call the judge endpoint and put judgments, and only on that endpoint and stream', () => {
    const judge = statementsOfRole(template, roleOf('judgeNextLines'));
    const invoke = judge.filter((s) => actionsOf(s).includes('sagemaker:InvokeEndpoint'));
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(resourcesOf(invoke[0]!))).toContain(':endpoint/sial-dev-judge');
    expect(judge.some((s) => actionsOf(s).includes('firehose:PutRecordBatch'))).toBe(true);
    expect(judge.some((s) => actionsOf(s).some((a) => a.startsWith('athena:')))).toBe(false);
    for (const step of ['selectCandidates', 'publishJudgedMetrics'] as const) {
      const statements = statementsOfRole(template, roleOf(step));
      expect(statements.some((s) => actionsOf(s).some((a) => a.startsWith('sagemaker:') || a.startsWith('firehose:')))).toBe(false);
      // Glue read of traces and judgments only.
      const glue = statements.filter((s) => actionsOf(s).includes('glue:GetTable'));
      const tables = JSON.stringify(glue.map(resourcesOf));
      expect(tables).toContain('/traces');
      expect(tables).toContain('/judgments');
      expect(tables).not.toContain('/feedback');
      expect(tables).not.toContain('/gate_audit');
    }
  });

  it('grants a Bedrock profile only the profile and the model in the regions of the boundary', () => {
    const euStage = loadStageConfig('prod-eu');
    const eu = withJudge({ kind: 'bedrock', modelId: 'eu.anthropic.claude-3-7-sonnet-20250219-v1:0' }, euStage);
    const app = buildTestApp('prod-eu', { config: eu, rewardPolicy: { ...rewardPolicyFor(euStage), judge: judgeSection } });
    const t = Template.fromStack(app.loopStack);
    const role = app.loopStack.getLogicalId(app.loopStack.judgeCuration!.roles.judgeNextLines.node.defaultChild as never);
    const invoke = statementsOfRole(t, role).filter((s) => actionsOf(s).includes('bedrock:InvokeModel'));
    const resources = JSON.stringify(invoke.flatMap(resourcesOf));
    expect(resources).toContain('inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0');
    expect(resources).toContain('foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0');
    expect(resources).not.toMatch(/us-east-1|ap-northeast-2/);
  });

  it('passes cdk-nag with no unacknowledged finding', () => {
    const app = buildTestApp('dev', { config: withJudge({ kind: 'openai-compatible', baseUrl: 'https://judge.internal.example.com/v1', region: 'us-east-1', apiKeySecretName: 'sial/dev/judge' }), rewardPolicy: policy, nag: true });
    const errors = Annotations.fromStack(app.loopStack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(errors.map((e) => `${e.id}: ${String(e.entry.data)}`)).toEqual([]);
  });
});

describe('the curation state machine, executed', () => {
  const asl = (() => {
    const json = template.toJSON() as unknown;
    const id = stateMachineLogicalIds(json).find((i) => i.startsWith('JudgeCurationStateMachine'))!;
    return renderAsl(json, id);
  })();

  it('loops the judge until done, waits for delivery and publishes', async () => {
    let judged = 0;
    const state = (done: boolean) => ({ done, progress: { judged } });
    const result = await execute(asl, {}, {
      [S.selectCandidates]: () => state(false),
      [S.judgeNextLines]: () => {
        judged += 1;
        return state(judged >= 3);
      },
      [S.publishJudgedMetrics]: () => ({ variants: [] }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.calls[S.judgeNextLines]).toBe(3);
    expect(result.visited.filter((s) => s === S.moreToJudge)).toHaveLength(4);
    expect(result.visited.slice(-3)).toEqual([S.waitForDelivery, S.publishJudgedMetrics, S.curated]);
    // The select function gets the execution's start and name, never the judge's settings or a token.
    expect(Object.keys(result.inputs[S.selectCandidates] as object).sort()).toEqual(['executionName', 'input', 'startedAt']);
  });

  it('ends in Curation failed with the error when a step fails, and retries a transient judge failure', async () => {
    const failing = await execute(asl, {}, {
      [S.selectCandidates]: () => ({ done: false }),
      [S.judgeNextLines]: (_input, call) => (call === 1 ? named('TransientJudgeError', 'endpoint busy') : named('Error', 'bad candidate line')),
      [S.publishJudgedMetrics]: () => ({ variants: [] }),
    });
    expect(failing.status).toBe('FAILED');
    expect(failing.calls[S.judgeNextLines]).toBe(2);
    expect(failing.visited.at(-1)).toBe(S.curationFailed);
    expect(failing.cause).toContain('bad candidate line');
  });

  describe('with the real steps over an ingested demo lake', () => {
    let root: string;
    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'sial-curation-sfn-'));
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('judges yesterday\'s kept traces once, feeds the judgments table and publishes per-variant figures', async () => {
      const lakeDir = join(root, 'lake');
      const ingestedAt = new Date('2026-11-20T12:00:00.000Z');
      await runLocalIngest({ stage: 'dev', lakeDir, traceCount: 300, comprehendLatencyMs: 0, comprehendTps: 10_000, clock: () => ingestedAt });
      const settings = curationSettingsFromStage(sagemakerStage, policy, { databaseName: 'sial_dev', tracesTable: TRACES_TABLE.name, auditTable: GATE_AUDIT_TABLE.name, feedbackTable: FEEDBACK_TABLE.name, judgmentsTable: JUDGMENTS_TABLE.name }, 100)!;
      const definition = synthesizePipeline(sagemakerStage, policy).curation!;
      const lake = await LocalLake.open(lakeDir);
      try {
        const kept = Number((await lake.query('SELECT count(DISTINCT trace_id) AS n FROM traces'))[0]!.n);
        // The demo traffic starts a day before the ingest clock: the run the next night judges it.
        const startedAt = new Date('2026-11-20T01:30:00.000Z');
        const first = await runLocalCuration({ definition, settings, lake, lakeDir, objectsDir: join(root, 's3'), startedAt, clock: () => startedAt, executionName: 'curation-1' });
        expect(first.run.status).toBe('SUCCEEDED');
        expect(first.state!.progress.judged).toBe(kept);
        expect(first.run.visited.filter((s) => s === S.judgeNextLines).length).toBe(Math.ceil(kept / 100));
        const rows = await lake.query('SELECT count(*) AS n, count(DISTINCT trace_id) AS traces FROM judgments');
        expect(Number(rows[0]!.n)).toBe(kept);
        expect(first.variants.map((v) => v.variant).sort()).toEqual(['candidate', 'current']);
        for (const v of first.variants) expect(v.faithfulnessJudged + v.misrouteJudged).toBeGreaterThan(0);
        expect(JSON.parse(readFileSync(join(lakeDir, 'judged-metrics.json'), 'utf8')).judge).toContain('simulated');

        const second = await runLocalCuration({ definition, settings, lake, lakeDir, objectsDir: join(root, 's3'), startedAt, clock: () => startedAt, executionName: 'curation-2' });
        expect(second.run.status).toBe('SUCCEEDED');
        expect(second.state!.progress.read).toBe(0);
        expect(Number((await lake.query('SELECT count(*) AS n FROM judgments'))[0]!.n)).toBe(kept);
      } finally {
        lake.close();
      }
    }, 120_000);
  });
});
