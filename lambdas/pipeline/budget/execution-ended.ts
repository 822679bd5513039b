/**
 * The release of a run that ended without passing a release state: an execution stopped from outside
 * (StopExecution), ended by the state machine's own timeout, or failed on a path that skipped
 * `Release GPU reservation of failed run`. No further state runs in such an execution, so Step
 * Functions' "Execution Status Change" event on the default bus is what tells the ledger: an EventBridge
 * rule for the training pipeline's state machine alone sends `{ operation: 'release', executionName,
 * endedAs }` to the booking function, the same operation the release states send. Releasing gives back
 * what the run still holds and touches nothing booked; a second release (the state already released)
 * changes nothing.
 */

/** EventBridge's `source` and `detail-type` of a Step Functions execution's status change. */
export const EXECUTION_STATUS_CHANGE = { source: 'aws.states', detailType: 'Step Functions Execution Status Change' } as const;

/**
 * The end statuses that release the run's reservation. ABORTED (StopExecution) and TIMED_OUT (the state
 * machine's TimeoutSeconds) run no further state; FAILED covers a failure that bypassed the failure path
 * (the path releases first, and the second release is a no-op). SUCCEEDED always passed a release state.
 */
export const RELEASE_ON_STATUSES = ['ABORTED', 'TIMED_OUT', 'FAILED'] as const;
export type ReleaseOnStatus = (typeof RELEASE_ON_STATUSES)[number];

/**
 * The booking function's input the rule builds from the event (`$.detail.name` is the execution name the
 * run id was derived from; `$.detail.status` is only logged).
 */
export const RELEASE_ON_END_INPUT_PATHS = { executionName: '$.detail.name', endedAs: '$.detail.status' } as const;
