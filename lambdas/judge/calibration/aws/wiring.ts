/**
 * Builds the AWS adapters the calibration handlers share, once per execution environment.
 * Handlers call these at module load, so a missing variable fails the cold
 * start rather than a reviewer's click.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AthenaSqlEngine } from '../../../pipeline/dataset/athena-sql-engine';
import { ApprovalLinkSigner, REVIEW_LINK } from '../../../pipeline/approvals/signer';
import { SecretsManagerKeyProvider } from '../../../pipeline/approvals/aws/secrets-manager-key-provider';
import { FirehoseRowSink } from '../../../shared/aws/firehose-sink';
import { SecretsManagerPseudonymisationKeyProvider } from '../../../shared/aws/secrets-manager-pseudonymisation-key';
import { createPseudonymiser, type Pseudonymiser } from '../../../shared/pseudonymisation';
import { AgentIdentities } from '../../../shared/agent-pseudonyms';
import type { CalibrationTables } from '../calibration-queries';
import { CALIBRATION_ENV, requiredCalibrationEnv } from '../calibration-env';
import type { ReviewRowSink } from '../submit-review';
import { DynamoDbReviewQueue } from './dynamodb-review-queue';

const env = (name: string, from: NodeJS.ProcessEnv) => requiredCalibrationEnv(name, from);

/** The review queue table named by REVIEW_QUEUE_TABLE. */
export function reviewQueueFromEnv(from: NodeJS.ProcessEnv = process.env): DynamoDbReviewQueue {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return new DynamoDbReviewQueue(client, env(CALIBRATION_ENV.queueTable, from));
}

/** Athena in the calibration workgroup over the lake's Glue tables. */
export function athenaEngineFromEnv(from: NodeJS.ProcessEnv = process.env): AthenaSqlEngine {
  const traces = env(CALIBRATION_ENV.tracesTable, from);
  return new AthenaSqlEngine(new AthenaClient({}), {
    workGroup: env(CALIBRATION_ENV.athenaWorkGroup, from),
    database: env(CALIBRATION_ENV.database, from),
    // The calibration reads traces, and judgments and reviews through CalibrationTables ({{table:...}});
    // the dialect's other table names are never rendered by its queries.
    tables: { traces, gate_audit: traces, feedback: traces, judgments: env(CALIBRATION_ENV.judgmentsTable, from) },
    // Stop a query well before the function's own timeout, so it is never left scanning unobserved.
    timeoutMs: 4 * 60 * 1000,
  });
}

/** The Glue names of judgments and reviews. */
export function calibrationTablesFromEnv(from: NodeJS.ProcessEnv = process.env): CalibrationTables {
  return { judgments: env(CALIBRATION_ENV.judgmentsTable, from), reviews: env(CALIBRATION_ENV.reviewsTable, from) };
}

/** A review-link signer keyed by the approvals signing secret (its purpose string keeps the two kinds of link apart). */
export function reviewLinkSignerFromEnv(from: NodeJS.ProcessEnv = process.env): ApprovalLinkSigner {
  return new ApprovalLinkSigner(new SecretsManagerKeyProvider(new SecretsManagerClient({}), env(CALIBRATION_ENV.signingSecretArn, from)), REVIEW_LINK);
}

/** The ReviewStream (Firehose Direct PUT into `reviews`). */
export function reviewSinkFromEnv(from: NodeJS.ProcessEnv = process.env): ReviewRowSink {
  return new FirehoseRowSink(new FirehoseClient({}), env(CALIBRATION_ENV.reviewStream, from));
}

/** The stage's pseudonymiser (key read once per environment, on first use). */
export function pseudonymiserFromEnv(from: NodeJS.ProcessEnv = process.env): () => Promise<Pseudonymiser> {
  const keys = new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient({}), env(CALIBRATION_ENV.pseudonymisationSecretArn, from));
  return async () => createPseudonymiser(await keys.key());
}

/**
 * With CALIBRATION_HASHED_AGENTS (a stage with `lake.hashAgentIds`): how the e-mail and the page name
 * an item's stored agent id (a declared agent's configured name where the id is its pseudonym, under
 * the key at PSEUDONYMISATION_SECRET_ARN). Undefined without it: the stored id is shown as it is.
 */
export function agentIdentitiesFromEnv(from: NodeJS.ProcessEnv = process.env): (() => Promise<AgentIdentities>) | undefined {
  const listed = from[CALIBRATION_ENV.hashedAgents];
  if (listed === undefined || listed === '') return undefined;
  const declared: unknown = JSON.parse(listed);
  if (!Array.isArray(declared) || !declared.every((id) => typeof id === 'string')) throw new Error(`${CALIBRATION_ENV.hashedAgents} must be a JSON list of agent ids`);
  const pseudonymiser = pseudonymiserFromEnv(from);
  let identities: Promise<AgentIdentities> | undefined;
  return () => (identities ??= pseudonymiser().then((p) => AgentIdentities.hashed(declared as string[], p)));
}
