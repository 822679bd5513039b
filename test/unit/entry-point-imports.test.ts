/**
 * The CDK app and the `sial` CLI run under tsx, which loads modules as CommonJS; @middy/core is
 * ESM-only, so one import of a Lambda handler module from construct or CLI code breaks `cdk synth`,
 * `npm run local` and every command with ERR_PACKAGE_PATH_NOT_EXPORTED. Constants a construct needs
 * from a function live in the function's settings module, never in its handler. This walks the static
 * import graph from each entry point and names the chain that reaches middy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function resolveRelative(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  return [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => existsSync(candidate) && candidate.endsWith('.ts'));
}

/** Chains (entry first) from `entry` to a module importing a package whose name starts with `banned`. */
function chainsToPackage(entry: string, banned: string): string[] {
  const parent = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  const chains: string[] = [];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (match[1]) continue; // type-only imports vanish at run time
      const spec = match[2] ?? match[3] ?? match[4] ?? '';
      if (spec.startsWith(banned)) {
        const chain: string[] = [];
        for (let at: string | undefined = file; at; at = parent.get(at)) chain.unshift(relative(ROOT, at));
        chains.push(chain.join(' -> '));
      }
      if (!spec.startsWith('.')) continue;
      const next = resolveRelative(file, spec);
      if (next && !parent.has(next)) {
        parent.set(next, file);
        queue.push(next);
      }
    }
  }
  return chains;
}

describe('entry points run under tsx never load a Lambda handler', () => {
  it.each(['bin/app.ts', 'bin/sial.ts'])('%s reaches no module that imports @middy/core', (entry) => {
    expect(chainsToPackage(join(ROOT, entry), '@middy/')).toEqual([]);
  });

  it('the walker finds middy where it is imported (so the check above can fail)', () => {
    expect(chainsToPackage(join(ROOT, 'lambdas/erasure/deadline-handler.ts'), '@middy/')).toEqual(['lambdas/erasure/deadline-handler.ts']);
  });
});
