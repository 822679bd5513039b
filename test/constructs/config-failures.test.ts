/**
 * A bad stage must stop synthesis with a message naming the field, the value received and what is
 * allowed: through loadStageConfig/parseRewardPolicy (what bin/app.ts calls) and through the real
 * entry point, run once as `cdk synth` runs it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadStageConfig, parseStageConfig } from '../../config';
import type { StageConfig } from '../../config/schema';
import { dev } from '../../config/stages/dev';
import { parseRewardPolicy } from '../../config/reward-policies/read';
import { buildApp } from '../../lib/app';
import { REPO_ROOT, bareApp, rewardPolicyFor } from '../helpers/app';

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('stage selection and validation', () => {
  test('an unknown stage names the stage received and the stages allowed', () => {
    expect(configError(() => loadStageConfig('staging')).message).toBe('Unknown stage "staging": allowed stages are dev, prod-eu, prod-kr');
  });

  test('no stage at all says how to choose one', () => {
    expect(configError(() => loadStageConfig(undefined)).message).toMatch(/No stage selected: pass -c stage=NAME, one of dev, prod-eu, prod-kr/);
  });

  test('a missing field is named with its path and "missing"', () => {
    const raw = clone(dev) as unknown as { lake: Record<string, unknown> };
    delete raw.lake.databaseName;
    const message = configError(() => parseStageConfig(raw, 'config/stages/dev.ts')).message;
    expect(message).toContain('Invalid stage configuration in config/stages/dev.ts');
    expect(message).toContain('lake.databaseName: received nothing (the field is missing)');
  });

  test('a managed closed model family is refused with the value, the reason and the allowed families', () => {
    const raw = clone(dev) as StageConfig;
    (raw.targetModels as Array<{ family: string }>)[0]!.family = 'openai-gpt-4.1';
    const message = configError(() => parseStageConfig(raw, 'config/stages/dev.ts')).message;
    expect(message).toContain('targetModels.0.family: received "openai-gpt-4.1"');
    expect(message).toContain('managed closed model');
    expect(message).toContain('qwen3, llama4, glm5');
  });

  test('a Firehose buffer out of range is refused before any construct sees it', () => {
    const raw = clone(dev);
    (raw.lake.processor as { bufferSizeMiB: number }).bufferSizeMiB = 6;
    expect(configError(() => parseStageConfig(raw, 'config/stages/dev.ts')).message).toContain('lake.processor.bufferSizeMiB: received 6');
  });

  test('a region outside the data boundary is refused', () => {
    const raw = { ...clone(dev), region: 'eu-west-1' };
    expect(configError(() => parseStageConfig(raw, 'config/stages/dev.ts')).message).toContain(
      'region: received "eu-west-1"; a stage with dataBoundary US must deploy to one of us-east-1',
    );
  });
});

describe('reward policy validation', () => {
  const policy = rewardPolicyFor(dev);

  test('weights that do not sum to 1 are refused, naming the file and the field', () => {
    const raw = { ...clone(policy), weights: { ...policy.weights, feedback: 0.9 } };
    const message = configError(() => parseRewardPolicy(raw, 'config/reward-policies/v1.json', 'v1')).message;
    expect(message).toContain('Invalid reward policy in config/reward-policies/v1.json');
    expect(message).toMatch(/weights: received \{.*"feedback":0\.9.*\}; weights must sum to 1/);
  });

  test('a file whose version differs from its name is refused', () => {
    expect(configError(() => parseRewardPolicy({ ...clone(policy), version: 'v2' }, 'config/reward-policies/v1.json', 'v1')).message).toContain(
      'version: received "v2"; expected "v1"',
    );
  });

  test('buildApp refuses a policy other than the one the stage names', () => {
    const other = { ...clone(policy), version: 'v9' };
    expect(configError(() => buildApp({ app: bareApp(), config: dev, rewardPolicy: other })).message).toContain(
      'Stage dev names reward policy "v1" but received policy version "v9"',
    );
  });
});

describe('bin/app.ts', () => {
  test('a bad stage exits 1 with the ConfigError message and writes no template', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sial-bin-'));
    const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO_ROOT, 'bin', 'app.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ stage: 'staging' }) },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Unknown stage "staging": allowed stages are dev, prod-eu, prod-kr');
    expect(run.stderr).not.toMatch(/\n\s+at /); // the message, not a stack trace
    expect(fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))).toEqual([]);
  });
});
