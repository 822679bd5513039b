/**
 * `sial rollout status | seed | release --model ID`: the deployments table's records of a target model
 * from a terminal, in AWS with the caller's credentials or, with `--local DIR`, in local mode's store.
 * Replaces hand-written DynamoDB items: every write goes through the rollout's own DeploymentStore
 * adapter, after the checks the rollout itself would make.
 */
import { loadStageConfig, type StageConfig } from '../../config';
import type { TargetModel } from '../../config/schema';
import { errorName } from '../../lambdas/pipeline/approvals/aws/error-name';
import { EXECUTION_ARN } from '../../lambdas/rollout/contracts';
import { findModel } from '../../lambdas/rollout/validate-rollout/validate-rollout';
import { EXIT, nonEmpty, parseCommandLine, UsageError, type CliCommand, type CliContext, type ParsedCommandLine } from './command';
import { isStateMachineArn, rolloutRelease, rolloutSeed, rolloutStatus, type ActionOptions } from './rollout-actions';
import { awsRolloutBackend as defaultAwsBackend, localRolloutBackend, type AwsRolloutBackendOptions, type RolloutBackend } from './rollout-backend';
import { SeedRefused } from './rollout-version';

/** Environment variables for what a flag does not name. */
export const ROLLOUT_ENV = {
  stage: 'SIAL_STAGE',
  table: 'SIAL_DEPLOYMENTS_TABLE',
  /** These two only serve claims that do not record their execution (written before claims did). */
  rolloutStateMachine: 'SIAL_ROLLOUT_STATE_MACHINE',
  gameDayStateMachine: 'SIAL_GAME_DAY_STATE_MACHINE',
} as const;

/** The stage `npm run local` uses unless told otherwise. */
const LOCAL_DEFAULT_STAGE = 'dev';

const USAGE = `usage:
  sial rollout status  --model ID [--json] [--execution ARN]
  sial rollout seed    --model ID (--version N | --package-arn ARN) [--serving-name NAME] [--force]
  sial rollout release --model ID [--execution ARN] [--force]

status   the model's current version, the rollout that holds it (and whether its execution runs),
         and how its last rollout ended
seed     records the version that serves before the model's first rollout: a registered version of
         the model's package group (--version N, or its --package-arn), serving as --serving-name:
         the endpoint's production variant (SageMaker; required) or one of the HTTPRoute's two
         backends (EKS; default: the configured currentBackend). --force replaces a recorded version
         (never while a rollout holds the model).
release  removes the claim of a rollout whose execution no longer runs (a stopped execution leaves it);
         the claim names that execution. A RUNNING execution is never released. --force releases when
         the execution's state cannot be read: always in local mode, in AWS only when the execution no
         longer exists. Traffic weights are never touched.

where:
  --stage S        the stage in config/stages (default: $${ROLLOUT_ENV.stage}; with --local: ${LOCAL_DEFAULT_STAGE})
  --local DIR      the lake directory of a local run (sial local run --lake-dir) instead of AWS
  --table NAME     the stage's deployments table: stack output DeploymentsTableName of
                   sial-<stage>-data (default: $${ROLLOUT_ENV.table})
  --region R       its region (default: the stage's)
  --execution ARN  check this execution instead of the one the claim names
  --state-machine ARN, --game-day-state-machine ARN
                   only for a claim written before claims named their execution: the rollout or the
                   game-day state machine whose execution it is (stack outputs RolloutStateMachineArn,
                   GameDayStateMachineArn; default: $${ROLLOUT_ENV.rolloutStateMachine}, $${ROLLOUT_ENV.gameDayStateMachine})

In AWS your credentials act: dynamodb GetItem, PutItem, DeleteItem, ConditionCheckItem and Scan on the table, kms Decrypt,
Encrypt and GenerateDataKey on its key (the lake key), sagemaker ListModelPackages and
DescribeModelPackage (seed), states DescribeExecution (status, release).`;

const OPTIONS = {
  local: { type: 'string' },
  stage: { type: 'string' },
  model: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  'state-machine': { type: 'string' },
  'game-day-state-machine': { type: 'string' },
  execution: { type: 'string' },
  version: { type: 'string' },
  'package-arn': { type: 'string' },
  'serving-name': { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ParsedCommandLine<typeof OPTIONS>['values'];

const ACTIONS = ['status', 'seed', 'release'] as const;
type Action = (typeof ACTIONS)[number];

/** Which options each action takes besides the common ones. */
const ACTION_OPTIONS: Record<Action, readonly (keyof typeof OPTIONS)[]> = {
  status: ['json', 'execution'],
  seed: ['version', 'package-arn', 'serving-name', 'force'],
  release: ['execution', 'force'],
};
const COMMON_OPTIONS: readonly (keyof typeof OPTIONS)[] = ['local', 'stage', 'model', 'table', 'region', 'state-machine', 'game-day-state-machine', 'help'];

function modelList(stage: StageConfig): string {
  return stage.targetModels.map((m) => `${m.id} (${m.rollout.kind})`).join(', ');
}

/** The stage's target model; the scope rule is checked as `Validate rollout` checks it. */
function targetModel(stage: StageConfig, id: string | undefined): TargetModel {
  if (id === undefined || id === '') throw new UsageError(`name the model with --model ID; stage ${stage.stage} has: ${modelList(stage)}`);
  if (!stage.targetModels.some((m) => m.id === id)) throw new Error(`unknown model "${id}": stage ${stage.stage}'s target models are ${modelList(stage)}`);
  return findModel(id, { stage: stage.stage, targetModels: stage.targetModels });
}

function stageOf(values: Values, context: CliContext): StageConfig {
  const name = nonEmpty(values.stage) ?? nonEmpty(context.env[ROLLOUT_ENV.stage]) ?? (values.local !== undefined ? LOCAL_DEFAULT_STAGE : undefined);
  if (name === undefined) throw new UsageError(`name the stage with --stage S or $${ROLLOUT_ENV.stage}`);
  try {
    return loadStageConfig(name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function stateMachineArn(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && !isStateMachineArn(value)) throw new UsageError(`${flag} must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>); received "${value}"`);
  return value;
}

/** Picks the backend: `--local DIR`, or AWS with the table from `--table` / $SIAL_DEPLOYMENTS_TABLE. */
function backendFor(action: Action, values: Values, stage: StageConfig, context: CliContext, aws: (options: AwsRolloutBackendOptions) => RolloutBackend): RolloutBackend {
  if (values.local !== undefined) {
    const awsOnly = (['table', 'region', 'state-machine', 'game-day-state-machine', 'execution'] as const).filter((o) => values[o] !== undefined);
    if (awsOnly.length > 0) throw new UsageError(`--local cannot be combined with ${awsOnly.map((o) => `--${o}`).join(', ')}`);
    return localRolloutBackend(values.local, action !== 'seed');
  }
  const tableName = nonEmpty(values.table) ?? nonEmpty(context.env[ROLLOUT_ENV.table]);
  if (tableName === undefined) throw new UsageError(`name the stage's deployments table with --table NAME or $${ROLLOUT_ENV.table} (stack output DeploymentsTableName of sial-<stage>-data), or use --local DIR`);
  const rollout = stateMachineArn('--state-machine', nonEmpty(values['state-machine']) ?? nonEmpty(context.env[ROLLOUT_ENV.rolloutStateMachine]));
  const gameDay = stateMachineArn('--game-day-state-machine', nonEmpty(values['game-day-state-machine']) ?? nonEmpty(context.env[ROLLOUT_ENV.gameDayStateMachine]));
  if (values.execution !== undefined && !EXECUTION_ARN.test(values.execution)) {
    throw new UsageError(`--execution must be an execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>); received "${values.execution}"`);
  }
  return aws({ tableName, region: values.region ?? stage.region, stateMachines: { ...(rollout !== undefined ? { rollout } : {}), ...(gameDay !== undefined ? { gameDay } : {}) } });
}

function seedRequest(values: Values): { packageArn?: string; version?: number; servingName?: string } {
  if (values.version === undefined && values['package-arn'] === undefined) throw new UsageError('seed needs the version that serves: --version N (of the model\'s package group) or --package-arn ARN');
  const version = values.version === undefined ? undefined : Number(values.version);
  if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw new UsageError(`--version must be a model package version number (1, 2, ...); received "${values.version}"`);
  return {
    ...(values['package-arn'] !== undefined ? { packageArn: values['package-arn'] } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(values['serving-name'] !== undefined ? { servingName: values['serving-name'] } : {}),
  };
}

/** An AWS SDK failure, said plainly with where it happened; undefined for anything else. */
function awsFailure(error: unknown, where: string): string | undefined {
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'CredentialsProviderError') return `no AWS credentials were found (${message}); sign in (e.g. aws sso login, or AWS_PROFILE) and try again`;
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  if (name === 'ResourceNotFoundException') return `${where}: ${message} (check --table and --region)`;
  if (name === 'AccessDeniedException' || name === 'AccessDenied') return `AWS refused the call for ${where}: ${message}`;
  if (name === 'UnrecognizedClientException' || name === 'ExpiredTokenException' || name === 'InvalidSignatureException') return `your AWS credentials were not accepted (${name}: ${message}); sign in again`;
  return `AWS ${name ?? 'error'} for ${where}: ${message}`;
}

async function act(action: Action, options: ActionOptions, values: Values): Promise<number> {
  const execution = values.execution !== undefined ? { execution: values.execution } : {};
  switch (action) {
    case 'status':
      return rolloutStatus(options, { json: values.json === true, ...execution });
    case 'seed':
      return rolloutSeed(options, seedRequest(values), values.force === true);
    case 'release':
      return rolloutRelease(options, { force: values.force === true, ...execution });
  }
}

/** Builds the command; tests pass an AWS backend with mocked clients. */
export function createRolloutCommand(aws: (options: AwsRolloutBackendOptions) => RolloutBackend = defaultAwsBackend): CliCommand {
  return {
    name: 'rollout',
    summary: "a model's deployment record: status, seed the current version before the first rollout, release a stale claim",
    usage: USAGE,
    async run(args, context) {
      const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
      if (parsed === undefined) return EXIT.ok;
      const { values, positionals } = parsed;
      const [action, ...extra] = positionals;
      if (action === undefined) throw new UsageError('say what to do: status, seed or release');
      if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`unknown action "${action}"`);
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (the model is named with --model ID)`);
      const chosen = action as Action;
      const foreign = (Object.keys(values) as (keyof typeof OPTIONS)[]).filter((o) => !COMMON_OPTIONS.includes(o) && !ACTION_OPTIONS[chosen].includes(o));
      if (foreign.length > 0) throw new UsageError(`${foreign.map((o) => `--${o}`).join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not for ${chosen}`);

      const stage = stageOf(values, context);
      const model = targetModel(stage, values.model);
      const backend = backendFor(chosen, values, stage, context, aws);
      try {
        return await act(chosen, { stage, model, backend, context }, values);
      } catch (error) {
        if (error instanceof SeedRefused) {
          context.io.err(`Not recorded: ${error.message}.`);
          return EXIT.failed;
        }
        const failure = awsFailure(error, backend.where);
        if (failure === undefined) throw error;
        throw new Error(failure);
      }
    },
  };
}

/** `sial rollout`. */
export const rolloutCommand: CliCommand = createRolloutCommand();
