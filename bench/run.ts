/**
 * `npm run bench -- NAME [options]`: runs one benchmark. Benchmarks print figures and ratios measured
 * side by side in one run; they are never part of `npm test`. `--help` after a name prints that
 * benchmark's options without running it (nor installing anything it needs).
 */
import { runDatasetBench } from './dataset-bench';
import { runGateBench } from './gate-bench';
import { runJudgeBench } from './judge-bench';
import { runRollbackBench } from './rollback-bench';
import { runTrainerBench } from './trainer-bench';

interface Bench {
  readonly run: (argv: string[]) => Promise<void>;
  readonly usage: string;
}

const BENCHES: Record<string, Bench> = {
  dataset: {
    run: runDatasetBench,
    usage: `npm run bench -- dataset [--sizes 100000,1000000] [--no-baseline]

Builds the dataset from local lakes of synthetic traces (--sizes, comma-separated) with the shipped SQL
on DuckDB, beside the former in-memory build on the same lake (left out with --no-baseline): wall time,
CPU seconds and the load average at the start, traces/s and memory growth.`,
  },
  gate: {
    run: runGateBench,
    usage: `npm run bench -- gate [--latency-ms 50] [--tps 20] [--buffer-mb 3] [--cpu-seconds 5] [--import-runs 5] [--only calls,wall,cpu,bundles]

Comprehend calls per 1,000 traces (packed vs one per trace), wall time per Firehose buffer against the
simulated Comprehend (--latency-ms per call, --tps quota, --buffer-mb buffer size), the gate path's CPU
throughput beside a decode-and-re-encode floor (--cpu-seconds each), and every Lambda's bundle size
against the budget, its largest parts and its import time (median of --import-runs fresh processes).
--only runs the named sections alone (e.g. --only cpu); to profile the CPU section:
  node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/run.ts gate --only cpu`,
  },
  judge: {
    run: runJudgeBench,
    usage: `npm run bench -- judge [--latency-ms 200] [--traces 40] [--concurrency 8]

Judged traces per second and tokens per trace against a local OpenAI-compatible endpoint that answers
with the SIMULATED judge after --latency-ms per request: one trace at a time beside the shipped
concurrency (--concurrency traces at once, their dimensions in flight together), over --traces traces.`,
  },
  rollback: {
    run: runRollbackBench,
    usage: `npm run bench -- rollback [STAGE...]

Breach -> verified rollback time per stage (default: dev prod-eu prod-kr) and rollout target, on a
virtual clock with each stage's canary alarm settings, beside the game-day bound and our target.`,
  },
  trainer: {
    run: runTrainerBench,
    usage: `npm run bench -- trainer [--steps 30] [--checkpoint-every 10] [--repeats 2]

Steps/s and tokens/s of the reference trainer beside a bare TRL loop, on a tiny model on CPU (runs in
the repository's .venv, created on first use).`,
  },
};

function overview(): string {
  return `usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [options]   (npm run bench -- NAME --help for its options)`;
}

/** node:util parseArgs reports a wrong option with an ERR_PARSE_ARGS_* code. */
function isUsageError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (name === '--help' || name === '-h') {
    console.log(overview());
    return 0;
  }
  const bench = name === undefined ? undefined : BENCHES[name];
  if (bench === undefined) {
    console.error(`${overview()}\nreceived ${name === undefined ? 'no name' : `"${name}"`}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(bench.usage);
    return 0;
  }
  try {
    await bench.run(rest);
    return 0;
  } catch (error) {
    if (!isUsageError(error)) throw error;
    console.error(`${(error as Error).message}\n\n${bench.usage}`);
    return 2;
  }
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
