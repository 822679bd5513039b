/**
 * How every Lambda of this app is bundled, in one place, without the CDK: the esbuild settings that
 * createEsmFunction hands to NodejsFunction, the naming rule of a handler entry, every entry under
 * lambdas/, and the size budget of a bundle. The bundle-size test and `npm run bench -- gate` build the
 * same entries with the same settings, so they measure what a deployment uploads.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

/** Repository root, two levels above lib/constructs/private. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

/** The folder that holds every function's code. */
export const LAMBDAS_ROOT = path.join(PROJECT_ROOT, 'lambdas');

/**
 * ESM bundles have no `require`; some dependencies (Powertools' commons, middy plugins) still call it
 * for Node built-ins, so the bundle defines one from `import.meta.url`.
 */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** esbuild settings of every function: minified ESM for Node.js 22, the AWS SDK left to the runtime. */
export const BUNDLE_SETTINGS = {
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  // Off: keeping every function and class name cost each bundle 4-5 % of its size (8.7 KB of the
  // gate's, 1.6-6.8 KB of the others'). Nothing reads a name at run time (every Error subclass sets
  // its `name` explicitly); what is lost is the original names in the stack traces of a minified
  // bundle (docs/decisions.md, "Lambda bundles").
  keepNames: false,
  external: ['@aws-sdk/*'],
  banner: ESM_REQUIRE_BANNER,
} as const;

/**
 * The most a function's bundle may weigh (150 KB): module loading is most of a cold start, and every
 * function loads its whole bundle. test/unit/lambda-bundle-size.test.ts holds every entry to it.
 */
export const BUNDLE_BUDGET_BYTES = 150_000;

/** A handler entry is `handler.ts` or `<name>-handler.ts`: how {@link lambdaEntries} finds them all. */
const HANDLER_FILE = /(^|[/-])handler\.ts$/;

/** One function's entry: `name` relative to lambdas/ without `.ts`, `entry` an absolute path. */
export interface LambdaEntry {
  readonly name: string;
  readonly entry: string;
}

/** Every handler entry under lambdas/, sorted. */
export function lambdaEntries(): LambdaEntry[] {
  return readdirSync(LAMBDAS_ROOT, { recursive: true, encoding: 'utf8' })
    .map((file) => file.split(path.sep).join('/'))
    .filter((file) => HANDLER_FILE.test(file))
    .sort()
    .map((file) => ({ name: file.replace(/\.ts$/, ''), entry: path.join(LAMBDAS_ROOT, file) }));
}

/**
 * Throws unless `entry` is a handler entry under lambdas/: createEsmFunction calls it, so every function
 * the app deploys is among {@link lambdaEntries} and therefore under the size budget's test.
 */
export function checkHandlerEntry(entry: string): void {
  const relative = path.relative(LAMBDAS_ROOT, path.resolve(entry)).split(path.sep).join('/');
  if (relative.startsWith('../') || path.isAbsolute(relative) || !HANDLER_FILE.test(relative)) {
    throw new Error(`Lambda entry "${entry}" must be lambdas/**/handler.ts or lambdas/**/<name>-handler.ts (the bundle-size test finds functions by that name)`);
  }
}
