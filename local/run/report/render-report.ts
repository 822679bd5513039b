/**
 * The local run's report as one self-contained HTML file: the data as JSON in the page, the charting
 * library (Chart.js, its UMD build) inlined, and a Content-Security-Policy that allows no network at all,
 * so the file opens offline and cannot call anywhere. Text is escaped; the JSON is embedded so that no
 * value can close its script element.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunReportData } from './report-data';

/**
 * Chart.js's browser build, from the installed package: its package exports do not name the UMD file,
 * so it is found beside the entry point (`dist/`).
 */
export function chartJsSource(): string {
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON safe inside a script element: `<`, `>`, `&` and the line separators escaped as \u sequences. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The charts, drawn in the page from the embedded data (runs in the browser). */
const DRAW = String.raw`
const data = JSON.parse(document.getElementById('report-data').textContent);
const colours = { current: '#2f6fb3', candidate: '#d9822b', other: '#888888' };
const colour = (name, i) => colours[name] || ['#2f6fb3', '#d9822b', '#4c9a5b', '#8e5ba6'][i % 4];
const common = { animation: false, responsive: false, plugins: { legend: { position: 'bottom' } } };
const drawn = [];
function chart(id, config) { drawn.push(new Chart(document.getElementById(id), Object.assign({}, config, { options: Object.assign({}, common, config.options) }))); }
function histogram(id, h, title) {
  chart(id, { type: 'bar', data: { labels: h.bins, datasets: Object.entries(h.byVariant).map(([v, counts], i) => ({ label: v, data: counts, backgroundColor: colour(v, i) })) },
    options: { plugins: { title: { display: true, text: title }, legend: { position: 'bottom' } }, scales: { y: { title: { display: true, text: 'traces' } } } } });
}
chart('funnel', { type: 'bar', data: { labels: data.funnel.map((f) => f.label), datasets: [{ label: 'records', data: data.funnel.map((f) => f.value), backgroundColor: '#2f6fb3' }] },
  options: { indexAxis: 'y', plugins: { title: { display: true, text: 'Gate funnel' }, legend: { display: false } } } });
chart('discards', { type: 'bar', data: { labels: data.discards.map((d) => d.label), datasets: [{ label: 'discarded', data: data.discards.map((d) => d.value), backgroundColor: '#b33f2f' }] },
  options: { indexAxis: 'y', plugins: { title: { display: true, text: 'Discards by gate and reason' }, legend: { display: false } } } });
histogram('rewards', data.rewards, 'Reward per serving variant');
if (data.judgeScores) histogram('judge', data.judgeScores, 'Judge score per serving variant');
if (data.agreement) {
  chart('agreement', { type: 'bar', data: { labels: data.agreement.map((a) => a.dimension + ' (' + a.reviewed + ')'), datasets: [
      { label: 'kappa', data: data.agreement.map((a) => a.kappa), backgroundColor: '#4c9a5b' },
      { label: '95 % CI low', data: data.agreement.map((a) => a.lower), backgroundColor: '#a8d5b3' },
      { label: '95 % CI high', data: data.agreement.map((a) => a.upper), backgroundColor: '#d6eedc' }] },
    options: { plugins: { title: { display: true, text: "Judge-reviewer agreement (Cohen's kappa; alarm below 0.6)" } }, scales: { y: { min: -1, max: 1 } } } });
}
if (data.canary) {
  const start = data.canary.points.length > 0 ? Date.parse(data.canary.points[0].at) : 0;
  const minutes = (at) => Math.round((Date.parse(at) - start) / 6000) / 10;
  const steps = data.canary.points.map((p) => ({ x: minutes(p.at), y: p.candidatePercent }));
  const marks = data.canary.markers.map((m) => ({ x: minutes(m.at), y: 0, label: m.label }));
  chart('canary', { type: 'scatter', data: { datasets: [
      { label: 'candidate traffic %', data: steps, showLine: true, stepped: true, borderColor: '#d9822b', backgroundColor: '#d9822b' },
      { label: 'regression, alarm, rollback', data: marks, pointStyle: 'triangle', pointRadius: 9, borderColor: '#b33f2f', backgroundColor: '#b33f2f' }] },
    options: { plugins: { title: { display: true, text: 'Canary timeline (virtual clock, minutes)' },
      tooltip: { callbacks: { label: (c) => c.raw.label ? c.raw.label + ' at ' + c.raw.x + ' min' : c.raw.y + ' % at ' + c.raw.x + ' min' } } },
      scales: { x: { title: { display: true, text: 'minutes since the first weight change' } }, y: { min: 0, max: 100, title: { display: true, text: '% of traffic' } } } } });
}
if (data.budget) {
  const b = data.budget;
  chart('budget', { type: 'bar', data: { labels: ['before the run', ...b.booked.map((x) => x.label), 'after the run', 'ceiling'],
      datasets: [{ label: 'GPU-hours', data: [b.before, ...b.booked.map((x) => x.hours), b.after, b.ceiling], backgroundColor: ['#888888', ...b.booked.map(() => '#2f6fb3'), '#d9822b', '#b33f2f'] }] },
    options: { plugins: { title: { display: true, text: 'GPU budget ' + b.month + ' (GPU-hours)' }, legend: { display: false } } } });
}
document.body.dataset.charts = String(drawn.length);
`;

/** The whole page. */
export function renderReportHtml(data: RunReportData, chartJs: string): string {
  const section = (id: string, present: boolean, absent: string): string =>
    present ? `<canvas id="${id}" width="560" height="300"></canvas>` : `<p class="absent">${escapeHtml(absent)}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(data.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } .outcome { margin: 0 0 16px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, 580px); gap: 16px; }
.absent { color: #666; font-style: italic; width: 560px; }
.note { color: #555; font-size: 13px; }
</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<p class="outcome">Outcome: <strong>${escapeHtml(data.outcome)}</strong> (exit code ${data.exitCode})</p>
<p class="note">Simulated parts of a local run (Comprehend, the judge, the reviewer, Batch, the serving target) are labelled in the run's output; the charts show what the production code decided with them.</p>
<div class="grid">
${section('funnel', true, '')}
${section('discards', data.discards.length > 0, 'No trace was discarded by a gate.')}
${section('rewards', true, '')}
${section('judge', data.judgeScores !== null, 'The judge did not run (game day).')}
${section('agreement', data.agreement !== null, 'No calibration ran in this run.')}
${section('canary', data.canary !== null, 'No canary rollout ran in this run.')}
${section('budget', data.budget !== null, 'Nothing was trained in this run.')}
</div>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${chartJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${DRAW}</script>
</body>
</html>
`;
}
