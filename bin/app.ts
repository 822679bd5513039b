#!/usr/bin/env node
/**
 * CDK entry point: `npx cdk synth -c stage=NAME`. The only place that reads context and files; a bad
 * stage or reward policy stops synthesis with a message naming the field, the value and what is allowed.
 */
import { App } from 'aws-cdk-lib';
import { ConfigError, loadStageConfig } from '../config';
import { readRewardPolicy } from '../config/reward-policies/read';
import { buildApp } from '../lib/app';

function main(): void {
  const app = new App();
  const stageContext: unknown = app.node.tryGetContext('stage');
  const stage = typeof stageContext === 'string' ? stageContext : undefined;
  const config = loadStageConfig(stage);
  const rewardPolicy = readRewardPolicy(config.rewardPolicyVersion);
  buildApp({ app, config, rewardPolicy });
  app.synth();
}

try {
  main();
} catch (error) {
  if (error instanceof ConfigError) {
    // The message is the whole story (field, value received, what is allowed); a stack trace adds noise.
    console.error(`\n${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
