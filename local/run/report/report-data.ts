/**
 * What the local run's HTML report draws, as plain data: the gate funnel, the reward and judge-score
 * distributions per serving variant, the judge's agreement with the (simulated) reviewer, the canary's
 * candidate weight over virtual time with the regression, alarm and rollback marked, and the GPU budget.
 * Built from the run's report and a few lake queries; pure apart from the queries.
 */
import type { LocalLake } from '../../local-lake';
import type { LocalRunReport } from '../local-run';
import { LOCAL_RUN_OUTCOMES } from '../outcome';

export interface Histogram {
  /** Bin labels, `0.0-0.1` ... `0.9-1.0`. */
  readonly bins: readonly string[];
  /** Counts per bin, by serving variant. */
  readonly byVariant: Readonly<Record<string, readonly number[]>>;
}

export interface TimelinePoint {
  /** ISO instant on the run's virtual clock. */
  readonly at: string;
  /** The candidate's share of the traffic, percent. */
  readonly candidatePercent: number;
}

export interface RunReportData {
  readonly title: string;
  readonly outcome: string;
  readonly exitCode: number;
  readonly funnel: ReadonlyArray<{ readonly label: string; readonly value: number }>;
  readonly discards: ReadonlyArray<{ readonly label: string; readonly value: number }>;
  readonly rewards: Histogram;
  readonly judgeScores: Histogram | null;
  readonly agreement: ReadonlyArray<{ readonly dimension: string; readonly reviewed: number; readonly kappa: number | null; readonly lower: number | null; readonly upper: number | null }> | null;
  readonly canary: { readonly points: readonly TimelinePoint[]; readonly markers: ReadonlyArray<{ readonly at: string; readonly label: string }> } | null;
  readonly budget: { readonly month: string; readonly ceiling: number; readonly before: number; readonly after: number; readonly booked: ReadonlyArray<{ readonly label: string; readonly hours: number }> } | null;
}

const BINS = Array.from({ length: 10 }, (_, i) => `${(i / 10).toFixed(1)}-${((i + 1) / 10).toFixed(1)}`);

/** Ten equal bins over 0..1 per variant, from rows of `{ variant, bin, n }` (bin 0..9). */
export function histogramOf(rows: ReadonlyArray<Record<string, unknown>>): Histogram {
  const byVariant: Record<string, number[]> = {};
  for (const row of rows) {
    const variant = String(row.variant);
    const bin = Number(row.bin);
    const counts = (byVariant[variant] ??= new Array<number>(BINS.length).fill(0));
    if (bin >= 0 && bin < BINS.length) counts[bin] = (counts[bin] ?? 0) + Number(row.n);
  }
  return { bins: BINS, byVariant };
}

const WEIGHTS = /^\[SIMULATED\] (\S+) .*weights now (.+)$/;

/**
 * The candidate's traffic share after every verified weight change of the simulated target, read from
 * its event lines (`... weights now current-name=90, candidate-name=10`): the candidate is the variant
 * the rollout added, listed last.
 */
export function candidateTimeline(events: readonly string[]): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  for (const event of events) {
    const match = WEIGHTS.exec(event);
    if (match === null) continue;
    const weights = (match[2] as string).split(',').map((pair) => Number(pair.trim().split('=')[1]));
    const total = weights.reduce((sum, w) => sum + w, 0);
    if (weights.length < 2 || !(total > 0) || weights.some((w) => !Number.isFinite(w))) continue;
    points.push({ at: match[1] as string, candidatePercent: Math.round(((weights.at(-1) as number) / total) * 1000) / 10 });
  }
  return points;
}

const HISTOGRAM_SQL = (column: string, table: string, where: string): string =>
  `SELECT model_variant AS variant, least(9, CAST(floor(${column} * 10) AS INTEGER)) AS bin, count(*) AS n FROM ${table} WHERE ${column} IS NOT NULL ${where} GROUP BY ALL ORDER BY ALL`;

/** The report's data: the run's figures and three lake queries (the lake must be open). */
export async function reportData(report: LocalRunReport, lake: LocalLake): Promise<RunReportData> {
  const kind = LOCAL_RUN_OUTCOMES[report.outcome];
  const { ingest } = report;
  const rewards = histogramOf(await lake.query(HISTOGRAM_SQL('reward', 'traces', '')));
  const judgeScores = report.judging === undefined ? null : histogramOf(await lake.query(HISTOGRAM_SQL('judge_score', 'judgments', `AND judge_prompt_hash = '${report.judging.curation.state?.promptHash ?? ''}'`)));
  const calibration = report.calibration?.result.report;
  const rollout = report.training?.rollout;
  const markers: Array<{ at: string; label: string }> = [];
  if (rollout?.degradedAt !== undefined) markers.push({ at: rollout.degradedAt.toISOString(), label: 'candidate degrades' });
  if (rollout?.rollback?.breachAt !== undefined && rollout.rollback.breachAt !== null) markers.push({ at: rollout.rollback.breachAt, label: 'canary alarm' });
  if (rollout?.rollback !== undefined) markers.push({ at: rollout.rollback.verifiedAt, label: 'rollback verified' });
  const budget = report.training?.budget;
  return {
    title: `Local run: stage ${report.options.stage}, model ${report.options.targetModelId}, scenario ${report.options.scenario.name}`,
    outcome: kind.words,
    exitCode: kind.code,
    funnel: [
      { label: 'records in', value: ingest.recordsIn },
      { label: 'kept in the lake', value: ingest.delivered },
      { label: 'discarded by a gate', value: ingest.discarded },
      { label: 'malformed', value: ingest.failed },
      { label: 'duplicates', value: ingest.duplicates },
    ],
    discards: [...ingest.drops].map(([label, value]) => ({ label, value })).sort((a, b) => b.value - a.value),
    rewards,
    judgeScores,
    agreement:
      calibration === undefined
        ? null
        : Object.entries(calibration.dimensions).map(([dimension, d]) => ({ dimension, reviewed: d.reviewed, kappa: d.kappa?.kappa ?? null, lower: d.kappa?.lower95 ?? null, upper: d.kappa?.upper95 ?? null })),
    canary: rollout === undefined ? null : { points: candidateTimeline(rollout.targetEvents), markers },
    budget:
      budget === undefined || report.training?.run === undefined
        ? null
        : {
            month: budget.month,
            ceiling: budget.ceiling,
            before: budget.usedBeforeRun,
            after: budget.usedAfterRun,
            booked: budget.booked.map((b) => ({ label: `${b.jobKind} (${b.attempts} attempt(s))`, hours: b.gpuHours })),
          },
  };
}
