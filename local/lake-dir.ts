/**
 * The local lake directory: what `sial local run` writes (the lake's tables, and under `state/` the
 * approvals, registry, deployments, notifications and run artifacts), and what every other `sial`
 * command's `--local DIR` names. The run marks a directory it created with a marker file and only ever
 * deletes a directory that carries it, so `--lake-dir .` or a folder of the user's own files is refused,
 * never emptied.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The marker's file name; its content says which tool wrote it and when. */
export const LAKE_MARKER = '.sial-local-lake';

/** The default `--lake-dir` (ignored by git). */
export const DEFAULT_LAKE_DIR = '.local-lake';

/** Where things live inside a lake directory. */
export interface LakeLayout {
  readonly lakeDir: string;
  /** Approvals, registry, deployments, notifications and run artifacts. */
  readonly stateDir: string;
  readonly approvalsDir: string;
  /** The local stand-in for S3 (one folder per bucket). */
  readonly objectsDir: string;
  readonly registryFile: string;
  readonly deploymentsFile: string;
  readonly notificationsFile: string;
  /** Firehose's error output. */
  readonly errorsDir: string;
}

export function lakeLayout(dir: string): LakeLayout {
  const lakeDir = resolve(dir);
  const stateDir = join(lakeDir, 'state');
  return {
    lakeDir,
    stateDir,
    approvalsDir: join(stateDir, 'approvals'),
    objectsDir: join(stateDir, 'objects'),
    registryFile: join(stateDir, 'model-registry.json'),
    deploymentsFile: join(stateDir, 'deployments.json'),
    notificationsFile: join(stateDir, 'notifications.jsonl'),
    errorsDir: join(lakeDir, 'errors'),
  };
}

/** A directory the local tools will not use or delete; the message says why and what to do. */
export class LakeDirRefused extends Error {
  override name = 'LakeDirRefused';
}

function hasMarker(dir: string): boolean {
  return existsSync(join(dir, LAKE_MARKER));
}

function writeMarker(dir: string, now: Date): void {
  writeFileSync(join(dir, LAKE_MARKER), `${JSON.stringify({ createdBy: 'sial local run', createdAt: now.toISOString() }, null, 2)}\n`, { flag: 'wx' });
}

/**
 * Makes `dir` ready for a run and returns its layout.
 *
 * - absent: created, with the marker;
 * - empty: used, and the marker written;
 * - marked: emptied and marked again, or kept as it is with `keep` (a later run adds to it);
 * - anything else (files without the marker, a file, the checkout itself): refused, nothing touched.
 *
 * @throws LakeDirRefused for a directory the tool did not create.
 */
export function prepareLakeDir(dir: string, options: { keep: boolean; now?: Date }): LakeLayout {
  const layout = lakeLayout(dir);
  const { lakeDir } = layout;
  const now = options.now ?? new Date();
  if (!existsSync(lakeDir)) {
    mkdirSync(lakeDir, { recursive: true });
    writeMarker(lakeDir, now);
    return layout;
  }
  if (!statSync(lakeDir).isDirectory()) throw new LakeDirRefused(`--lake-dir ${lakeDir} is a file, not a directory; name a new directory (default ${DEFAULT_LAKE_DIR})`);
  if (readdirSync(lakeDir).length === 0) {
    writeMarker(lakeDir, now);
    return layout;
  }
  if (!hasMarker(lakeDir)) {
    throw new LakeDirRefused(
      `--lake-dir ${lakeDir} already holds files that sial local run did not create (it has no ${LAKE_MARKER} marker); nothing was deleted. Name a new or empty directory (default ${DEFAULT_LAKE_DIR}).`,
    );
  }
  if (options.keep) return layout;
  // Only the directory's own entries go: the directory (and the marker's check above) stays in place.
  for (const entry of readdirSync(lakeDir)) rmSync(join(lakeDir, entry), { recursive: true, force: true });
  writeMarker(lakeDir, now);
  return layout;
}

/** The nearest directory at or above `dir` that carries the marker, for hints. */
function markedAncestor(dir: string): string | undefined {
  let current = dirname(dir);
  while (current !== dirname(current)) {
    if (hasMarker(current)) return current;
    current = dirname(current);
  }
  return undefined;
}

/**
 * The layout of an existing lake directory, for the commands that read one (`--local DIR`).
 *
 * @throws LakeDirRefused when `dir` is not a directory `sial local run` created; the message names the
 *   lake directory when `dir` is a folder inside one (the old `--local <lake-dir>/state` habit).
 */
export function openLakeDir(dir: string): LakeLayout {
  const layout = lakeLayout(dir);
  const { lakeDir } = layout;
  if (!existsSync(lakeDir)) throw new LakeDirRefused(`--local ${lakeDir} does not exist; --local takes the lake directory of sial local run (--lake-dir, default ${DEFAULT_LAKE_DIR})`);
  if (!statSync(lakeDir).isDirectory() || !hasMarker(lakeDir)) {
    const above = markedAncestor(lakeDir);
    const hint = above !== undefined ? `; it is inside the lake directory ${above}: pass --local ${above}` : `; --local takes the lake directory of sial local run (--lake-dir, default ${DEFAULT_LAKE_DIR})`;
    throw new LakeDirRefused(`--local ${lakeDir} is not a local lake directory (no ${LAKE_MARKER} marker)${hint}`);
  }
  return layout;
}

/** What the marker says, for messages; undefined when it cannot be read. */
export function lakeMarker(dir: string): { createdAt?: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(resolve(dir), LAKE_MARKER), 'utf8')) as { createdAt?: string };
  } catch {
    return undefined;
  }
}
