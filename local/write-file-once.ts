/**
 * Writes a file only if it does not exist yet, atomically: the content is written whole to a temp
 * file, then hard-linked into place. `link` fails if the file exists, so two processes starting
 * together agree on one content, and neither can read a half-written file. Used for the local keys.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Creates `path` with `content` (mode 0600) unless it already exists; an existing file is left as it is. */
export async function writeFileOnce(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, content, { mode: 0o600 });
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temp, { force: true });
  }
}
