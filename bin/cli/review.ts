/**
 * `sial review list | open ID | submit ID --faithfulness X --relevance Y [--misrouted yes|no|na] --local DIR`:
 * the weekly judge-calibration queue from a terminal. `open` prints the masked trace (lake text, which
 * the PII gate already masked; control characters, terminal escapes included, are replaced) and never
 * the judge's scores; `submit` records the reviewer's own scores once, as the review page does.
 */
import { userInfo } from 'node:os';
import { loadMaskedTrace, type MaskedTrace } from '../../lambdas/judge/calibration/calibration-queries';
import { reviewItemIdSchema } from '../../lambdas/judge/calibration/review-item';
import { visibleText } from '../../lambdas/judge/calibration/review-page';
import { reviewInputSchema, submitReview } from '../../lambdas/judge/calibration/submit-review';
import { createPseudonymiser } from '../../lambdas/shared/pseudonymisation';
import { LocalLakeReviewSink } from '../../local/calibration/local-calibration-adapters';
import { LocalReviewQueue } from '../../local/calibration/local-review-queue';
import { LocalLake } from '../../local/local-lake';
import { LocalPseudonymisationKeyProvider } from '../../local/local-pseudonymisation-key';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { EXIT, parseCommandLine, UsageError, type CliCommand, type CliContext, type ParsedCommandLine } from './command';
import { formatTable } from './table';

const USAGE = `usage:
  sial review list [--json] --local DIR
  sial review open ID --local DIR
  sial review submit ID --faithfulness X --relevance Y [--misrouted yes|no|na] --local DIR

where:
  --local DIR          the lake directory of a local run (sial local run --lake-dir; default .local-lake there)
  --faithfulness X     your own score, 0 to 1: the share of the answer's claims the contexts support
  --relevance Y        your own score, 0 to 1: how directly the answer addresses the question
  --misrouted V        yes, no, or na (the default: no route tier, or you cannot tell)
  --json               list as JSON

Score each item from what open shows, before and without looking at the judge's scores. A review is
final: an item is reviewed once. You are recorded as local:<OS user>, stored only as a keyed pseudonym.
In AWS, reviewers use the signed links of the weekly review e-mail (the review page).`;

const OPTIONS = {
  local: { type: 'string' },
  faithfulness: { type: 'string' },
  relevance: { type: 'string' },
  misrouted: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ParsedCommandLine<typeof OPTIONS>['values'];

function localUser(): string {
  try {
    return `local:${userInfo().username}`;
  } catch {
    return `local:${process.env.USER ?? 'unknown'}`;
  }
}

async function list(queue: LocalReviewQueue, values: Values, context: CliContext): Promise<number> {
  const items = await queue.listOpen();
  if (values.json === true) {
    context.io.out(JSON.stringify(items, null, 2));
    return EXIT.ok;
  }
  if (items.length === 0) {
    context.io.out('No review items are open.');
    return EXIT.ok;
  }
  formatTable(['ID', 'WEEK', 'AGENT', 'BAND', 'TRACE'], items.map((i) => [i.itemId, i.week, i.agentId, i.band, i.traceId])).forEach((l) => context.io.out(l));
  context.io.out(`${items.length} open. Read one with: sial review open ID --local DIR`);
  return EXIT.ok;
}

/** The masked trace as terminal lines (text made visible-safe: no escape sequence reaches the terminal). */
export function traceLines(trace: MaskedTrace): string[] {
  const indent = (text: string) => visibleText(text).split('\n').map((l) => `    ${l}`);
  const lines = [`Trace ${visibleText(trace.traceId)} (agent ${visibleText(trace.agentId)}, ${trace.routeTier === null ? 'no route tier' : `routed to ${visibleText(trace.routeTier)}`})`, '', 'Conversation:'];
  for (const m of trace.messages) lines.push(`  [${visibleText(m.role)}]`, ...indent(m.content));
  lines.push('', 'Retrieved contexts:');
  if (trace.contexts.length === 0) lines.push('  (none)');
  trace.contexts.forEach((c, i) => lines.push(`  ${i + 1}.`, ...indent(c)));
  lines.push('', 'Answer:', ...indent(trace.answer));
  if (trace.toolCalls.length > 0) {
    lines.push('', 'Tool calls:');
    for (const t of trace.toolCalls) lines.push(`  ${visibleText(t.name)} (${visibleText(t.status)})`, ...indent(t.arguments), ...(t.result === null ? [] : indent(t.result)));
  }
  return lines;
}

async function open(dir: string, queue: LocalReviewQueue, itemId: string, context: CliContext): Promise<number> {
  const item = await queue.get(itemId);
  if (item === undefined) {
    context.io.err(`There is no review item ${itemId}. List the open ones with: sial review list --local ${dir}`);
    return EXIT.failed;
  }
  const lake = await LocalLake.open(dir);
  try {
    const trace = await loadMaskedTrace(new DuckDbSqlEngine(lake), item);
    if (trace === undefined) {
      context.io.err(`The lake no longer holds trace ${item.traceId} (erased or aged out); it cannot be reviewed.`);
      return EXIT.failed;
    }
    traceLines(trace).forEach((l) => context.io.out(l));
    context.io.out('');
    context.io.out(item.status === 'open' ? `Score it with: sial review submit ${itemId} --faithfulness X --relevance Y [--misrouted yes|no|na] --local ${dir}` : `Already reviewed${item.reviewedAt !== undefined ? ` at ${item.reviewedAt}` : ''}.`);
    return EXIT.ok;
  } finally {
    lake.close();
  }
}

async function submit(dir: string, queue: LocalReviewQueue, itemId: string, values: Values, context: CliContext): Promise<number> {
  if (values.faithfulness === undefined || values.relevance === undefined) throw new UsageError('submit needs --faithfulness X and --relevance Y (your own scores, 0 to 1)');
  const input = reviewInputSchema.safeParse({ faithfulness: values.faithfulness, answerRelevance: values.relevance, misrouted: values.misrouted ?? 'na', reviewer: localUser() });
  if (!input.success) {
    const issue = input.error.issues[0];
    const flag = { faithfulness: '--faithfulness', answerRelevance: '--relevance', misrouted: '--misrouted' }[String(issue?.path[0])] ?? 'input';
    throw new UsageError(`${flag} ${issue?.message ?? 'is invalid'}; received "${String({ '--faithfulness': values.faithfulness, '--relevance': values.relevance, '--misrouted': values.misrouted }[flag])}"`);
  }
  const lake = await LocalLake.open(dir);
  try {
    const keys = new LocalPseudonymisationKeyProvider(dir);
    const outcome = await submitReview(itemId, input.data, { queue, sink: new LocalLakeReviewSink(lake), pseudonymiser: async () => createPseudonymiser(await keys.key()), clock: context.clock });
    switch (outcome.kind) {
      case 'recorded':
        context.io.out(`Recorded your review of ${itemId} (trace ${outcome.item.traceId}): faithfulness ${input.data.faithfulness}, relevance ${input.data.answerRelevance}, misrouted ${input.data.misrouted}.`);
        return EXIT.ok;
      case 'already-reviewed':
        context.io.err(`${itemId} was already reviewed${outcome.item.reviewedAt !== undefined ? ` at ${outcome.item.reviewedAt}` : ''}. A review is final.`);
        return EXIT.failed;
      case 'not-found':
        context.io.err(`There is no review item ${itemId}. List the open ones with: sial review list --local ${dir}`);
        return EXIT.failed;
    }
  } finally {
    lake.close();
  }
}

/** `sial review`. */
export const reviewCommand: CliCommand = {
  name: 'review',
  summary: 'the weekly judge-calibration queue: list items, open a masked trace, submit your own scores (--local DIR)',
  usage: USAGE,
  async run(args, context) {
    const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
    if (parsed === undefined) return EXIT.ok;
    const { values, positionals } = parsed;
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (action !== 'list' && action !== 'open' && action !== 'submit') throw new UsageError(action === undefined ? 'say what to do: list, open ID or submit ID' : `unknown action "${action}"`);
    const scoreFlags = (['faithfulness', 'relevance', 'misrouted'] as const).filter((f) => values[f] !== undefined);
    if (action !== 'submit' && scoreFlags.length > 0) throw new UsageError(`--${scoreFlags[0]} is for submit`);
    if (action !== 'list' && values.json === true) throw new UsageError('--json is for list');
    if (values.local === undefined || values.local.trim() === '') throw new UsageError('--local DIR is required: the CLI reviews a local run\'s queue; in AWS use the review page links of the weekly e-mail');
    const queue = new LocalReviewQueue(values.local);
    if (action === 'list') {
      if (id !== undefined) throw new UsageError('list takes no ID');
      return list(queue, values, context);
    }
    if (id === undefined) throw new UsageError(`${action} needs the item ID (see: sial review list --local DIR)`);
    if (!reviewItemIdSchema.safeParse(id).success) throw new UsageError(`"${id}" is not a review item id (rv- and 32 hex digits; see: sial review list --local DIR)`);
    return action === 'open' ? open(values.local, queue, id, context) : submit(values.local, queue, id, values, context);
  },
};
