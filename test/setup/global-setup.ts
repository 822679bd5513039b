/**
 * Runs once in jest's main process before any test file (jest.config.js `globalSetup`): makes this run's
 * folder for the shared synthesized templates (test/helpers/shared-synthesis.ts) and names it in the
 * environment the workers inherit. A new folder per run: no run reads templates another run wrote.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SHARED_SYNTHESIS_ENV } from '../helpers/shared-synthesis';

export default function globalSetup(): void {
  process.env[SHARED_SYNTHESIS_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'sial-jest-synthesis-'));
}
