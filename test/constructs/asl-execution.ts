/**
 * Runs a rendered ASL definition on aws-local-stepfunctions with one stub per Task state (by name),
 * Wait states and retry intervals at zero, and reports what happened: the outcome, the states entered
 * and each Task's effective input. For the construct tests' wiring checks; the full path matrix with
 * the real handlers runs in test/rollout and test/pipeline. The execution itself is local/pipeline's
 * runAsl, the engine of `npm run local`.
 */
import { runAsl, type LocalTaskHandler } from '../../local/pipeline/asl-runner';
import { asStateMachineDefinition } from '../../local/pipeline/synthesized-pipeline';
import type { AslDefinition, Json } from '../../stepfunctions/render-asl';

export type { Json };

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
  /** Each state's output when it last exited (the whole state data after its ResultPath), by name. */
  readonly outputs: ReadonlyMap<string, Json>;
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
  const handler =
    (name: string): LocalTaskHandler =>
    async (taskInput) => {
      inputs[name] = taskInput;
      calls[name] = (calls[name] ?? 0) + 1;
      const stub = stubs[name];
      // Thrown within the run, not before it: a Task the test did not expect fails like any Task error.
      if (stub === undefined) throw new Error(`unexpected Task "${name}"`);
      const result = stub(taskInput, calls[name]);
      if (result instanceof Error) throw result;
      return result;
    };
  const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
  const handlers = Object.fromEntries(tasks.map(([name]) => [name, handler(name)]));
  const run = await runAsl(asStateMachineDefinition(asl), input, { handlers, executionName });
  return { ...run, visited: [...run.visited], inputs, calls };
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
