/**
 * A local run's lake shared between the test files of one jest run, like the stage templates
 * (test/helpers/shared-synthesis.ts, same run folder). `sial local run --lake-dir DIR --auto-approve`
 * (the healthy scenario, about 10 CPU seconds) was run by test/e2e/local-run.test.ts for its own
 * assertions and again, identically, by test/e2e/local-erase.test.ts to have a lake to erase from. Now
 * the file that runs it (the producer) announces it before its tests start, runs it in its own directory,
 * and publishes a copy of the finished lake (only if the run succeeded); another file (a consumer) copies that lake into its own directory and works on
 * the copy, so what it changes (an erasure) never reaches the producer's lake or another consumer's.
 *
 * A lake directory holds no absolute path of itself (a simulated run's state refers to its objects by
 * s3:// URI), so a copy is the same lake. The consumer waits for a lake that was announced; if none was
 * (a single file run on its own, or the producer has not started yet), or the producer failed, the
 * consumer runs the same command itself, so it never depends on another file's result.
 */
import { cpSync, existsSync, openSync, closeSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_SYNTHESIS_ENV } from './shared-synthesis';

/** The lake of `sial local run --lake-dir DIR --auto-approve` (stage dev, healthy scenario, 1,500 demo traces). */
export const HEALTHY_LAKE = 'local-run-healthy';

/** How long a consumer waits for an announced lake before running the command itself. */
const WAIT_MS = 300_000;
const POLL_MS = 100;

function lakePath(name: string): string | undefined {
  const dir = process.env[SHARED_SYNTHESIS_ENV];
  if (dir === undefined || dir === '' || !existsSync(dir)) return undefined;
  return join(dir, `lake-${name}`);
}

/** The producer's side: made by `announceSharedLake`, published once its run succeeded, closed in `afterAll`. */
export interface SharedLakeProducer {
  /** Publishes a copy of the finished lake in `lakeDir` for the consumers (once). */
  publish(lakeDir: string): void;
  /** Ends the announcement: a consumer still waiting for a lake that was not published stops waiting. */
  close(): void;
}

/**
 * Announces that this file will publish the lake `name` in this jest run (call it in `beforeAll`, before
 * any consumer can look): a consumer that needs the lake meanwhile waits for it. Undefined outside a jest
 * run, or when another file announced it first (this file then just runs its own command).
 */
export function announceSharedLake(name: string): SharedLakeProducer | undefined {
  const shared = lakePath(name);
  if (shared === undefined) return undefined;
  let lock: number;
  try {
    lock = openSync(`${shared}.lock`, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
  let done = false;
  return {
    publish(lakeDir: string): void {
      if (done) return;
      done = true;
      const partial = `${shared}.${process.pid}.tmp`;
      cpSync(lakeDir, partial, { recursive: true });
      renameSync(partial, shared);
    },
    close(): void {
      if (!done) writeFileSync(`${shared}.failed`, 'the producer ended without publishing the lake');
      done = true;
      closeSync(lock);
    },
  };
}

/**
 * The consumer: copies the published lake `name` into `lakeDir` (which must not exist yet) and returns
 * true; waits for it when it was announced. Returns false, having copied nothing, when no lake was
 * announced in this jest run or its producer failed: the caller then runs the command itself.
 */
export async function copySharedLake(name: string, lakeDir: string): Promise<boolean> {
  const shared = lakePath(name);
  if (shared === undefined || !existsSync(`${shared}.lock`)) return false;
  const deadline = Date.now() + WAIT_MS;
  while (!existsSync(shared)) {
    if (existsSync(`${shared}.failed`) || Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  try {
    cpSync(shared, lakeDir, { recursive: true });
    return true;
  } catch (e) {
    rmSync(lakeDir, { recursive: true, force: true });
    throw e;
  }
}
