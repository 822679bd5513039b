/**
 * The agreement report as one self-contained HTML file: no script, no external style, font or image,
 * and a Content-Security-Policy meta tag that would block any load, so it opens the same from S3, a
 * mail attachment or a disk. Every value is escaped.
 */
import { contentSecurityPolicy, escapeHtml, htmlDocument } from '../../shared/html-page';
import type { DimensionAgreement } from '../agreement-report';
import { CALIBRATION_DIMENSIONS, type CalibrationReport } from './calibration-report';

const STYLE = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}',
  'h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}',
  '.alarm{color:#a4161a;font-weight:600}.ok{color:#1d6b2f;font-weight:600}.simulated{background:#fff3cd;padding:.5rem;font-weight:600}',
].join('');

const LABELS: Record<(typeof CALIBRATION_DIMENSIONS)[number], string> = { faithfulness: 'Faithfulness', answer_relevance: 'Answer relevance', misroute: 'Routing (not misrouted)' };

const fixed = (value: number | null | undefined, digits = 2): string => (value === null || value === undefined ? 'n/a' : value.toFixed(digits));

function row(name: string, d: DimensionAgreement): string {
  const kappa = d.kappa === null ? 'undefined' : `${fixed(d.kappa.kappa)} [${fixed(d.kappa.lower95)}, ${fixed(d.kappa.upper95)}]`;
  const status = d.alarms.length === 0 ? '<span class="ok">ok</span>' : `<span class="alarm">${d.alarms.map(escapeHtml).join('<br>')}</span>`;
  return `<tr><th scope="row">${escapeHtml(name)}</th><td>${d.reviewed}</td><td>${escapeHtml(kappa)}</td><td>${escapeHtml(fixed(d.truePositiveRate))}</td><td>${escapeHtml(fixed(d.trueNegativeRate))}</td><td>${escapeHtml(fixed(d.spearman))}</td><td>${status}</td></tr>`;
}

/** The report as HTML. */
export function renderCalibrationReportHtml(report: CalibrationReport): string {
  const title = `${report.label !== undefined ? `${report.label} ` : ''}Judge agreement with people, ${report.window.from.slice(0, 10)} to ${report.window.to.slice(0, 10)}`;
  const csp = contentSecurityPolicy(STYLE);
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    report.label !== undefined ? `<p class="simulated">${escapeHtml(`${report.label}: these reviews come from a scripted reviewer, not from people.`)}</p>` : '',
    `<p>${report.reviews} reviewed items in ${report.window.days} days. Pass at a score of ${report.thresholds.passAt} or more; the alarm fires below a kappa of ${report.thresholds.minKappa} or under ${report.thresholds.minReviewed} reviewed items per dimension.</p>`,
    '<table><thead><tr><th>Dimension</th><th>Reviewed</th><th>Cohen\'s kappa [95 % CI]</th><th>TPR</th><th>TNR</th><th>Spearman</th><th>Alarm</th></tr></thead><tbody>',
    ...CALIBRATION_DIMENSIONS.map((d) => row(LABELS[d], report.dimensions[d])),
    '</tbody></table>',
    `<p>Generated ${escapeHtml(report.generatedAt)}.</p>`,
  ].join('\n');
  // The policy travels in the file itself (no server sends headers for a file on disk).
  return htmlDocument(title, STYLE, body).replace('<meta charset="utf-8">', `<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`);
}
