/**
 * The canary alarms: per stage and target model, metric math over the gate's per-variant metrics
 * (the names publish-metrics.ts emits), thresholds, period and evaluation from config, missing data not
 * breaching, and one composite alarm per model named as the rollback Lambda expects.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import { DEFAULT_CANARY } from '../../config/governance-defaults';
import type { CanaryConfig } from '../../config/schema';
import { DIMENSION, METRIC } from '../../lambdas/gate-score/publish-metrics';
import { canaryAlarmName, targetModelOfCanaryAlarm } from '../../lambdas/pipeline/settings';
import { CANARY_SIGNALS, CANARY_VARIANTS, CanaryAlarms, DRILL_SIGNAL, canarySignalAlarmName, type CanarySignal } from '../../lib/constructs/canary-alarms';
import { STAGE_NAMES, bareApp, loopTemplate, resourcesOfType } from '../helpers/app';

type MetricQuery = { Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: string }> }; Period: number; Stat: string } };
type AlarmProps = { AlarmName: string; Metrics: MetricQuery[]; Threshold: number; ComparisonOperator: string; EvaluationPeriods: number; DatapointsToAlarm: number; TreatMissingData: string; ActionsEnabled: boolean; AlarmDescription: string };

function alarmsOf(template: Template): Record<string, AlarmProps> {
  return Object.fromEntries(resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, r]) => [(r.Properties as AlarmProps).AlarmName, r.Properties as AlarmProps]));
}

/** The metric queries of an alarm by id: `{ id: "Namespace/MetricName Model=.. Variant=.. Stat/Period" }` and the expression. */
function queries(alarm: AlarmProps): { expression: string; metrics: Record<string, string> } {
  const expressions = alarm.Metrics.filter((m) => m.Expression !== undefined);
  expect(expressions).toHaveLength(1);
  expect(expressions[0]!.ReturnData).toBe(true);
  const metrics = Object.fromEntries(
    alarm.Metrics.filter((m) => m.MetricStat !== undefined).map((m) => {
      expect(m.ReturnData).toBe(false);
      const { Metric, Period, Stat } = m.MetricStat!;
      const dims = Metric.Dimensions.map((d) => `${d.Name}=${d.Value}`).join(' ');
      return [m.Id, `${Metric.Namespace}/${Metric.MetricName} ${dims} ${Stat}/${Period}`];
    }),
  );
  return { expression: expressions[0]!.Expression!, metrics };
}

describe.each(STAGE_NAMES)('canary alarms of %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = loopTemplate(stage);
  const alarms = alarmsOf(template);
  const a = config.canary.alarms;
  const ns = config.metricsNamespace;

  test.each(config.targetModels.map((m) => m.id))('%s: four metric-math alarms on its candidate and current variants, with the configured thresholds', (model) => {
    const m = (name: string, variant: keyof typeof CANARY_VARIANTS): string => `${ns}/${name} ${DIMENSION.model}=${model} ${DIMENSION.variant}=${CANARY_VARIANTS[variant]} Sum/${a.periodSeconds}`;
    const min = a.minTracesPerPeriod;
    const expected: Record<CanarySignal, { expression: string; metrics: Record<string, string>; threshold: number; operator: string }> = {
      faithfulness: {
        expression: `IF(candScored >= ${min} AND curScored >= ${min}, curSum / curScored - candSum / candScored, 0)`,
        metrics: { candSum: m(METRIC.groundednessSum, 'candidate'), candScored: m(METRIC.groundednessScored, 'candidate'), curSum: m(METRIC.groundednessSum, 'current'), curScored: m(METRIC.groundednessScored, 'current') },
        threshold: a.faithfulnessDrop,
        operator: 'GreaterThanOrEqualToThreshold',
      },
      misroute: {
        expression: `IF(candRouted >= ${min} AND curRouted >= ${min}, candMisrouted / candRouted - curMisrouted / curRouted, 0)`,
        metrics: { candMisrouted: m(METRIC.misroutedTraces, 'candidate'), candRouted: m(METRIC.routedTraces, 'candidate'), curMisrouted: m(METRIC.misroutedTraces, 'current'), curRouted: m(METRIC.routedTraces, 'current') },
        threshold: a.misrouteRise,
        operator: 'GreaterThanOrEqualToThreshold',
      },
      errors: {
        expression: 'IF(candKept > 0, candErrors / candKept, 0)',
        metrics: { candErrors: m(METRIC.errorTraces, 'candidate'), candKept: m(METRIC.tracesKept, 'candidate') },
        threshold: a.maxErrorRate,
        operator: 'GreaterThanThreshold',
      },
      latency: {
        expression: 'IF(candMeasured > 0, candLatencySum / candMeasured, 0)',
        metrics: { candLatencySum: m(METRIC.latencyMsSum, 'candidate'), candMeasured: m(METRIC.latencyMeasured, 'candidate') },
        threshold: a.maxMeanLatencyMs,
        operator: 'GreaterThanThreshold',
      },
    };
    for (const signal of CANARY_SIGNALS) {
      const alarm = alarms[canarySignalAlarmName(stage, model, signal)];
      expect({ signal, found: alarm !== undefined }).toEqual({ signal, found: true });
      expect({ signal, ...queries(alarm!) }).toEqual({ signal, expression: expected[signal].expression, metrics: expected[signal].metrics });
      expect({ signal, alarm }).toMatchObject({
        signal,
        alarm: {
          Threshold: expected[signal].threshold,
          ComparisonOperator: expected[signal].operator,
          EvaluationPeriods: a.evaluationPeriods,
          DatapointsToAlarm: a.datapointsToAlarm,
          TreatMissingData: 'notBreaching',
          // The composite carries the actions; a child only feeds it.
          ActionsEnabled: false,
        },
      });
    }
  });

  test(`periods are ${a.periodSeconds} s: high resolution over the gate's 1-second per-variant metrics`, () => {
    expect(DEFAULT_CANARY.alarms.periodSeconds).toBe(10);
    // The canary alarms are named after their target model (the per-agent alarms share the stage prefix).
    const canary = Object.values(alarms).filter((al) => config.targetModels.some((m) => al.AlarmName?.startsWith(`sial-${stage}-${m.id}-`)));
    expect(canary).toHaveLength(config.targetModels.length * CANARY_SIGNALS.length);
    for (const alarm of canary) {
      for (const q of alarm.Metrics.filter((mq) => mq.MetricStat !== undefined)) expect(q.MetricStat!.Period).toBe(a.periodSeconds);
      // CloudWatch allows at most 10 metrics in an alarm's math.
      expect(alarm.Metrics.filter((mq) => mq.MetricStat !== undefined).length).toBeLessThanOrEqual(10);
    }
  });

  test('one composite alarm per model, named sial-<stage>-<model>-canary, ALARM when any signal is in ALARM', () => {
    const composites = resourcesOfType(template, 'AWS::CloudWatch::CompositeAlarm').map(([, r]) => r.Properties as { AlarmName: string; AlarmRule: unknown; ActionsEnabled?: boolean });
    expect(composites.map((c) => c.AlarmName).sort()).toEqual(config.targetModels.map((m) => canaryAlarmName(stage, m.id)).sort());
    const ids = Object.fromEntries(resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, r]) => [(r.Properties as AlarmProps).AlarmName, id]));
    for (const model of config.targetModels) {
      const composite = composites.find((c) => c.AlarmName === canaryAlarmName(stage, model.id))!;
      const parts = CANARY_SIGNALS.flatMap((s, i) => [i === 0 ? '(ALARM("' : '") OR ALARM("', { 'Fn::GetAtt': [ids[canarySignalAlarmName(stage, model.id, s)], 'Arn'] }]);
      expect(composite.AlarmRule).toEqual({ 'Fn::Join': ['', [...parts, '"))']] });
      // The rollback Lambda maps the alarm back to its model by this name.
      expect(targetModelOfCanaryAlarm(composite.AlarmName, { stage, targetModels: config.targetModels })).toBe(model.id);
    }
  });
});

describe('CanaryAlarms from configuration', () => {
  const custom: CanaryConfig['alarms'] = { faithfulnessDrop: 0.07, misrouteRise: 0.12, maxErrorRate: 0.02, maxMeanLatencyMs: 2500, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3, minTracesPerPeriod: 20, qualitySignalSource: 'lexical' };
  function build(alarms: CanaryConfig['alarms'], targetModelIds: readonly string[] = ['m-1']): Template {
    const stack = new Stack(bareApp(), 'S');
    new CanaryAlarms(stack, 'A', { stage: 't', metricsNamespace: 'NS', targetModelIds, alarms });
    return Template.fromStack(stack);
  }

  test('a stage that says so compares the judge\'s faithfulness and misroute; error rate and latency stay the gate\'s', () => {
    const alarms = alarmsOf(build({ ...custom, periodSeconds: 3600, evaluationPeriods: 2, datapointsToAlarm: 1, qualitySignalSource: 'judge' }));
    const m = (name: string, variant: string): string => `NS/${name} Model=m-1 Variant=${variant} Sum/3600`;
    expect(queries(alarms['sial-t-m-1-canary-faithfulness']!).metrics).toEqual({
      candSum: m('JudgedFaithfulnessSum', 'candidate'),
      candScored: m('JudgedFaithfulnessCount', 'candidate'),
      curSum: m('JudgedFaithfulnessSum', 'current'),
      curScored: m('JudgedFaithfulnessCount', 'current'),
    });
    expect(queries(alarms['sial-t-m-1-canary-misroute']!).metrics).toEqual({
      candMisrouted: m('JudgedMisroutedTraces', 'candidate'),
      candRouted: m('JudgedMisrouteCount', 'candidate'),
      curMisrouted: m('JudgedMisroutedTraces', 'current'),
      curRouted: m('JudgedMisrouteCount', 'current'),
    });
    expect(Object.values(queries(alarms['sial-t-m-1-canary-errors']!).metrics)).toEqual([m(METRIC.errorTraces, 'candidate'), m(METRIC.tracesKept, 'candidate')]);
    expect(alarms['sial-t-m-1-canary-faithfulness']!.AlarmDescription).toContain('judged faithfulness');
  });

  test('thresholds, period, evaluation and the evidence minimum all come from the configuration', () => {
    const alarms = alarmsOf(build(custom));
    expect(alarms['sial-t-m-1-canary-faithfulness']).toMatchObject({ Threshold: 0.07, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    expect(queries(alarms['sial-t-m-1-canary-faithfulness']!).expression).toBe('IF(candScored >= 20 AND curScored >= 20, curSum / curScored - candSum / candScored, 0)');
    expect(alarms['sial-t-m-1-canary-misroute']).toMatchObject({ Threshold: 0.12 });
    expect(alarms['sial-t-m-1-canary-errors']).toMatchObject({ Threshold: 0.02 });
    expect(alarms['sial-t-m-1-canary-latency']).toMatchObject({ Threshold: 2500 });
    for (const alarm of Object.values(alarms)) for (const q of alarm.Metrics.filter((mq) => mq.MetricStat !== undefined)) expect(q.MetricStat!.Period).toBe(60);
  });

  test('the drill alarm is a child metric alarm of each composite', () => {
    const stack = new Stack(bareApp(), 'S');
    const alarms = new CanaryAlarms(stack, 'A', { stage: 't', metricsNamespace: 'NS', targetModelIds: ['m-1', 'm-2'], alarms: custom });
    expect(alarms.drillAlarmArns).toEqual([alarms.models['m-1']!.signals[DRILL_SIGNAL].alarmArn, alarms.models['m-2']!.signals[DRILL_SIGNAL].alarmArn]);
    expect(alarms.compositeAlarmNames).toEqual({ 'm-1': 'sial-t-m-1-canary', 'm-2': 'sial-t-m-2-canary' });
  });

  test.each([
    ['a 45 s period', { ...custom, periodSeconds: 45 }, 'CanaryAlarms: periodSeconds is 45; expected 10 or 30 (high-resolution) or a multiple of 60'],
    ['more datapoints than periods', { ...custom, datapointsToAlarm: 6 }, 'CanaryAlarms: 6 of 5 datapoints'],
    ['over a day of evaluation', { ...custom, periodSeconds: 3600, evaluationPeriods: 25, datapointsToAlarm: 1 }, 'exceed the one-day evaluation range'],
    ['a zero threshold', { ...custom, maxErrorRate: 0 }, 'CanaryAlarms: maxErrorRate is 0; expected a positive threshold'],
  ])('refuses %s', (_what, alarms, message) => {
    expect(() => build(alarms)).toThrow(message);
  });

  test('refuses duplicate and malformed target model ids', () => {
    expect(() => build(custom, ['m-1', 'm-1'])).toThrow('CanaryAlarms: target model m-1 is listed twice');
    expect(() => build(custom, ['M 1'])).toThrow('CanaryAlarms: target model id "M 1" is not a lower-case id');
    expect(() => build(custom, [])).toThrow('CanaryAlarms: targetModelIds is empty');
  });
});
