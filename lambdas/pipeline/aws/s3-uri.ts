/**
 * `s3://bucket/key` URIs, the form every pipeline contract uses for artifacts. Parsed in one place so
 * that adapters agree on what a valid URI is and name the offending value when one is not.
 */

/** A parsed S3 location. `key` is empty for a bucket root. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

// Bucket names: 3-63 lower-case letters, digits, dots and hyphens (S3 naming rules), as in contracts.ts.
const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/s;

/**
 * Splits an s3:// URI into bucket and key.
 *
 * @throws Error naming the value when it is not an s3:// URI with a valid bucket name.
 */
export function parseS3Uri(uri: string): S3Location {
  const match = S3_URI.exec(uri);
  if (match === null) throw new Error(`"${uri}" is not an S3 URI; expected s3://<bucket>/<key>`);
  return { bucket: match[1]!, key: match[2]! };
}
