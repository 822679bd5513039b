/**
 * The run-wide sharing of synthesized templates (test/helpers/shared-synthesis.ts): without the run's
 * folder every call synthesizes; with it one call synthesizes and the others read its file; a worker
 * that finds another one synthesizing waits for it, and synthesizes itself if that one failed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SHARED_SYNTHESIS_ENV, sharedStageTemplates, type StageTemplates } from '../helpers/shared-synthesis';

const templates = (n: number): StageTemplates => ({ data: { Resources: { N: n } }, loop: { Resources: {} } });

let runDir: string;
const previous = process.env[SHARED_SYNTHESIS_ENV];
beforeEach(() => {
  runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sial-shared-synthesis-test-'));
  process.env[SHARED_SYNTHESIS_ENV] = runDir;
});
afterEach(() => {
  fs.rmSync(runDir, { recursive: true, force: true });
  if (previous === undefined) delete process.env[SHARED_SYNTHESIS_ENV];
  else process.env[SHARED_SYNTHESIS_ENV] = previous;
});

describe('sharedStageTemplates', () => {
  it('synthesizes on every call when there is no run folder', () => {
    delete process.env[SHARED_SYNTHESIS_ENV];
    const synthesize = jest.fn(() => templates(1));
    expect(sharedStageTemplates('dev', synthesize)).toEqual(templates(1));
    expect(sharedStageTemplates('dev', synthesize)).toEqual(templates(1));
    expect(synthesize).toHaveBeenCalledTimes(2);
  });

  it('synthesizes once per name in a run; later calls read the stored templates', () => {
    const synthesize = jest.fn(() => templates(2));
    expect(sharedStageTemplates('dev', synthesize)).toEqual(templates(2));
    expect(sharedStageTemplates('dev', synthesize)).toEqual(templates(2));
    expect(synthesize).toHaveBeenCalledTimes(1);
    expect(sharedStageTemplates('prod-eu', () => templates(3))).toEqual(templates(3));
    expect(fs.readdirSync(runDir).filter((f) => f.endsWith('.json')).sort()).toEqual(['dev.json', 'prod-eu.json']);
  });

  it('a failed synthesis is reported to its caller and marked, and the next caller synthesizes itself', () => {
    expect(() => sharedStageTemplates('dev', () => { throw new Error('no such construct'); })).toThrow('no such construct');
    expect(fs.existsSync(path.join(runDir, 'dev.json.failed'))).toBe(true);
    // The lock of the failed synthesis is still there: the next caller does not wait for it.
    expect(sharedStageTemplates('dev', () => templates(4))).toEqual(templates(4));
  });

  it('waits for the templates another worker is writing instead of synthesizing them again', async () => {
    const file = path.join(runDir, 'dev.json');
    fs.writeFileSync(`${file}.lock`, '');
    // The other worker finishes while this one waits (a child process writes the file a little later).
    const script = `setTimeout(() => { const fs = require('fs'); fs.writeFileSync(process.argv[1] + '.tmp', process.argv[2]); fs.renameSync(process.argv[1] + '.tmp', process.argv[1]); }, 300)`;
    const writer = spawn(process.execPath, ['-e', script, file, JSON.stringify(templates(5))]);
    const synthesize = jest.fn(() => templates(6));
    expect(sharedStageTemplates('dev', synthesize)).toEqual(templates(5));
    expect(synthesize).not.toHaveBeenCalled();
    await once(writer, 'exit');
  });
});
