/**
 * Joining the query engine's parts into the one file the router job reads: plain and gzip parts alike
 * (told apart by the gzip magic bytes), a line break where a part lacks one, streamed; on S3 one
 * PutObject when it fits a part, else a multipart upload that is aborted when a part fails.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { CONCATENATE_PART_BYTES, S3ObjectStore } from '../../lambdas/pipeline/aws/s3-object-store';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';

describe('FsObjectStore.concatenate', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sial-concat-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('joins plain and gzip parts in order, adding a line break only where a part lacks one', async () => {
    const store = new FsObjectStore(dir);
    mkdirSync(join(dir, 'bkt', 'p'), { recursive: true });
    writeFileSync(join(dir, 'bkt', 'p', '1'), '{"a":1}\n{"a":2}\n');
    writeFileSync(join(dir, 'bkt', 'p', '2.gz'), gzipSync(Buffer.from('{"a":3}\n{"a":4}')));
    writeFileSync(join(dir, 'bkt', 'p', '3'), '');
    writeFileSync(join(dir, 'bkt', 'p', '4'), '{"a":5}\n');
    await store.concatenate(['s3://bkt/p/1', 's3://bkt/p/2.gz', 's3://bkt/p/3', 's3://bkt/p/4'], 's3://bkt/out/router.jsonl');
    expect(readFileSync(join(dir, 'bkt', 'out', 'router.jsonl'), 'utf8')).toBe('{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}\n{"a":5}\n');
  });
});

describe('S3ObjectStore.concatenate', () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());
  // The SDK's body is a Node stream in Lambda: an async iterable of chunks.
  const body = (bytes: Buffer) => Readable.from([bytes]) as never;

  it('writes a small result with one PutObject', async () => {
    s3.on(GetObjectCommand, { Key: 'p/1' }).resolves({ Body: body(gzipSync(Buffer.from('x\n'))) });
    s3.on(GetObjectCommand, { Key: 'p/2' }).resolves({ Body: body(Buffer.from('y')) });
    s3.on(PutObjectCommand).resolves({});
    await new S3ObjectStore(s3 as unknown as S3Client).concatenate(['s3://bkt/p/1', 's3://bkt/p/2'], 's3://bkt/out/r.jsonl');
    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Bucket: 'bkt', Key: 'out/r.jsonl' });
    expect((put.Body as Buffer).toString('utf8')).toBe('x\ny\n');
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('uploads a large result in parts and completes it; a failed part aborts the upload', async () => {
    const big = Buffer.alloc(CONCATENATE_PART_BYTES + 10, 0x61);
    big[big.length - 1] = 0x0a;
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(big) }));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u-1' });
    s3.on(UploadPartCommand).resolves({ ETag: '"e"' });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    await new S3ObjectStore(s3 as unknown as S3Client).concatenate(['s3://bkt/p/1'], 's3://bkt/out/r.jsonl');
    expect(s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input.PartNumber)).toEqual([1]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input).toMatchObject({ UploadId: 'u-1', MultipartUpload: { Parts: [{ ETag: '"e"', PartNumber: 1 }] } });

    s3.reset();
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(Buffer.concat([big, big])) }));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u-2' });
    s3.on(UploadPartCommand).rejects(new Error('SlowDown'));
    s3.on(AbortMultipartUploadCommand).resolves({});
    await expect(new S3ObjectStore(s3 as unknown as S3Client).concatenate(['s3://bkt/p/1'], 's3://bkt/out/r.jsonl')).rejects.toThrow('SlowDown');
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input).toMatchObject({ UploadId: 'u-2' });
  });
});
