/**
 * Where `sial policy backtest` reads the lake and who judges: a local run's lake with DuckDB and the
 * simulated judge, or a deployed stage's lake with Athena (the dataset build's workgroup) and the
 * stage's own judge endpoint. The backtest itself (lambdas/reward-backtest/) sees only the ports.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import type { StageConfig } from '../../config';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { judgeModelForStage } from '../../lambdas/judge/adapters/judge-model-for-stage';
import { S3ObjectStore } from '../../lambdas/pipeline/aws/s3-object-store';
import { AthenaSqlEngine } from '../../lambdas/pipeline/dataset/athena-sql-engine';
import type { SqlEngine } from '../../lambdas/pipeline/dataset/sql-engine';
import type { BacktestJudge, BacktestTableNames } from '../../lambdas/reward-backtest/run-backtest';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, JUDGMENTS_TABLE, REVIEWS_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import { LocalLake } from '../../local/local-lake';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { SimulatedJudgeModel } from '../../local/simulated-judge';

/** The Glue tables have the lake tables' own names (lib/stacks/data-stack.ts), in the stage's database. */
export const LAKE_TABLE_NAMES: BacktestTableNames = { reviews: REVIEWS_TABLE.name };

/** The re-judging budget. */
export interface JudgeBudget {
  readonly maxTraces: number;
  readonly maxTokens: number;
  readonly maxConcurrency: number;
}

export interface BacktestBackend {
  readonly sql: SqlEngine;
  readonly lakeSource: string;
  readonly workPrefix: string;
  readonly judge?: BacktestJudge;
  close(): void;
}

function controls(budget: JudgeBudget) {
  // Every trace in the budget is judged (sampling 1): the budget, not a sample, bounds the cost.
  return { samplingRate: 1, maxTracesPerDay: budget.maxTraces, maxTokensPerDay: budget.maxTokens, maxConcurrency: budget.maxConcurrency };
}

/** A local run's lake: DuckDB, and the simulated judge (labelled) for re-judging. */
export async function localBackend(lakeDir: string, candidate: RewardPolicy, budget: JudgeBudget): Promise<BacktestBackend> {
  const lake = await LocalLake.open(lakeDir);
  return {
    sql: new DuckDbSqlEngine(lake),
    lakeSource: lakeDir,
    workPrefix: 's3://local-backtest/work/',
    ...(candidate.judge === undefined
      ? {}
      : { judge: { model: new SimulatedJudgeModel(candidate.judge), simulated: true, controls: controls(budget), routeTiers: [] } }),
    close: () => lake.close(),
  };
}

/** The AWS clients the stage backend uses; injectable for tests. */
export interface AwsClients {
  readonly athena: AthenaClient;
  readonly s3: S3Client;
}

export function awsClients(region: string): AwsClients {
  return { athena: new AthenaClient({ region }), s3: new S3Client({ region }) };
}

/** An s3://bucket/prefix/ URI of plain characters, ending in / (Athena's CTAS location rule). */
export const WORK_PREFIX = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(?:[A-Za-z0-9!_.*'()/-]+\/)?$/;

/**
 * A deployed stage's lake: Athena in the dataset build's workgroup (`sial-<stage>-dataset-build`, whose
 * result location and encryption apply) over the stage's Glue database; the backtest's temporary CTAS
 * tables under `workPrefix`, dropped and deleted at the end. Re-judging uses the stage's judge endpoint;
 * a stage without one re-judges nothing (the report counts the traces left without a judge component).
 */
export function stageBackend(stage: StageConfig, candidate: RewardPolicy, budget: JudgeBudget, workPrefix: string, clients: AwsClients): BacktestBackend {
  if (!WORK_PREFIX.test(workPrefix)) {
    throw new Error(`--work-prefix: received "${workPrefix}"; expected an s3://bucket/prefix/ URI ending in / (e.g. s3://<ArtifactBucketName>/backtests/)`);
  }
  const store = new S3ObjectStore(clients.s3);
  const sql = new AthenaSqlEngine(clients.athena, {
    workGroup: `sial-${stage.stage}-dataset-build`,
    database: stage.lake.databaseName,
    tables: { traces: TRACES_TABLE.name, gate_audit: GATE_AUDIT_TABLE.name, feedback: FEEDBACK_TABLE.name, judgments: JUDGMENTS_TABLE.name },
    readText: (uri) => store.getText(uri),
    deletePrefix: (prefix) => store.deletePrefix(prefix),
  });
  return {
    sql,
    lakeSource: `athena ${stage.lake.databaseName} (stage ${stage.stage})`,
    workPrefix,
    ...(candidate.judge === undefined || stage.judge === undefined
      ? {}
      : { judge: { model: judgeModelForStage(stage.judge.endpoint, stage.region).model, simulated: false, controls: controls(budget), routeTiers: stage.judge.routeTiers ?? [] } }),
    close: () => undefined,
  };
}
