/**
 * `sial erase` in AWS: the id is pseudonymised here, with the stage's key read from Secrets Manager,
 * and only the pseudonym (or the trace ids) starts the stage's erasure state machine, so the raw id
 * never reaches the execution's input, history or logs. The ledger is read from its DynamoDB table.
 */
import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbErasureLedger } from '../../lambdas/erasure/aws/dynamodb-erasure-ledger';
import { erasureTarget, targetKey, type ErasureSelector, type ErasureTarget } from '../../lambdas/erasure/erasure-request';
import type { ErasureLedger } from '../../lambdas/erasure/ledger';
import { SecretsManagerPseudonymisationKeyProvider } from '../../lambdas/shared/aws/secrets-manager-pseudonymisation-key';
import { createPseudonymiser } from '../../lambdas/shared/pseudonymisation';

/** Environment defaults of the AWS flags (the stack outputs of sial-<stage>-loop). */
export const ERASE_ENV = {
  stateMachine: 'SIAL_ERASURE_STATE_MACHINE',
  keySecret: 'SIAL_PSEUDONYMISATION_KEY_SECRET',
  ledgerTable: 'SIAL_ERASURE_LEDGER_TABLE',
} as const;

/** A state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>). */
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

export function isErasureStateMachineArn(arn: string): boolean {
  return STATE_MACHINE_ARN.test(arn);
}

/** The execution's name: the request second and a digest of the target, so the same command in the same second starts it once. */
export function erasureExecutionName(target: ErasureTarget, now: Date): string {
  const digest = createHash('sha256').update(targetKey(target)).digest('hex').slice(0, 16);
  return `erase-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${digest}`;
}

export interface AwsErasureStart {
  readonly stateMachineArn: string;
  /** The pseudonymisation key's secret (stack output PseudonymisationKeySecretArn); needed for --subject and --session. */
  readonly keySecretId?: string;
  readonly region?: string;
  readonly selector: ErasureSelector;
  readonly now: Date;
}

/** Pseudonymises the selector and starts the execution; resolves to its ARN and the target as sent. */
export async function startAwsErasure(start: AwsErasureStart): Promise<{ executionArn: string; target: ErasureTarget }> {
  const config = start.region === undefined ? {} : { region: start.region };
  let target: ErasureTarget;
  if (start.selector.kind === 'trace-ids') target = erasureTarget(start.selector, { pseudonymise: () => { throw new Error('trace ids are not pseudonymised'); } });
  else {
    if (start.keySecretId === undefined) throw new Error(`--subject and --session need the pseudonymisation key: --key-secret ARN (stack output PseudonymisationKeySecretArn; default $${ERASE_ENV.keySecret})`);
    const key = await new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient(config), start.keySecretId).key();
    target = erasureTarget(start.selector, createPseudonymiser(key));
  }
  const out = await new SFNClient(config).send(
    new StartExecutionCommand({ stateMachineArn: start.stateMachineArn, name: erasureExecutionName(target, start.now), input: JSON.stringify({ target }) }),
  );
  if (out.executionArn === undefined) throw new Error('Step Functions returned no execution ARN');
  return { executionArn: out.executionArn, target };
}

/** The stage's ledger table, read with the caller's credentials. */
export function awsErasureLedger(tableName: string, region?: string): ErasureLedger {
  return new DynamoDbErasureLedger(DynamoDBDocumentClient.from(new DynamoDBClient(region === undefined ? {} : { region })), tableName);
}
