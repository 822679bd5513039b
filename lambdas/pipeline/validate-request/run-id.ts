/**
 * Run ids: derived from the Step Functions execution name, which is unique per state machine, so a
 * run's artifacts, ledger entry and model package all trace back to one execution.
 */
import { createHash } from 'node:crypto';

/** Longest run id; execution names are at most 80 characters, plus room for the hash suffix. */
export const MAX_RUN_ID_LENGTH = 100;
const SAFE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Turns an execution name into a run id that is safe as an S3 key segment, a DynamoDB key, a
 * SageMaker metadata value and an AWS Batch job name (letters, digits, `-`, `_`, starting with a
 * letter or digit). A name that is already safe is used as it is; otherwise the unsafe characters
 * become `-` and the first 8 hex digits of the name's SHA-256 are appended, so two names that clean
 * up to the same text (`run 1` and `run-1`) still get different run ids.
 */
export function runIdFromExecutionName(executionName: string): string {
  if (SAFE.test(executionName) && executionName.length <= MAX_RUN_ID_LENGTH) return executionName;
  const cleaned = executionName
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, MAX_RUN_ID_LENGTH - 9)
    .replace(/[-_]+$/, '');
  const suffix = createHash('sha256').update(executionName, 'utf8').digest('hex').slice(0, 8);
  return `${cleaned === '' ? 'run' : cleaned}-${suffix}`;
}
