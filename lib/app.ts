/**
 * Builds the CDK app for one stage. bin/app.ts reads the context and the files and calls this; tests
 * call it directly with the same inputs, so they check exactly what `cdk synth` produces.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, type StageConfig } from '../config/schema';
import { rewardPolicySchema, type RewardPolicy } from '../lambdas/gate-score/reward/policy';
import { DataStack } from './stacks/data-stack';

/** Inputs of {@link buildApp}. */
export interface BuildAppProps {
  /** The app to build into (its context carries feature flags and synth options). */
  readonly app: App;
  /** The validated stage configuration (config/index.ts `loadStageConfig`). */
  readonly config: StageConfig;
  /** The reward policy named by `config.rewardPolicyVersion` ({@link parseRewardPolicy}). */
  readonly rewardPolicy: RewardPolicy;
  /**
   * Register the cdk-nag AwsSolutions checks as a validation plugin.
   *
   * @default true
   */
  readonly nag?: boolean;
}

/** What {@link buildApp} built. */
export interface BuiltApp {
  readonly app: App;
  readonly dataStack: DataStack;
}

/** Stack name of a stage's data stack. */
export function dataStackName(stage: string): string {
  return `sial-${stage}-data`;
}

/** Adds the stage's stacks to `app`, with cdk-nag AwsSolutions checks run at synthesis. */
export function buildApp(props: BuildAppProps): BuiltApp {
  const { app, config, rewardPolicy } = props;
  if (rewardPolicy.version !== config.rewardPolicyVersion) {
    throw new ConfigError(
      `Stage ${config.stage} names reward policy "${config.rewardPolicyVersion}" but received policy version "${rewardPolicy.version}"`,
    );
  }
  const dataStack = new DataStack(app, dataStackName(config.stage), {
    // Region always comes from the stage (the regional gate is structural); the account only when pinned.
    env: { region: config.region, ...(config.account === undefined ? {} : { account: config.account }) },
    config,
    rewardPolicy,
  });
  if (props.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, dataStack };
}

/**
 * Validates a parsed reward policy file; throws ConfigError naming the file, each field, the value
 * received and what is allowed.
 */
export function parseRewardPolicy(raw: unknown, source: string, expectedVersion: string): RewardPolicy {
  const result = rewardPolicySchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
      return `  - ${field}: received ${describe(raw, issue.path)}; ${issue.message}`;
    });
    throw new ConfigError(`Invalid reward policy in ${source}:\n${lines.join('\n')}`);
  }
  if (result.data.version !== expectedVersion) {
    throw new ConfigError(`Invalid reward policy in ${source}:\n  - version: received "${result.data.version}"; expected "${expectedVersion}", the file's name`);
  }
  return result.data;
}

function describe(root: unknown, path: readonly PropertyKey[]): string {
  let cursor: unknown = root;
  for (const key of path) {
    if (cursor === null || typeof cursor !== 'object') return 'nothing';
    cursor = (cursor as Record<PropertyKey, unknown>)[key];
  }
  if (cursor === undefined) return 'nothing (the field is missing)';
  const json = JSON.stringify(cursor);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
