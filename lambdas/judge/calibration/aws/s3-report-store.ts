/** The S3 adapter of the ReportStore port: report files under a prefix of the artifact bucket (its default KMS encryption applies). */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ReportStore } from '../write-report';

export class S3ReportStore implements ReportStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    /** Ends with `/`. */
    private readonly prefix: string,
  ) {
    if (!prefix.endsWith('/')) throw new Error(`S3ReportStore: prefix "${prefix}" must end with /`);
  }

  async put(name: string, body: string, contentType: string): Promise<string> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(name) || name.includes('..')) throw new Error(`report name "${name}" is not a plain relative key`);
    const key = `${this.prefix}${name}`;
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
    return `s3://${this.bucket}/${key}`;
  }
}
