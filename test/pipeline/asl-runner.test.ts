/**
 * runAsl on small hand-written definitions: the contract local mode and the construct tests'
 * execute() rely on (states entered, output, a Fail state's or an uncaught error's name and cause,
 * Waits and retry pauses skipped, the execution name in the context, no Task left to reach AWS).
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS, LocalTaskError, runAsl, taskStateNames, withStepFunctionsTaskTimeouts, type LocalTaskHandler } from '../../local/pipeline/asl-runner';

const definition = (states: Record<string, unknown>, startAt = Object.keys(states)[0]!): StateMachineDefinition =>
  ({ StartAt: startAt, States: states }) as unknown as StateMachineDefinition;

const LAMBDA = 'arn:aws:lambda:us-east-1:000000000000:function:f';

describe('runAsl', () => {
  test('succeeds with the last output, in the order states were entered; a Wait of an hour passes at once', async () => {
    const asl = definition({
      Name: { Type: 'Task', Resource: LAMBDA, Parameters: { 'name.$': '$$.Execution.Name', 'n.$': '$.n' }, ResultPath: '$.named', Next: 'Pause' },
      Pause: { Type: 'Wait', Seconds: 3600, Next: 'Done' },
      Done: { Type: 'Succeed' },
    });
    const seen: unknown[] = [];
    const started = Date.now();
    const entered: string[] = [];
    const run = await runAsl(asl, { n: 1 }, { executionName: 'run-7', handlers: { Name: async (input) => (seen.push(input), 'ok') }, onStateEntered: (name) => entered.push(name) });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run).toEqual({ status: 'SUCCEEDED', output: { n: 1, named: 'ok' }, visited: ['Name', 'Pause', 'Done'], outputs: expect.any(Map) });
    expect(seen).toEqual([{ name: 'run-7', n: 1 }]);
    // Progress is reported as states are entered, and each state's output is kept (after its ResultPath).
    expect(entered).toEqual(['Name', 'Pause', 'Done']);
    expect(run.outputs.get('Name')).toEqual({ n: 1, named: 'ok' });
  });

  test('$$.State.EnteredTime is the given clock when each state is entered (the wall clock without one)', async () => {
    const asl = definition({
      First: { Type: 'Task', Resource: LAMBDA, Parameters: { 'at.$': '$$.State.EnteredTime' }, ResultPath: '$.first', Next: 'Second' },
      Second: { Type: 'Task', Resource: LAMBDA, Parameters: { 'at.$': '$$.State.EnteredTime' }, ResultPath: '$.second', End: true },
    });
    let now = Date.parse('2026-11-21T09:00:00.000Z');
    const clock = () => new Date((now += 60_000));
    const echo: LocalTaskHandler = async (input) => (input as { at: string }).at;
    const run = await runAsl(asl, {}, { executionName: 'run-1', clock, handlers: { First: echo, Second: echo } });
    expect(run.output).toEqual({ first: '2026-11-21T09:01:00.000Z', second: '2026-11-21T09:02:00.000Z' });
    const wall = await runAsl(asl, {}, { executionName: 'run-1', handlers: { First: echo, Second: echo } });
    expect(Math.abs(Date.parse((wall.output as { first: string }).first) - Date.now())).toBeLessThan(60_000);
  });

  test('a Fail state fails the run with its Error and Cause', async () => {
    const asl = definition({ Stop: { Type: 'Fail', Error: 'Refused', Cause: 'not today' } });
    expect(await runAsl(asl, {}, { executionName: 'run-1', handlers: {} })).toEqual({ status: 'FAILED', error: 'Refused', cause: 'not today', visited: ['Stop'], outputs: new Map() });
  });

  test('an uncaught handler error fails the run with its name and message, after the retries (without their pauses)', async () => {
    const asl = definition({
      Flaky: { Type: 'Task', Resource: LAMBDA, Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 3600, MaxAttempts: 2 }], End: true },
    });
    let calls = 0;
    const run = await runAsl(asl, {}, {
      executionName: 'run-1',
      handlers: {
        Flaky: async () => {
          calls += 1;
          throw new LocalTaskError('Transient', `attempt ${calls}`);
        },
      },
    });
    expect(run).toEqual({ status: 'FAILED', error: 'Transient', cause: 'attempt 3', visited: ['Flaky'], outputs: new Map() });
    expect(calls).toBe(3);
  });

  test('refuses to start when a Task state has no handler, naming it', async () => {
    const asl = definition({ A: { Type: 'Task', Resource: LAMBDA, Next: 'B' }, B: { Type: 'Task', Resource: LAMBDA, End: true } });
    expect(taskStateNames(asl)).toEqual(['A', 'B']);
    await expect(runAsl(asl, {}, { executionName: 'run-1', handlers: { A: async () => null } })).rejects.toThrow('No local handler for Task state(s): B');
  });

  test('an invalid definition is refused on every run, also after a valid one ran (each definition is validated once)', async () => {
    const valid = definition({ Done: { Type: 'Succeed' } });
    for (const name of ['run-1', 'run-2']) expect((await runAsl(valid, {}, { executionName: name, handlers: {} })).status).toBe('SUCCEEDED');
    // Next names a state that does not exist: asl-validator's finding, not an execution error.
    const invalid = definition({ Start: { Type: 'Pass', Next: 'Nowhere' } });
    for (const name of ['run-3', 'run-4']) await expect(runAsl(invalid, {}, { executionName: name, handlers: {} })).rejects.toThrow(/State machine definition is invalid/);
  });
});

describe('task timeouts as Step Functions has them', () => {
  it('gives a Task state without a timeout the local default (Step Functions has no 60-second limit) and keeps a declared one', () => {
    const definition = {
      StartAt: 'Train',
      States: {
        Train: { Type: 'Task', Resource: 'arn:aws:states:::batch:submitJob.sync', Next: 'Book' },
        Book: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: 30, Next: 'Fetch' },
        Fetch: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSecondsPath: '$.timeout', Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    } as unknown as StateMachineDefinition;
    const states = (withStepFunctionsTaskTimeouts(definition) as unknown as { States: Record<string, { TimeoutSeconds?: number }> }).States;
    expect(states.Train!.TimeoutSeconds).toBe(LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS);
    expect(states.Book!.TimeoutSeconds).toBe(30);
    expect(states.Fetch!.TimeoutSeconds).toBeUndefined();
    expect(states.Done!.TimeoutSeconds).toBeUndefined();
  });

  it('lets a task run past 60 seconds of the library\'s default', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const definition = { StartAt: 'Slow', States: { Slow: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } } } as unknown as StateMachineDefinition;
      const slow: LocalTaskHandler = () => new Promise((resolve) => setTimeout(() => resolve({ done: true }), 120_000));
      const running = runAsl(definition, {}, { handlers: { Slow: slow }, executionName: 'slow' });
      await jest.advanceTimersByTimeAsync(121_000);
      expect((await running).status).toBe('SUCCEEDED');
    } finally {
      jest.useRealTimers();
    }
  });
});
