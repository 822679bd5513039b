/**
 * The real local Batch's tiny base model: built by `python -m sial_training.hf.tiny` the first time, then
 * copied from the cache for as long as tiny.py and the Python environment's requirements stamp are the
 * same. A stand-in Python records each build (the real one is trained with by test/e2e/local-run.test.ts).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';
import { RealBatch } from '../../local/pipeline/real-batch';

const BASE = 's3://models/base/tiny/';

describe('RealBatch base weights', () => {
  let root: string;
  let venv: string;
  const builds = (): number => (existsSync(join(venv, 'builds.log')) ? readFileSync(join(venv, 'builds.log'), 'utf8').split('\n').filter(Boolean).length : 0);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sial-real-batch-'));
    venv = join(root, 'venv');
    mkdirSync(join(venv, 'bin'), { recursive: true });
    // `python -m sial_training.hf.tiny DIR`: writes a stand-in model into DIR and records the build.
    writeFileSync(
      join(venv, 'bin', 'python'),
      ['#!/usr/bin/env bash', 'set -e', '[[ "$2" == sial_training.hf.tiny ]] || exit 9', 'echo "$3" >>"$(dirname "$0")/../builds.log"', 'mkdir -p "$3"', 'echo "{\\"model_type\\": \\"qwen2\\"}" >"$3/config.json"', 'echo weights >"$3/model.safetensors"', ''].join('\n'),
    );
    chmodSync(join(venv, 'bin', 'python'), 0o755);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Submits a train job to a fresh lake; the entrypoint refuses its thin environment, after the base model was put in place. */
  async function trainInNewLake(name: string): Promise<string> {
    const storeRoot = join(root, name, 'objects');
    const batch = new RealBatch({
      store: new FsObjectStore(storeRoot),
      storeRoot,
      definitions: () => ({ attempts: 1, evaluateOnExit: [] }),
      rewardPolicy: {} as RewardPolicy,
      workDir: join(root, name, 'work'),
      print: () => undefined,
      python: join(venv, 'bin', 'python'),
      baseModelCache: join(root, 'cache'),
    });
    const env = [
      { Name: 'SIAL_MODE', Value: 'train' },
      { Name: 'SIAL_BASE_MODEL_URI', Value: BASE },
      { Name: 'SIAL_CHECKPOINT_URI', Value: 's3://runs/run-1/checkpoints/' },
    ];
    await expect(batch.submitJob({ JobName: 'train', JobQueue: 'q', JobDefinition: 'd', ContainerOverrides: { Environment: env } })).rejects.toThrow();
    return join(storeRoot, 'models', 'base', 'tiny');
  }

  it('builds the model once per environment and copies it into every later lake', async () => {
    writeFileSync(join(venv, '.sial-requirements.sha256'), 'lock-1\n');
    const first = await trainInNewLake('a');
    expect(builds()).toBe(1);
    const second = await trainInNewLake('b');
    expect(builds()).toBe(1);
    expect(readdirSync(second).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(readFileSync(join(second, 'config.json'), 'utf8')).toBe(readFileSync(join(first, 'config.json'), 'utf8'));
    // No half-written cache folder is left behind.
    expect(readdirSync(join(root, 'cache'))).toHaveLength(1);

    // Another environment (the lock changed) builds its own.
    writeFileSync(join(venv, '.sial-requirements.sha256'), 'lock-2\n');
    await trainInNewLake('c');
    expect(builds()).toBe(2);
    expect(readdirSync(join(root, 'cache'))).toHaveLength(2);
  });

  it('builds every time, and caches nothing, for a Python without a requirements stamp', async () => {
    await trainInNewLake('a');
    await trainInNewLake('b');
    expect(builds()).toBe(2);
    expect(existsSync(join(root, 'cache'))).toBe(false);
  });
});
