/**
 * The local PseudonymisationKeyProvider: a random key kept in `<lake dir>/pseudonymisation-key.local.json`
 * (mode 0600), created on first use. The file says what it is: a key for local runs only, so that
 * pseudonyms in a local lake are never mistaken for a stage's. Every local process that opens the
 * same lake directory gets the same key, so local pseudonyms stay joinable across runs with `--keep`.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentIdentities } from '../lambdas/shared/agent-pseudonyms';
import type { PseudonymisationKeyProvider } from '../lambdas/shared/ports';
import { checkPseudonymisationKey, createPseudonymiser } from '../lambdas/shared/pseudonymisation';
import { writeFileOnce } from './write-file-once';

export const LOCAL_PSEUDONYMISATION_KEY_FILE = 'pseudonymisation-key.local.json';

const keyFileSchema = z.strictObject({
  label: z.literal('local'),
  note: z.string(),
  /** base64url of the key bytes. */
  key: z.string().check(z.regex(/^[A-Za-z0-9_-]+$/)),
});

/** Reads (or creates) the local pseudonymisation key once per instance. */
export class LocalPseudonymisationKeyProvider implements PseudonymisationKeyProvider {
  private keyPromise: Promise<Uint8Array> | undefined;

  constructor(readonly lakeDir: string) {}

  key(): Promise<Uint8Array> {
    this.keyPromise ??= this.load();
    return this.keyPromise;
  }

  private async load(): Promise<Uint8Array> {
    const path = join(this.lakeDir, LOCAL_PSEUDONYMISATION_KEY_FILE);
    const content = {
      label: 'local',
      note: 'Pseudonymisation key of this local lake only (local mode). Stages use their own key in Secrets Manager.',
      key: randomBytes(32).toString('base64url'),
    };
    await writeFileOnce(path, `${JSON.stringify(content, null, 2)}\n`);
    const parsed = keyFileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (!parsed.success) throw new Error(`${path} is not a local pseudonymisation key file; delete it to have a new one generated`);
    return checkPseudonymisationKey(Buffer.from(parsed.data.key, 'base64url'), path);
  }
}

/**
 * How a local lake stores the stage's agents: with `hashAgentIds`, pseudonyms under the lake directory's
 * key (pseudonymisation-key.local.json, the key local ingest and `sial erase --local` use); plain otherwise.
 */
export async function localAgentIdentities(config: { readonly agents: readonly string[]; readonly hashAgentIds?: boolean }, lakeDir: string): Promise<AgentIdentities> {
  if (config.hashAgentIds !== true) return AgentIdentities.plain(config.agents);
  return AgentIdentities.hashed(config.agents, createPseudonymiser(await new LocalPseudonymisationKeyProvider(lakeDir).key()));
}
