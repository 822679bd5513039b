/**
 * The Secrets Manager adapter of the SigningKeyProvider port. The secret's string value (as UTF-8
 * bytes, at least 32) is the HMAC key; a generated secret of 64 alphanumeric characters suits it.
 *
 * Rotation: the AWSCURRENT version signs; AWSPREVIOUS, when there is one, still verifies, so links
 * e-mailed just before a rotation keep working until they expire. Keys are cached for a few minutes
 * per execution environment: one page view must not cost two Secrets Manager calls, and a rotation
 * reaches every environment within the cache's lifetime.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { checkSigningKey, type SigningKeyProvider, type SigningKeys } from '../signer';
import { errorName } from './error-name';

/** How long fetched keys are reused. */
export const SIGNING_KEY_CACHE_MS = 5 * 60_000;

export interface SecretsManagerKeyProviderOptions {
  readonly cacheMs?: number;
  /** Milliseconds since the epoch; injected for tests of the cache. */
  readonly now?: () => number;
}

/** Reads the approval signing key from Secrets Manager, with caching. */
export class SecretsManagerKeyProvider implements SigningKeyProvider {
  private cached: { readonly keys: Promise<SigningKeys>; readonly until: number } | undefined;
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    options: SecretsManagerKeyProviderOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? SIGNING_KEY_CACHE_MS;
    this.now = options.now ?? Date.now;
  }

  keys(): Promise<SigningKeys> {
    const now = this.now();
    if (this.cached !== undefined && now < this.cached.until) return this.cached.keys;
    // Concurrent callers share one fetch; a failed fetch is not cached, so the next call tries again.
    const keys = this.fetch();
    this.cached = { keys, until: now + this.cacheMs };
    keys.catch(() => {
      if (this.cached?.keys === keys) this.cached = undefined;
    });
    return keys;
  }

  private async fetch(): Promise<SigningKeys> {
    const [current, previous] = await Promise.all([this.version('AWSCURRENT'), this.version('AWSPREVIOUS')]);
    if (current === undefined) throw new Error(`The approval signing secret ${this.secretId} has no current value`);
    return { current, previous: previous === undefined ? [] : [previous] };
  }

  private async version(stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: stage }));
      const bytes = out.SecretString !== undefined ? Buffer.from(out.SecretString, 'utf8') : out.SecretBinary !== undefined ? Buffer.from(out.SecretBinary) : undefined;
      return bytes === undefined ? undefined : checkSigningKey(bytes, `${this.secretId} (${stage})`);
    } catch (error) {
      // A secret that was never rotated has no AWSPREVIOUS version: that is not an error.
      if (stage === 'AWSPREVIOUS' && errorName(error) === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }
}
