/**
 * The local adapter of the TaskCallbacks port, and what the local engine awaits instead of Step
 * Functions' task tokens. Outcomes live in `<dir>/task-callbacks.json`, so a decision taken by the
 * CLI in another terminal reaches an engine waiting in this one.
 *
 * A token's life, as in Step Functions:
 *   open(token)         the engine's task starts waiting (waitFor opens it too)
 *   succeed / fail      a decision arrives: the token closes with that outcome
 *   timeOut(token)      the engine's TimeoutSeconds passed: the token closes as timed out
 * A callback for a closed token is refused like SendTask* refuses it (TaskTimedOut: "expired or
 * already closed"), and one for a token never opened as TaskDoesNotExist, so the decision logic
 * records "too late" exactly as it does in AWS.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { TaskCallbackRefused, type TaskCallbacks } from '../../lambdas/pipeline/approvals/task-callbacks';
import { LockedJsonFile } from './local-approval-json-file';

/** How a waiting task ended. */
export type LocalTaskOutcome =
  | { readonly status: 'succeeded'; readonly output: string }
  | { readonly status: 'failed'; readonly error: string; readonly cause: string }
  | { readonly status: 'timed-out' };

const entrySchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('waiting'), openedAt: z.string() }),
  z.object({ status: z.literal('succeeded'), openedAt: z.string(), closedAt: z.string(), output: z.string() }),
  z.object({ status: z.literal('failed'), openedAt: z.string(), closedAt: z.string(), error: z.string(), cause: z.string() }),
  z.object({ status: z.literal('timed-out'), openedAt: z.string(), closedAt: z.string() }),
]);
type TaskEntry = z.infer<typeof entrySchema>;
const documentSchema = z.object({ tasks: z.record(z.string(), entrySchema) });
type TasksDocument = z.infer<typeof documentSchema>;

export const LOCAL_TASK_CALLBACKS_FILE = 'task-callbacks.json';

export interface WaitOptions {
  /** Close the token as timed out after this long (the state's TimeoutSeconds); default: wait forever. */
  readonly timeoutMs?: number;
  /** Stop waiting (rejects with the signal's reason); the token stays open. */
  readonly signal?: AbortSignal;
  /** How often the file is checked; default 100 ms. */
  readonly pollMs?: number;
}

function outcomeOf(entry: TaskEntry | undefined): LocalTaskOutcome | undefined {
  switch (entry?.status) {
    case 'succeeded':
      return { status: 'succeeded', output: entry.output };
    case 'failed':
      return { status: 'failed', error: entry.error, cause: entry.cause };
    case 'timed-out':
      return { status: 'timed-out' };
    default:
      return undefined;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** TaskCallbacks recorded in `<dir>/task-callbacks.json`, awaitable by the local engine. */
export class LocalTaskCallbacks implements TaskCallbacks {
  private readonly file: LockedJsonFile<TasksDocument>;

  constructor(
    readonly dir: string,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.file = new LockedJsonFile(join(dir, LOCAL_TASK_CALLBACKS_FILE), {
      empty: () => ({ tasks: {} }),
      parse: (raw, where) => {
        const parsed = documentSchema.safeParse(raw);
        if (!parsed.success) throw new Error(`${where} is not a local task-callbacks file: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        return parsed.data;
      },
    });
  }

  /** Marks the token as waiting (idempotent; a closed token stays closed). */
  async open(taskToken: string): Promise<void> {
    await this.file.update((doc) =>
      doc.tasks[taskToken] !== undefined ? { result: undefined } : { next: { tasks: { ...doc.tasks, [taskToken]: { status: 'waiting', openedAt: this.clock().toISOString() } } }, result: undefined },
    );
  }

  async succeed(taskToken: string, output: string): Promise<void> {
    await this.close(taskToken, (openedAt, closedAt) => ({ status: 'succeeded', openedAt, closedAt, output }));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    await this.close(taskToken, (openedAt, closedAt) => ({ status: 'failed', openedAt, closedAt, error, cause }));
  }

  /** Closes a waiting token as timed out; returns how the token ended (a decision that won the race stays). */
  async timeOut(taskToken: string): Promise<LocalTaskOutcome> {
    return this.file.update((doc) => {
      const entry = doc.tasks[taskToken];
      const decided = outcomeOf(entry);
      if (decided !== undefined) return { result: decided };
      const openedAt = entry?.openedAt ?? this.clock().toISOString();
      const next: TaskEntry = { status: 'timed-out', openedAt, closedAt: this.clock().toISOString() };
      return { next: { tasks: { ...doc.tasks, [taskToken]: next } }, result: { status: 'timed-out' } as const };
    });
  }

  /** The outcome, or undefined while the token waits (or was never opened). */
  async outcome(taskToken: string): Promise<LocalTaskOutcome | undefined> {
    return outcomeOf((await this.file.read()).tasks[taskToken]);
  }

  /** Opens the token if needed and resolves when it closes: by a decision, or by `timeoutMs`. */
  async waitFor(taskToken: string, options: WaitOptions = {}): Promise<LocalTaskOutcome> {
    await this.open(taskToken);
    const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    for (;;) {
      options.signal?.throwIfAborted();
      const outcome = await this.outcome(taskToken);
      if (outcome !== undefined) return outcome;
      if (deadline !== undefined && Date.now() >= deadline) return this.timeOut(taskToken);
      const pause = Math.min(options.pollMs ?? 100, deadline === undefined ? Infinity : Math.max(1, deadline - Date.now()));
      await sleep(pause, options.signal);
    }
  }

  private async close(taskToken: string, entry: (openedAt: string, closedAt: string) => TaskEntry): Promise<void> {
    const refusal = await this.file.update((doc) => {
      const current = doc.tasks[taskToken];
      if (current === undefined) return { result: new TaskCallbackRefused('task-not-found', `TaskDoesNotExist: no local task waits for token ${taskToken}`) };
      if (current.status !== 'waiting') return { result: new TaskCallbackRefused('task-timed-out', `TaskTimedOut: the local task for token ${taskToken} is already ${current.status}`) };
      return { next: { tasks: { ...doc.tasks, [taskToken]: entry(current.openedAt, this.clock().toISOString()) } }, result: undefined };
    });
    if (refusal !== undefined) throw refusal;
  }
}

/**
 * Turns an outcome into what a local Task override returns or throws, matching AWS: the decision as
 * the task's result; `ApprovalRejected` with the decision JSON as cause (the engine's Catch reads
 * `error.name` and `error.message`); `States.Timeout` for a timed-out wait.
 */
export function settleLocalTask(outcome: LocalTaskOutcome): unknown {
  if (outcome.status === 'succeeded') return JSON.parse(outcome.output) as unknown;
  const error = new Error(outcome.status === 'failed' ? outcome.cause : 'The approval was not decided before it expired');
  error.name = outcome.status === 'failed' ? outcome.error : 'States.Timeout';
  throw error;
}
