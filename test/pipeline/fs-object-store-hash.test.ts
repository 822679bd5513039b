/**
 * The local object store's content hash: sha256 over the files' bytes one after the other, read in 4 MiB
 * pieces into two buffers used in turn, is the digest of their concatenation whatever the sizes (empty, one
 * byte, a piece exactly, pieces and a remainder), and a missing file is an error, not an empty file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';

const MIB = 1024 * 1024;

describe('FsObjectStore.sha256Of', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sial-fs-hash-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is the sha256 of the files concatenated in the order given', async () => {
    const store = new FsObjectStore(dir);
    mkdirSync(join(dir, 'bkt', 'd'), { recursive: true });
    const parts: Array<[string, Buffer]> = [
      ['grpo', randomBytes(9 * MIB + 17)],
      ['empty', Buffer.alloc(0)],
      ['dpo', randomBytes(4 * MIB)],
      ['one', Buffer.from('x')],
      ['ids', randomBytes(3 * MIB + 5)],
    ];
    for (const [name, bytes] of parts) writeFileSync(join(dir, 'bkt', 'd', name), bytes);
    const uris = parts.map(([name]) => `s3://bkt/d/${name}`);
    const expected = createHash('sha256').update(Buffer.concat(parts.map(([, bytes]) => bytes))).digest('hex');
    expect(await store.sha256Of(uris)).toBe(expected);
    // Another order is another digest: the bytes are hashed as one sequence, not file by file.
    expect(await store.sha256Of([...uris].reverse())).not.toBe(expected);
    expect(await store.sha256Of([])).toBe(createHash('sha256').digest('hex'));
  });

  it('fails on a missing file', async () => {
    await expect(new FsObjectStore(dir).sha256Of(['s3://bkt/d/none'])).rejects.toThrow(/ENOENT/);
  });
});
