/**
 * The bytes of a stored object as plain text chunks, whether the engine wrote it plain (DuckDB) or gzip
 * compressed (Athena's UNLOAD): told apart by the gzip magic bytes, as every dataset reader does.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Yields the object's plain bytes; gzip-compressed input is decompressed as it streams. */
export async function* plainChunks(body: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) return;
  const head = Buffer.from(first.value);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield Buffer.from(next.value);
    }
  }
  if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
    for await (const chunk of Readable.from(all()).pipe(createGunzip())) yield chunk as Buffer;
  } else {
    yield* all();
  }
}

/**
 * The sources' plain bytes one after the other, with a newline added after a source that does not end in
 * one, so no line of one part runs into the first line of the next.
 */
export async function* concatenatedLines(sources: ReadonlyArray<() => Promise<AsyncIterable<Uint8Array> | undefined>>): AsyncGenerator<Buffer> {
  for (const open of sources) {
    const body = await open();
    if (body === undefined) continue;
    let last: number | undefined;
    for await (const chunk of plainChunks(body)) {
      if (chunk.length === 0) continue;
      last = chunk[chunk.length - 1];
      yield chunk;
    }
    if (last !== undefined && last !== 0x0a) yield Buffer.from('\n');
  }
}
