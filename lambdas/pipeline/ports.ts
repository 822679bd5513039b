/**
 * Ports shared by the pipeline's Lambdas. Each area keeps its own narrower ports next to it (approvals,
 * ledger, registry, SQL); these are the ones several steps use.
 */

/** Reads and writes objects by s3:// URI (S3 in AWS, a folder locally). */
export interface ObjectStore {
  putText(uri: string, body: string, contentType?: string): Promise<void>;
  /** undefined when the object does not exist. */
  getText(uri: string): Promise<string | undefined>;
}

/** Reads an object's raw bytes (query output that may be gzip-compressed). */
export interface ObjectBytesReader {
  /** undefined when the object does not exist. */
  getBytes(uri: string): Promise<Uint8Array | undefined>;
}

/** Hashes stored objects by streaming them: memory stays flat however large the objects are. */
export interface ObjectDigester {
  /** sha256 (hex) over the bytes of the objects, one after the other, in the order given. */
  sha256Of(uris: readonly string[]): Promise<string>;
}

/** Sends a human-readable notification to a topic (SNS e-mail in AWS, the console and a file locally). */
export interface Notifier {
  publish(topic: 'approvals' | 'finops' | 'notifications', subject: string, message: string): Promise<void>;
}

/** The current time; injected so that expiry and month boundaries are testable. */
export type Clock = () => Date;
