/**
 * Builds each Lambda the way the CDK app does (BUNDLE_SETTINGS of lib/constructs/private/lambda-bundle.ts:
 * ESM, minified, node22, AWS SDK external) and reports its size, what weighs most in it (esbuild's
 * metafile, grouped by package or by top-level folder of ours), and how long a fresh Node.js process
 * takes to import it (the module-loading part of a cold start).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_SETTINGS, lambdaEntries, PROJECT_ROOT, type LambdaEntry } from '../lib/constructs/private/lambda-bundle';

/** One built bundle, in memory. */
export interface LambdaBundle extends LambdaEntry {
  readonly code: Uint8Array;
  readonly metafile: Metafile;
}

/** Builds `entry` in memory with the CDK app's settings. */
export async function buildLambdaBundle(entry: LambdaEntry): Promise<LambdaBundle> {
  const result = await build({
    entryPoints: [entry.entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_SETTINGS.target,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    minify: BUNDLE_SETTINGS.minify,
    keepNames: BUNDLE_SETTINGS.keepNames,
    external: [...BUNDLE_SETTINGS.external],
    banner: { js: BUNDLE_SETTINGS.banner },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const [output, ...rest] = result.outputFiles;
  if (output === undefined || rest.length > 0) throw new Error(`${entry.name}: esbuild wrote ${result.outputFiles.length} files, expected one`);
  return { ...entry, code: output.contents, metafile: result.metafile };
}

/** Every Lambda's bundle, built one after the other (esbuild takes well under a second each). */
export async function buildLambdaBundles(): Promise<LambdaBundle[]> {
  const bundles = [];
  for (const entry of lambdaEntries()) bundles.push(await buildLambdaBundle(entry));
  return bundles;
}

/**
 * Output bytes per origin: an npm package (`zod`, `@aws-lambda-powertools/logger`) or a top-level
 * folder of the repository (`lambdas/pipeline`, `config`), largest first.
 */
export function bundleComposition(metafile: Metafile): Array<{ origin: string; bytes: number }> {
  const byOrigin = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const origin = pkg?.[1] ?? input.split('/').slice(0, input.startsWith('lambdas/') ? 2 : 1).join('/');
      byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + bytesInOutput);
    }
  }
  return [...byOrigin].map(([origin, bytes]) => ({ origin, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * What one import of a bundle took: `sdkMs` loading the AWS SDK packages it imports (the runtime's in
 * Lambda, the same for any bundle that uses them), then `ms` the bundle itself with those loaded: the
 * part the bundle's size decides. `stoppedAt` when the bundle threw while it ran.
 */
export interface ImportTiming {
  readonly sdkMs: number;
  readonly ms: number;
  readonly stoppedAt?: string;
}

/** Runs in the fresh process: loads the SDK packages listed in argv[2], then times importing argv[1]. */
const IMPORT_PROBE = `
const sdkStart = performance.now();
for (const name of JSON.parse(process.argv[2])) await import(name);
const start = performance.now();
let stoppedAt;
try { await import(process.argv[1]); } catch (error) { stoppedAt = String(error?.message ?? error).split('\\n')[0].slice(0, 100); }
process.stdout.write(JSON.stringify({ sdkMs: start - sdkStart, ms: performance.now() - start, stoppedAt }));
`;

/** The packages a bundle leaves to the runtime (`@aws-sdk/*`), from esbuild's metafile. */
function externalImports(metafile: Metafile): string[] {
  const names = Object.values(metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external && !i.path.startsWith('node:') && i.path.startsWith('@')).map((i) => i.path));
  return [...new Set(names)].sort();
}

/**
 * Median import time of each bundle over `runs` fresh `node` processes (process start excluded). The
 * bundles are written under node_modules/.cache so their `@aws-sdk/*` imports resolve to the
 * repository's SDK, as they resolve to the runtime's in Lambda. The process gets only PATH and a
 * region: a handler that needs its function's variables throws at its own top-level code, which runs
 * after every module it imports, so the time still covers the libraries and schemas it loads.
 */
export function importTimings(bundles: readonly LambdaBundle[], runs: number): Map<string, ImportTiming> {
  const dir = join(PROJECT_ROOT, 'node_modules', '.cache', 'sial-bundle-import');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const timings = new Map<string, ImportTiming>();
  try {
    for (const bundle of bundles) {
      const file = join(dir, `${bundle.name.replace(/\//g, '__')}.mjs`);
      writeFileSync(file, bundle.code);
      const samples: ImportTiming[] = [];
      for (let run = 0; run < runs; run++) {
        const child = spawnSync(process.execPath, ['--input-type=module', '-e', IMPORT_PROBE, pathToFileURL(file).href, JSON.stringify(externalImports(bundle.metafile))], {
          env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1' },
          encoding: 'utf8',
        });
        if (child.status !== 0) throw new Error(`${bundle.name}: the import probe exited with ${child.status}: ${child.stderr}`);
        samples.push(JSON.parse(child.stdout) as ImportTiming);
      }
      samples.sort((a, b) => a.ms - b.ms);
      const median = samples[Math.floor(samples.length / 2)];
      if (median !== undefined) timings.set(bundle.name, median);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return timings;
}
