/**
 * Every function's bundle, built in memory with the CDK app's esbuild settings, stays within the size
 * budget. Entries come from lambdaEntries(), and createEsmFunction refuses an entry that list would not
 * find, so a new function is held to the budget without being named here.
 */
import * as path from 'node:path';
import { BUNDLE_BUDGET_BYTES, BUNDLE_CEILINGS_OVER_BUDGET, LAMBDAS_ROOT, checkHandlerEntry, lambdaEntries } from '../../lib/constructs/private/lambda-bundle';
import { buildLambdaBundle, buildLambdaBundles, bundleComposition } from '../../bench/bundle-size';

test('every Lambda bundle is within the budget, or within its recorded ceiling while it is not', async () => {
  const bundles = await buildLambdaBundles();
  expect(bundles.map((b) => b.name)).toEqual(expect.arrayContaining(['gate-score/handler', 'feedback/handler', 'pipeline/approvals/api-handler']));
  const findings = bundles.flatMap((bundle) => {
    const bytes = bundle.code.length;
    const ceiling = BUNDLE_CEILINGS_OVER_BUDGET[bundle.name];
    const largest = bundleComposition(bundle.metafile).slice(0, 3).map((p) => `${p.origin} ${p.bytes}`).join(', ');
    if (ceiling === undefined) return bytes <= BUNDLE_BUDGET_BYTES ? [] : [`${bundle.name}: ${bytes} bytes > budget ${BUNDLE_BUDGET_BYTES} (largest: ${largest})`];
    if (bytes <= BUNDLE_BUDGET_BYTES) return [`${bundle.name}: ${bytes} bytes is within the budget now: remove its ceiling`];
    return bytes <= ceiling ? [] : [`${bundle.name}: ${bytes} bytes > its ceiling ${ceiling} (largest: ${largest})`];
  });
  expect(findings).toEqual([]);
  // A ceiling for a function that no longer exists is dead weight.
  expect(Object.keys(BUNDLE_CEILINGS_OVER_BUDGET).filter((name) => !bundles.some((b) => b.name === name))).toEqual([]);
});

test('the gate bundles no schema library: its trace contract is hand-written and its configuration was validated at synthesis', async () => {
  const gate = lambdaEntries().find((entry) => entry.name === 'gate-score/handler');
  if (gate === undefined) throw new Error('no gate-score/handler entry');
  const { metafile } = await buildLambdaBundle(gate);
  const bundled = Object.values(metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, { bytesInOutput }]) => bytesInOutput > 0).map(([input]) => input));
  expect(bundled.filter((input) => /node_modules\/zod\/|shared\/zod-mini\.ts$/.test(input))).toEqual([]);
});

test('a function entry must be named so that lambdaEntries() finds it', () => {
  for (const { entry } of lambdaEntries()) expect(() => checkHandlerEntry(entry)).not.toThrow();
  expect(() => checkHandlerEntry(path.join(LAMBDAS_ROOT, 'pipeline', 'budget', 'record-gpu-hours.ts'))).toThrow(/must be lambdas\/\*\*\/handler\.ts/);
  expect(() => checkHandlerEntry(path.join(LAMBDAS_ROOT, '..', 'bench', 'handler.ts'))).toThrow(/must be lambdas/);
});
