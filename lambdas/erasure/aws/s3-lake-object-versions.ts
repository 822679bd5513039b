/**
 * The S3 adapter of LakeObjectVersions, on the versioned lake bucket: ListObjectVersions under a
 * table's prefix, and DeleteObjects by version id of the versions that are not current (a file VACUUM
 * deleted left its bytes as a noncurrent version). Current versions are never touched.
 */
import { DeleteObjectsCommand, ListObjectVersionsCommand, type ListObjectVersionsCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { LakeObjectVersions } from '../erasure-workflow';

/** DeleteObjects takes at most this many keys per call. */
const DELETE_BATCH = 1_000;

export class S3LakeObjectVersions implements LakeObjectVersions {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async deleteNoncurrentVersions(prefix: string): Promise<number> {
    if (!prefix.endsWith('/') || prefix === '/') throw new Error(`refusing to expire versions under "${prefix}": a table prefix ends in /`);
    const noncurrent: { Key: string; VersionId: string }[] = [];
    for await (const page of this.pages(prefix)) {
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
        if (v.IsLatest !== true && v.Key !== undefined && v.VersionId !== undefined) noncurrent.push({ Key: v.Key, VersionId: v.VersionId });
      }
    }
    for (let i = 0; i < noncurrent.length; i += DELETE_BATCH) {
      const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: noncurrent.slice(i, i + DELETE_BATCH), Quiet: true } }));
      // A denied or failed version is an error, not a silent leftover: without s3:DeleteObjectVersion every one fails here.
      if ((out.Errors ?? []).length > 0) throw new Error(`DeleteObjects under ${prefix} failed for ${out.Errors!.length} version(s): ${[...new Set(out.Errors!.map((e) => e.Code))].join(', ')}`);
    }
    return noncurrent.length;
  }

  async storedVersions(key: string): Promise<number> {
    let stored = 0;
    for await (const page of this.pages(key)) {
      stored += (page.Versions ?? []).filter((v) => v.Key === key).length;
    }
    return stored;
  }

  /** ListObjectVersions page by page (the SDK has no paginator for it). */
  private async *pages(prefix: string): AsyncGenerator<ListObjectVersionsCommandOutput> {
    let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (;;) {
      const page = await this.client.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, ...markers }));
      yield page;
      if (page.IsTruncated !== true) return;
      markers = { ...(page.NextKeyMarker === undefined ? {} : { KeyMarker: page.NextKeyMarker }), ...(page.NextVersionIdMarker === undefined ? {} : { VersionIdMarker: page.NextVersionIdMarker }) };
    }
  }
}
