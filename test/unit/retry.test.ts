import { backoffDelay, retryWithBackoff, type RetryOptions } from '../../lambdas/shared/retry';

class Retryable extends Error {}
class Fatal extends Error {}

/** Options with a recording sleep; no real time passes. */
function options(overrides: Partial<RetryOptions> = {}): { opts: RetryOptions; waits: number[] } {
  const waits: number[] = [];
  const opts: RetryOptions = {
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    isRetryable: (e) => e instanceof Retryable,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  };
  return { opts, waits };
}

/** A function that fails `failures` times with `error`, then returns 'ok'. */
function flaky(failures: number, error: () => Error): { fn: (attempt: number) => Promise<string>; attempts: number[] } {
  const attempts: number[] = [];
  return {
    attempts,
    fn: async (attempt) => {
      attempts.push(attempt);
      if (attempts.length <= failures) throw error();
      return 'ok';
    },
  };
}

describe('retryWithBackoff', () => {
  it('returns the first result without waiting', async () => {
    const { opts, waits } = options();
    const { fn, attempts } = flaky(0, () => new Retryable());
    await expect(retryWithBackoff(fn, opts)).resolves.toBe('ok');
    expect(attempts).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('retries retryable errors with full-jitter exponential waits', async () => {
    const { opts, waits } = options();
    const { fn, attempts } = flaky(3, () => new Retryable('throttled'));
    await expect(retryWithBackoff(fn, opts)).resolves.toBe('ok');
    expect(attempts).toEqual([1, 2, 3, 4]);
    // random 0.5 x min(1000, 100 x 2^(n-1)) for n = 1, 2, 3
    expect(waits).toEqual([50, 100, 200]);
  });

  it('caps each wait at maxDelayMs', async () => {
    const { opts, waits } = options({ maxAttempts: 8, random: () => 0.999 });
    const { fn } = flaky(7, () => new Retryable());
    await retryWithBackoff(fn, opts);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1_000);
    expect(waits.slice(-3)).toEqual([999, 999, 999]);
  });

  it('rethrows the last error unchanged once maxAttempts attempts failed', async () => {
    const { opts, waits } = options({ maxAttempts: 3 });
    let n = 0;
    const fn = async (): Promise<string> => {
      n += 1;
      throw new Retryable(`failure ${n}`);
    };
    await expect(retryWithBackoff(fn, opts)).rejects.toThrow('failure 3');
    expect(n).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('does not retry an error that is not retryable', async () => {
    const { opts, waits } = options();
    const { fn, attempts } = flaky(5, () => new Fatal('bad request'));
    await expect(retryWithBackoff(fn, opts)).rejects.toBeInstanceOf(Fatal);
    expect(attempts).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('makes exactly one attempt when maxAttempts is 1', async () => {
    const { opts } = options({ maxAttempts: 1 });
    const { fn, attempts } = flaky(1, () => new Retryable());
    await expect(retryWithBackoff(fn, opts)).rejects.toBeInstanceOf(Retryable);
    expect(attempts).toEqual([1]);
  });

  it('reports each retry before waiting', async () => {
    const seen: { attempt: number; delayMs: number }[] = [];
    const { opts } = options({ onRetry: ({ attempt, delayMs }) => seen.push({ attempt, delayMs }) });
    await retryWithBackoff(flaky(2, () => new Retryable()).fn, opts);
    expect(seen).toEqual([
      { attempt: 1, delayMs: 50 },
      { attempt: 2, delayMs: 100 },
    ]);
  });

  it('refuses nonsensical options', async () => {
    const { fn } = flaky(0, () => new Retryable());
    await expect(retryWithBackoff(fn, options({ maxAttempts: 0 }).opts)).rejects.toThrow(RangeError);
    await expect(retryWithBackoff(fn, options({ maxAttempts: 2.5 }).opts)).rejects.toThrow(RangeError);
    await expect(retryWithBackoff(fn, options({ baseDelayMs: -1 }).opts)).rejects.toThrow(RangeError);
  });
});

describe('backoffDelay', () => {
  it('is uniform in [0, min(cap, base x 2^(attempt-1))) under full jitter', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0)).toBe(0);
    expect(backoffDelay(1, 100, 10_000, () => 0.99)).toBe(99);
    expect(backoffDelay(4, 100, 10_000, () => 0.5)).toBe(400);
    expect(backoffDelay(20, 100, 10_000, () => 0.5)).toBe(5_000);
  });

  it('stays finite for huge attempt numbers', () => {
    expect(backoffDelay(10_000, 100, 2_000, () => 1)).toBe(2_000);
  });
});
