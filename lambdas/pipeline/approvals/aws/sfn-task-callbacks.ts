/**
 * The Step Functions adapter of the TaskCallbacks port. SendTaskSuccess / SendTaskFailure refuse a
 * token whose task is no longer waiting with TaskTimedOut ("the task token has either expired or the
 * task associated with the token has already been closed"), TaskDoesNotExist, or InvalidToken; those
 * become {@link TaskCallbackRefused}, final for the decision. Anything else (throttling, 5xx, network)
 * propagates after the SDK's standard retries, and the decision logic records it as retryable.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { TaskCallbackRefused, type CallbackRefusal, type TaskCallbacks } from '../task-callbacks';
import { errorName } from './error-name';

const REFUSALS: Readonly<Record<string, CallbackRefusal>> = {
  TaskTimedOut: 'task-timed-out',
  TaskDoesNotExist: 'task-not-found',
  InvalidToken: 'invalid-token',
};

/** SendTaskFailure limits: error up to 256 characters, cause up to 32,768. */
const MAX_ERROR_CHARS = 256;
const MAX_CAUSE_CHARS = 32_768;

function refusalOf(error: unknown): TaskCallbackRefused | undefined {
  const name = errorName(error);
  const reason = name === undefined ? undefined : REFUSALS[name];
  return reason === undefined ? undefined : new TaskCallbackRefused(reason, `${name}: ${(error as Error).message}`);
}

/** Answers waitForTaskToken tasks through the Step Functions API. */
export class SfnTaskCallbacks implements TaskCallbacks {
  constructor(private readonly client: SFNClient) {}

  async succeed(taskToken: string, output: string): Promise<void> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output }));
    } catch (error) {
      throw refusalOf(error) ?? error;
    }
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    try {
      await this.client.send(new SendTaskFailureCommand({ taskToken, error: error.slice(0, MAX_ERROR_CHARS), cause: cause.slice(0, MAX_CAUSE_CHARS) }));
    } catch (failure) {
      throw refusalOf(failure) ?? failure;
    }
  }
}
