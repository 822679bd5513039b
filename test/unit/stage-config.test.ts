import { DEFAULT_CANARY } from '../../config/governance-defaults';
import { ConfigError, parseStageConfig } from '../../config/schema';
import { dev } from '../../config/stages/dev';

const parse = (raw: unknown) => () => parseStageConfig(raw, 'test');

describe('stage configuration cross-checks', () => {
  it('refuses a processor buffer longer than the canary alarm period, naming both', () => {
    const raw = { ...dev, lake: { ...dev.lake, processor: { ...dev.lake.processor, bufferIntervalSeconds: 60 } } };
    expect(parse(raw)).toThrow(ConfigError);
    expect(parse(raw)).toThrow(/lake\.processor\.bufferIntervalSeconds: received 60; it must not exceed canary\.alarms\.periodSeconds \(10\)/);
  });

  it('lets the canary read the judge only where a judge publishes at least once per alarm period', () => {
    const judgedAlarms = (periodSeconds: number) => ({ ...DEFAULT_CANARY, alarms: { ...DEFAULT_CANARY.alarms, periodSeconds, evaluationPeriods: 2, datapointsToAlarm: 1, qualitySignalSource: 'judge' as const } });
    const judge = (windowHours: number) => ({
      endpoint: { kind: 'sagemaker' as const, endpointName: 'sial-dev-judge' },
      samplingRate: 0.2,
      maxTracesPerDay: 1000,
      maxTokensPerDay: 1_000_000,
      maxConcurrency: 4,
      curation: { schedule: 'cron(5 * * * ? *)', windowHours },
    });
    expect(parse({ ...dev, canary: judgedAlarms(3600) })).toThrow(/canary\.alarms\.qualitySignalSource: received "judge"; the stage configures no judge/);
    expect(parse({ ...dev, judge: judge(24), canary: judgedAlarms(3600) })).toThrow(/periodSeconds \(3600\) must be at least the judge's curation window \(86400 s\)/);
    expect(parse({ ...dev, judge: judge(1), canary: judgedAlarms(3600) })().canary.alarms.qualitySignalSource).toBe('judge');
  });

  it('refuses canary steps that do not end at 100 or do not increase', () => {
    expect(parse({ ...dev, canary: { ...DEFAULT_CANARY, stepsPercent: [10, 50] } })).toThrow(/canary\.stepsPercent: received \[10,50\]; the last step must be 100/);
    expect(parse({ ...dev, canary: { ...DEFAULT_CANARY, stepsPercent: [50, 10, 100] } })).toThrow(/steps must increase/);
  });

  it('refuses an alarm period CloudWatch does not offer', () => {
    expect(parse({ ...dev, canary: { ...DEFAULT_CANARY, alarms: { ...DEFAULT_CANARY.alarms, periodSeconds: 45 } } })).toThrow(/canary\.alarms\.periodSeconds: received 45; CloudWatch periods are 10, 30 or a multiple of 60/);
  });

  it('refuses a target model without base weights', () => {
    expect(parse({ ...dev, training: { ...dev.training, baseModelUris: {} } })).toThrow(/training\.baseModelUris: received no entry for qwen3-4b, qwen3-4b-internal/);
  });

  it('refuses a stage without a positive eval job bound (the budget estimate and the eval timeout read it)', () => {
    const { maxEvalJobHours: _bound, ...withoutBound } = dev.training;
    expect(parse({ ...dev, training: withoutBound })).toThrow(/training\.maxEvalJobHours: received nothing \(the field is missing\)/);
    expect(parse({ ...dev, training: { ...dev.training, maxEvalJobHours: 0 } })).toThrow(/training\.maxEvalJobHours: received 0; /);
  });

  it('refuses a serving image outside ECR', () => {
    expect(parse({ ...dev, training: { ...dev.training, servingImageUri: 'docker.io/vllm/vllm-openai:latest' } })).toThrow(/training\.servingImageUri: received "docker\.io\/vllm\/vllm-openai:latest"; must be an ECR image URI/);
  });
});
