/**
 * Retries with capped exponential backoff and "full jitter" (each wait is uniform in
 * [0, min(maxDelay, base * 2^(attempt-1)))), the scheme that spreads a burst of throttled callers
 * best (AWS Architecture Blog, "Exponential Backoff and Jitter"). Pure apart from the injected
 * `sleep`; `random` is injectable so tests can pin the waits.
 */
import type { Sleep } from './ports';

/** How `retryWithBackoff` retries. */
export interface RetryOptions {
  /** Total attempts, the first included (1 = no retry). */
  readonly maxAttempts: number;
  /** Cap of the first wait, in milliseconds; doubles with every retry. */
  readonly baseDelayMs: number;
  /** Largest cap of any wait, in milliseconds. */
  readonly maxDelayMs: number;
  /** Whether an error is worth another attempt; anything else is rethrown at once. */
  readonly isRetryable: (error: unknown) => boolean;
  /** Waits between attempts. */
  readonly sleep: Sleep;
  /**
   * Uniform random number in [0, 1).
   * @default Math.random
   */
  readonly random?: () => number;
  /** Called before each wait, e.g. to count retries in metrics. */
  readonly onRetry?: (info: { readonly attempt: number; readonly delayMs: number; readonly error: unknown }) => void;
}

/**
 * The wait before retry number `attempt` (1 = the wait after the first failure) under full jitter.
 * Exported so callers and tests can reason about the schedule.
 */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  // 2^30 already exceeds any sensible cap; clamping the exponent keeps the product finite.
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

/**
 * Runs `fn` until it resolves, an error is not retryable, or `maxAttempts` attempts have failed;
 * then rethrows the last error unchanged (so callers can still classify it). `fn` receives the
 * 1-based attempt number.
 *
 * @throws RangeError when an option is out of range (maxAttempts < 1, negative delays).
 */
export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { maxAttempts, baseDelayMs, maxDelayMs, isRetryable, sleep } = options;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer >= 1; received ${String(maxAttempts)}`);
  }
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= 0)) {
    throw new RangeError(`baseDelayMs and maxDelayMs must be >= 0; received ${String(baseDelayMs)} and ${String(maxDelayMs)}`);
  }
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryable(error)) throw error;
      const delayMs = backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}
