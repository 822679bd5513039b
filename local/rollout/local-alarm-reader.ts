/**
 * LOCAL alarm reader: the AlarmReader port over alarm states a test, the simulation or the local game
 * day sets by hand (`set`, the local SetAlarmState). An alarm that was never set does not exist, as in
 * CloudWatch, so a rollout pointed at a wrong name fails instead of passing unwatched.
 */
import type { AlarmReader, AlarmStateValue, AlarmStatus } from '../../lambdas/rollout/ports';

export class LocalAlarmReader implements AlarmReader {
  private readonly alarms = new Map<string, AlarmStatus>();

  constructor(private readonly clock: () => Date = () => new Date()) {}

  /** Sets an alarm's state; `updatedAt` moves only when the value changes, as StateTransitionedTimestamp does. */
  set(alarmName: string, state: AlarmStateValue, reason = `[SIMULATED] set to ${state}`, at: Date = this.clock()): AlarmStatus {
    const before = this.alarms.get(alarmName);
    const status: AlarmStatus = { state, reason, updatedAt: before !== undefined && before.state === state ? before.updatedAt : at };
    this.alarms.set(alarmName, status);
    return status;
  }

  async state(alarmName: string): Promise<AlarmStatus> {
    const status = this.alarms.get(alarmName);
    if (status === undefined) throw new Error(`no local alarm named ${alarmName}; the canary cannot be judged without it`);
    return { ...status };
  }
}
