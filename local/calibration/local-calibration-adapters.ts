/**
 * The local lake's side of the calibration ports: review rows appended to the local lake's `reviews`
 * table (where AWS puts them through the ReviewStream), and report files under the lake directory
 * (where AWS writes them to the artifact bucket).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import type { ReviewRow, ReviewRowSink } from '../../lambdas/judge/calibration/submit-review';
import type { ReportStore } from '../../lambdas/judge/calibration/write-report';
import type { LocalLake } from '../local-lake';

/** Appends each review row to the local lake's `reviews` table. */
export class LocalLakeReviewSink implements ReviewRowSink {
  constructor(private readonly lake: LocalLake) {}

  async put(row: ReviewRow): Promise<void> {
    await this.lake.append('reviews', [row]);
  }
}

/** The folder of the reports inside the lake directory. */
export const LOCAL_REPORTS_DIR = 'judge-calibration';

/** Writes report files under `<lake dir>/judge-calibration/`. */
export class LocalReportStore implements ReportStore {
  constructor(readonly lakeDir: string) {}

  async put(name: string, body: string): Promise<string> {
    const root = join(this.lakeDir, LOCAL_REPORTS_DIR);
    const path = normalize(join(root, name));
    if (!path.startsWith(`${root}${sep}`)) throw new Error(`report name "${name}" leaves ${root}`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body, { mode: 0o600 });
    return path;
  }
}
