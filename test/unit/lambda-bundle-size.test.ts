/**
 * Every function's bundle, built in memory with the CDK app's esbuild settings, stays within the size
 * budget. Entries come from lambdaEntries(), and createEsmFunction refuses an entry that list would not
 * find, so a new function is held to the budget without being named here.
 */
import * as path from 'node:path';
import { BUNDLE_BUDGET_BYTES, LAMBDAS_ROOT, checkHandlerEntry, lambdaEntries } from '../../lib/constructs/private/lambda-bundle';
import { buildLambdaBundle, buildLambdaBundles, bundleComposition } from '../../bench/bundle-size';

test('every Lambda bundle is within the budget', async () => {
  const bundles = await buildLambdaBundles();
  expect(bundles.map((b) => b.name)).toEqual(expect.arrayContaining(['gate-score/handler', 'feedback/handler', 'pipeline/approvals/api-handler']));
  const over = bundles
    .filter((bundle) => bundle.code.length > BUNDLE_BUDGET_BYTES)
    .map((bundle) => {
      const largest = bundleComposition(bundle.metafile).slice(0, 3).map((p) => `${p.origin} ${p.bytes}`).join(', ');
      return `${bundle.name}: ${bundle.code.length} bytes > budget ${BUNDLE_BUDGET_BYTES} (largest: ${largest})`;
    });
  expect(over).toEqual([]);
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
