/**
 * One week of judge calibration on a local lake, end to end: sample the week's judgments into the
 * local review queue, have the SIMULATED reviewer answer every open item (through the same
 * submitReview the page and the CLI use), and write the agreement report (JSON and HTML under
 * `<lake dir>/judge-calibration/<week>/`). The report is labelled SIMULATED. People review the same
 * queue with `sial review ... --local DIR` instead.
 */
import { createPseudonymiser } from '../../lambdas/shared/pseudonymisation';
import { loadMaskedTrace, LAKE_CALIBRATION_TABLES } from '../../lambdas/judge/calibration/calibration-queries';
import type { CalibrationSettings } from '../../lambdas/judge/calibration/calibration-settings';
import { sampleReviewWeek, type SampleWeekResult } from '../../lambdas/judge/calibration/sample-week';
import { submitReview } from '../../lambdas/judge/calibration/submit-review';
import { writeCalibrationReport, type WrittenReport } from '../../lambdas/judge/calibration/write-report';
import { LocalLake } from '../local-lake';
import { LocalPseudonymisationKeyProvider } from '../local-pseudonymisation-key';
import { DuckDbSqlEngine } from '../pipeline/duckdb-sql-engine';
import { LocalLakeReviewSink, LocalReportStore } from './local-calibration-adapters';
import { LocalReviewQueue } from './local-review-queue';
import { SimulatedReviewer, type SimulatedReviewerOptions } from './simulated-reviewer';

/** The label on the report of a simulated calibration. */
export const SIMULATED_LABEL = 'SIMULATED';

export interface LocalCalibrationResult extends WrittenReport {
  readonly sample: SampleWeekResult;
  /** Items the simulated reviewer reviewed in this call. */
  readonly reviewed: number;
  /** Items whose trace the lake no longer holds (left open). */
  readonly missingTraces: number;
}

/**
 * Runs sampling, simulated reviews and the report on the lake in `lakeDir`, as of `clock()`.
 * Re-running the same week adds no item twice and reviews no item twice.
 */
export async function runLocalCalibration(
  lakeDir: string,
  settings: CalibrationSettings,
  clock: () => Date,
  reviewer: SimulatedReviewerOptions = {},
): Promise<LocalCalibrationResult> {
  const lake = await LocalLake.open(lakeDir);
  try {
    const engine = new DuckDbSqlEngine(lake);
    const queue = new LocalReviewQueue(lakeDir);
    const sample = await sampleReviewWeek(settings, { engine, tables: LAKE_CALIBRATION_TABLES, queue, clock });
    const simulated = new SimulatedReviewer(reviewer);
    const keys = new LocalPseudonymisationKeyProvider(lakeDir);
    const deps = { queue, sink: new LocalLakeReviewSink(lake), pseudonymiser: async () => createPseudonymiser(await keys.key()), clock };
    let reviewed = 0;
    let missingTraces = 0;
    for (const item of await queue.listOpen()) {
      const trace = await loadMaskedTrace(engine, item);
      if (trace === undefined) {
        missingTraces += 1;
        continue;
      }
      const outcome = await submitReview(item.itemId, simulated.review(trace), deps);
      if (outcome.kind === 'recorded') reviewed += 1;
    }
    const written = await writeCalibrationReport(settings, { engine, tables: LAKE_CALIBRATION_TABLES, store: new LocalReportStore(lakeDir), clock, label: SIMULATED_LABEL });
    return { ...written, sample, reviewed, missingTraces };
  } finally {
    lake.close();
  }
}
