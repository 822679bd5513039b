/**
 * Where a run keeps its artifacts: everything under `s3://<artifact bucket>/runs/<runId>/`, so a run
 * can be found, audited and erased (dataset lineage) by one prefix.
 */
import type { ValidatedRequest } from '../contracts';

export type RunUris = ValidatedRequest['uris'];

// S3 bucket naming rules: 3-63 characters, lower-case letters, digits, dots and hyphens.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The run's URIs. Prefixes end in `/` so that consumers append file names (`output` + `model.tar.gz`).
 *
 * @throws Error when the bucket name is not a valid S3 bucket name (a construct wiring mistake).
 */
export function runUris(artifactBucket: string, runId: string): RunUris {
  if (!BUCKET_NAME.test(artifactBucket)) {
    throw new Error(`the artifact bucket "${artifactBucket}" is not a valid S3 bucket name (ARTIFACT_BUCKET)`);
  }
  const root = `s3://${artifactBucket}/runs/${runId}/`;
  return {
    datasetPrefix: `${root}dataset/`,
    output: `${root}output/`,
    checkpoints: `${root}checkpoints/`,
    evalOutput: `${root}eval/`,
    metrics: `${root}eval/metrics.json`,
  };
}
