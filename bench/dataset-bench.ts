/**
 * `npm run bench -- dataset [--sizes 100000,1000000] [--no-baseline]`: builds the dataset from local lakes
 * of synthetic traces with the shipped SQL (DuckDB writes the files, the process only writes the manifest)
 * and, on the same lake, with the former in-memory build (rows read back and assembled in JavaScript,
 * bench/dataset-baseline/). Prints wall time, CPU seconds (with the load average at the start: other work
 * on the machine moves both), traces/s and the process's memory growth side by side.
 *
 * The lake: 5 agents, prompts answered four times each (GRPO groups of four), a system prompt, a user
 * question and one retrieved context per trace, a third with their own success feedback, feedback events
 * for a tenth of the requests, gate discards for a hundredth, spread over 20 days inside the 30-day
 * window. It has no re-delivered copies: the former build fails on those ("lists a trace id twice").
 * Written straight to Parquet by DuckDB in the local lake's layout, so generating it is not timed.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStageConfig } from '../config';
import { readRewardPolicy } from '../config/reward-policies/read';
import type { ValidatedRequest } from '../lambdas/pipeline/contracts';
import { buildDataset } from '../lambdas/pipeline/dataset/build-dataset';
import { pipelineSettingsFromStage, rewardScoringOf } from '../lambdas/pipeline/settings';
import { DuckDbSqlEngine } from '../local/pipeline/duckdb-sql-engine';
import { FsObjectStore } from '../local/pipeline/fs-object-store';
import { LocalLake } from '../local/local-lake';
import { buildInMemory } from './dataset-baseline/build-in-memory';

const REQUESTED_AT = '2026-11-25T00:00:00.000Z';
const BUCKET = 'sial-bench-artifacts';

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Writes `n` traces, their feedback events and gate discards into the lake's folders as Parquet. */
async function generateLake(lake: LocalLake, n: number): Promise<void> {
  mkdirSync(lake.tableDir('traces'), { recursive: true });
  await lake.run(`
    COPY (
      SELECT *, strftime(ts, '%Y-%m-%d') AS ts_day FROM (
        SELECT
          'bench-' || i AS trace_id,
          TIMESTAMP '2026-11-01 00:00:00' + to_seconds((i * 7919) % (20 * 86400)) AS ts,
          'agent-' || ((i // 4) % 5) AS agent_id,
          'req-' || i AS request_id,
          NULL::VARCHAR AS session_id,
          'qwen3-4b' AS model, 'qwen3' AS model_family, '2026-10-01' AS model_version, 'current' AS model_variant,
          true AS consent, 'us-east-1' AS data_region, 'US' AS data_boundary, 'internal' AS confidentiality,
          'all-models' AS training_scope, 'en' AS language,
          [{'role': 'system', 'content': 'You are the support assistant. Answer from the retrieved context only.'},
           {'role': 'user', 'content': 'Question ' || (i // 4) || ': how does the refund policy treat annual plans bought by business accounts?'}] AS input_messages,
          ['Context ' || (i // 4) || ': annual plans can be refunded in full within thirty days of purchase; later requests are prorated.'] AS retrieved_contexts,
          'Answer ' || i || ': annual plans are refunded in full within thirty days, and later requests are prorated for business accounts.' AS output,
          []::STRUCT("name" VARCHAR, "arguments" VARCHAR, "result" VARCHAR, "status" VARCHAR)[] AS tool_calls,
          CASE WHEN i % 3 = 0 THEN 'success' END AS feedback_outcome,
          NULL::DOUBLE AS feedback_quality, false AS error, 800.0::DOUBLE AS latency_ms, 20::BIGINT AS input_tokens, 40::BIGINT AS output_tokens,
          0.0001::DOUBLE AS cost_usd, NULL::VARCHAR AS route_tier, NULL::BOOLEAN AS misrouted, 'comprehend' AS pii_scanner, 0::INTEGER AS pii_entities_masked,
          ((hash(i) % 1000) / 1000.0)::DOUBLE AS reward,
          {'feedback': NULL::DOUBLE, 'errors': 1.0::DOUBLE, 'latency': 1.0::DOUBLE, 'groundedness': ((hash(i) % 1000) / 1000.0)::DOUBLE, 'judge': NULL::DOUBLE} AS reward_components,
          'v1' AS reward_policy_version, 'native' AS source_format,
          TIMESTAMP '2026-11-01 00:00:05' + to_seconds((i * 7919) % (20 * 86400)) AS gated_at
        FROM range(${n}) t(i)
      )
    ) TO ${quote(lake.tableDir('traces'))} (FORMAT parquet, PARTITION_BY (ts_day, model, consent), APPEND true)`);
  mkdirSync(lake.tableDir('feedback'), { recursive: true });
  await lake.run(`
    COPY (
      SELECT *, strftime(received_at, '%Y-%m-%d') AS received_day FROM (
        SELECT 'fb-' || j AS feedback_id, 'agent-' || (((j * 10) // 4) % 5) AS agent_id, 'req-' || (j * 10) AS request_id, NULL::VARCHAR AS trace_id,
          CASE WHEN j % 4 = 0 THEN 'user_rejected' ELSE 'success' END AS outcome, NULL::DOUBLE AS quality, NULL::DOUBLE AS latency_ms, NULL::BIGINT AS token_count,
          TIMESTAMP '2026-11-21 00:00:00' + to_seconds(j % 86400) AS received_at
        FROM range(${Math.floor(n / 10)}) t(j)
      )
    ) TO ${quote(lake.tableDir('feedback'))} (FORMAT parquet, PARTITION_BY (received_day, agent_id), APPEND true)`);
  mkdirSync(lake.tableDir('gate_audit'), { recursive: true });
  await lake.run(`
    COPY (
      SELECT *, strftime(discarded_at, '%Y-%m-%d') AS discarded_day FROM (
        SELECT 'drop-' || (k % ${Math.max(1, Math.floor(n / 200))}) AS trace_id, CASE WHEN k % 2 = 0 THEN 'pii' ELSE 'consent' END AS gate, 'test: bench' AS reason,
          TIMESTAMP '2026-11-10 00:00:00' + to_seconds(k) AS discarded_at, 'agent-0' AS agent_id, 'qwen3-4b' AS model, 'US' AS data_boundary
        FROM range(${Math.floor(n / 100)}) t(k)
      )
    ) TO ${quote(lake.tableDir('gate_audit'))} (FORMAT parquet, PARTITION_BY (discarded_day), APPEND true)`);
}

function request(runId: string): ValidatedRequest {
  const base = `s3://${BUCKET}/runs/${runId}/`;
  return {
    runId,
    mode: 'dataset-only',
    stage: 'dev',
    boundary: 'US',
    targetModelId: 'qwen3-4b',
    modelFamily: 'qwen3',
    internalOnly: false,
    algorithm: 'grpo',
    baseModelUri: 's3://bench/base/',
    requestedBy: 'bench',
    requestedAt: REQUESTED_AT,
    uris: { datasetPrefix: `${base}dataset/`, output: `${base}output/`, checkpoints: `${base}checkpoints/`, evalOutput: `${base}eval/`, metrics: `${base}eval/metrics.json` },
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

interface Timed<T> {
  readonly value: T;
  readonly seconds: number;
  /** CPU seconds of the whole process (user and system, DuckDB's threads included). */
  readonly cpuSeconds: number;
  /** The one-minute load average when the run started: other work on the machine moves the figures. */
  readonly loadAverage: number;
  readonly heapGrowth: number;
  readonly rssGrowth: number;
}

async function timed<T>(run: () => Promise<T>): Promise<Timed<T>> {
  global.gc?.();
  const heap = process.memoryUsage().heapUsed;
  const rss = process.memoryUsage().rss;
  let peakHeap = heap;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 20);
  const loadAverage = loadavg()[0] ?? 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  try {
    const value = await run();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    return { value, seconds, cpuSeconds: (used.user + used.system) / 1e6, loadAverage, heapGrowth: peakHeap - heap, rssGrowth: process.memoryUsage().rss - rss };
  } finally {
    clearInterval(sampler);
  }
}

export async function runDatasetBench(argv: string[]): Promise<void> {
  const sizesArg = argv.indexOf('--sizes');
  const sizes = sizesArg >= 0 ? (argv[sizesArg + 1] ?? '').split(',').map(Number) : [100_000, 1_000_000];
  if (sizes.some((n) => !Number.isInteger(n) || n < 8)) throw new Error(`--sizes takes whole numbers of traces of at least 8, comma-separated; received "${argv[sizesArg + 1] ?? ''}"`);
  const baseline = !argv.includes('--no-baseline');
  const stage = loadStageConfig('dev');
  const settings = pipelineSettingsFromStage(
    stage,
    { databaseName: 'bench', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' },
    rewardScoringOf(readRewardPolicy(stage.rewardPolicyVersion)),
  );
  const root = mkdtempSync(join(tmpdir(), 'sial-dataset-bench-'));
  console.log(`Dataset build benchmark: DuckDB over a local Parquet lake, the same SQL Athena runs; ${process.platform} ${process.arch}, Node ${process.version}`);
  try {
    for (const n of sizes) {
      const dir = join(root, `lake-${n}`);
      const lake = await LocalLake.open(dir);
      try {
        const generated = await timed(() => generateLake(lake, n));
        const store = new FsObjectStore(join(dir, 's3'));
        // The starter golden set, so decontamination runs as it does in a stage.
        cpSync(join(__dirname, '..', 'training', 'golden-sets', 'qwen3-4b'), store.pathOf(`s3://${BUCKET}/golden-sets/qwen3-4b/golden.json`).replace(/golden\.json$/, ''), { recursive: true });
        const sql = new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri));
        const shipped = await timed(() => buildDataset(request(`bench-${n}`), { sql, store, settings, clock: () => new Date(), goldenSetsUri: `s3://${BUCKET}/golden-sets/` }));
        const m = shipped.value.counts;
        console.log(`\n${n.toLocaleString('en-US')} traces (lake written in ${generated.seconds.toFixed(1)} s, not timed below)`);
        console.log(
          `  engine writes the files (shipped): ${shipped.seconds.toFixed(2)} s (${shipped.cpuSeconds.toFixed(1)} CPU s, load average ${shipped.loadAverage.toFixed(2)} at start), ${Math.round(n / shipped.seconds).toLocaleString('en-US')} traces/s; ` +
            `heap +${mib(shipped.heapGrowth)}, RSS +${mib(shipped.rssGrowth)}; ${m.grpoGroups.toLocaleString('en-US')} groups, ${m.grpoCompletions.toLocaleString('en-US')} completions, ${m.dpoPairs.toLocaleString('en-US')} pairs`,
        );
        if (baseline) {
          const selection = { boundary: 'US' as const, rewardPolicyVersion: 'v1', internalOnly: false, from: new Date(Date.parse(REQUESTED_AT) - 30 * 86_400_000), to: new Date(REQUESTED_AT) };
          try {
            const former = await timed(() => buildInMemory(new DuckDbSqlEngine(lake), store, selection, `s3://${BUCKET}/runs/baseline-${n}/dataset/`));
            console.log(
              `  in-memory build (baseline):        ${former.seconds.toFixed(2)} s (${former.cpuSeconds.toFixed(1)} CPU s), ${Math.round(n / former.seconds).toLocaleString('en-US')} traces/s; ` +
                `heap +${mib(former.heapGrowth)}, RSS +${mib(former.rssGrowth)}; ${former.value.groups.toLocaleString('en-US')} groups, ${former.value.completions.toLocaleString('en-US')} completions, ${former.value.pairs.toLocaleString('en-US')} pairs`,
            );
            console.log(`  ratio: the shipped build takes ${(shipped.seconds / former.seconds).toFixed(2)}x the baseline's time (it also de-duplicates, re-scores, decontaminates and checks per-agent eligibility)`);
          } catch (error) {
            console.log(`  in-memory build (baseline): failed: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`);
          }
        }
        console.log(`  target: 1,000,000 traces in <= 10 s`);
      } finally {
        lake.close();
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
