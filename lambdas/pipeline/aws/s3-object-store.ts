/**
 * The AWS adapter of the pipeline's ObjectStore port: S3 objects addressed by s3:// URI. Objects are
 * encrypted by the bucket's default encryption (the artifact bucket's KMS key), so no encryption
 * headers are sent here: one place, the bucket, decides.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectBytesReader, ObjectDigester, ObjectStore } from '../ports';
import { parseS3Uri } from './s3-uri';

/** Error names S3 gives a GetObject of a key that does not exist. */
const MISSING_OBJECT_ERRORS: ReadonlySet<string> = new Set(['NoSuchKey', 'NotFound']);

/** Reads and writes UTF-8 text objects in S3. */
export class S3ObjectStore implements ObjectStore, ObjectBytesReader, ObjectDigester {
  constructor(private readonly client: S3Client) {}

  async putText(uri: string, body: string, contentType = 'application/json'): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /**
   * Returns the object's text, or undefined when the key does not exist. Any other failure (access
   * denied, throttling) is rethrown: "missing" must never be confused with "could not read", or an
   * eval gate would treat an unreadable baseline like a first model.
   */
  async getText(uri: string): Promise<string | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (response.Body === undefined) return '';
      return await response.Body.transformToString('utf-8');
    } catch (error) {
      if (error instanceof Error && MISSING_OBJECT_ERRORS.has(error.name)) return undefined;
      throw error;
    }
  }

  /** The object's bytes, or undefined when the key does not exist (other failures are rethrown, as in getText). */
  async getBytes(uri: string): Promise<Uint8Array | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return response.Body === undefined ? new Uint8Array() : await response.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof Error && MISSING_OBJECT_ERRORS.has(error.name)) return undefined;
      throw error;
    }
  }

  /**
   * sha256 over the objects' bytes, in order, streamed chunk by chunk: a dataset of gigabytes is hashed in
   * the memory of one chunk.
   */
  async sha256Of(uris: readonly string[]): Promise<string> {
    const hash = createHash('sha256');
    for (const uri of uris) {
      const { bucket, key } = parseS3Uri(uri);
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (response.Body === undefined) continue;
      for await (const chunk of response.Body as Readable) hash.update(chunk as Buffer);
    }
    return hash.digest('hex');
  }

  /** Deletes every object under the prefix, a page (up to 1,000 keys) at a time. */
  async deletePrefix(prefixUri: string): Promise<void> {
    if (!prefixUri.endsWith('/')) throw new Error(`deletePrefix: "${prefixUri}" must end in / (a folder, never a key prefix that could match siblings)`);
    const { bucket, key } = parseS3Uri(prefixUri);
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (keys.length > 0) {
        const result = await this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
        if ((result.Errors ?? []).length > 0) throw new Error(`deletePrefix ${prefixUri}: ${result.Errors!.length} objects were not deleted (first: ${result.Errors![0]!.Key ?? '?'}: ${result.Errors![0]!.Code ?? '?'})`);
      }
      token = page.NextContinuationToken;
    } while (token !== undefined);
  }
}
