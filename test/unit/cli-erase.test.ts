/**
 * `sial erase`'s command line: a wrong one is refused with a clear message before anything is opened or
 * recorded, and a bad id is refused without being quoted.
 */
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { prepareLakeDir } from '../../local/lake-dir';

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env: {}, clock: () => new Date('2026-12-01T00:00:00Z') };
  return { out, err, run: (...argv: string[]) => runCli(argv, context) };
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sial-erase-cli-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sial erase command line', () => {
  it.each([
    [[], 'name exactly one of --subject, --session or --trace-id'],
    [['--subject', 'a', '--session', 'b'], 'name exactly one of'],
    [['--subject', 'a', 'extra'], 'unexpected argument "extra"'],
  ])('refuses %j with exit 2 and says why', async (args, message) => {
    const c = cli();
    expect(await c.run('erase', '--local', join(root, 'absent'), ...args)).toBe(2);
    expect(c.err[0]).toContain(message);
  });

  it('refuses a directory that is not a local lake (exit 1), and a malformed trace id without quoting it (exit 2)', async () => {
    const c = cli();
    expect(await c.run('erase', '--local', join(root, 'absent'), '--subject', 'alice')).toBe(1);
    expect(c.err[0]).toContain('does not exist');
    const lake = prepareLakeDir(join(root, 'lake'), { keep: false }).lakeDir;
    const bad = cli();
    expect(await bad.run('erase', '--local', lake, '--trace-id', 'tr 1; DROP TABLE traces')).toBe(2);
    expect(bad.err.join('\n')).toContain('--trace-id number 1: may contain only');
    expect(bad.err.join('\n')).not.toContain('DROP TABLE');
    expect(existsSync(join(lake, 'state', 'erasure-ledger.json'))).toBe(false);
  });

  it('lists an empty ledger with no alarm', async () => {
    const lake = prepareLakeDir(join(root, 'empty'), { keep: false }).lakeDir;
    const c = cli();
    expect(await c.run('erase', '--ledger', '--local', lake)).toBe(0);
    expect(c.out).toEqual(['0 request(s); 0 past the deadline without a verified deletion']);
  });
});
