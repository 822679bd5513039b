/**
 * Where `sial approvals` decides: the stage's DynamoDB table and Step Functions with the caller's
 * AWS credentials (IAM is the authentication: whoever may UpdateItem the table and SendTask* the
 * state machine may decide, and the record names their principal), or the local store of
 * `--local DIR`.
 */
import { userInfo } from 'node:os';
import { existsSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbApprovalStore } from '../../lambdas/pipeline/approvals/aws/dynamodb-approval-store';
import { SfnTaskCallbacks } from '../../lambdas/pipeline/approvals/aws/sfn-task-callbacks';
import type { ApprovalStore } from '../../lambdas/pipeline/approvals/store';
import type { TaskCallbacks } from '../../lambdas/pipeline/approvals/task-callbacks';
import { openLakeDir } from '../../local/lake-dir';
import { LocalApprovalStore } from '../../local/pipeline/local-approval-store';
import { LocalTaskCallbacks } from '../../local/pipeline/local-task-callbacks';
import { stsCallerArn } from './caller-identity';

export interface ApprovalBackend {
  readonly store: ApprovalStore;
  readonly callbacks: TaskCallbacks;
  /** Who decides, as recorded. */
  approver(): Promise<string>;
  /** For messages: where the decision goes. */
  readonly where: string;
}

/**
 * The approvals of the local run whose lake directory is `dir`; the approver is the OS user, marked as local.
 *
 * @throws Error when `dir` is not a lake directory of `sial local run`, or no run has asked for an approval in it.
 */
export function localBackend(dir: string, clock: () => Date): ApprovalBackend {
  const { approvalsDir, lakeDir } = openLakeDir(dir);
  if (!existsSync(approvalsDir)) throw new Error(`no run in ${lakeDir} has asked for an approval yet (there is no ${approvalsDir}); start one with: npm run local -- --lake-dir ${lakeDir}`);
  return {
    store: new LocalApprovalStore(approvalsDir),
    callbacks: new LocalTaskCallbacks(approvalsDir, clock),
    approver: async () => `local:${safeUserName()}`,
    where: `local run ${lakeDir}`,
  };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export interface AwsBackendOptions {
  readonly tableName: string;
  readonly region?: string;
  /** The caller's principal ARN; STS by default (tests inject one). */
  readonly callerArn?: () => Promise<string>;
  /** Clients, for tests with aws-sdk-client-mock; built from the default credential chain otherwise. */
  readonly dynamoDb?: DynamoDBClient;
  readonly sfn?: SFNClient;
}

/** The stage's approvals table and Step Functions, with the caller's credentials. */
export function awsBackend(options: AwsBackendOptions): ApprovalBackend {
  const config = options.region !== undefined ? { region: options.region } : {};
  const documents = DynamoDBDocumentClient.from(options.dynamoDb ?? new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } });
  let arn: Promise<string> | undefined;
  return {
    store: new DynamoDbApprovalStore(documents, options.tableName),
    callbacks: new SfnTaskCallbacks(options.sfn ?? new SFNClient(config)),
    approver: () => (arn ??= (options.callerArn ?? (() => stsCallerArn(options.region)))()),
    where: `table ${options.tableName}${options.region !== undefined ? ` in ${options.region}` : ''}`,
  };
}
