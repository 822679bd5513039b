/**
 * Runs a rendered ASL definition on aws-local-stepfunctions with one stub per Task state (by name),
 * Wait states and retry intervals at zero, and reports what happened: the outcome, the states entered
 * and each Task's effective input. For the construct tests' wiring checks; the full path matrix with
 * the real handlers runs in test/rollout and test/pipeline.
 */
import '../../local/pipeline/promise-with-resolvers';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { AslDefinition } from '../../stepfunctions/render-asl';


export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A Task stub: its result, or an Error to throw (its `name` is the error Step Functions sees). */
export type TaskStub = (input: Json, call: number) => Json | Error;

/** What an execution did. */
export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  readonly cause?: string;
  readonly output?: Json;
  /** Every state entered, in order. */
  readonly visited: string[];
  /** The last effective input of each Task state. */
  readonly inputs: Record<string, Json>;
  /** How often each Task state was called (retries included). */
  readonly calls: Record<string, number>;
}

/** An Error with the given name (what a Catch or Retry matches). */
export function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Executes `asl` with `input`; every Task state needs a stub, or the execution fails naming it. */
export async function execute(asl: AslDefinition, input: Json, stubs: Record<string, TaskStub>, executionName = 'run-1'): Promise<ExecutionResult> {
  const inputs: Record<string, Json> = {};
  const calls: Record<string, number> = {};
  const handlers = Object.fromEntries(
    Object.entries(asl.States)
      .filter(([, s]) => s.Type === 'Task')
      .map(([name]) => [
        name,
        async (taskInput: Json): Promise<Json> => {
          inputs[name] = taskInput;
          calls[name] = (calls[name] ?? 0) + 1;
          const stub = stubs[name];
          if (stub === undefined) throw new Error(`unexpected Task "${name}"`);
          const result = stub(taskInput, calls[name]);
          if (result instanceof Error) throw result;
          return result;
        },
      ]),
  );
  const zeroes = Object.fromEntries(Object.keys(asl.States).map((n) => [n, 0]));
  const machine = new StateMachine(asl as unknown as StateMachineDefinition, { validationOptions: { checkArn: false, checkPaths: false } });
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: zeroes, waitTimeOverrides: zeroes },
    context: {
      Execution: { Id: `arn:aws:states:local:000000000000:execution:sial:${executionName}`, Name: executionName, Input: input, StartTime: '2026-05-04T10:00:00.000Z' },
      Task: { Token: 'local-token' },
    } as never,
  });
  const visited: string[] = [];
  let failure: { error: string; cause: string } | undefined;
  let output: Json | undefined;
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') visited.push(event.state.name);
    else if (event.type === 'ExecutionSucceeded') output = event.output as Json;
    else if (event.type === 'ExecutionFailed') failure = { error: event.Error, cause: String(event.Cause) };
  }
  await execution.result.catch(() => undefined);
  return failure === undefined ? { status: 'SUCCEEDED', output, visited, inputs, calls } : { status: 'FAILED', ...failure, visited, inputs, calls };
}

/** Every key anywhere in a JSON value. */
export function keysDeep(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => keysDeep(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      keysDeep(v, out);
    }
  }
  return out;
}
