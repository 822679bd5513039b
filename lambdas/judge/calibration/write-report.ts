/**
 * The weekly report job: the reviewed pairs of the last `windowDays`, the agreement report, its JSON
 * and HTML written through a ReportStore (S3 in AWS, the lake directory locally). Publishing the
 * metrics is the caller's (the Lambda writes EMF; local mode prints).
 */
import type { SqlEngine } from '../../pipeline/dataset/sql-engine';
import { loadReviewedPairs, SAMPLE_DAYS, type CalibrationTables } from './calibration-queries';
import { buildCalibrationReport, type CalibrationReport } from './calibration-report';
import type { CalibrationSettings } from './calibration-settings';
import { isoWeek } from './iso-week';
import { renderCalibrationReportHtml } from './report-html';

/** Where report files go: `put('2026-W49/report.json', ...)`. */
export interface ReportStore {
  put(name: string, body: string, contentType: string): Promise<string>;
}

export interface WriteReportDeps {
  readonly engine: SqlEngine;
  readonly tables: CalibrationTables;
  readonly store: ReportStore;
  readonly clock: () => Date;
  /** Marks a report whose reviews are simulated. */
  readonly label?: string;
}

export interface WrittenReport {
  readonly report: CalibrationReport;
  /** Where the JSON and the HTML went (URIs or paths). */
  readonly json: string;
  readonly html: string;
}

/** Builds the report of the window ending now and writes it under the week's name. */
export async function writeCalibrationReport(settings: CalibrationSettings, deps: WriteReportDeps): Promise<WrittenReport> {
  const now = deps.clock();
  const from = new Date(now.getTime() - settings.windowDays * 86_400_000);
  // A review in the window reviews a trace from up to a sampled week plus a link's lifetime earlier.
  const judgedFrom = new Date(from.getTime() - (SAMPLE_DAYS * 24 + settings.linkExpiryHours) * 3_600_000 - 7 * 86_400_000);
  const pairs = await loadReviewedPairs(deps.engine, deps.tables, from, now, judgedFrom);
  const report = buildCalibrationReport(pairs, { passAt: settings.passAt, minKappa: settings.minKappa, minReviewed: settings.minReviewed }, { from, to: now }, now, deps.label);
  const week = isoWeek(now);
  const json = await deps.store.put(`${week}/report.json`, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  const html = await deps.store.put(`${week}/report.html`, renderCalibrationReportHtml(report), 'text/html; charset=utf-8');
  return { report, json, html };
}
