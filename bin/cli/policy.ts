/**
 * `sial policy backtest`: compares a candidate reward policy with the stage's current one on the lake's
 * recent traces, and writes the report a policy file needs to be accepted (docs/reward-policies.md).
 */
import { writeFileSync } from 'node:fs';
import { loadStageConfig, type StageConfig } from '../../config';
import { readPolicyFile, readRewardPolicy } from '../../config/reward-policies/read';
import { rewardPolicyHash } from '../../config/reward-policies/policy-hash';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { renderBacktestHtml, renderBacktestText } from '../../lambdas/reward-backtest/backtest-render';
import { runBacktest } from '../../lambdas/reward-backtest/run-backtest';
import { JUDGMENTS_TABLE, REVIEWS_TABLE } from '../../lambdas/shared/lake-tables';
import { DEFAULT_LAKE_DIR, LakeDirRefused, openLakeDir } from '../../local/lake-dir';
import { LocalLake } from '../../local/local-lake';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { SimulatedJudgeModel } from '../../local/simulated-judge';
import { EXIT, parseCommandLine, UsageError, type CliCommand } from './command';

/** Re-judging budget when the stage configures no judge (whose daily ceilings would be the default). */
const DEFAULT_JUDGE_TRACES = 200;
const DEFAULT_JUDGE_TOKENS = 2_000_000;

const USAGE = `usage:
  sial policy backtest --candidate FILE [--days N] [--local DIR] [--stage NAME] [--out FILE]
                       [--judge-max-traces N] [--judge-max-tokens N] [--json]

Re-scores the last N days of kept traces under the stage's current reward policy (its
rewardPolicyVersion) and under the candidate, from the stored reward components, and reports score
distributions, their rank correlation, traces crossing the high-quality threshold, DPO pairs gained and
lost, eligibility per agent, and agreement with people's reviews under both.

The candidate's judge component is replayed from stored judgments made under its exact judge prompts
(same judge prompt hash); traces without one are judged again within the budget below. On a local lake
that judge is the SIMULATED judge, and the report says so.

where:
  --candidate FILE        the candidate policy (config/reward-policies/<version>.json)
  --days N                the window: the N days up to now (default 30)
  --local DIR             the run's lake directory (sial local run --lake-dir; default ${DEFAULT_LAKE_DIR})
  --stage NAME            the stage whose current policy and thresholds apply (default dev, what sial local run runs)
  --out FILE              write the JSON report to FILE and an HTML summary beside it (FILE without .json, plus .html);
                          for acceptance: --out config/reward-policies/<version>.backtest.json
  --judge-max-traces N    traces judged again at most (default: the stage judge's maxTracesPerDay, else ${DEFAULT_JUDGE_TRACES})
  --judge-max-tokens N    judge tokens at most (default: the stage judge's maxTokensPerDay, else ${DEFAULT_JUDGE_TOKENS.toLocaleString('en-US')})
  --json                  print the JSON report instead of the text summary

The lake is read through the dataset build's SQL port: DuckDB here; the same query files run on Athena.
This command reads a local run's lake; it does not yet connect to a deployed stage's lake.`;

const OPTIONS = {
  candidate: { type: 'string' },
  days: { type: 'string', default: '30' },
  local: { type: 'string', default: DEFAULT_LAKE_DIR },
  stage: { type: 'string', default: 'dev' },
  out: { type: 'string' },
  'judge-max-traces': { type: 'string' },
  'judge-max-tokens': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function wholeNumber(option: string, value: string | undefined, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${option}: received "${value}"; expected a whole number of at least ${min}`);
  }
  return Number(value);
}

/** Where the HTML summary of a JSON report goes: the same name, .html for .json. */
export function summaryPathFor(out: string): string {
  return `${out.endsWith('.json') ? out.slice(0, -'.json'.length) : out}.html`;
}

export const policyCommand: CliCommand = {
  name: 'policy',
  summary: 'backtest a candidate reward policy against the current one: sial policy backtest --candidate FILE',
  usage: USAGE,
  async run(args, context) {
    const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
    if (parsed === undefined) return EXIT.ok;
    const [action, ...extra] = parsed.positionals;
    if (action !== 'backtest') throw new UsageError(action === undefined ? 'say what to do: backtest' : `unknown action "${action}" (the only one is backtest)`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const values = parsed.values;
    if (values.candidate === undefined) throw new UsageError('--candidate FILE is required');
    const days = wholeNumber('days', values.days, 1, 30);

    let stage: StageConfig;
    try {
      stage = loadStageConfig(values.stage);
    } catch (error) {
      throw new UsageError(`--stage: ${(error as Error).message}`);
    }
    const maxTraces = wholeNumber('judge-max-traces', values['judge-max-traces'], 0, stage.judge?.maxTracesPerDay ?? DEFAULT_JUDGE_TRACES);
    const maxTokens = wholeNumber('judge-max-tokens', values['judge-max-tokens'], 0, stage.judge?.maxTokensPerDay ?? DEFAULT_JUDGE_TOKENS);

    // Policy problems are the operator's to fix, not a wrong command line: reported, exit 1.
    const current: RewardPolicy = readRewardPolicy(stage.rewardPolicyVersion);
    const candidate: RewardPolicy = readPolicyFile(values.candidate);
    if (candidate.version === current.version) {
      context.io.err(`sial policy: the candidate ${values.candidate} is version ${candidate.version}, the stage's current policy; a change is a new version`);
      return EXIT.failed;
    }

    let lakeDir: string;
    try {
      lakeDir = openLakeDir(values.local).lakeDir;
    } catch (error) {
      if (error instanceof LakeDirRefused) {
        context.io.err(`sial policy: ${error.message}`);
        return EXIT.failed;
      }
      throw error;
    }
    const lake = await LocalLake.open(lakeDir);
    try {
      const report = await runBacktest({
        sql: new DuckDbSqlEngine(lake),
        tables: { judgments: JUDGMENTS_TABLE.name, reviews: REVIEWS_TABLE.name },
        stage,
        current: { policy: current, hash: rewardPolicyHash(current) },
        candidate: { policy: candidate, hash: rewardPolicyHash(candidate) },
        days,
        now: context.clock(),
        lakeSource: lakeDir,
        workPrefix: 's3://local-backtest/work/',
        ...(candidate.judge === undefined
          ? {}
          : {
              judge: {
                // A local lake has no judge endpoint: the simulated one shows what re-judging does, labelled.
                model: new SimulatedJudgeModel(candidate.judge),
                simulated: true,
                controls: { samplingRate: 1, maxTracesPerDay: maxTraces, maxTokensPerDay: maxTokens, maxConcurrency: stage.judge?.maxConcurrency ?? 4 },
                routeTiers: [],
              },
            }),
      });
      if (values.out !== undefined) {
        writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
        writeFileSync(summaryPathFor(values.out), renderBacktestHtml(report));
      }
      if (values.json === true) context.io.out(JSON.stringify(report, null, 2));
      else renderBacktestText(report).forEach((line) => context.io.out(line));
      if (values.out !== undefined) context.io.err(`report written to ${values.out} and ${summaryPathFor(values.out)}`);
      return EXIT.ok;
    } finally {
      lake.close();
    }
  },
};
