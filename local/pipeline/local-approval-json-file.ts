/**
 * A JSON document in a file that several processes may change: the local approval store and the
 * local task callbacks live in one (the CLI, the local server and the local engine can be separate
 * processes on one machine).
 *
 * - Readers never see a torn file: writes go to a temp file in the same directory, then `rename`,
 *   which replaces the file atomically.
 * - Read-modify-write is serialised by a lock file created with O_EXCL (`wx`), and the document is
 *   re-read under the lock before every change, so a conditional update decides on what is really
 *   there, not on what this process read earlier.
 * - A lock older than `staleLockMs` belongs to a process that died holding it and is broken. (Two
 *   processes breaking the same stale lock at the same instant could both proceed; with a 30 s
 *   threshold and sub-millisecond critical sections that is a risk we accept locally.)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface JsonFileCodec<T> {
  /** The document when the file does not exist yet. */
  empty(): T;
  /** Validates what was read; throws naming the file when it does not fit. */
  parse(raw: unknown, where: string): T;
}

export interface LockedJsonFileOptions {
  /** Give up waiting for the lock after this long. */
  readonly lockTimeoutMs?: number;
  /** Break a lock older than this. */
  readonly staleLockMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Duck-typed: errors from node:fs may come from another realm (jest's VM), where instanceof Error fails.
function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as NodeJS.ErrnoException).code) : undefined;
}

/** One JSON document in one file, safe for concurrent processes (see the module comment). */
export class LockedJsonFile<T> {
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;

  constructor(
    readonly path: string,
    private readonly codec: JsonFileCodec<T>,
    options: LockedJsonFileOptions = {},
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.staleLockMs = options.staleLockMs ?? 30_000;
  }

  /** The document as last written (no lock needed: a rename never leaves a partial file). */
  async read(): Promise<T> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return this.codec.empty();
      throw error;
    }
    return this.codec.parse(JSON.parse(text), this.path);
  }

  /**
   * Runs `change` on the freshly read document under the lock; writes `next` when it returns one.
   * `change` must be synchronous and quick: it holds the lock.
   */
  async update<R>(change: (current: T) => { readonly next?: T; readonly result: R }): Promise<R> {
    await mkdir(dirname(this.path), { recursive: true });
    const release = await this.lock();
    try {
      const { next, result } = change(await this.read());
      if (next !== undefined) await this.write(next);
      return result;
    } finally {
      await release();
    }
  }

  private async write(value: T): Promise<void> {
    const temp = `${this.path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        return () => rm(lockPath, { force: true });
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      if (await this.breakIfStale(lockPath)) continue;
      if (Date.now() > deadline) throw new Error(`Timed out after ${this.lockTimeoutMs} ms waiting for ${lockPath}; if no sial process is running, delete it`);
      // Jittered, growing back-off: two waiting processes do not retry in lockstep.
      await sleep(Math.min(50, 2 + attempt * 2) * (0.5 + Math.random()));
    }
  }

  private async breakIfStale(lockPath: string): Promise<boolean> {
    try {
      const info = await stat(lockPath);
      if (Date.now() - info.mtimeMs <= this.staleLockMs) return false;
      await rm(lockPath, { force: true });
      return true;
    } catch (error) {
      // Released between our attempt and the stat: try again at once.
      if (errorCode(error) === 'ENOENT') return true;
      throw error;
    }
  }
}
