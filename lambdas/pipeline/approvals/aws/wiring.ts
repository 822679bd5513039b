/**
 * Builds the AWS adapters the approval handlers share, once per execution environment.
 * Handlers call these at module load, so a missing variable fails the
 * cold start (and the deployment's smoke test) rather than a human's click.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SnsNotifier } from '../../aws/sns-notifier';
import { PIPELINE_ENV, requiredEnv } from '../../settings';
import { ApprovalLinkSigner } from '../signer';
import { DynamoDbApprovalStore } from './dynamodb-approval-store';
import { SecretsManagerKeyProvider } from './secrets-manager-key-provider';
import { SfnTaskCallbacks } from './sfn-task-callbacks';

/** The approvals table named by APPROVALS_TABLE. */
export function approvalStoreFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoDbApprovalStore {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return new DynamoDbApprovalStore(client, requiredEnv(PIPELINE_ENV.approvalsTable, env));
}

/** A link signer keyed by the secret named by APPROVAL_SIGNING_SECRET_ARN. */
export function linkSignerFromEnv(env: NodeJS.ProcessEnv = process.env): ApprovalLinkSigner {
  const secrets = new SecretsManagerClient({});
  return new ApprovalLinkSigner(new SecretsManagerKeyProvider(secrets, requiredEnv(PIPELINE_ENV.signingSecretArn, env)));
}

/** Step Functions task callbacks. */
export function taskCallbacks(): SfnTaskCallbacks {
  return new SfnTaskCallbacks(new SFNClient({}));
}

/** The pipeline's SNS notifier with the approvals and FinOps topics (APPROVALS_TOPIC_ARN, FINOPS_TOPIC_ARN), both required. */
export function approvalNotifierFromEnv(env: NodeJS.ProcessEnv = process.env): SnsNotifier {
  return new SnsNotifier(new SNSClient({}), {
    approvals: requiredEnv(PIPELINE_ENV.approvalsTopicArn, env),
    finops: requiredEnv(PIPELINE_ENV.finopsTopicArn, env),
  });
}
