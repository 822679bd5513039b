/**
 * A discrete-event simulation, on a virtual clock, of how long automatic rollback takes from a quality
 * breach to 100 % of traffic verified back on the previous version. It chains the real delays of the
 * path with the stage's own settings:
 *
 *   breach (the candidate starts answering unfaithfully)
 *   -> traces reach the gate Lambda at the end of each Firehose processor buffer interval
 *   -> the gate publishes per-variant sums (EMF), visible to CloudWatch after an ingestion delay
 *   -> the canary alarm evaluates each period; M of N breaching periods put it in ALARM
 *   -> EventBridge delivers the state change to the rollback Lambda
 *   -> the Lambda sets 100 % current; the endpoint or route applies it; the Lambda polls until verified
 *
 * Service latencies that no configuration sets (ingestion, evaluation, delivery, apply) are explicit
 * assumptions with defaults from AWS's documented behaviour, printed beside the result so a reader can
 * judge them. No wall clock is involved: the result is deterministic.
 */
import type { CanaryConfig } from '../../config/schema';

export interface RollbackTimingAssumptions {
  /** Candidate traces per second reaching the gate. */
  readonly candidateTracesPerSecond: number;
  /** Seconds the gate Lambda takes per batch (PII scan dominates). */
  readonly gateSeconds: number;
  /** Seconds from an EMF line to the metric being visible to alarms. */
  readonly metricIngestionSeconds: number;
  /** Extra seconds after a period closes before the alarm evaluates it. */
  readonly alarmEvaluationDelaySeconds: number;
  /** Seconds for EventBridge to deliver the alarm state change, cold start included. */
  readonly eventDeliverySeconds: number;
  /** Seconds for the endpoint or route to apply new weights. */
  readonly applySeconds: number;
  /** The rollback Lambda's verification poll interval. */
  readonly verifyPollSeconds: number;
}

/** SageMaker variant weight updates take tens of seconds; an HTTPRoute patch a few. */
export const SAGEMAKER_ASSUMPTIONS: RollbackTimingAssumptions = {
  candidateTracesPerSecond: 2,
  gateSeconds: 3,
  metricIngestionSeconds: 5,
  alarmEvaluationDelaySeconds: 10,
  eventDeliverySeconds: 2,
  applySeconds: 30,
  verifyPollSeconds: 5,
};

export const EKS_ASSUMPTIONS: RollbackTimingAssumptions = { ...SAGEMAKER_ASSUMPTIONS, applySeconds: 3 };

export interface RollbackTimeline {
  readonly breachAt: number;
  /** When the first batch containing bad traces was gated and its metrics published. */
  readonly firstBadMetricAt: number;
  /** When the alarm went to ALARM. */
  readonly alarmAt: number;
  /** When the rollback Lambda started. */
  readonly lambdaStartAt: number;
  /** When 100 % current was verified. */
  readonly verifiedAt: number;
  /** verifiedAt - breachAt. */
  readonly totalSeconds: number;
  /** Each period the alarm evaluated, with whether it breached. */
  readonly periods: ReadonlyArray<{ readonly end: number; readonly breaching: boolean; readonly traces: number }>;
}

export interface RollbackSimulationInput {
  readonly canary: CanaryConfig;
  /** Firehose processor buffer interval of the stage (lake.processor.bufferIntervalSeconds). */
  readonly processorBufferSeconds: number;
  readonly assumptions: RollbackTimingAssumptions;
  /** Faithfulness of both versions before the breach, and of the candidate after it. */
  readonly baselineFaithfulness: number;
  readonly degradedFaithfulness: number;
  /** Seconds after the start of the simulation at which the candidate degrades (not on a boundary). */
  readonly breachAt?: number;
}

/** Simulates one breach and returns its timeline. */
export function simulateRollback(input: RollbackSimulationInput): RollbackTimeline {
  const { canary, assumptions: a } = input;
  const { periodSeconds, evaluationPeriods, datapointsToAlarm, minTracesPerPeriod, faithfulnessDrop } = canary.alarms;
  const breachAt = input.breachAt ?? 3.7;
  const buffer = Math.max(1, input.processorBufferSeconds);

  // Metric datapoints: each gate batch publishes at its flush time the sums of the traces it gated,
  // stamped with the time it ran; the alarm sees them after the ingestion delay.
  interface Datapoint {
    readonly timestamp: number;
    readonly visibleAt: number;
    readonly traces: number;
    readonly groundednessSum: number;
  }
  const datapoints: Datapoint[] = [];
  const horizon = breachAt + 3600;
  let firstBadMetricAt = Number.POSITIVE_INFINITY;
  for (let flush = buffer; flush < horizon; flush += buffer) {
    const traces = a.candidateTracesPerSecond * buffer;
    // Share of this buffer's traces produced after the breach.
    const bad = Math.min(1, Math.max(0, (flush - breachAt) / buffer));
    const groundednessSum = traces * ((1 - bad) * input.baselineFaithfulness + bad * input.degradedFaithfulness);
    const timestamp = flush + a.gateSeconds;
    if (bad > 0) firstBadMetricAt = Math.min(firstBadMetricAt, timestamp);
    datapoints.push({ timestamp, visibleAt: timestamp + a.metricIngestionSeconds, traces, groundednessSum });
  }

  // The alarm: after each period closes (plus the evaluation delay), evaluate the last N periods.
  const periods: Array<{ end: number; breaching: boolean; traces: number }> = [];
  let alarmAt = Number.POSITIVE_INFINITY;
  for (let end = periodSeconds; end < horizon && alarmAt === Number.POSITIVE_INFINITY; end += periodSeconds) {
    const evaluatedAt = end + a.alarmEvaluationDelaySeconds;
    const inPeriod = datapoints.filter((d) => d.timestamp > end - periodSeconds && d.timestamp <= end && d.visibleAt <= evaluatedAt);
    const traces = inPeriod.reduce((n, d) => n + d.traces, 0);
    const faithfulness = traces === 0 ? input.baselineFaithfulness : inPeriod.reduce((s, d) => s + d.groundednessSum, 0) / traces;
    // Same rule as the alarm's metric math: judged only with enough evidence; missing data is not breaching.
    const breaching = traces >= minTracesPerPeriod && input.baselineFaithfulness - faithfulness >= faithfulnessDrop;
    periods.push({ end, breaching, traces });
    const window = periods.slice(-evaluationPeriods);
    if (window.filter((p) => p.breaching).length >= datapointsToAlarm) alarmAt = evaluatedAt;
  }
  if (!Number.isFinite(alarmAt)) throw new Error('the simulated alarm never fired: the degradation is smaller than the alarm threshold');

  const lambdaStartAt = alarmAt + a.eventDeliverySeconds;
  const appliedAt = lambdaStartAt + a.applySeconds;
  // The Lambda polls from its start; the first poll at or after the apply verifies.
  const polls = Math.ceil((appliedAt - lambdaStartAt) / a.verifyPollSeconds);
  const verifiedAt = lambdaStartAt + polls * a.verifyPollSeconds;
  return { breachAt, firstBadMetricAt, alarmAt, lambdaStartAt, verifiedAt, totalSeconds: verifiedAt - breachAt, periods };
}
