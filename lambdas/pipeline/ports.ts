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
/** Joins objects into one: a file the router job reads from parts the query engine wrote. */
export interface ObjectConcatenator {
  /**
   * Writes `target` as the sources' plain bytes in order (a gzip-compressed source is decompressed), a line
   * break after a source that lacks one; streamed, never the whole in memory.
   */
  concatenate(sources: readonly string[], target: string): Promise<void>;
}

export interface ObjectDigester {
  /** sha256 (hex) over the bytes of the objects, one after the other, in the order given. */
  sha256Of(uris: readonly string[]): Promise<string>;
}

/** Sends a human-readable notification to a topic (SNS e-mail in AWS, the console and a file locally). */
export interface Notifier {
  /**
   * Sends a message to a topic's subscribers; with `recipient`, to that address's subscription only
   * (SNS: a `recipient` message attribute matched by each e-mail subscription's filter policy).
   */
  publish(topic: 'approvals' | 'finops' | 'notifications', subject: string, message: string, recipient?: string): Promise<void>;
}

/** The current time; injected so that expiry and month boundaries are testable. */
export type Clock = () => Date;
