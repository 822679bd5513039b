/**
 * `npm run bench -- NAME [options]`: runs one benchmark. Benchmarks print figures and ratios measured
 * side by side in one run; they are never part of `npm test`.
 */
import { runDatasetBench } from './dataset-bench';
import { runGateBench } from './gate-bench';
import { runRollbackBench } from './rollback-bench';
import { runTrainerBench } from './trainer-bench';

const BENCHES: Record<string, (argv: string[]) => Promise<void>> = {
  dataset: runDatasetBench,
  gate: runGateBench,
  rollback: runRollbackBench,
  trainer: runTrainerBench,
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const bench = name === undefined ? undefined : BENCHES[name];
  if (bench === undefined) {
    console.error(`Usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [options]; received ${name === undefined ? 'no name' : `"${name}"`}`);
    process.exit(2);
  }
  await bench(rest);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
