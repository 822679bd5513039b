/**
 * ObjectStore on the local file system: `s3://bucket/key` lives at `<rootDir>/bucket/key`, so local mode
 * writes datasets, manifests and metrics where an operator can open them.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { concatenatedLines } from '../../lambdas/pipeline/plain-chunks';
import type { ObjectBytesReader, ObjectConcatenator, ObjectDigester, ObjectStore } from '../../lambdas/pipeline/ports';

/** How much `sha256Of` reads at a time. */
const HASH_READ_BYTES = 4 * 1024 * 1024;

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;

/** ObjectStore over a folder. */
export class FsObjectStore implements ObjectStore, ObjectBytesReader, ObjectDigester, ObjectConcatenator {
  private readonly root: string;

  constructor(rootDir: string) {
    this.root = resolve(rootDir);
  }

  /**
   * The file an s3:// URI maps to.
   * @throws Error for anything but `s3://bucket/key`, a key ending in `/`, or a key that would leave the bucket's folder (`..`).
   */
  pathOf(uri: string): string {
    const match = S3_URI.exec(uri);
    if (match === null) throw new Error(`"${uri}" is not an s3://bucket/key URI`);
    const [, bucket, key] = match as unknown as [string, string, string];
    if (key.endsWith('/')) throw new Error(`"${uri}" names a prefix, not an object`);
    const bucketDir = join(this.root, bucket);
    const path = resolve(bucketDir, key);
    const inside = relative(bucketDir, path);
    if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
      throw new Error(`"${uri}" resolves outside its bucket folder`);
    }
    return path;
  }

  async putText(uri: string, body: string, _contentType?: string): Promise<void> {
    const path = this.pathOf(uri);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body, 'utf8');
  }

  async getText(uri: string): Promise<string | undefined> {
    try {
      return await readFile(this.pathOf(uri), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async getBytes(uri: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.pathOf(uri));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Streams the files' plain bytes (gzip decompressed) into one file, as the S3 store does. */
  async concatenate(sources: readonly string[], target: string): Promise<void> {
    const path = this.pathOf(target);
    await mkdir(dirname(path), { recursive: true });
    const open = sources.map((uri) => async (): Promise<AsyncIterable<Uint8Array>> => createReadStream(this.pathOf(uri)));
    await pipeline(Readable.from(concatenatedLines(open)), createWriteStream(path));
  }

  /**
   * Streams the files through one sha256, in order: 4 MiB reads (the default 64 KiB chunks' overhead was a
   * third of the hashing's CPU time) into two buffers used in turn, the next read running while the last
   * one is hashed. A fresh buffer per read, as a read stream allocates, costs a page fault per 4 KiB of the
   * hundreds of MiB a dataset holds; the digest is the same.
   */
  async sha256Of(uris: readonly string[]): Promise<string> {
    const hash = createHash('sha256');
    let [next, spare] = [Buffer.allocUnsafe(HASH_READ_BYTES), Buffer.allocUnsafe(HASH_READ_BYTES)];
    for (const uri of uris) {
      const file = await open(this.pathOf(uri), 'r');
      try {
        let reading = file.read(next, 0, HASH_READ_BYTES, null);
        for (;;) {
          const { bytesRead } = await reading;
          if (bytesRead === 0) break;
          [next, spare] = [spare, next];
          reading = file.read(next, 0, HASH_READ_BYTES, null);
          hash.update(spare.subarray(0, bytesRead));
        }
      } finally {
        await file.close();
      }
    }
    return hash.digest('hex');
  }
}
