/**
 * `npm run bench -- rollback`: breach -> rollback-verified time under each stage's default canary
 * alarm settings, computed by the virtual-clock simulation (local/rollout/rollback-simulation.ts) for
 * both rollout targets, printed beside the game-day bound (300 s) and our own target.
 */
import { loadStageConfig } from '../config';
import { EKS_ASSUMPTIONS, SAGEMAKER_ASSUMPTIONS, simulateRollback, type RollbackTimingAssumptions } from '../local/rollout/rollback-simulation';

const pad = (value: string | number, width: number) => String(value).padStart(width);

export async function runRollbackBench(argv: string[]): Promise<void> {
  const stages = argv.length > 0 ? argv : ['dev', 'prod-eu', 'prod-kr'];
  console.log('Rollback benchmark: a virtual-clock simulation (no AWS, no wall clock)');
  console.log('breach = the candidate starts answering unfaithfully (faithfulness 0.90 -> 0.70); verified = 100 % previous version read back\n');
  for (const name of stages) {
    const stage = loadStageConfig(name);
    const { alarms, gameDay } = stage.canary;
    console.log(`${name}: alarm period ${alarms.periodSeconds} s, ${alarms.datapointsToAlarm} of ${alarms.evaluationPeriods} periods, processor buffer ${stage.lake.processor.bufferIntervalSeconds} s`);
    for (const [target, assumptions] of [['sagemaker', SAGEMAKER_ASSUMPTIONS], ['eks', EKS_ASSUMPTIONS]] as Array<[string, RollbackTimingAssumptions]>) {
      const t = simulateRollback({ canary: stage.canary, processorBufferSeconds: stage.lake.processor.bufferIntervalSeconds, assumptions, baselineFaithfulness: 0.9, degradedFaithfulness: 0.7 });
      const verdict = t.totalSeconds <= gameDay.targetRollbackSeconds ? 'within our target' : t.totalSeconds <= gameDay.maxRollbackSeconds ? 'within the bound' : 'OVER THE BOUND';
      console.log(
        `  ${target.padEnd(9)} ${pad(t.totalSeconds.toFixed(1), 6)} s  (first bad metric +${(t.firstBadMetricAt - t.breachAt).toFixed(1)} s, alarm +${(t.alarmAt - t.breachAt).toFixed(1)} s, Lambda +${(t.lambdaStartAt - t.breachAt).toFixed(1)} s)` +
          `  vs bound ${gameDay.maxRollbackSeconds} s (${(t.totalSeconds / gameDay.maxRollbackSeconds * 100).toFixed(0)} %), target ${gameDay.targetRollbackSeconds} s: ${verdict}`,
      );
    }
  }
  console.log('\nAssumed service latencies (not configurable in the stage; see local/rollout/rollback-simulation.ts):');
  console.log(`  sagemaker ${JSON.stringify(SAGEMAKER_ASSUMPTIONS)}`);
  console.log(`  eks       ${JSON.stringify(EKS_ASSUMPTIONS)}`);
}
