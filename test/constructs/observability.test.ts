/**
 * The stage dashboard (lib/constructs/observability.ts), read from the synthesized DashboardBody with
 * its tokens replaced by placeholders: every target model's row graphs the series its canary alarms
 * judge (same metrics, same expressions, the thresholds as annotations), the alarm status widget names
 * every composite alarm, metric and dimension names are the publishing Lambdas' constants, and the
 * game-day annotation is the configured bound. The last block checks the names against the EMF the
 * Lambdas actually print.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { loadStageConfig } from '../../config';
import type { StageConfig } from '../../config/schema';
import { countDiscard, countFailure, countKept, countOperating, countTraceIn, newBatchReport } from '../../lambdas/gate-score/batch-report';
import { DIMENSION, METRIC, publishBatchMetrics } from '../../lambdas/gate-score/publish-metrics';
import type { Reward } from '../../lambdas/gate-score/reward/score';
import { BUDGET_DIMENSION, BUDGET_METRIC, publishBudgetMetrics } from '../../lambdas/pipeline/budget/budget-metrics';
import { REPORT_METRIC, publishReportMetrics, type ReportFigures } from '../../lambdas/operations/report-metrics';
import { ROLLOUT_DIMENSION, ROLLOUT_METRIC, publishPromotion, publishRollback, publishRollbackSeconds } from '../../lambdas/rollout/rollout-metrics';
import { agentSlos } from '../../config/operations';
import { AgentOperationsAlarms } from '../../lib/constructs/agent-operations-alarms';
import { CANARY_SIGNALS, CANARY_VARIANTS, CanaryAlarms, canarySignalAlarmName } from '../../lib/constructs/canary-alarms';
import { GpuBudget } from '../../lib/constructs/gpu-budget';
import { Observability, dashboardNameOf, type ObservabilityProps } from '../../lib/constructs/observability';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { STAGE_NAMES, bareApp, buildTestApp, resourcesOfType, synthesizedStage } from '../helpers/app';
import { makeTrace } from '../helpers/trace-factory';
import { dashboardOf, emittedSeries, graph, logicalIdOf, metricsOf, readSeries, searchedSeries, type Widget } from '../helpers/dashboard-body';

type AlarmQuery = { Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: string }> }; Period: number; Stat: string } };
type AlarmProps = { AlarmName: string; Metrics: AlarmQuery[]; Threshold: number };

function alarmsByName(template: Template): Record<string, AlarmProps> {
  return Object.fromEntries(
    resourcesOfType(template, 'AWS::CloudWatch::Alarm')
      .map(([, r]) => r.Properties as AlarmProps)
      .filter((p) => typeof p.AlarmName === 'string')
      .map((p) => [p.AlarmName, p]),
  );
}

const SIGNAL_WIDGET = { faithfulness: 'faithfulness', misroute: 'misroute rate', errors: 'error rate', latency: 'mean latency' } as const;

// ---------------------------------------------------------------------------------------------------
// The dashboard of every stage, as `cdk synth` builds it

describe.each(STAGE_NAMES)('dashboard of %s', (stage) => {
  const config = loadStageConfig(stage);
  const { loopStack, loopTemplate, template: dataTemplate } = synthesizedStage(stage);
  const { name, body } = dashboardOf(loopTemplate);
  const ns = config.metricsNamespace;
  const seconds = config.canary.alarms.periodSeconds;
  const models = config.targetModels.map((m) => m.id);

  test('is one dashboard named after the stage, opening on the 3 hours of 1-second data, widget periods kept', () => {
    expect(name).toBe(dashboardNameOf(stage));
    expect(name).toBe(`sial-${stage}`);
    expect(loopStack.observability.dashboardName).toBe(name);
    expect(body.start).toBe('-PT3H');
    expect(body.periodOverride).toBe('inherit');
  });

  test('lays every widget out inside the 24-column grid without overlaps', () => {
    for (const w of body.widgets) expect({ title: w.properties.title, right: w.x + w.width <= 24 }).toEqual({ title: w.properties.title, right: true });
    const cells = new Set<string>();
    for (const w of body.widgets) {
      for (let x = w.x; x < w.x + w.width; x += 1) {
        for (let y = w.y; y < w.y + w.height; y += 1) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  test('loop health: the status widget names every composite alarm and the GPU budget alarm, the next every child alarm', () => {
    const composites = models.map((m) => `<GetAtt:${logicalIdOf(loopStack, loopStack.canaryAlarms.models[m]!.composite)}.Arn>`);
    const budgetAlarm = `<GetAtt:${logicalIdOf(loopStack, loopStack.budget.alarm)}.Arn>`;
    const status = body.widgets.find((w) => w.type === 'alarm' && w.properties.title === 'Canary composite alarms and GPU budget');
    expect(status?.properties.alarms).toEqual([...composites, budgetAlarm]);
    // Every composite alarm resource of the template is there (none missed, none extra).
    const compositeIds = resourcesOfType(loopTemplate, 'AWS::CloudWatch::CompositeAlarm').map(([id]) => `<GetAtt:${id}.Arn>`);
    expect([...compositeIds].sort()).toEqual([...composites].sort());
    const children = body.widgets.find((w) => w.type === 'alarm' && w.properties.title === 'Canary signals (child alarms)');
    expect(children?.properties.alarms).toEqual(models.flatMap((m) => CANARY_SIGNALS.map((s) => `<GetAtt:${logicalIdOf(loopStack, loopStack.canaryAlarms.models[m]!.signals[s])}.Arn>`)));
    // Loop health is the first row.
    expect(Math.min(status!.y, children!.y)).toBeLessThan(Math.min(...body.widgets.filter((w) => w.type === 'metric').map((w) => w.y)));
  });

  describe.each(config.targetModels.map((m) => m.id))('target model %s', (modelId) => {
    const titles = [
      `${modelId}: faithfulness (${seconds} s)`,
      `${modelId}: misroute rate (${seconds} s)`,
      `${modelId}: error rate (${seconds} s)`,
      `${modelId}: mean latency (${seconds} s)`,
      `${modelId}: traces per variant (${seconds} s)`,
      `${modelId}: drops per variant by gate (1 min)`,
    ];
    const modelWidgets = (): Widget[] => body.widgets.filter((w) => w.properties.title?.startsWith(`${modelId}: `));

    test('has its heading and six graphs, and no other model has them', () => {
      expect(body.widgets.filter((w) => w.type === 'text' && w.properties.markdown?.startsWith(`## Canary: ${modelId}\n`))).toHaveLength(1);
      expect(modelWidgets().map((w) => w.properties.title)).toEqual(titles);
    });

    test(`reads per-variant series in ${ns} with the gate's ${DIMENSION.model} and ${DIMENSION.variant} dimensions, Sum over the alarms' ${seconds} s`, () => {
      const series = modelWidgets().flatMap(metricsOf).filter((m) => m.metricName !== undefined);
      expect(series.length).toBeGreaterThan(0);
      for (const m of series) {
        expect({ namespace: m.namespace, dimensions: Object.keys(m.dimensions).sort(), model: m.dimensions[DIMENSION.model], stat: m.options.stat, period: m.options.period }).toEqual({
          namespace: ns,
          dimensions: [DIMENSION.model, DIMENSION.variant].sort(),
          model: modelId,
          stat: 'Sum',
          period: seconds,
        });
        expect(Object.values(CANARY_VARIANTS)).toContain(m.dimensions[DIMENSION.variant]);
        expect(Object.values(METRIC)).toContain(m.metricName);
      }
      // Both variants of every figure the canary compares.
      for (const metricName of [METRIC.groundednessSum, METRIC.groundednessScored, METRIC.misroutedTraces, METRIC.routedTraces, METRIC.errorTraces, METRIC.tracesKept, METRIC.latencyMsSum, METRIC.latencyMeasured, METRIC.tracesIn, METRIC.tracesDiscarded]) {
        for (const variant of Object.values(CANARY_VARIANTS)) {
          expect({ metricName, variant, graphed: series.some((m) => m.metricName === metricName && m.dimensions[DIMENSION.variant] === variant) }).toEqual({ metricName, variant, graphed: true });
        }
      }
    });

    test.each(CANARY_SIGNALS)('graphs the %s alarm: its expression, every metric it reads, its threshold as the annotation', (signal) => {
      const alarm = alarmsByName(loopTemplate)[canarySignalAlarmName(stage, modelId, signal)]!;
      expect(alarm).toBeDefined();
      const widget = graph(body, `${modelId}: ${SIGNAL_WIDGET[signal]} (${seconds} s)`);
      const rows = metricsOf(widget);
      const expression = alarm.Metrics.find((q) => q.Expression !== undefined)!.Expression!;
      expect(rows.map((r) => r.options.expression)).toContain(expression);
      for (const q of alarm.Metrics.filter((mq) => mq.MetricStat !== undefined)) {
        const { Metric, Period, Stat } = q.MetricStat!;
        const dims = Object.fromEntries(Metric.Dimensions.map((d) => [d.Name, d.Value]));
        expect(rows.some((r) => r.options.id === q.Id && r.namespace === Metric.Namespace && r.metricName === Metric.MetricName && JSON.stringify(r.dimensions) === JSON.stringify(dims) && r.options.period === Period && r.options.stat === Stat)).toBe(true);
      }
      const annotations = widget.properties.annotations?.horizontal ?? [];
      expect(annotations.map((a) => a.value)).toEqual([alarm.Threshold]);
      // The annotation sits on the axis that carries the alarm's own expression.
      const alarmRow = rows.find((r) => r.options.expression === expression)!;
      expect(annotations[0]!.yAxis).toBe(alarmRow.options.yAxis ?? 'left');
    });

    test('faithfulness and misroute graph each variant\'s own rate beside the alarm\'s difference', () => {
      for (const [title, numerator, denominator] of [
        ['faithfulness', METRIC.groundednessSum, METRIC.groundednessScored],
        ['misroute rate', METRIC.misroutedTraces, METRIC.routedTraces],
      ] as const) {
        const rows = metricsOf(graph(body, `${modelId}: ${title} (${seconds} s)`));
        for (const variant of Object.values(CANARY_VARIANTS)) {
          const ids = (metricName: string): string | undefined => rows.find((r) => r.metricName === metricName && r.dimensions[DIMENSION.variant] === variant && r.options.id?.startsWith(variant))?.options.id;
          expect(rows.map((r) => r.options.expression)).toContain(`${ids(numerator)} / ${ids(denominator)}`);
        }
      }
    });

    test('drops per variant: a SEARCH over GateDrops by the gate\'s Model, Variant and Gate dimensions, this model only', () => {
      const rows = metricsOf(graph(body, `${modelId}: drops per variant by gate (1 min)`));
      expect(rows).toHaveLength(1);
      const read = searchedSeries(rows[0]!.options.expression!);
      expect(read).toEqual({ namespace: ns, key: `${METRIC.gateDrops}|${[DIMENSION.model, DIMENSION.variant, DIMENSION.gate].sort().join(',')}`, values: { [DIMENSION.model]: modelId } });
      expect(rows[0]!.options.period).toBe(60);
    });
  });

  test('no model row reads another model\'s series', () => {
    for (const modelId of models) {
      const own = body.widgets.filter((w) => w.properties.title?.startsWith(`${modelId}: `)).flatMap(metricsOf);
      for (const m of own.filter((r) => r.metricName !== undefined)) expect(m.dimensions[DIMENSION.model]).toBe(modelId);
    }
  });

  test('ingest: the gate\'s batch totals and drops by gate and reason, named by the gate\'s constants, 5-minute sums', () => {
    const totals = graph(body, 'Gate: records in and outcomes (5 min)');
    expect(totals.properties.period).toBe(300);
    expect(metricsOf(totals).map((m) => [m.namespace, m.metricName, m.dimensions, m.options.stat])).toEqual(
      [METRIC.recordsIn, METRIC.tracesDelivered, METRIC.tracesDiscarded, METRIC.recordsFailed, METRIC.duplicatesDropped].map((n) => [ns, n, { [DIMENSION.stage]: stage }, 'Sum']),
    );
    const drops = metricsOf(graph(body, 'Gate: drops by gate and reason (5 min)'));
    expect(drops).toHaveLength(1);
    expect(drops[0]!.options.expression).toBe(`SEARCH('{"${ns}","${DIMENSION.gate}","${DIMENSION.reason}"} MetricName="${METRIC.gateDrops}"', 'Sum', 300)`);
    expect(searchedSeries(drops[0]!.options.expression!)).toEqual({ namespace: ns, key: `${METRIC.gateDrops}|${[DIMENSION.gate, DIMENSION.reason].sort().join(',')}`, values: {} });
    // Dynamic labels name each series by its dimension values.
    expect(drops[0]!.options.label).toBe(`\${PROP('Dim.${DIMENSION.gate}')}: \${PROP('Dim.${DIMENSION.reason}')}`);
  });

  test('ingest: Firehose delivery of the data stack\'s trace stream, through its export', () => {
    const rows = ['Firehose: Iceberg delivery (5 min)', 'Firehose: gate invocations (5 min)'].flatMap((t) => metricsOf(graph(body, t)));
    expect(rows.map((r) => r.metricName)).toEqual([
      'IncomingRecords',
      'DeliveryToIceberg.SuccessfulRowCount',
      'DeliveryToIceberg.FailedRowCount',
      'DeliveryToIceberg.DataFreshness',
      'ExecuteProcessing.Success',
      'ExecuteProcessing.Duration',
    ]);
    const streamNames = new Set(rows.map((r) => r.dimensions.DeliveryStreamName));
    expect(streamNames.size).toBe(1);
    for (const r of rows) expect(Object.keys(r.dimensions)).toEqual(['DeliveryStreamName']);
    for (const r of rows) expect(r.namespace).toBe('AWS/Firehose');
    const exportName = /^<Import:(.+)>$/.exec([...streamNames][0]!)?.[1];
    const exported = Object.values(dataTemplate.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>).find((o) => o.Export?.Name === exportName);
    expect(exported?.Value).toEqual({ Ref: PINNED_LOGICAL_IDS.traceStream });
  });

  test('pipeline: executions by outcome of the training, rollout and game-day state machines, daily sums over 35 days', () => {
    for (const [title, machine] of [
      ['Training pipeline executions (per day)', loopStack.pipeline.stateMachine],
      ['Canary rollout executions (per day)', loopStack.rollout.stateMachine],
      ['Game day executions (per day)', loopStack.rollout.gameDayStateMachine],
    ] as const) {
      const widget = graph(body, title);
      expect(widget.properties.start).toBe('-P35D');
      expect(metricsOf(widget).map((m) => [m.namespace, m.metricName, m.dimensions, m.options.stat, m.options.period])).toEqual(
        ['ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map((n) => ['AWS/States', n, { StateMachineArn: `<Ref:${logicalIdOf(loopStack, machine)}>` }, 'Sum', 86_400]),
      );
    }
  });

  test('pipeline: the GPU budget\'s used share (the alarm\'s metric, daily maximum) with the alarm threshold and the ceiling', () => {
    const widget = graph(body, 'GPU budget: used share of the monthly ceiling (per day)');
    expect(metricsOf(widget).map((m) => [m.namespace, m.metricName, m.dimensions, m.options.stat, m.options.period])).toEqual([
      [ns, BUDGET_METRIC.usedFraction, { [BUDGET_DIMENSION.stage]: stage }, 'Maximum', 86_400],
    ]);
    expect((widget.properties.annotations?.horizontal ?? []).map((a) => a.value)).toEqual([config.gpuBudget.alarmAtFraction, 1]);
  });

  test(`rollback: RollbackSeconds and GameDayRollbackSeconds per model against the configured ${config.canary.gameDay.maxRollbackSeconds} s bound`, () => {
    const widget = graph(body, 'Rollback seconds, breach to verified (per day, max)');
    expect(metricsOf(widget).map((m) => [m.namespace, m.metricName, m.dimensions, m.options.stat])).toEqual(
      models.flatMap((m) => [ROLLOUT_METRIC.rollbackSeconds, ROLLOUT_METRIC.gameDayRollbackSeconds].map((n) => [ns, n, { [ROLLOUT_DIMENSION.model]: m, [ROLLOUT_DIMENSION.stage]: stage }, 'Maximum'])),
    );
    const annotations = widget.properties.annotations?.horizontal ?? [];
    expect(annotations.map((a) => a.value)).toEqual([config.canary.gameDay.maxRollbackSeconds, config.canary.gameDay.targetRollbackSeconds]);
    expect(annotations[0]!.label).toContain('maxRollbackSeconds');
    const rollbacks = metricsOf(graph(body, 'Promotions and rollbacks (per day)'));
    const searched = rollbacks.filter((r) => r.options.expression !== undefined).map((r) => searchedSeries(r.options.expression!));
    expect(searched).toEqual([{ namespace: ns, key: `${ROLLOUT_METRIC.rollbacks}|${[ROLLOUT_DIMENSION.stage, ROLLOUT_DIMENSION.model, ROLLOUT_DIMENSION.by].sort().join(',')}`, values: { [ROLLOUT_DIMENSION.stage]: stage } }]);
  });

  test('every namespace is the stage\'s or an AWS service\'s', () => {
    const namespaces = new Set(body.widgets.flatMap(metricsOf).flatMap((m) => (m.namespace === undefined ? [] : [m.namespace])));
    expect([...namespaces].sort()).toEqual(['AWS/Firehose', 'AWS/States', ns].sort());
    for (const e of body.widgets.flatMap(metricsOf).flatMap((m) => (m.options.expression?.startsWith('SEARCH') === true ? [m.options.expression] : []))) {
      expect(searchedSeries(e).namespace).toBe(ns);
    }
  });

  test('outputs the dashboard URL in the stage\'s region', () => {
    loopTemplate.hasOutput('DashboardUrl', {
      Value: { 'Fn::Join': ['', [`https://${config.region}.console.aws.amazon.com/cloudwatch/home?region=${config.region}#dashboards/dashboard/`, { Ref: logicalIdOf(loopStack, loopStack.observability.dashboard) }]] },
      Description: `CloudWatch dashboard sial-${stage}: canary alarms and signals per model, per-agent traffic, cost, SLO and reports, ingest, pipeline executions, GPU budget, rollback seconds`,
    });
  });
});

describe('configuration reaches the dashboard', () => {
  const base = loadStageConfig('prod-eu');
  const config: StageConfig = {
    ...base,
    canary: {
      ...base.canary,
      alarms: { ...base.canary.alarms, periodSeconds: 30, faithfulnessDrop: 0.07 },
      gameDay: { ...base.canary.gameDay, maxRollbackSeconds: 240, targetRollbackSeconds: 60 },
    },
  };
  const { loopStack } = buildTestApp('prod-eu', { config });
  const { body } = dashboardOf(Template.fromStack(loopStack));
  const modelId = config.targetModels[0]!.id;

  test('the game-day annotations are the configured bound and target', () => {
    const widget = graph(body, 'Rollback seconds, breach to verified (per day, max)');
    expect((widget.properties.annotations?.horizontal ?? []).map((a) => a.value)).toEqual([240, 60]);
  });

  test('the canary rows follow canary.alarms: period and threshold', () => {
    const widget = graph(body, `${modelId}: faithfulness (30 s)`);
    for (const m of metricsOf(widget)) expect(m.options.period).toBe(30);
    expect((widget.properties.annotations?.horizontal ?? []).map((a) => a.value)).toEqual([0.07]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Construct validation

describe('Observability props', () => {
  const config = loadStageConfig('dev');
  function build(overrides: Partial<ObservabilityProps> & { alarmModels?: string[]; alarmPeriodSeconds?: number } = {}): () => Observability {
    const app = bareApp();
    const stack = new Stack(app, 'S', { env: { region: 'eu-central-1' } });
    const key = new kms.Key(stack, 'Key');
    const table = new dynamodb.Table(stack, 'Ledger', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
    });
    const budget = new GpuBudget(stack, 'Budget', { stage: 'dev', gpuBudget: config.gpuBudget, ledgerTable: table, metricsNamespace: 'Ns', alarmTopic: new sns.Topic(stack, 'Topic') });
    const canaryAlarms = new CanaryAlarms(stack, 'Alarms', {
      stage: 'dev',
      metricsNamespace: 'Ns',
      targetModelIds: overrides.alarmModels ?? ['m1'],
      alarms: { ...config.canary.alarms, periodSeconds: overrides.alarmPeriodSeconds ?? config.canary.alarms.periodSeconds },
    });
    const topic = new sns.Topic(stack, 'AgentTopic');
    const slos = agentSlos([{ id: 'a1', latencySloMs: 500 }]);
    const agentAlarms = new AgentOperationsAlarms(stack, 'AgentAlarms', { stage: 'dev', metricsNamespace: 'Ns', slos, costAnomalyStdDevs: 2, sloTopic: topic, costTopic: topic });
    const machine = (id: string): sfn.IStateMachine => sfn.StateMachine.fromStateMachineArn(stack, id, `arn:aws:states:eu-central-1:123456789012:stateMachine:${id}`);
    const { alarmModels: _models, alarmPeriodSeconds: _period, ...props } = overrides;
    return () =>
      new Observability(stack, 'Observability', {
        stage: 'dev',
        metricsNamespace: 'Ns',
        targetModelIds: ['m1'],
        canary: config.canary,
        canaryAlarms,
        budget,
        stateMachines: { trainingPipeline: machine('T'), rollout: machine('R'), gameDay: machine('G') },
        traceDeliveryStreamName: 'stream',
        agents: { slos, alarms: agentAlarms, costAnomalyStdDevs: 2, defaultSlo: { percentile: 'p95', targetMs: 3000 }, models: ['m1'], reportsUri: 's3://bucket/reports/' },
        ...props,
      });
  }

  test('builds with consistent props, named sial-<stage> unless told', () => {
    expect(build()().dashboardName).toBe('sial-dev');
    expect(build({ dashboardName: 'custom_name-1' })().dashboardName).toBe('custom_name-1');
  });

  test('refuses a target model the alarms do not cover', () => {
    expect(build({ targetModelIds: ['m1', 'm2'] })).toThrow('Observability: target model m2 has no canary alarms (the alarms cover m1); expected the same target models');
  });

  test('refuses no target model', () => {
    expect(build({ targetModelIds: [] })).toThrow('Observability: targetModelIds is empty; expected at least one target model');
  });

  test('refuses canary settings from another configuration than the alarms', () => {
    expect(build({ alarmPeriodSeconds: 30 })).toThrow(`Observability: the canary alarms use 30 s periods but canary.alarms.periodSeconds is ${config.canary.alarms.periodSeconds}; expected both from the same configuration`);
  });

  test('refuses a game-day target above its bound', () => {
    expect(build({ canary: { ...config.canary, gameDay: { ...config.canary.gameDay, maxRollbackSeconds: 60, targetRollbackSeconds: 90 } } })).toThrow(
      'Observability: game-day target 90 s and bound 60 s; expected 0 < target <= bound',
    );
  });

  test('refuses a namespace that could break out of a SEARCH string, and a name CloudWatch refuses', () => {
    expect(build({ metricsNamespace: "Ns') OR ('" })).toThrow('has characters CloudWatch does not allow in a namespace');
    expect(build({ dashboardName: 'has space' })).toThrow('Observability: dashboard name "has space" is not 1-255 letters, digits, dashes or underscores');
  });
});

// ---------------------------------------------------------------------------------------------------
// The names against the EMF the Lambdas print

/** A day's report figures: one listed agent's report with a regression, and its score on one model. */
function reportFigures(agentId: string, model: string): ReportFigures {
  const regression = { dimension: 'error_rate', baseline: 0.01, current: 0.1, delta_pp: 9, affected_trace_ids: [], hypothesized_cause: 'no change in serving' } as const;
  const score = { agent_id: agentId, model, score: 0.8, global_score: 0.7, observed_rate: 0.8, feedback_count: 60, weight: 1, idle_days: 0, divergence_pp: 10, needs_review: false, last_feedback_at: '2026-12-03T00:00:00Z' };
  return { regressions: [{ target: agentId, window: { baseline: 'b', current: 'c' }, regressions: [regression] }], confidence: [score] };
}

const reward = (value: number, groundedness: number): Reward => ({ reward: value, policyVersion: 'v1', components: { feedback: null, errors: 1, latency: 1, groundedness, judge: null } });

/** A batch with both variants of a model, a discard, a malformed record and an agent. */
function publishGateBatch(metrics: Metrics, modelId: string, stage: string): void {
  const report = newBatchReport(4);
  const current = makeTrace({ model: { family: 'qwen3', name: modelId, version: '1', variant: CANARY_VARIANTS.current }, route: { tier: 'm', misrouted: false } });
  const candidate = makeTrace({ model: { family: 'qwen3', name: modelId, version: '2', variant: CANARY_VARIANTS.candidate }, route: { tier: 'm', misrouted: true } });
  const dropped = makeTrace({ model: { family: 'qwen3', name: modelId, version: '2', variant: CANARY_VARIANTS.candidate } });
  for (const t of [current, candidate, dropped]) countTraceIn(report, t);
  countKept(report, current, reward(0.8, 0.9));
  countKept(report, candidate, reward(0.6, 0.7));
  // What the handler counts for each kept trace: the agent's latency value and cost (SLO and cost alarms).
  countOperating(report, current.agent_id, 420, 0.002);
  countDiscard(report, dropped, { gate: 'consent', reason: 'missing_consent: none' });
  countFailure(report, 'invalid_json: the record is not valid JSON');
  publishBatchMetrics(metrics, report, { agents: new Set([current.agent_id]), targetModels: new Set([modelId]) }, stage);
  // The batch totals: what the handler's logMetrics middleware flushes at the end of the invocation.
  metrics.publishStoredMetrics();
}

describe('the dashboard reads what the Lambdas publish', () => {
  const stage = 'dev';
  const config = loadStageConfig(stage);
  const { loopTemplate } = synthesizedStage(stage);
  const read = readSeries(dashboardOf(loopTemplate).body, config.metricsNamespace);
  const modelId = config.targetModels[0]!.id;
  const gateNames = new Set<string>(Object.values(METRIC));
  const gateRead = [...read].filter((s) => gateNames.has(s.split('|')[0]!));
  // The gate's function sets POWERTOOLS_SERVICE_NAME (lib/constructs/trace-gate-function.ts).
  const gateService = 'trace-gate';

  test('reads gate, budget, rollout and report series only', () => {
    const known = new Set<string>([...Object.values(METRIC), ...Object.values(BUDGET_METRIC), ...Object.values(ROLLOUT_METRIC), ...Object.values(REPORT_METRIC)]);
    for (const s of read) expect(known.has(s.split('|')[0]!)).toBe(true);
    expect(gateRead.length).toBeGreaterThan(10);
  });

  test('every budget, rollout and report series it reads is printed with exactly those dimensions', () => {
    const emitted = emittedSeries(config.metricsNamespace, 'pipeline-record-gpu-hours', (metrics) => {
      publishBudgetMetrics(metrics, { stage, usedGpuHours: 10, ceilingGpuHours: 100 });
      publishRollbackSeconds(metrics, ROLLOUT_METRIC.rollbackSeconds, stage, modelId, 42);
      publishRollbackSeconds(metrics, ROLLOUT_METRIC.gameDayRollbackSeconds, stage, modelId, 42);
      publishRollback(metrics, stage, modelId, 'alarm');
      publishPromotion(metrics, stage, modelId);
      publishReportMetrics(metrics, stage, reportFigures(config.agents[0]!.id, modelId), { agents: new Set([config.agents[0]!.id]), models: new Set([modelId]) });
    });
    const others = [...read].filter((s) => !gateNames.has(s.split('|')[0]!));
    expect(others.length).toBeGreaterThan(0);
    for (const s of others) expect({ series: s, emitted: emitted.has(s) }).toEqual({ series: s, emitted: true });
  });

  // The canary alarms read the same series: a default `service` dimension on the gate's documents
  // (Powertools adds one unless cleared) would leave them without data; this test guards that.
  test('every gate series it reads is printed with exactly those dimensions (the canary alarms read the same)', () => {
    const emitted = emittedSeries(config.metricsNamespace, gateService, (metrics) => publishGateBatch(metrics, modelId, stage));
    for (const s of gateRead) expect({ series: s, emitted: emitted.has(s) }).toEqual({ series: s, emitted: true });
  });
});
