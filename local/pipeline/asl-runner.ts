/**
 * Runs an Amazon States Language definition on this machine with aws-local-stepfunctions, every Task
 * state overridden by a local handler chosen by state name. The definition is the one rendered from
 * the synthesized CloudFormation template, so local runs and tests exercise the real state machine.
 */
import './promise-with-resolvers';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A local stand-in for one Task state: receives the state's effective input (after Parameters). */
export type LocalTaskHandler = (input: Json) => Promise<Json>;

/** An error a local handler throws to fail its state with a States-language error name. */
export class LocalTaskError extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    this.name = errorName;
  }
}

export interface AslRunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: Json;
  /** Error name and cause of a failed execution (from the Fail state or the uncaught error). */
  readonly error?: string;
  readonly cause?: string;
  /** State names in the order they were entered. */
  readonly visited: readonly string[];
  /** Each state's output when it last exited (the whole state data after its ResultPath), by name. */
  readonly outputs: ReadonlyMap<string, Json>;
}

export interface AslRunOptions {
  readonly handlers: Readonly<Record<string, LocalTaskHandler>>;
  /** Execution name; becomes `$$.Execution.Name` (the pipeline derives the run id from it). */
  readonly executionName: string;
  /** Retry pauses are skipped locally (milliseconds per retried state; default 0 for every state). */
  readonly retryIntervalMs?: number;
  /** Called as each state is entered, in order (progress lines). */
  readonly onStateEntered?: (name: string) => void;
  /**
   * What `$$.State.EnteredTime` reads (the job records' timestamps); default the wall clock. The local
   * run passes its own clock, as its other local stand-ins use.
   */
  readonly clock?: () => Date;
  /** What `$$.Execution.StartTime` reads; default the wall clock when the run starts. */
  readonly startTime?: Date;
}

/** Task state names of a definition, at the top level (the pipeline has no Map or Parallel states). */
export function taskStateNames(definition: StateMachineDefinition): string[] {
  const states = (definition as unknown as { States: Record<string, { Type: string }> }).States;
  return Object.entries(states)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name]) => name);
}

/**
 * A Task state without TimeoutSeconds has no practical limit in Step Functions (99,999,999 s), but
 * aws-local-stepfunctions gives it 60 s of real time, which a real local training job on a busy machine
 * can pass. Locally such a state gets a day (well under the 24.8 days a Node timer can hold).
 */
export const LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS = 86_400;

/** The definition with the local default timeout on every top-level Task state that sets none. */
export function withStepFunctionsTaskTimeouts(definition: StateMachineDefinition): StateMachineDefinition {
  const states = (definition as unknown as { States: Record<string, Record<string, unknown>> }).States;
  const adjusted = Object.fromEntries(
    Object.entries(states).map(([name, state]) =>
      state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined ? [name, { ...state, TimeoutSeconds: LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS }] : [name, state],
    ),
  );
  return { ...definition, States: adjusted } as unknown as StateMachineDefinition;
}

/**
 * Definitions this process has already validated, by their JSON text. asl-validator compiles its whole
 * JSON schema on every validation (about half a second of CPU), and local mode and the test suites run
 * the same few definitions many times: each distinct definition is validated once, on its first run.
 */
const validatedDefinitions = new Set<string>();

/** A state machine for `definition`, validated unless this exact definition passed validation before. */
function stateMachineOf(definition: StateMachineDefinition): StateMachine {
  const key = JSON.stringify(definition);
  const validationOptions = validatedDefinitions.has(key) ? { noValidate: true } : { checkArn: false, checkPaths: false };
  // Throws on an invalid definition, which is then never recorded as validated.
  const machine = new StateMachine(definition, { validationOptions });
  validatedDefinitions.add(key);
  return machine;
}

/** Executes `definition` with `input`; every Task must have a handler, so nothing reaches AWS. */
export async function runAsl(definition: StateMachineDefinition, input: Json, options: AslRunOptions): Promise<AslRunResult> {
  const tasks = taskStateNames(definition);
  const missing = tasks.filter((name) => options.handlers[name] === undefined);
  if (missing.length > 0) throw new Error(`No local handler for Task state(s): ${missing.join(', ')}`);

  const machine = stateMachineOf(withStepFunctionsTaskTimeouts(definition));
  // Wait states pass at once locally; handlers that model time (a virtual clock) advance it themselves.
  const waits = Object.entries((definition as unknown as { States: Record<string, { Type: string }> }).States)
    .filter(([, state]) => state.Type === 'Wait')
    .map(([name]) => name);
  const startTime = (options.startTime ?? new Date()).toISOString();
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: options.handlers as Record<string, (input: unknown) => Promise<never>>,
      retryIntervalOverrides: Object.fromEntries(tasks.map((name) => [name, options.retryIntervalMs ?? 0])),
      waitTimeOverrides: Object.fromEntries(waits.map((name) => [name, 0])),
    },
    context: {
      Execution: { Id: `arn:aws:states:local:000000000000:execution:sial:${options.executionName}`, Name: options.executionName, Input: input, StartTime: startTime },
      // Token-waiting states read $$.Task.Token; local overrides wait on the approval id instead.
      Task: { Token: `local-task-token:${options.executionName}` },
      // The engine has no $$.State; a state's Parameters are resolved as it is entered, so the clock read
      // then is the state's entered time. A getter, because the engine copies the context object once.
      State: {
        get EnteredTime(): string {
          return (options.clock ?? (() => new Date()))().toISOString();
        },
      },
    },
  });

  const visited: string[] = [];
  const outputs = new Map<string, Json>();
  let failure: { error: string; cause: string } | undefined;
  let output: Json | undefined;
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') {
      visited.push(event.state.name);
      options.onStateEntered?.(event.state.name);
    } else if (event.type === 'StateExited' && event.state.output !== undefined) outputs.set(event.state.name, event.state.output as Json);
    else if (event.type === 'ExecutionSucceeded') output = event.output as Json;
    else if (event.type === 'ExecutionFailed') failure = { error: event.Error, cause: typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause) };
  }
  try {
    await execution.result;
  } catch (error) {
    failure ??= { error: (error as Error).name, cause: (error as Error).message };
  }
  return failure === undefined ? { status: 'SUCCEEDED', output, visited, outputs } : { status: 'FAILED', error: failure.error, cause: failure.cause, visited, outputs };
}
