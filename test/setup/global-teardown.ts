/** Runs once after every test file (jest.config.js `globalTeardown`): removes the run's shared-synthesis folder. */
import * as fs from 'node:fs';
import { SHARED_SYNTHESIS_ENV } from '../helpers/shared-synthesis';

export default function globalTeardown(): void {
  const dir = process.env[SHARED_SYNTHESIS_ENV];
  if (dir !== undefined && dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  delete process.env[SHARED_SYNTHESIS_ENV];
}
