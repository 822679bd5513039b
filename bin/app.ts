#!/usr/bin/env node
/**
 * CDK entry point: `npx cdk synth -c stage=NAME`. The only place that reads context and files; a bad
 * stage or reward policy stops synthesis with a message naming the field, the value and what is allowed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError, loadStageConfig } from '../config';
import { buildApp, parseRewardPolicy } from '../lib/app';

const REWARD_POLICY_DIR = path.join(__dirname, '..', 'config', 'reward-policies');

function readRewardPolicy(version: string): { raw: unknown; source: string } {
  const source = `config/reward-policies/${version}.json`;
  const file = path.join(REWARD_POLICY_DIR, `${version}.json`);
  if (!fs.existsSync(file)) {
    const available = fs.readdirSync(REWARD_POLICY_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
    throw new ConfigError(`Reward policy "${version}" not found: expected ${source}; available versions: ${available.join(', ') || 'none'}`);
  }
  try {
    return { raw: JSON.parse(fs.readFileSync(file, 'utf8')) as unknown, source };
  } catch (error) {
    throw new ConfigError(`Reward policy ${source} is not valid JSON: ${(error as Error).message}`);
  }
}

function main(): void {
  const app = new App();
  const stageContext: unknown = app.node.tryGetContext('stage');
  const stage = typeof stageContext === 'string' ? stageContext : undefined;
  const config = loadStageConfig(stage);
  const { raw, source } = readRewardPolicy(config.rewardPolicyVersion);
  const rewardPolicy = parseRewardPolicy(raw, source, config.rewardPolicyVersion);
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
