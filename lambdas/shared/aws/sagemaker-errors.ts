/**
 * Which SageMaker Runtime errors are worth retrying, for every caller of an endpoint (the NER detector
 * of the gate, the judge). Its own module: a caller must not bundle the other's code or the stage schema.
 */
import { isTransientAwsError } from './transient-errors';

/** Error names (SDK exception classes and service error codes) worth retrying with backoff. */
const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ThrottledException',
  'ModelNotReadyException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalDependencyException',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/**
 * True for an error worth retrying (throttling, 5xx, a model that is not ready, timeouts). A `ModelError` is judged by the status
 * the container answered (`OriginalStatusCode`), not by the 424 SageMaker wraps it in.
 */
export function isTransientSageMakerError(error: unknown): boolean {
  if (error !== null && typeof error === 'object' && (error as { name?: unknown }).name === 'ModelError') {
    const status = (error as { OriginalStatusCode?: unknown }).OriginalStatusCode;
    return typeof status === 'number' && (status === 429 || status >= 500);
  }
  return isTransientAwsError(error, TRANSIENT_ERROR_NAMES);
}
