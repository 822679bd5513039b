/**
 * The local SigningKeyProvider: a random 32-byte key kept in `<dir>/approval-signing.key` (mode 0600),
 * created on first use. Links signed by one local process (the engine's prepare step) verify in
 * another (the local approval server), and survive restarts, as with the Secrets Manager secret.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkSigningKey, type SigningKeyProvider, type SigningKeys } from '../../lambdas/pipeline/approvals/signer';
import { writeFileOnce } from '../write-file-once';

export const LOCAL_SIGNING_KEY_FILE = 'approval-signing.key';

/** Reads (or creates) the local signing key once per instance. */
export class LocalSigningKeyProvider implements SigningKeyProvider {
  private keysPromise: Promise<SigningKeys> | undefined;

  constructor(readonly dir: string) {}

  keys(): Promise<SigningKeys> {
    this.keysPromise ??= this.load();
    return this.keysPromise;
  }

  private async load(): Promise<SigningKeys> {
    const path = join(this.dir, LOCAL_SIGNING_KEY_FILE);
    await writeFileOnce(path, randomBytes(32).toString('base64url'));
    const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'utf8');
    return { current: checkSigningKey(key, path), previous: [] };
  }
}
