/**
 * Builds each Lambda the way the CDK app does (lib/constructs/private/esm-function.ts: ESM, minified,
 * node22, AWS SDK external) into memory and reports the bundle size.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { ESM_REQUIRE_BANNER, PROJECT_ROOT } from '../lib/constructs/private/esm-function';

/** Every Lambda entry: `handler.ts` or `*-handler.ts` under lambdas/. */
function lambdaEntries(): Array<{ name: string; entry: string }> {
  const root = join(PROJECT_ROOT, 'lambdas');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => /(^|[/-])handler\.ts$/.test(file))
    .sort()
    .map((file) => ({ name: file.replace(/\.ts$/, ''), entry: relative(PROJECT_ROOT, join(root, file)) }));
}

export async function lambdaBundleSizes(): Promise<Array<{ name: string; bytes: number }>> {
  const sizes = [];
  for (const { name, entry } of lambdaEntries()) {
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
