import { TaskCallbackRefused } from '../../../lambdas/pipeline/approvals/task-callbacks';
import { LocalTaskCallbacks, settleLocalTask } from '../../../local/pipeline/local-task-callbacks';
import { tempDir } from './helpers';

describe('LocalTaskCallbacks', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('a waiting task resolves with the output another instance (another process) sends', async () => {
    const engine = new LocalTaskCallbacks(dir);
    const cli = new LocalTaskCallbacks(dir);
    const waiting = engine.waitFor('token-1', { pollMs: 5 });
    await new Promise((r) => setTimeout(r, 20));
    await cli.succeed('token-1', '{"decision":"approved"}');
    await expect(waiting).resolves.toEqual({ status: 'succeeded', output: '{"decision":"approved"}' });
    expect(settleLocalTask(await engine.waitFor('token-1'))).toEqual({ decision: 'approved' });
  });

  it('a failure becomes an error with the error name and the cause as message, as the engine Catch reads them', async () => {
    const callbacks = new LocalTaskCallbacks(dir);
    await callbacks.open('token-2');
    await callbacks.fail('token-2', 'ApprovalRejected', '{"decision":"rejected","comment":"no"}');
    const outcome = await callbacks.waitFor('token-2');
    expect(outcome).toEqual({ status: 'failed', error: 'ApprovalRejected', cause: '{"decision":"rejected","comment":"no"}' });
    expect(() => settleLocalTask(outcome)).toThrow(expect.objectContaining({ name: 'ApprovalRejected', message: '{"decision":"rejected","comment":"no"}' }));
  });

  it('times out a wait like TimeoutSeconds: later callbacks are refused as TaskTimedOut', async () => {
    const callbacks = new LocalTaskCallbacks(dir);
    await expect(callbacks.waitFor('token-3', { timeoutMs: 30, pollMs: 5 })).resolves.toEqual({ status: 'timed-out' });
    await expect(callbacks.succeed('token-3', '{}')).rejects.toEqual(expect.objectContaining({ name: 'TaskCallbackRefused', reason: 'task-timed-out' }));
    expect(() => settleLocalTask({ status: 'timed-out' })).toThrow(expect.objectContaining({ name: 'States.Timeout' }));
  });

  it('refuses a second callback for a closed token and a callback for a token nobody waits on', async () => {
    const callbacks = new LocalTaskCallbacks(dir);
    await callbacks.open('token-4');
    await callbacks.succeed('token-4', '{}');
    await expect(callbacks.fail('token-4', 'ApprovalRejected', '{}')).rejects.toBeInstanceOf(TaskCallbackRefused);
    await expect(callbacks.succeed('never-opened', '{}')).rejects.toEqual(expect.objectContaining({ reason: 'task-not-found' }));
    expect(await callbacks.outcome('token-4')).toEqual({ status: 'succeeded', output: '{}' });
  });

  it('a decision that lands before the timeout wins over it', async () => {
    const callbacks = new LocalTaskCallbacks(dir);
    await callbacks.open('token-5');
    await callbacks.succeed('token-5', '"yes"');
    await expect(callbacks.timeOut('token-5')).resolves.toEqual({ status: 'succeeded', output: '"yes"' });
  });

  it('stops waiting when aborted, leaving the token open', async () => {
    const callbacks = new LocalTaskCallbacks(dir);
    const controller = new AbortController();
    const waiting = callbacks.waitFor('token-6', { signal: controller.signal, pollMs: 5 });
    setTimeout(() => controller.abort(new Error('engine stopped')), 20);
    await expect(waiting).rejects.toThrow('engine stopped');
    await expect(callbacks.succeed('token-6', '{}')).resolves.toBeUndefined();
  });
});
