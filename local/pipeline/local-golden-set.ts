/**
 * The golden set local runs decontaminate against (and the real evaluator answers): the target's starter
 * set from training/golden-sets/, copied into the local store once, where a stage keeps its golden sets.
 */
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FsObjectStore } from './fs-object-store';

const STARTER_SETS = join(__dirname, '..', '..', 'training', 'golden-sets');

/** Copies the starter golden set of `targetModelId` to `<goldenSetsUri><targetModelId>/` unless one is there. */
export function ensureStarterGoldenSet(store: FsObjectStore, goldenSetsUri: string, targetModelId: string): string | undefined {
  const target = dirname(store.pathOf(`${goldenSetsUri}${targetModelId}/golden.json`));
  if (existsSync(join(target, 'golden.json'))) return undefined;
  const starter = join(STARTER_SETS, existsSync(join(STARTER_SETS, targetModelId)) ? targetModelId : 'qwen3-4b');
  mkdirSync(target, { recursive: true });
  cpSync(starter, target, { recursive: true });
  return starter;
}
