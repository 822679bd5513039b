/**
 * Builds each Lambda the way the CDK app does (lib/constructs/private/esm-function.ts: ESM, minified,
 * node22, AWS SDK external) into memory and reports the bundle size.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { ESM_REQUIRE_BANNER, PROJECT_ROOT } from '../lib/constructs/private/esm-function';

const ENTRIES = [
  { name: 'gate-score', entry: 'lambdas/gate-score/handler.ts' },
  { name: 'feedback', entry: 'lambdas/feedback/handler.ts' },
];

export async function lambdaBundleSizes(): Promise<Array<{ name: string; bytes: number }>> {
  const sizes = [];
  for (const { name, entry } of ENTRIES) {
    const result = await build({
      entryPoints: [join(PROJECT_ROOT, entry)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      mainFields: ['module', 'main'],
      minify: true,
      keepNames: true,
      external: ['@aws-sdk/*'],
      banner: { js: ESM_REQUIRE_BANNER },
      write: false,
      logLevel: 'silent',
    });
    sizes.push({ name, bytes: result.outputFiles.reduce((sum, f) => sum + f.contents.length, 0) });
  }
  return sizes;
}
