/**
 * Where `sial rollout` reads and writes: the stage's deployments table, model registry and Step
 * Functions with the caller's AWS credentials, or the local store of `--local DIR` (the state directory
 * `npm run local` leaves). Both go through the DeploymentStore adapters the rollout itself uses, so the
 * CLI never writes an item layout of its own.
 */
import { existsSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { errorName } from '../../lambdas/pipeline/approvals/aws/error-name';
import { SageMakerModelRegistry } from '../../lambdas/pipeline/aws/sagemaker-model-registry';
import type { ModelRegistry } from '../../lambdas/pipeline/register-model/model-registry';
import { DynamoDbDeploymentStore } from '../../lambdas/rollout/aws/dynamodb-deployment-store';
import type { DeploymentStore } from '../../lambdas/rollout/ports';
import { openLakeDir } from '../../local/lake-dir';
import { LocalModelRegistry, localModelRegistryFile } from '../../local/pipeline/local-model-registry';
import { localDeploymentsFile, LocalDeploymentStore } from '../../local/rollout/local-deployment-store';

/** A Step Functions execution as DescribeExecution reports it, or `found: false` for none of that ARN. */
export type ExecutionState =
  | { readonly found: true; readonly arn: string; readonly name: string; readonly status: string; readonly startDate?: Date; readonly stopDate?: Date; readonly redrivable?: boolean }
  | { readonly found: false; readonly arn: string };

/** Reads an execution's status (Step Functions DescribeExecution). */
export interface ExecutionReader {
  describe(executionArn: string): Promise<ExecutionState>;
}

/**
 * The state machines whose executions claim a model: a canary rollout, or a game-day drill. Needed only
 * for a claim written before claims recorded their execution's ARN: its ARN is derived from these.
 */
export interface ClaimingStateMachines {
  /** Stack output `RolloutStateMachineArn`. */
  readonly rollout?: string;
  /** Stack output `GameDayStateMachineArn`. */
  readonly gameDay?: string;
}

export interface RolloutBackend {
  readonly store: DeploymentStore;
  /** The registry a seeded version must be registered in. */
  readonly registry: Pick<ModelRegistry, 'listPackages'>;
  /** Step Functions; absent locally, where the engine runs inside `npm run local` and keeps no execution state. */
  readonly executions?: ExecutionReader;
  readonly stateMachines: ClaimingStateMachines;
  /** The region a seeded package must be in (absent locally: local packages say `local`). */
  readonly region?: string;
  /** For messages: where the records are. */
  readonly where: string;
}

/**
 * The records of the local run whose lake directory is `dir` (under its `state/`).
 *
 * @param mustExist true when the command reads records: a run that never recorded a deployment is then
 *   a mistake (a wrong path), not an empty store.
 * @throws Error when `dir` is not a lake directory of `sial local run`, or (mustExist) holds no deployments.
 */
export function localRolloutBackend(dir: string, mustExist: boolean): RolloutBackend {
  const layout = openLakeDir(dir);
  const file = localDeploymentsFile(layout.stateDir);
  if (mustExist && !existsSync(file)) throw new Error(`no run in ${layout.lakeDir} has recorded a deployment yet (there is no ${file}); start one with: npm run local -- --lake-dir ${layout.lakeDir}`);
  return {
    store: new LocalDeploymentStore(file),
    registry: new LocalModelRegistry(localModelRegistryFile(layout.stateDir)),
    stateMachines: {},
    where: `local run ${layout.lakeDir}`,
  };
}

/** Step Functions DescribeExecution behind {@link ExecutionReader}. */
export class SfnExecutionReader implements ExecutionReader {
  constructor(private readonly client: SFNClient) {}

  async describe(executionArn: string): Promise<ExecutionState> {
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return {
        found: true,
        arn: out.executionArn ?? executionArn,
        name: out.name ?? executionArn.split(':').pop() ?? '',
        status: out.status ?? 'UNKNOWN',
        ...(out.startDate === undefined ? {} : { startDate: out.startDate }),
        ...(out.stopDate === undefined ? {} : { stopDate: out.stopDate }),
        ...(out.redriveStatus === undefined ? {} : { redrivable: out.redriveStatus === 'REDRIVABLE' }),
      };
    } catch (error) {
      if (errorName(error) === 'ExecutionDoesNotExist') return { found: false, arn: executionArn };
      throw error;
    }
  }
}

export interface AwsRolloutBackendOptions {
  readonly tableName: string;
  /** The stage's region: every client uses it, and a seeded package must be in it. */
  readonly region: string;
  readonly stateMachines: ClaimingStateMachines;
  /** Clients, for tests with aws-sdk-client-mock; built from the default credential chain otherwise. */
  readonly dynamoDb?: DynamoDBClient;
  readonly sfn?: SFNClient;
  readonly sageMaker?: SageMakerClient;
}

/** The stage's deployments table, model registry and Step Functions, with the caller's credentials. */
export function awsRolloutBackend(options: AwsRolloutBackendOptions): RolloutBackend {
  const config = { region: options.region };
  const documents = DynamoDBDocumentClient.from(options.dynamoDb ?? new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } });
  return {
    store: new DynamoDbDeploymentStore(documents, options.tableName),
    registry: new SageMakerModelRegistry(options.sageMaker ?? new SageMakerClient(config)),
    executions: new SfnExecutionReader(options.sfn ?? new SFNClient(config)),
    stateMachines: options.stateMachines,
    region: options.region,
    where: `table ${options.tableName} in ${options.region}`,
  };
}
