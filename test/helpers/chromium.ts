/**
 * The headless Chromium the browser suites drive (playwright-core). CI installs Debian's
 * `chromium-headless-shell` (.ci/run). On a developer machine without one a suite is skipped with a note
 * that names it; with CI=true a missing browser fails the suite instead.
 */
import { existsSync } from 'node:fs';

const CHROMIUM_CANDIDATES = [process.env.SIAL_CHROMIUM, '/usr/bin/chromium-headless-shell', '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The first Chromium found, or undefined. */
export const chromiumPath = CHROMIUM_CANDIDATES.find((path): path is string => path !== undefined && path !== '' && existsSync(path));

/**
 * `describe` when a Chromium exists, else `describe.skip` (and, under CI=true, a failing test in its
 * place). The returned title carries the reason when skipped, so a verbose listing says why.
 */
export function describeInChromium(suite: string, title: string, body: () => void): void {
  if (chromiumPath === undefined) {
    if (process.env.CI === 'true') {
      it('has a Chromium to drive (CI installs chromium-headless-shell)', () => {
        throw new Error(`No Chromium found at ${CHROMIUM_CANDIDATES.filter(Boolean).join(', ')}; set SIAL_CHROMIUM or apt-get install chromium-headless-shell`);
      });
    } else {
      console.warn(`${suite}: no Chromium on this machine (apt-get install chromium-headless-shell, or set SIAL_CHROMIUM); skipped`);
    }
    describe.skip(`${title} (SKIPPED: no Chromium on this machine)`, body);
    return;
  }
  describe(title, body);
}
