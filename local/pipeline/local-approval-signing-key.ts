/**
 * The local SigningKeyProvider: a random 32-byte key kept in `<dir>/approval-signing.key` (mode 0600),
 * created on first use. Links signed by one local process (the engine's prepare step) verify in
 * another (the local approval server), and survive restarts, as with the Secrets Manager secret.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkSigningKey, type SigningKeyProvider, type SigningKeys } from '../../lambdas/pipeline/approvals/signer';

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
    await mkdir(this.dir, { recursive: true });
    // Written whole to a temp file, then hard-linked into place: `link` fails if the key exists, so
    // two processes starting together agree on one key, and neither can read a half-written one.
    const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, randomBytes(32).toString('base64url'), { mode: 0o600 });
    try {
      await link(temp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(temp, { force: true });
    }
    const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'utf8');
    return { current: checkSigningKey(key, path), previous: [] };
  }
}
