/**
 * `npm run bench -- trainer [--steps 30] [--checkpoint-every 10] [--repeats 2]`: our trainer (checkpoint
 * sync, SIGTERM check, reward bookkeeping) beside a bare TRL loop on the same tiny model and data, on CPU.
 * The benchmark itself is Python (training/sial_training/hf/bench.py); this runs it in the repository's
 * .venv, creating it on first use.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ensurePythonEnvironment } from '../local/pipeline/real-batch';

const REPO = resolve(__dirname, '..');

export async function runTrainerBench(argv: string[]): Promise<void> {
  const python = ensurePythonEnvironment((line) => console.log(line));
  const result = spawnSync(python, ['-m', 'sial_training.hf.bench', ...argv], {
    cwd: REPO,
    stdio: 'inherit',
    env: { ...process.env, PYTHONPATH: join(REPO, 'training'), HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false', OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' },
  });
  if (result.status !== 0) throw new Error(`the trainer benchmark exited ${String(result.status)}`);
}
