/**
 * Writes the local run's HTML report into the run's directory (`<lake-dir>/out/report.html`) and
 * returns its path. The report is evidence of what one run did, so it is rewritten by every run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalLake } from '../../local-lake';
import type { LocalRunReport } from '../local-run';
import { reportData } from './report-data';
import { chartJsSource, renderReportHtml } from './render-report';

export function reportPath(lakeDir: string): string {
  return join(lakeDir, 'out', 'report.html');
}

export async function writeRunReport(report: LocalRunReport): Promise<string> {
  const lake = await LocalLake.open(report.options.layout.lakeDir);
  try {
    const html = renderReportHtml(await reportData(report, lake), chartJsSource());
    const path = reportPath(report.options.layout.lakeDir);
    mkdirSync(join(report.options.layout.lakeDir, 'out'), { recursive: true });
    writeFileSync(path, html);
    return path;
  } finally {
    lake.close();
  }
}
