/**
 * Keyed pseudonyms: values that are personal but must stay joinable (a producer's session id, a data
 * subject's user id, a reviewer) are stored only as HMAC-SHA-256 under the stage's pseudonymisation
 * key, written `hmac-sha256:<64 hex digits>`.
 *
 * - Joinable inside the stage: the same value always gives the same pseudonym, so a session's traces
 *   group together and an erasure request that names a session id finds its rows by recomputing it.
 * - Not reversible and not guessable without the key: a plain hash of a phone number is reversed by
 *   hashing every phone number; a keyed one is not. The key never leaves the stage (Secrets Manager,
 *   encrypted with the stage's KMS key), so pseudonyms of two stages never match.
 * - Domain-separated by kind: a session id and a user id with the same text give unrelated
 *   pseudonyms, and the purpose string is versioned.
 * - Not truncated: the full 256 bits cost 64 characters per row and keep collisions out of the question.
 *
 * The value is hashed exactly as the trace carries it (UTF-8, no trimming or case folding): a session
 * id is an opaque token that its producer repeats byte for byte.
 *
 * Pure apart from node:crypto; no AWS SDK (the key comes through the PseudonymisationKeyProvider port).
 */
import { createHmac } from 'node:crypto';

/** What a pseudonym stands for. The key is the same for every kind; the kind separates them. */
/**
 * `subject` is the data subject's user id: its pseudonym is the subject key that erasure finds rows by.
 * `agent` is an agent id, for a stage that stores agent ids as pseudonyms (`lake.hashAgentIds`,
 * agent-pseudonyms.ts).
 */
export type PseudonymKind = 'session' | 'reviewer' | 'subject' | 'agent';

/** A keyed pseudonym, `hmac-sha256:<64 lower-case hex digits>`. */
export type Pseudonym = string & { readonly __pseudonym: true };

/** Shortest key accepted: HMAC-SHA-256's own output size. */
export const MIN_PSEUDONYMISATION_KEY_BYTES = 32;

/** The shape of every pseudonym; anything else in a pseudonym column is a defect. */
export const PSEUDONYM_PATTERN = /^hmac-sha256:[0-9a-f]{64}$/;

/** Domain separation from every other use of HMAC in the project (approval links sign with another key and purpose). */
const PURPOSE = 'sial-pseudonym:v1';

/** Turns values into keyed pseudonyms. */
export interface Pseudonymiser {
  pseudonymise(kind: PseudonymKind, value: string): Pseudonym;
}

/** True when `value` has the shape of a pseudonym. */
export function isPseudonym(value: string): value is Pseudonym {
  return PSEUDONYM_PATTERN.test(value);
}

/**
 * Checks key material; returns it as a Buffer. The message names where it came from and its size,
 * never its content.
 */
export function checkPseudonymisationKey(key: Uint8Array, source: string): Buffer {
  if (key.length < MIN_PSEUDONYMISATION_KEY_BYTES) {
    throw new Error(`The pseudonymisation key from ${source} has ${key.length} bytes; expected at least ${MIN_PSEUDONYMISATION_KEY_BYTES}`);
  }
  return Buffer.from(key);
}

/** A pseudonymiser under `key` (at least 32 bytes; the provider's bytes as they are). */
export function createPseudonymiser(key: Uint8Array): Pseudonymiser {
  const secret = checkPseudonymisationKey(key, 'the key provider');
  return {
    pseudonymise(kind, value) {
      const digest = createHmac('sha256', secret).update(`${PURPOSE}\n${kind}\n`, 'utf8').update(value, 'utf8').digest('hex');
      return `hmac-sha256:${digest}` as Pseudonym;
    },
  };
}
