/**
 * The TaskCallbacks port: answers a waiting `waitForTaskToken` task (Step Functions SendTaskSuccess /
 * SendTaskFailure in AWS; a file the local engine polls locally).
 */

/** Why a callback was refused for good: the task is no longer waiting for this token. */
export type CallbackRefusal = 'task-timed-out' | 'task-not-found' | 'invalid-token';

/**
 * Thrown by an adapter when the service refuses the callback because the task is not waiting
 * (Step Functions: TaskTimedOut, TaskDoesNotExist, InvalidToken). Any other error is transient
 * as far as the decision logic is concerned: the recorded decision may be delivered again.
 */
export class TaskCallbackRefused extends Error {
  override name = 'TaskCallbackRefused';
  constructor(
    readonly reason: CallbackRefusal,
    message: string,
  ) {
    super(message);
  }
}

export interface TaskCallbacks {
  /** Completes the task with `output` (a JSON document) as its result. */
  succeed(taskToken: string, output: string): Promise<void>;
  /** Fails the task with an error name the state machine's Catch matches, and a cause (JSON here). */
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}
