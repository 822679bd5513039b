import { DEFAULT_CANARY } from '../../config/governance-defaults';
import type { CanaryConfig } from '../../config/schema';
import { EKS_ASSUMPTIONS, SAGEMAKER_ASSUMPTIONS, simulateRollback } from '../../local/rollout/rollback-simulation';

const base = { canary: DEFAULT_CANARY, processorBufferSeconds: 10, assumptions: SAGEMAKER_ASSUMPTIONS, baselineFaithfulness: 0.9, degradedFaithfulness: 0.7 };
const withAlarms = (alarms: Partial<CanaryConfig['alarms']>): CanaryConfig => ({ ...DEFAULT_CANARY, alarms: { ...DEFAULT_CANARY.alarms, ...alarms } });

describe('rollback simulation (virtual clock)', () => {
  it('orders the events of a rollback and sums them into the total', () => {
    const t = simulateRollback(base);
    expect(t.breachAt).toBeLessThan(t.firstBadMetricAt);
    expect(t.firstBadMetricAt).toBeLessThan(t.alarmAt);
    expect(t.alarmAt).toBeLessThan(t.lambdaStartAt);
    expect(t.lambdaStartAt).toBeLessThan(t.verifiedAt);
    expect(t.totalSeconds).toBeCloseTo(t.verifiedAt - t.breachAt);
  });

  it('fires after M of N breaching periods, never on the first bad datapoint alone', () => {
    const t = simulateRollback(base);
    const breaching = t.periods.filter((p) => p.breaching).length;
    expect(breaching).toBe(DEFAULT_CANARY.alarms.datapointsToAlarm);
  });

  it('stays within the game-day bound (300 s) under the default settings for both targets', () => {
    expect(simulateRollback(base).totalSeconds).toBeLessThanOrEqual(DEFAULT_CANARY.gameDay.maxRollbackSeconds);
    expect(simulateRollback({ ...base, assumptions: EKS_ASSUMPTIONS }).totalSeconds).toBeLessThan(simulateRollback(base).totalSeconds);
  });

  it('takes longer with longer periods or more datapoints to alarm', () => {
    const fast = simulateRollback(base).totalSeconds;
    expect(simulateRollback({ ...base, canary: withAlarms({ periodSeconds: 60 }) }).totalSeconds).toBeGreaterThan(fast);
    expect(simulateRollback({ ...base, canary: withAlarms({ datapointsToAlarm: 3 }) }).totalSeconds).toBeGreaterThan(fast);
    expect(simulateRollback({ ...base, processorBufferSeconds: 60, canary: withAlarms({ periodSeconds: 60 }) }).totalSeconds).toBeGreaterThan(fast);
  });

  it('never fires for a drop below the threshold, and says so', () => {
    expect(() => simulateRollback({ ...base, degradedFaithfulness: 0.88 })).toThrow('never fired');
  });

  it('cannot fire when the processor buffer is longer than the alarm period (most periods have no data)', () => {
    // Why the stage schema refuses lake.processor.bufferIntervalSeconds > canary.alarms.periodSeconds.
    expect(() => simulateRollback({ ...base, processorBufferSeconds: 60 })).toThrow('never fired');
  });

  it('does not judge quality on too few traces', () => {
    expect(() => simulateRollback({ ...base, assumptions: { ...SAGEMAKER_ASSUMPTIONS, candidateTracesPerSecond: 0.1 } })).toThrow('never fired');
  });
});
