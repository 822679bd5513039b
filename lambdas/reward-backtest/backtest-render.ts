/**
 * The backtest report for people: a text summary (the CLI prints it) and a self-contained HTML page
 * (committed next to the policy for review). Both are drawn from the JSON report alone.
 */
import type { Distribution } from './backtest-report';
import { HISTOGRAM_BINS, QUANTILES } from './backtest-report';
import type { BacktestReport, JudgeCoverage } from './run-backtest';

function num(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? 'n/a' : value.toFixed(digits);
}

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value);
}

function quantileLine(d: Distribution): string {
  return QUANTILES.map((q) => `p${Math.round(q * 100)} ${num(d.quantiles[String(q)])}`).join('  ');
}

function binLabel(i: number): string {
  return `${(i / HISTOGRAM_BINS).toFixed(1)}-${((i + 1) / HISTOGRAM_BINS).toFixed(1)}`;
}

function judgeLine(label: string, coverage: JudgeCoverage): string[] {
  const sources = Object.entries(coverage.sources).map(([source, n]) => `${source} ${n}`).join(', ') || 'no traces';
  const lines = [`  ${label}: ${coverage.mode} (${sources})${coverage.judgePromptHash === null ? '' : `; prompts ${coverage.judgePromptHash}`}`];
  const r = coverage.rejudge;
  if (r !== undefined) {
    const skipped = Object.entries(r.skipped).map(([reason, n]) => `${reason} ${n}`).join(', ');
    lines.push(
      `    re-judged by ${r.simulated ? 'the SIMULATED judge ' : ''}${r.judge}: ${r.judged} judged of ${r.withoutStoredJudgment} traces without a stored judgment` +
        ` (${r.offered} offered, ${r.overBudget} over the ${r.budget.maxTraces}-trace budget${skipped === '' ? '' : `, skipped ${skipped}`}; ${r.tokens} of ${r.budget.maxTokens} tokens)`,
    );
  }
  return lines;
}

/** The report as lines of text. */
export function renderBacktestText(report: BacktestReport): string[] {
  const { scores, dpoPairs: pairs, humanAgreement: agreement } = report;
  const hq = scores.highQuality;
  const lines = [
    `Reward-policy backtest, stage ${report.stage}: ${report.current.version} (current) vs ${report.candidate.version} (candidate)`,
    `  lake: ${report.lake.engine} ${report.lake.source}; ${report.window.days} days ${report.window.from} .. ${report.window.to}`,
    `  current   ${report.current.version} ${report.current.hash} owner ${report.current.owner}`,
    `  candidate ${report.candidate.version} ${report.candidate.hash} owner ${report.candidate.owner}`,
    '',
    `Scores of ${scores.traces} traces`,
    `  current:   mean ${num(scores.current.mean)}  ${quantileLine(scores.current)}`,
    `  candidate: mean ${num(scores.candidate.mean)}  ${quantileLine(scores.candidate)}`,
    `  Spearman rank correlation ${num(scores.spearman)}; mean absolute change ${num(scores.meanAbsoluteChange)}`,
    '  histogram      current  candidate',
    ...scores.current.histogram.map((n, i) => `    ${binLabel(i)}  ${String(n).padStart(9)}  ${String(scores.candidate.histogram[i] ?? 0).padStart(9)}`),
    `  high quality (reward >= ${hq.threshold}): ${hq.current} -> ${hq.candidate} (${hq.crossedUp} cross up, ${hq.crossedDown} cross down)`,
    '',
    'Judge component',
    ...judgeLine('current', report.judge.current),
    ...judgeLine('candidate', report.judge.candidate),
    '',
    `DPO pairs (margin ${pairs.minMargin}): ${pairs.current} -> ${pairs.candidate} (gained ${pairs.gained}, lost ${pairs.lost}, changed ${pairs.changed}, unchanged ${pairs.unchanged})`,
    '',
    'Eligibility per agent (positive feedback, high-quality traces)',
    ...(report.eligibility.length === 0
      ? ['  no agent has traces or feedback in the window']
      : report.eligibility.map((a) => {
          const side = (e: (typeof a)['current']): string => (e === null ? 'no figures' : `${e.eligible ? 'eligible' : 'not eligible'} (${e.positiveFeedback}, ${e.highQualityTraces})`);
          return `  ${a.agentId}: ${side(a.current)} -> ${side(a.candidate)}${a.changed ? '  CHANGED' : ''}`;
        })),
    '',
    `Agreement with people's reviews: ${agreement.reviewed} reviewed traces; pass at ${agreement.passAt}; person's score: ${agreement.humanScore}`,
    ...(['current', 'candidate'] as const).map((side) => {
      const a = agreement[side];
      const kappa = a.kappa === null ? 'kappa n/a' : `kappa ${num(a.kappa.kappa)} [${num(a.kappa.lower95)}, ${num(a.kappa.upper95)}]`;
      return `  ${side}: ${kappa}, TPR ${num(a.truePositiveRate)}, TNR ${num(a.trueNegativeRate)}, Spearman ${num(a.spearman)}${a.alarms.length > 0 ? `; caution: ${a.alarms.join('; ')}` : ''}`;
    }),
    '',
    ...report.notes.map((n) => `Note: ${n}`),
  ];
  return lines;
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** A horizontal bar per histogram bin, both policies side by side, in plain HTML and CSS. */
function histogramHtml(report: BacktestReport): string {
  const { current, candidate } = report.scores;
  const max = Math.max(1, ...current.histogram, ...candidate.histogram);
  const bar = (n: number, cls: string): string => `<div class="bar ${cls}" style="width:${((n / max) * 100).toFixed(1)}%">${n}</div>`;
  const rows = current.histogram.map((n, i) => `<tr><th>${binLabel(i)}</th><td>${bar(n, 'cur')}${bar(candidate.histogram[i] ?? 0, 'cand')}</td></tr>`);
  return `<table class="hist"><tr><th>reward</th><td><span class="key cur">${escapeHtml(report.current.version)}</span> <span class="key cand">${escapeHtml(report.candidate.version)}</span></td></tr>${rows.join('')}</table>`;
}

/** The report as one self-contained HTML page (no scripts, no external resources). */
export function renderBacktestHtml(report: BacktestReport): string {
  const title = `Reward-policy backtest: ${report.current.version} vs ${report.candidate.version} (${report.stage})`;
  const text = renderBacktestText(report).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; }
pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; }
table.hist { border-collapse: collapse; width: 100%; }
table.hist th { text-align: right; padding-right: .5rem; font-weight: normal; width: 6rem; }
.bar { height: 1rem; margin: 1px 0; font-size: .7rem; color: #fff; padding-left: 2px; min-width: 1.2rem; }
.cur { background: #5b7fa6; } .cand { background: #c77c2e; }
.key { color: #fff; padding: 0 .4rem; }
</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Generated ${escapeHtml(report.generatedAt)} from ${escapeHtml(report.lake.engine)} ${escapeHtml(report.lake.source)}.
High-quality traces ${report.scores.highQuality.current} &rarr; ${report.scores.highQuality.candidate} (${signed(report.scores.highQuality.candidate - report.scores.highQuality.current)});
DPO pairs ${report.dpoPairs.current} &rarr; ${report.dpoPairs.candidate}; Spearman ${num(report.scores.spearman)}.</p>
<h2>Score distribution</h2>
${histogramHtml(report)}
<h2>Summary</h2>
<pre>${escapeHtml(text)}</pre>
</body></html>
`;
}
