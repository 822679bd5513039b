/**
 * The Secrets Manager adapter of the PseudonymisationKeyProvider port. The secret's string value (as
 * UTF-8 bytes, at least 32) is the key; the data stack generates 64 alphanumeric characters.
 *
 * Read once per execution environment and kept: the key is not rotated (a new key would give every
 * session a new pseudonym, breaking joins across the change and erasure look-ups of older rows). A
 * failed read is not kept, so the next invocation tries again; until one succeeds, every invocation
 * fails and nothing is gated.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { checkPseudonymisationKey } from '../pseudonymisation';
import type { PseudonymisationKeyProvider } from '../ports';

/** Reads the stage's pseudonymisation key from Secrets Manager, once. */
export class SecretsManagerPseudonymisationKeyProvider implements PseudonymisationKeyProvider {
  private cached: Promise<Uint8Array> | undefined;

  /**
   * @param client a Secrets Manager client (module scope in the handler)
   * @param secretId the secret's ARN, from the function's environment
   */
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  key(): Promise<Uint8Array> {
    if (this.cached === undefined) {
      // Concurrent callers share one read; a failed read is forgotten so that a later call retries.
      const pending = this.fetch();
      this.cached = pending;
      pending.catch(() => {
        if (this.cached === pending) this.cached = undefined;
      });
    }
    return this.cached;
  }

  private async fetch(): Promise<Uint8Array> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const bytes = out.SecretString !== undefined ? Buffer.from(out.SecretString, 'utf8') : out.SecretBinary !== undefined ? Buffer.from(out.SecretBinary) : undefined;
    if (bytes === undefined) throw new Error(`The pseudonymisation key secret ${this.secretId} has no value`);
    return checkPseudonymisationKey(bytes, `secret ${this.secretId}`);
  }
}
