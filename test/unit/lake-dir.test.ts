import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAKE_MARKER, LakeDirRefused, openLakeDir, prepareLakeDir } from '../../local/lake-dir';

describe('the local lake directory: only one the tool created is ever emptied', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sial-lake-dir-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates a missing directory with the marker, and lays out state under it', () => {
    const layout = prepareLakeDir(join(root, 'lake'), { keep: false });
    expect(readdirSync(layout.lakeDir)).toEqual([LAKE_MARKER]);
    expect(layout.approvalsDir).toBe(join(root, 'lake', 'state', 'approvals'));
    expect(openLakeDir(join(root, 'lake')).lakeDir).toBe(layout.lakeDir);
  });

  it('marks an empty directory, and empties a marked one on the next run unless kept', () => {
    const dir = join(root, 'empty');
    mkdirSync(dir);
    prepareLakeDir(dir, { keep: false });
    writeFileSync(join(dir, 'old-run.parquet'), 'x');
    prepareLakeDir(dir, { keep: true });
    expect(existsSync(join(dir, 'old-run.parquet'))).toBe(true);
    prepareLakeDir(dir, { keep: false });
    expect(readdirSync(dir)).toEqual([LAKE_MARKER]);
  });

  it('refuses a directory with files it did not create, and a file, deleting nothing (even with --keep)', () => {
    const dir = join(root, 'mine');
    mkdirSync(dir);
    writeFileSync(join(dir, 'thesis.tex'), 'years of work');
    for (const keep of [false, true]) expect(() => prepareLakeDir(dir, { keep })).toThrow(LakeDirRefused);
    expect(readdirSync(dir)).toEqual(['thesis.tex']);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(() => prepareLakeDir(file, { keep: false })).toThrow(/is a file, not a directory/);
  });

  it('openLakeDir refuses unmarked, missing and inner directories, naming the lake directory above', () => {
    const layout = prepareLakeDir(join(root, 'lake'), { keep: false });
    mkdirSync(layout.approvalsDir, { recursive: true });
    expect(() => openLakeDir(layout.approvalsDir)).toThrow(`it is inside the lake directory ${layout.lakeDir}: pass --local ${layout.lakeDir}`);
    expect(() => openLakeDir(join(root, 'missing'))).toThrow(/does not exist/);
    expect(() => openLakeDir(root)).toThrow(/is not a local lake directory \(no \.sial-local-lake marker\)/);
  });
});
