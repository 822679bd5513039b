/**
 * Builds the CDK app for one stage. bin/app.ts reads the context and the files and calls this; tests
 * call it directly with the same inputs, so they check exactly what `cdk synth` produces.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, type StageConfig } from '../config/schema';
import type { RewardPolicy } from '../lambdas/gate-score/reward/policy';
import { DataStack } from './stacks/data-stack';
import { LoopStack } from './stacks/loop-stack';

/** Inputs of {@link buildApp}. */
export interface BuildAppProps {
  /** The app to build into (its context carries feature flags and synth options). */
  readonly app: App;
  /** The validated stage configuration (config/index.ts `loadStageConfig`). */
  readonly config: StageConfig;
  /** The reward policy named by `config.rewardPolicyVersion` (config/reward-policies/read.ts). */
  readonly rewardPolicy: RewardPolicy;
  /**
   * Register the cdk-nag AwsSolutions checks as a validation plugin.
   *
   * @default true
   */
  readonly nag?: boolean;
  /**
   * Folder of the trainer image asset (`training.image.kind: asset`).
   *
   * @default <repository>/training
   */
  readonly trainingImageDirectory?: string;
}

/** What {@link buildApp} built. */
export interface BuiltApp {
  readonly app: App;
  readonly dataStack: DataStack;
  readonly loopStack: LoopStack;
}

/** Stack name of a stage's data stack. */
export function dataStackName(stage: string): string {
  return `sial-${stage}-data`;
}

/** Stack name of a stage's loop stack. */
export function loopStackName(stage: string): string {
  return `sial-${stage}-loop`;
}

/** Adds the stage's stacks to `app`, with cdk-nag AwsSolutions checks run at synthesis. */
export function buildApp(props: BuildAppProps): BuiltApp {
  const { app, config, rewardPolicy } = props;
  if (rewardPolicy.version !== config.rewardPolicyVersion) {
    throw new ConfigError(
      `Stage ${config.stage} names reward policy "${config.rewardPolicyVersion}" but received policy version "${rewardPolicy.version}"`,
    );
  }
  // Region always comes from the stage (the regional gate is structural); the account only when pinned.
  const env = { region: config.region, ...(config.account === undefined ? {} : { account: config.account }) };
  const dataStack = new DataStack(app, dataStackName(config.stage), { env, config, rewardPolicy });
  const loopStack = new LoopStack(app, loopStackName(config.stage), {
    env,
    config,
    lake: dataStack.lake,
    artifacts: dataStack.artifacts,
    pipelineTables: dataStack.pipelineTables,
    modelRegistry: dataStack.modelRegistry,
    traceStream: dataStack.traceStream,
    judgmentStream: dataStack.judgmentStream,
    reviewStream: dataStack.reviewStream,
    pseudonymisationKey: dataStack.pseudonymisationKey.secret,
    rewardPolicy,
    trainingImageDirectory: props.trainingImageDirectory,
  });
  // Implied by the cross-stack references already; explicit because the loop stack's API stage also
  // needs the API Gateway CloudWatch role that the data stack owns.
  loopStack.addStackDependency(dataStack);
  if (props.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, dataStack, loopStack };
}
