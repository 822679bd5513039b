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
import { DEFAULT_LAKE_DIR, LakeDirRefused, openLakeDir } from '../../local/lake-dir';
import { EXIT, parseCommandLine, UsageError, type CliCommand } from './command';
import { awsClients, LAKE_TABLE_NAMES, localBackend, stageBackend, WORK_PREFIX, type AwsClients, type BacktestBackend } from './policy-backend';

/** Re-judging budget when the stage configures no judge (whose daily ceilings would be the default). */
const DEFAULT_JUDGE_TRACES = 200;
const DEFAULT_JUDGE_TOKENS = 2_000_000;

const USAGE = `usage:
  sial policy backtest --candidate FILE --local DIR [--stage NAME] [options]
  sial policy backtest --candidate FILE --stage NAME --work-prefix s3://BUCKET/PREFIX/ [options]

Re-scores the last N days of kept traces under the stage's current reward policy (its
rewardPolicyVersion) and under the candidate, from the stored reward components, and reports score
distributions, their rank correlation, traces crossing the high-quality threshold, DPO pairs gained and
lost, eligibility per agent, and agreement with people's reviews under both.

The candidate's judge component is replayed from stored judgments made under its exact judge prompts
(same judge prompt hash); traces without one are judged again within the budget below. On a local lake
that judge is the SIMULATED judge, and the report says so; on a stage, the stage's judge endpoint.

where:
  --candidate FILE        the candidate policy (config/reward-policies/<version>.json)
  --local DIR             read a local run's lake (sial local run --lake-dir, e.g. ${DEFAULT_LAKE_DIR}) with DuckDB
  --stage NAME            the stage whose current policy and thresholds apply; without --local, read that
                          deployed stage's lake with Athena (workgroup sial-NAME-dataset-build, AWS credentials
                          of the environment) and re-judge with its judge endpoint (default with --local: dev)
  --work-prefix URI       with --stage: where Athena keeps the backtest's temporary tables, removed at the end
                          (e.g. s3://<ArtifactBucketName of sial-NAME-data>/backtests/)
  --days N                the window: the N days up to now (default 30)
  --out FILE              write the JSON report to FILE and an HTML summary beside it (FILE without .json, plus .html);
                          for acceptance: --out config/reward-policies/<version>.backtest.json
  --judge-max-traces N    traces judged again at most (default: the stage judge's maxTracesPerDay, else ${DEFAULT_JUDGE_TRACES})
  --judge-max-tokens N    judge tokens at most (default: the stage judge's maxTokensPerDay, else ${DEFAULT_JUDGE_TOKENS.toLocaleString('en-US')})
  --json                  print the JSON report instead of the text summary

The lake is read through the dataset build's SQL port: the same query files run on DuckDB and Athena.`;

const OPTIONS = {
  candidate: { type: 'string' },
  days: { type: 'string', default: '30' },
  local: { type: 'string' },
  stage: { type: 'string' },
  'work-prefix': { type: 'string' },
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

/** What the command needs from outside; injectable for tests. */
export interface PolicyCommandDeps {
  readonly awsClients?: (region: string) => AwsClients;
}

/** Builds the command; `policyCommand` is it with the real AWS clients. */
export function createPolicyCommand(deps: PolicyCommandDeps = {}): CliCommand {
  return {
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

      if (values.local === undefined && values.stage === undefined) {
        throw new UsageError('say which lake: --local DIR (a local run\'s) or --stage NAME (a deployed stage\'s, through Athena)');
      }
      const onStage = values.local === undefined;
      if (onStage && values['work-prefix'] === undefined) throw new UsageError('--stage without --local reads the stage\'s lake with Athena and needs --work-prefix s3://BUCKET/PREFIX/');
      if (!onStage && values['work-prefix'] !== undefined) throw new UsageError('--work-prefix is for a stage\'s lake (without --local)');
      if (onStage && !WORK_PREFIX.test(values['work-prefix'] as string)) {
        throw new UsageError(`--work-prefix: received "${values['work-prefix']}"; expected an s3://bucket/prefix/ URI ending in / (e.g. s3://<ArtifactBucketName>/backtests/)`);
      }
      let stage: StageConfig;
      try {
        stage = loadStageConfig(values.stage ?? 'dev');
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

      const budget = { maxTraces, maxTokens, maxConcurrency: stage.judge?.maxConcurrency ?? 4 };
      let backend: BacktestBackend;
      if (onStage) {
        // One folder per backtest, so a re-run never meets an earlier one's files.
        const workPrefix = `${values['work-prefix']}backtest-${context.clock().toISOString().replace(/[-:.]/g, '')}/`;
        try {
          backend = stageBackend(stage, candidate, budget, workPrefix, (deps.awsClients ?? awsClients)(stage.region));
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
      } else {
        let lakeDir: string;
        try {
          lakeDir = openLakeDir(values.local as string).lakeDir;
        } catch (error) {
          if (error instanceof LakeDirRefused) {
            context.io.err(`sial policy: ${error.message}`);
            return EXIT.failed;
          }
          throw error;
        }
        backend = await localBackend(lakeDir, candidate, budget);
      }
      try {
        const report = await runBacktest({
          sql: backend.sql,
          tables: LAKE_TABLE_NAMES,
          stage,
          current: { policy: current, hash: rewardPolicyHash(current) },
          candidate: { policy: candidate, hash: rewardPolicyHash(candidate) },
          days,
          now: context.clock(),
          lakeSource: backend.lakeSource,
          workPrefix: backend.workPrefix,
          ...(backend.judge === undefined ? {} : { judge: backend.judge }),
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
        backend.close();
      }
    },
  };
}

export const policyCommand: CliCommand = createPolicyCommand();
