/**
 * The per-agent sections of the stage dashboard (lib/constructs/agent-dashboard.ts), read from the
 * synthesized DashboardBody of every stage: one section per listed agent whose latency and cost graphs
 * read exactly what its SLO and cost alarms judge (metric, statistic, period, threshold, band), whose
 * status widget names both alarms and whose report graphs read the report function's series; then the
 * `unlisted` section, which is also all a stage without agents shows; and the body within CloudWatch's
 * limits, refused at synth beyond them.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { loadStageConfig } from '../../config';
import { agentSlos, SLO_PERCENTILES } from '../../config/operations';
import type { StageConfig } from '../../config/schema';
import { DIMENSION, METRIC, UNLISTED_AGENT } from '../../lambdas/gate-score/publish-metrics';
import { REPORT_DIMENSION, REPORT_METRIC } from '../../lambdas/operations/report-metrics';
import { agentSections } from '../../lib/constructs/agent-dashboard';
import { AgentOperationsAlarms } from '../../lib/constructs/agent-operations-alarms';
import { MAX_DASHBOARD_WIDGETS } from '../../lib/constructs/private/dashboard-layout';
import { STAGE_NAMES, bareApp, buildTestApp, resourcesOfType, synthesizedStage } from '../helpers/app';
import { dashboardOf, graph, logicalIdOf, metricsOf, type DashboardBody, type ReadMetric, type Widget } from '../helpers/dashboard-body';

type AlarmProps = {
  AlarmName: string;
  Namespace?: string;
  MetricName?: string;
  Dimensions?: Array<{ Name: string; Value: string }>;
  ExtendedStatistic?: string;
  Period?: number;
  Threshold?: number;
  Metrics?: Array<{ Id: string; Expression?: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: string }> }; Period: number; Stat: string } }>;
};

function alarmNamed(template: Template, name: string): AlarmProps {
  const found = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties as AlarmProps).filter((p) => p.AlarmName === name);
  expect({ name, count: found.length }).toEqual({ name, count: 1 });
  return found[0]!;
}

const dims = (list: ReadonlyArray<{ Name: string; Value: string }>): Record<string, string> => Object.fromEntries(list.map((d) => [d.Name, d.Value]));
/** CloudWatch graphs a metric without a period of its own at 300 s (CDK leaves that default out of the body). */
const periodOf = (m: ReadMetric): number => m.options.period ?? 300;
const sorted = (d: Record<string, string>): string => JSON.stringify(Object.fromEntries(Object.entries(d).sort(([a], [b]) => a.localeCompare(b))));
const series = (m: ReadMetric): string => `${m.metricName}|${sorted(m.dimensions)}|${m.options.stat}|${periodOf(m)}`;

function headings(body: DashboardBody, prefix: string): Widget[] {
  return body.widgets.filter((w) => w.type === 'text' && w.properties.markdown?.startsWith(prefix) === true);
}

/** The stage's agent-section titles of one listed agent. */
function listedTitles(agentId: string, percentile: string): string[] {
  return [
    `${agentId}: traces (5 min)`,
    `${agentId}: ${percentile} latency against its SLO (5 min)`,
    `${agentId}: daily cost (USD) and expected band`,
    `${agentId}: SLO and cost alarms`,
    `${agentId}: regressions in the daily report`,
    `${agentId}: confidence per model (daily report)`,
  ];
}

describe.each(STAGE_NAMES)('agent sections of the %s dashboard', (stage) => {
  const config = loadStageConfig(stage);
  const { loopStack, loopTemplate } = synthesizedStage(stage);
  const { body } = dashboardOf(loopTemplate);
  const ns = config.metricsNamespace;
  const models = [...new Set([...config.targetModels.map((m) => m.id), ...Object.keys(config.operations.modelPrices)])].sort();

  test('one section per listed agent, in the stage\'s order, after the canary rows and before ingest', () => {
    const sections = headings(body, '## Agent: ');
    expect(sections.map((w) => w.properties.markdown!.split('\n')[0])).toEqual(config.agents.map((a) => `## Agent: ${a.id}`));
    const lastCanary = Math.max(...headings(body, '## Canary: ').map((w) => w.y));
    const ingest = headings(body, '# Ingest')[0]!.y;
    for (const w of [...sections, ...headings(body, '## Agents the stage does not list')]) {
      expect(w.y).toBeGreaterThan(lastCanary);
      expect(w.y).toBeLessThan(ingest);
    }
  });

  describe.each(config.agents.map((a) => [a.id, a.latencySloPercentile ?? 'p95', a.latencySloMs] as const))('agent %s (%s <= %d ms)', (agentId, percentile, targetMs) => {
    const widgets = (): Widget[] => body.widgets.filter((w) => w.properties.title?.startsWith(`${agentId}: `) === true);

    test('has its six widgets and names its alarms and report files in the heading', () => {
      expect(widgets().map((w) => w.properties.title)).toEqual(listedTitles(agentId, percentile));
      const text = headings(body, `## Agent: ${agentId}\n`)[0]!.properties.markdown!;
      expect(text).toContain(`sial-${stage}-slo-${agentId}`);
      expect(text).toContain(`sial-${stage}-cost-${agentId}`);
      expect(text).toContain(`/reports/<date>/regressions-${agentId}.json`);
    });

    test('traffic: the gate\'s per-agent TracesIn, TracesKept and TracesDiscarded, 5-minute sums', () => {
      const read = metricsOf(graph(body, `${agentId}: traces (5 min)`));
      expect(read.map((m) => [m.namespace, m.metricName, m.dimensions, m.options.stat, periodOf(m)])).toEqual(
        [METRIC.tracesIn, METRIC.tracesKept, METRIC.tracesDiscarded].map((name) => [ns, name, { [DIMENSION.agent]: agentId }, 'Sum', 300]),
      );
    });

    test('latency: the SLO alarm\'s own metric and percentile, its threshold (the SLO) as the annotation', () => {
      const alarm = alarmNamed(loopTemplate, `sial-${stage}-slo-${agentId}`);
      expect({ stat: alarm.ExtendedStatistic, threshold: alarm.Threshold }).toEqual({ stat: percentile, threshold: targetMs });
      const widget = graph(body, `${agentId}: ${percentile} latency against its SLO (5 min)`);
      const [latency, ...others] = metricsOf(widget);
      expect(others).toEqual([]);
      expect(latency).toEqual(expect.objectContaining({ namespace: alarm.Namespace, metricName: alarm.MetricName, dimensions: dims(alarm.Dimensions!) }));
      expect({ stat: latency!.options.stat, period: periodOf(latency!) }).toEqual({ stat: alarm.ExtendedStatistic, period: alarm.Period });
      expect((widget.properties.annotations?.horizontal ?? []).map((a) => a.value)).toEqual([targetMs]);
    });

    test('cost: the cost alarm\'s daily sum and its anomaly band expression', () => {
      const alarm = alarmNamed(loopTemplate, `sial-${stage}-cost-${agentId}`);
      const alarmCost = alarm.Metrics!.find((m) => m.MetricStat !== undefined)!;
      const alarmBand = alarm.Metrics!.find((m) => m.Expression !== undefined)!;
      const read = metricsOf(graph(body, `${agentId}: daily cost (USD) and expected band`));
      const cost = read.filter((m) => m.metricName === METRIC.costUsd);
      expect(cost).toHaveLength(1);
      expect(cost[0]).toEqual(expect.objectContaining({ namespace: alarmCost.MetricStat!.Metric.Namespace, dimensions: dims(alarmCost.MetricStat!.Metric.Dimensions) }));
      expect({ stat: cost[0]!.options.stat, period: periodOf(cost[0]!) }).toEqual({ stat: alarmCost.MetricStat!.Stat, period: alarmCost.MetricStat!.Period });
      // The band reads the graph's cost series by its id, as the alarm's reads its own.
      const band = read.filter((m) => m.options.expression !== undefined);
      expect(band.map((m) => m.options.expression!.replace(cost[0]!.options.id ?? '<no id>', alarmCost.Id))).toEqual([alarmBand.Expression]);
      expect(alarmBand.Expression).toBe(`ANOMALY_DETECTION_BAND(${alarmCost.Id}, ${config.operations.costAnomalyStdDevs})`);
    });

    test('status: the SLO alarm and the cost alarm, by ARN', () => {
      const status = graph(body, `${agentId}: SLO and cost alarms`);
      const slo = logicalIdOf(loopStack, loopStack.agentAlarms.sloAlarms.get(agentId)!);
      const cost = loopStack.getLogicalId(loopStack.agentAlarms.costAlarms.get(agentId)!);
      expect(status.type).toBe('alarm');
      expect(status.properties.alarms).toEqual([`<GetAtt:${slo}.Arn>`, `<GetAtt:${cost}.Arn>`]);
    });

    test('reports: the report function\'s Regressions of the agent and its ConfidenceScore on every stage model, daily maxima over 35 days', () => {
      const regressions = graph(body, `${agentId}: regressions in the daily report`);
      expect(metricsOf(regressions).map(series)).toEqual([`${REPORT_METRIC.regressions}|${sorted({ [REPORT_DIMENSION.stage]: stage, [REPORT_DIMENSION.agent]: agentId })}|Maximum|86400`]);
      const confidence = graph(body, `${agentId}: confidence per model (daily report)`);
      expect(metricsOf(confidence).map(series)).toEqual(
        models.map((model) => `${REPORT_METRIC.confidence}|${sorted({ [REPORT_DIMENSION.stage]: stage, [REPORT_DIMENSION.agent]: agentId, [REPORT_DIMENSION.model]: model })}|Maximum|86400`),
      );
      for (const w of [regressions, confidence]) expect(w.properties.start).toBe('-P35D');
      for (const m of [...metricsOf(regressions), ...metricsOf(confidence)]) expect(m.namespace).toBe(ns);
    });
  });

  test(`the ${UNLISTED_AGENT} section: traffic, latency at p95 against defaultLatencySloMs (no alarm), cost without a band, regressions`, () => {
    expect(headings(body, `## Agents the stage does not list (\`${UNLISTED_AGENT}\`)\n`)).toHaveLength(1);
    const widgets = body.widgets.filter((w) => w.properties.title?.startsWith(`${UNLISTED_AGENT}: `) === true);
    expect(widgets.map((w) => w.properties.title)).toEqual([`${UNLISTED_AGENT}: traces (5 min)`, `${UNLISTED_AGENT}: p95 latency against the default SLO (5 min)`, `${UNLISTED_AGENT}: daily cost (USD)`, `${UNLISTED_AGENT}: regressions in the daily report`]);
    for (const m of widgets.flatMap(metricsOf)) expect(m.dimensions[DIMENSION.agent]).toBe(UNLISTED_AGENT);
    const latency = graph(body, `${UNLISTED_AGENT}: p95 latency against the default SLO (5 min)`);
    expect(metricsOf(latency).map(series)).toEqual([`${METRIC.latencyMs}|${sorted({ [DIMENSION.agent]: UNLISTED_AGENT })}|p95|300`]);
    expect((latency.properties.annotations?.horizontal ?? []).map((a) => a.value)).toEqual([config.defaultLatencySloMs]);
    expect(metricsOf(graph(body, `${UNLISTED_AGENT}: daily cost (USD)`)).map((m) => m.options.expression)).toEqual([undefined]);
    expect(alarmNamesOf(loopTemplate).filter((n) => n.endsWith(`-${UNLISTED_AGENT}`))).toEqual([]);
  });

  test('stays within CloudWatch\'s limits: 500 widgets, 500 metrics per widget, 2,500 metrics in all', () => {
    expect(body.widgets.length).toBeLessThanOrEqual(MAX_DASHBOARD_WIDGETS);
    const perWidget = body.widgets.map((w) => (w.properties.metrics ?? []).length);
    expect(Math.max(...perWidget)).toBeLessThanOrEqual(500);
    expect(perWidget.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2500);
    // Well under CloudFormation's template size, of which the body is one property.
    expect(JSON.stringify(body).length).toBeLessThan(200_000);
  });
});

function alarmNamesOf(template: Template): string[] {
  // Names CloudFormation generates are tokens, never an agent's alarm.
  return resourcesOfType(template, 'AWS::CloudWatch::Alarm').flatMap(([, r]) => {
    const name = (r.Properties as { AlarmName?: unknown }).AlarmName;
    return typeof name === 'string' ? [name] : [];
  });
}

describe('a stage that lists no agent', () => {
  const base = loadStageConfig('prod-eu');
  const config: StageConfig = { ...base, agents: [] };
  const { loopStack } = buildTestApp('prod-eu', { config });
  const template = Template.fromStack(loopStack);
  const { body } = dashboardOf(template);

  test('shows the unlisted section only: every agent\'s traffic is there, with no alarm of its own', () => {
    expect(headings(body, '## Agent: ')).toEqual([]);
    expect(headings(body, '## Agents the stage does not list')).toHaveLength(1);
    expect(body.widgets.filter((w) => w.type === 'alarm').map((w) => w.properties.title)).toEqual(['Canary composite alarms and GPU budget', 'Canary signals (child alarms)']);
    expect(alarmNamesOf(template).filter((n) => /-(slo|cost)-/.test(n))).toEqual([]);
  });
});

describe('agentSections', () => {
  test('refuses an agent whose alarms were built for other agents', () => {
    const stack = new Stack(bareApp(), 'S');
    const topic = new sns.Topic(stack, 'Topic');
    const alarms = new AgentOperationsAlarms(stack, 'Alarms', { stage: 'dev', metricsNamespace: 'Ns', slos: agentSlos([{ id: 'a1', latencySloMs: 500 }]), costAnomalyStdDevs: 2, sloTopic: topic, costTopic: topic });
    const props = { stage: 'dev', metricsNamespace: 'Ns', alarms, costAnomalyStdDevs: 2, defaultSlo: { percentile: 'p95', targetMs: 3000 }, models: ['m1'], reportsUri: 's3://b/reports/' } as const;
    expect(agentSections({ ...props, slos: agentSlos([{ id: 'a1', latencySloMs: 500 }]) }).length).toBeGreaterThan(0);
    expect(() => agentSections({ ...props, slos: agentSlos([{ id: 'a1', latencySloMs: 500 }, { id: 'a2', latencySloMs: 500 }]) })).toThrow(
      'Observability: agent a2 has no SLO or cost alarm; expected the agent alarms of the same agents',
    );
  });
});

describe('a stage with more agents than the dashboard can hold', () => {
  const base = loadStageConfig('prod-eu');
  // Seven widgets per agent: 500 widgets are passed before 80 agents.
  const agents = Array.from({ length: 80 }, (_, i) => ({ id: `agent-${i}`, latencySloMs: 1000, latencySloPercentile: SLO_PERCENTILES[i % SLO_PERCENTILES.length]! }));

  test('is refused at synth, naming the count and the limit', () => {
    expect(() => buildTestApp('prod-eu', { config: { ...base, agents } })).toThrow(/Observability: the dashboard would have \d+ widgets \(\d+ target models, 80 agents\); CloudWatch allows 500/);
  });
});
