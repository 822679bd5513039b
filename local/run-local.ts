/**
 * `npm run local`: the loop on this machine, no AWS account. Ingest (demo traffic through the
 * gate/score code into a local Parquet lake), the training pipeline (the synthesized state machine
 * on aws-local-stepfunctions) up to a registered candidate, then its canary rollout on a simulated
 * target; every approval waits for you (or a scripted approver with --auto-approve).
 *
 *   npm run local -- [--stage dev] [--traces 1500] [--lake-dir .local-lake] [--keep]
 *                    [--auto-approve] [--approval-wait 600] [--model qwen3-4b] [--skip-training]
 *                    [--trainer simulated|real]
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { runLocalIngest } from './local-ingest';
import { LocalLake } from './local-lake';
import { runLocalTraining } from './local-training';
import { collapseStates } from './state-trail';

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '  (none)';
  const headers = Object.keys(rows[0] as object);
  const cells = rows.map((r) => headers.map((h) => String(r[h] ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]) => '  ' + values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string', default: 'dev' },
      traces: { type: 'string', default: '1500' },
      'lake-dir': { type: 'string', default: '.local-lake' },
      keep: { type: 'boolean', default: false },
      'auto-approve': { type: 'boolean', default: false },
      'approval-wait': { type: 'string', default: '600' },
      model: { type: 'string', default: 'qwen3-4b' },
      'skip-training': { type: 'boolean', default: false },
      trainer: { type: 'string', default: 'simulated' },
    },
  });
  const lakeDir = resolve(values['lake-dir']);
  const trainer = values.trainer;
  if (trainer !== 'simulated' && trainer !== 'real') throw new Error(`--trainer must be simulated or real, received "${trainer}"`);
  const traceCount = Number.parseInt(values.traces, 10);
  if (!Number.isInteger(traceCount) || traceCount < 1) throw new Error(`--traces must be a positive integer, received "${values.traces}"`);
  if (!values.keep) rmSync(lakeDir, { recursive: true, force: true });

  console.log(`Self-Improving Agent Loop - local mode (stage ${values.stage}, no AWS account used)`);
  console.log('  PII scanner: [SIMULATED] Amazon Comprehend (SimulatedComprehendDetector: pattern rules + a name heuristic, 20 TPS quota)');
  console.log('  Lake:        local Parquet written by DuckDB, same tables and partitions as the Iceberg lake (not Iceberg itself)\n');

  const summary = await runLocalIngest({ stage: values.stage, lakeDir, traceCount, comprehendLatencyMs: 20, comprehendTps: 20 });
  console.log(`Ingest: ${summary.recordsIn} records in ${summary.batches} Firehose-sized batch(es), ${summary.comprehendCalls} simulated Comprehend call(s)`);
  for (const [language, calls] of summary.entityDetectorCalls) {
    console.log(`  [SIMULATED] ${language} named-entity endpoint (SimulatedKoreanNerDetector: surname + honorific names, province-first addresses): ${calls} call(s)`);
  }
  console.log(`  delivered to traces: ${summary.delivered}`);
  console.log(`  discarded by a gate (audited in gate_audit): ${summary.discarded}`);
  console.log(`  malformed (ProcessingFailed -> ${lakeDir}/errors): ${summary.failed}`);
  console.log(`  duplicates dropped: ${summary.duplicates}`);
  console.log(`  feedback events written: ${summary.feedbackWritten}\n`);

  const lake = await LocalLake.open(lakeDir);
  try {
    console.log('Gate outcomes (gate / reason):');
    console.log(table([...summary.failures].map(([reason, count]) => ({ gate: 'schema', reason, count })).concat([...summary.drops].map(([key, count]) => ({ gate: key.split('/')[0] ?? key, reason: key.split('/')[1] ?? '', count })))));
    console.log('\nLake partitions of traces (day / model / consent):');
    console.log(table(await lake.query('SELECT ts_day, model, consent, count(*) AS traces FROM traces GROUP BY ALL ORDER BY ALL')));
    console.log('\nReward and quality per model variant (what the canary alarms compare):');
    console.log(
      table(
        await lake.query(
          `SELECT model, model_variant AS variant, count(*) AS traces, round(avg(reward), 3) AS mean_reward,
                  round(avg(reward_components.groundedness), 3) AS groundedness,
                  round(avg(CASE WHEN misrouted THEN 1.0 ELSE 0.0 END), 3) AS misroute_rate
             FROM traces GROUP BY ALL ORDER BY ALL`,
        ),
      ),
    );
    console.log('\nA masked user message from the lake:');
    const sample = await lake.query(
      `SELECT trace_id, pii_scanner, pii_entities_masked, input_messages[2].content AS user_message FROM traces WHERE pii_entities_masked > 0 ORDER BY trace_id LIMIT 3`,
    );
    console.log(table(sample));
    console.log(`\nThe lake is at ${lakeDir}. Query it with DuckDB, e.g.:`);
    console.log(`  SELECT * FROM read_parquet('${lakeDir}/traces/**/*.parquet', hive_partitioning = true) LIMIT 5;`);
  } finally {
    lake.close();
  }
  if (values['skip-training']) return;

  const approvalWait = Number.parseInt(values['approval-wait'], 10);
  if (!Number.isInteger(approvalWait) || approvalWait < 1) throw new Error(`--approval-wait must be a positive number of seconds, received "${values['approval-wait']}"`);
  console.log('\nTraining pipeline: the synthesized state machine on aws-local-stepfunctions');
  console.log(
    trainer === 'real'
      ? '  AWS Batch p5en Spot: [REAL TRAINER, local CPU] the training image\'s entrypoint runs the reference GRPO/DPO trainer and evaluator on a tiny model built here (no GPU, a few steps)'
      : '  AWS Batch p5en Spot: [SIMULATED] SimulatedBatch (no container, no GPU; one Spot reclaim, then resume from the checkpoint)',
  );
  console.log(`  Approvals: ${values['auto-approve'] ? '[SIMULATED] scripted approver (--auto-approve)' : 'yours, on the local page or the CLI'}\n`);
  const { run, rollout } = await runLocalTraining({
    stage: values.stage,
    lakeDir,
    stateDir: join(lakeDir, 'state'),
    targetModelId: values.model,
    autoApprove: values['auto-approve'],
    approvalWaitSeconds: approvalWait,
    trainer,
  });
  console.log(`\nStates: ${run.visited.join(' -> ')}`);
  for (const job of run.batch.jobs) {
    const resumed = job.mode === 'train' ? `, starting from steps ${job.resumedFromSteps.join(', ')}` : '';
    const label = trainer === 'real' ? '[REAL TRAINER, local CPU]' : '[SIMULATED]';
    console.log(`  ${label} Batch ${job.mode} job ${job.jobName}: ${job.status} after ${job.attemptEnvironments.length} attempt(s)${resumed}`);
  }
  const ran = trainer === 'real' ? 'the real trainer and evaluator (tiny model, CPU)' : 'the simulated Batch (no model trained)';
  if (run.status === 'SUCCEEDED') console.log(`Pipeline succeeded with ${ran}: ${JSON.stringify(run.output)}`);
  else console.log(`Pipeline failed with ${ran}: ${run.error}: ${run.cause}`);
  if (trainer === 'real' && run.error === 'EvalGateFailed') {
    console.log('  (Expected: a tiny model trained for a few steps on CPU cannot reach the gate\'s faithfulness floor. The run really trained and evaluated it; the gate refused it, as it should.)');
  }
  if (rollout !== undefined) {
    console.log(`\nRollout states: ${collapseStates(rollout.visited)}`);
    if (rollout.status === 'SUCCEEDED') console.log(`Rollout ended: ${rollout.visited.at(-1)} ${JSON.stringify(rollout.output)}`);
    else console.log(`Rollout ended: ${rollout.error}: ${rollout.cause}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
