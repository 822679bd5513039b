/**
 * Synthesized templates shared by every test file of one jest run. Each file runs in a fresh module
 * registry, so before this every construct suite built and synthesized the same three stages again
 * (seconds of CPU each). Now the first file that needs a stage synthesizes it and writes its templates to
 * the run's folder; the others read the JSON.
 *
 * The folder is made by test/setup/global-setup.ts for one jest run and removed by
 * test/setup/global-teardown.ts, so no run reads another run's (possibly stale) templates. Without the
 * folder (a script that imports the helpers outside jest) every call synthesizes in-process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The environment variable naming this jest run's folder (set by the global setup, inherited by the workers). */
export const SHARED_SYNTHESIS_ENV = 'SIAL_TEST_SYNTHESIS_DIR';

/** Both templates of one synthesis, as JSON. */
export interface StageTemplates {
  readonly data: Record<string, unknown>;
  readonly loop: Record<string, unknown>;
}

/** How long a worker waits for another worker that is synthesizing the same entry, before doing it itself. */
const WAIT_MS = 180_000;
const POLL_MS = 50;

function readJson(file: string): StageTemplates | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StageTemplates;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The templates stored under `name` in this run's folder, or `synthesize()`'s, stored there for the other
 * files. One worker synthesizes an entry (it holds `NAME.json.lock`); another worker that needs it
 * meanwhile waits for the file instead of synthesizing the same thing on the other core. If the holder
 * fails (`NAME.json.failed`) or never finishes, the waiter synthesizes in-process and so reports the
 * error in its own tests.
 */
export function sharedStageTemplates(name: string, synthesize: () => StageTemplates): StageTemplates {
  const dir = process.env[SHARED_SYNTHESIS_ENV];
  if (dir === undefined || dir === '' || !fs.existsSync(dir)) return synthesize();
  const file = path.join(dir, `${name}.json`);
  const stored = readJson(file);
  if (stored !== undefined) return stored;

  let lock: number | undefined;
  try {
    lock = fs.openSync(`${file}.lock`, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (lock === undefined) {
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline && !fs.existsSync(`${file}.failed`)) {
      Atomics.wait(sleeper, 0, 0, POLL_MS);
      const written = readJson(file);
      if (written !== undefined) return written;
    }
    return synthesize();
  }

  try {
    const templates = synthesize();
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, JSON.stringify(templates));
    fs.renameSync(partial, file);
    return templates;
  } catch (e) {
    fs.writeFileSync(`${file}.failed`, String(e));
    throw e;
  } finally {
    fs.closeSync(lock);
  }
}
