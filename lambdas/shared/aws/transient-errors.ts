/**
 * Which AWS SDK errors are worth retrying with backoff, for the detector adapters. The adapters build
 * their clients without SDK retries (the PII gate owns retrying) and classify errors here: a transient
 * error becomes TransientDetectorError, anything else is final for that call.
 */

/** Node socket errors of a connection that failed or was dropped, not of a bad request. */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/**
 * True for an error worth retrying: one of `transientNames` by name or code, an HTTP 429 or 5xx, an
 * error the SDK marked retryable, a server fault, or a dropped connection.
 */
export function isTransientAwsError(error: unknown, transientNames: ReadonlySet<string>): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as {
    name?: unknown;
    code?: unknown;
    $fault?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  if (typeof e.name === 'string' && transientNames.has(e.name)) return true;
  if (typeof e.code === 'string' && (transientNames.has(e.code) || TRANSIENT_NETWORK_CODES.has(e.code))) return true;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
  return e.$fault === 'server';
}
