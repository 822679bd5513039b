/**
 * `npm run bench -- gate`: the gate/score path measured side by side in one run.
 *
 * 1. Comprehend calls per 1,000 traces of ~2 KB: packed (the shipped implementation) vs one call per
 *    trace (the naive baseline), against the simulated Comprehend.
 * 2. Wall time per 3 MB Firehose buffer at the configured Comprehend latency and TPS quota, both ways,
 *    with how many traces each way lost to throttling (discarded after the retries ran out).
 * 3. CPU throughput of the whole gate path (decode, normalise, gates, pattern PII, masking, reward,
 *    row encoding) with Comprehend excluded (a detector that answers instantly), traces/s on one core.
 * 4. The size of each Lambda bundle, built the way the CDK app builds it, against the size budget, its
 *    largest parts, and its import time in a fresh Node.js process (median of --import-runs).
 *
 * Figures are printed, not asserted: wall-clock numbers belong in benchmarks, not tests.
 */
import { parseArgs } from 'node:util';
import { dev } from '../config/stages/dev';
import { readRewardPolicy } from '../config/reward-policies/read';
import type { FirehoseInputRecord } from '../lambdas/gate-score/firehose-records';
import { gateConfigFromStage, type GateConfig } from '../lambdas/gate-score/gate-config';
import { processBatch } from '../lambdas/gate-score/process-batch';
import { createPseudonymiser } from '../lambdas/shared/pseudonymisation';
import type { PiiEntity, PiiEntityDetector } from '../lambdas/shared/ports';
import { scanAndMaskTraces } from '../lambdas/gate-score/pii/pii-scan';
import { SimulatedComprehendDetector } from '../local/simulated-comprehend';
import { BUNDLE_BUDGET_BYTES } from '../lib/constructs/private/lambda-bundle';
import { buildLambdaBundles, bundleComposition, importTimings } from './bundle-size';
import { benchTraceRecords } from './bench-traces';
import { normalizeRecord } from '../lambdas/gate-score/normalize';
import { decodeRecord } from '../lambdas/gate-score/firehose-records';
import type { Trace } from '../lambdas/gate-score/trace';

/** A detector that finds nothing and costs nothing: takes Comprehend out of the CPU measurement. */
class InstantDetector implements PiiEntityDetector {
  readonly name = 'instant (comprehend excluded)';
  readonly maxTextBytes = 100_000;
  async detect(): Promise<readonly PiiEntity[]> {
    return [];
  }
}

function pad(text: string | number, width: number): string {
  return String(text).padStart(width);
}

function traces(records: readonly FirehoseInputRecord[]): Trace[] {
  return records.map((r) => {
    const decoded = decodeRecord(r.data);
    const normalised = decoded.ok ? normalizeRecord(decoded.value) : undefined;
    if (normalised === undefined || !normalised.ok) throw new Error('bench corpus produced an invalid trace');
    return normalised.trace;
  });
}

async function callsPerThousand(config: GateConfig): Promise<void> {
  const sample = traces(benchTraceRecords(1000, 2048));
  const requests = sample.map((trace, i) => ({ key: String(i), trace }));
  const row: string[] = [];
  for (const packing of ['per-trace', 'packed'] as const) {
    const detector = new SimulatedComprehendDetector();
    await scanAndMaskTraces(requests, { detector, config: config.pii, packing });
    row.push(`${packing.padEnd(9)} ${pad(detector.calls, 6)} calls`);
  }
  console.log('1. Comprehend calls per 1,000 traces of ~2 KB (target <= 25 packed)');
  for (const line of row) console.log(`   ${line}`);
}

async function wallTimePerBuffer(config: GateConfig, latencyMs: number, tps: number, bufferMiB: number): Promise<void> {
  const records = benchTraceRecords(Math.floor((bufferMiB * 1024 * 1024) / 2048), 2048);
  const bytes = records.reduce((sum, r) => sum + Buffer.byteLength(r.data, 'base64'), 0);
  console.log(`\n2. Wall time per ${bufferMiB} MB buffer (${records.length} traces, ${(bytes / 1e6).toFixed(2)} MB) against simulated Comprehend: ${latencyMs} ms/call, ${tps} TPS quota (target <= 5 s packed)`);
  const results: Record<string, number> = {};
  for (const packing of ['packed', 'per-trace'] as const) {
    const detector = new SimulatedComprehendDetector({ latencyMs, tps });
    const requests = traces(records).map((trace, i) => ({ key: String(i), trace }));
    const started = performance.now();
    const outcomes = await scanAndMaskTraces(requests, { detector, config: config.pii, packing });
    const seconds = (performance.now() - started) / 1000;
    const lost = outcomes.filter((o) => o.status === 'discarded').length;
    results[packing] = seconds;
    console.log(`   ${packing.padEnd(9)} ${pad(seconds.toFixed(2), 7)} s  ${pad(detector.calls, 5)} calls (${detector.throttled} throttled)  ${pad(lost, 5)} traces discarded after retries`);
  }
  console.log(`   per-trace / packed: ${(results['per-trace']! / results.packed!).toFixed(1)}x the wall time`);
}

/** CPU seconds one call of `pass` takes (user + system, GC included). */
async function cpuSecondsOf(pass: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  await pass();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * The floor and the gate path measured in alternating rounds over the same batch: each round times one
 * pass of each, so both see the same machine load, and the ratio is taken per round. The medians over
 * the rounds are printed: on a shared machine the load changes between seconds, and a ratio of two
 * figures measured seconds apart mostly measures that.
 */
async function cpuThroughput(config: GateConfig, seconds: number): Promise<void> {
  const batch = benchTraceRecords(1500, 2048);
  const detector = new InstantDetector();
  // A fixed bench key: pseudonyms are part of the measured path, the key's origin is not.
  const pseudonymiser = createPseudonymiser(Buffer.alloc(32, 7));
  // The floor: only what any Firehose transformation must do (decode base64 JSON, encode it back).
  const floorPass = async (): Promise<void> => {
    for (const record of batch) Buffer.from(JSON.stringify(JSON.parse(Buffer.from(record.data, 'base64').toString('utf8')))).toString('base64');
  };
  const gatePass = async (): Promise<void> => {
    await processBatch(batch, { config, detector, pseudonymiser, now: () => new Date() });
  };
  for (let i = 0; i < 3; i++) {
    await floorPass();
    await gatePass();
  } // warm up the JIT before measuring
  const floorRates: number[] = [];
  const gateRates: number[] = [];
  const ratios: number[] = [];
  let gateCpu = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000 || ratios.length < 5) {
    const floorRate = batch.length / (await cpuSecondsOf(floorPass));
    const gateSeconds = await cpuSecondsOf(gatePass);
    gateCpu += gateSeconds;
    const gateRate = batch.length / gateSeconds;
    floorRates.push(floorRate);
    gateRates.push(gateRate);
    ratios.push(floorRate / gateRate);
  }
  console.log('\n3. CPU throughput, Comprehend excluded (target >= 20,000 traces/s per core; one thread, per CPU-second incl. GC)');
  console.log(`   ${ratios.length} alternating rounds of ${batch.length} traces each way; medians:`);
  console.log(`   decode + re-encode only (floor) ${pad(Math.round(median(floorRates)).toLocaleString('en-US'), 9)} traces/s`);
  console.log(`   whole gate path                 ${pad(Math.round(median(gateRates)).toLocaleString('en-US'), 9)} traces/s  (${ratios.length * batch.length} traces in ${gateCpu.toFixed(2)} CPU-s)`);
  console.log(`   the gate path costs ${median(ratios).toFixed(1)}x the floor (per-round range ${Math.min(...ratios).toFixed(1)}-${Math.max(...ratios).toFixed(1)}x)`);
}

async function bundleSizes(importRuns: number): Promise<void> {
  if (!Number.isInteger(importRuns) || importRuns < 1) throw new Error(`--import-runs must be a positive integer, received ${importRuns}`);
  console.log(`\n4. Lambda bundles (esbuild, ESM, minified, AWS SDK external: the CDK app's settings); budget ${BUNDLE_BUDGET_BYTES / 1000} KB each;`);
  console.log(`   median of ${importRuns} fresh node processes: sdk = loading the @aws-sdk packages the bundle imports (the runtime's in Lambda),`);
  console.log("   import = then importing the bundle itself (* = it stopped at the handler's own environment check, which runs after every module it imports)");
  const bundles = await buildLambdaBundles();
  const timings = importTimings(bundles, importRuns);
  console.log(`   ${'function'.padEnd(44)} ${pad('KB', 7)} ${pad('budget', 7)} ${pad('sdk', 8)} ${pad('import', 9)}  largest parts (KB)`);
  for (const bundle of bundles) {
    const timing = timings.get(bundle.name);
    const parts = bundleComposition(bundle.metafile).slice(0, 3).map((p) => `${p.origin} ${(p.bytes / 1000).toFixed(1)}`).join(', ');
    const sdk = timing === undefined ? '-' : `${timing.sdkMs.toFixed(0)} ms`;
    const ms = timing === undefined ? '-' : `${timing.ms.toFixed(1)} ms${timing.stoppedAt === undefined ? ' ' : '*'}`;
    console.log(`   ${bundle.name.padEnd(44)} ${pad((bundle.code.length / 1000).toFixed(1), 7)} ${pad(`${Math.round((100 * bundle.code.length) / BUNDLE_BUDGET_BYTES)}%`, 7)} ${pad(sdk, 8)} ${pad(ms, 9)}  ${parts}`);
  }
}

export async function runGateBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'latency-ms': { type: 'string', default: '50' },
      tps: { type: 'string', default: '20' },
      'buffer-mb': { type: 'string', default: '3' },
      'cpu-seconds': { type: 'string', default: '5' },
      'import-runs': { type: 'string', default: '5' },
      only: { type: 'string' },
    },
  });
  const sections = values.only === undefined ? ['calls', 'wall', 'cpu', 'bundles'] : values.only.split(',');
  const unknown = sections.filter((s) => !['calls', 'wall', 'cpu', 'bundles'].includes(s));
  if (unknown.length > 0) throw new Error(`--only takes calls, wall, cpu, bundles (comma-separated), received ${unknown.join(',')}`);
  const config = gateConfigFromStage(dev, readRewardPolicy(dev.rewardPolicyVersion), { databaseName: 'bench', tracesTable: 'traces', auditTable: 'gate_audit' });
  console.log('Gate benchmark (simulated Comprehend: SimulatedComprehendDetector, clearly not the real service)\n');
  if (sections.includes('calls')) await callsPerThousand(config);
  if (sections.includes('wall')) await wallTimePerBuffer(config, Number(values['latency-ms']), Number(values.tps), Number(values['buffer-mb']));
  if (sections.includes('cpu')) await cpuThroughput(config, Number(values['cpu-seconds']));
  if (sections.includes('bundles')) await bundleSizes(Number(values['import-runs']));
}
