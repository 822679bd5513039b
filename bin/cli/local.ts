/**
 * `sial local run`: the whole loop on this machine (`npm run local` is this command). Checks every
 * option, then the lake directory, before anything is written; prints progress, then a summary; exits
 * with the outcome's code (local/run/outcome.ts).
 */
import { LakeDirRefused, prepareLakeDir } from '../../local/lake-dir';
import { runLocal } from '../../local/run/local-run';
import { TerminalProgress } from '../../local/run/progress';
import { LOCAL_RUN_OUTCOMES, USAGE_EXIT_CODE } from '../../local/run/outcome';
import { summaryLines } from '../../local/run/summary';
import { SCENARIO_NAMES, SCENARIOS } from '../../local/scenarios';
import { EXIT, parseCommandLine, UsageError, type CliCommand } from './command';
import { LOCAL_RUN_OPTIONS, MAX_TRACES, validateLocalRunOptions } from './local-run-options';

const EXIT_TABLE = [...Object.entries(LOCAL_RUN_OUTCOMES).map(([name, o]) => ({ code: o.code, name })), { code: USAGE_EXIT_CODE, name: 'usage: a wrong option or a refused --lake-dir (nothing was touched)' }]
  .sort((a, b) => a.code - b.code)
  .map(({ code, name }) => `  ${String(code).padStart(2)}  ${name}`)
  .join('\n');

const USAGE = `usage:
  sial local run [options]        (npm run local -- [options])

Runs the loop on this machine with no AWS account: demo traffic through the gates into a local lake,
the judge's curation and a weekly review sample of its verdicts, the training pipeline up to a
registered candidate, then its canary rollout on a simulated target. Every simulated part says so in
the output. Ends with a summary, an HTML report (DIR/out/report.html) and an exit code per outcome.

options:
  --scenario NAME     what the simulation plays (default healthy):
${SCENARIO_NAMES.map((n) => `                        ${n.padEnd(12)} ${SCENARIOS[n].brief}`).join('\n')}
  --auto-approve      a scripted, clearly labelled approver decides (as the scenario says) instead of you
  --approval-wait S   seconds to wait for your decision on each approval (default 600)
  --stage NAME        dev, prod-eu or prod-kr (default dev)
  --model ID          a target model of the stage (default: the stage's first)
  --traces N          demo traces to ingest, 1 to ${MAX_TRACES.toLocaleString('en-US')} (default 1500)
  --lake-dir DIR      the run's directory (default .local-lake). It must be new, empty, or one an earlier
                      run created (marked with a .sial-local-lake file); anything else is refused, never deleted
  --keep              keep an earlier run's lake in DIR and add to it
  --skip-training     stop after the ingest
  --trainer T         simulated (default) or real: the reference trainer and evaluator on CPU
  --target K          llm (default) or router: the stage's router classifier, trained by the real router
                      trainer (.venv), through canary to promotion (healthy) or a misroute rollback (regression)
  -h, --help          this text

exit codes:
${EXIT_TABLE}

Every other sial command takes --local DIR, the same directory (e.g. sial approvals list --local .local-lake).`;

export const localCommand: CliCommand = {
  name: 'local',
  summary: 'run the loop on this machine: sial local run [--scenario NAME] [--auto-approve] (npm run local)',
  usage: USAGE,
  async run(args, context) {
    const parsed = parseCommandLine(args, LOCAL_RUN_OPTIONS, USAGE, context);
    if (parsed === undefined) return EXIT.ok;
    const [action, ...extra] = parsed.positionals;
    if (action !== 'run') throw new UsageError(action === undefined ? 'say what to do: run' : `unknown action "${action}" (the only one is run)`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const options = validateLocalRunOptions(parsed.values);
    let layout;
    try {
      layout = prepareLakeDir(options.lakeDir, { keep: options.keep });
    } catch (error) {
      if (!(error instanceof LakeDirRefused)) throw error;
      context.io.err(`sial local run: ${error.message}`);
      return USAGE_EXIT_CODE;
    }
    // On a terminal the run's state lines become one status line (ingest bar, states, bake countdown).
    const progress = context.terminal === undefined ? undefined : new TerminalProgress(context.terminal);
    const print = progress === undefined ? (line: string) => context.io.out(line) : (line: string) => progress.line(line);
    const report = await runLocal(
      {
        stage: options.stage.stage,
        targetModelId: options.targetModelId,
        traceCount: options.traceCount,
        layout,
        scenario: options.scenario,
        autoApprove: options.autoApprove,
        approvalWaitSeconds: options.approvalWaitSeconds,
        skipTraining: options.skipTraining,
        trainer: options.trainer,
        target: options.target,
      },
      print,
      progress,
    );
    progress?.end();
    for (const line of summaryLines(report)) context.io.out(line);
    return LOCAL_RUN_OUTCOMES[report.outcome].code;
  },
};
