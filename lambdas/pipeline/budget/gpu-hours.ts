/**
 * GPU-hours of a training run: every attempt's wall time on its instance times the GPUs it held,
 * split by the UTC calendar month each hour fell in, so a run that crosses midnight at the end of a
 * month is charged to both months the way the bill is.
 */
import type { AttemptSpan } from './batch-job';
import { roundGpuHours, utcMonth, type LedgerMonth } from './ledger';

const MILLIS_PER_HOUR = 3_600_000;

/** The first instant of the UTC month after the one `at` falls in. */
function nextMonthStart(at: number): number {
  const date = new Date(at);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/**
 * GPU-hours per UTC month over all spans. Every attempt counts, including one whose Spot instance was
 * reclaimed: the GPUs were held (and billed) until the instance went away.
 */
export function gpuHoursByMonth(spans: readonly AttemptSpan[], gpus: number): Record<LedgerMonth, number> {
  const millisByMonth = new Map<LedgerMonth, number>();
  for (const span of spans) {
    let start = span.startedAt;
    while (start < span.stoppedAt) {
      const end = Math.min(span.stoppedAt, nextMonthStart(start));
      const month = utcMonth(new Date(start));
      millisByMonth.set(month, (millisByMonth.get(month) ?? 0) + (end - start));
      start = end;
    }
  }
  const result: Record<LedgerMonth, number> = {};
  for (const [month, millis] of [...millisByMonth].sort(([a], [b]) => a.localeCompare(b))) {
    result[month] = roundGpuHours((millis / MILLIS_PER_HOUR) * gpus);
  }
  return result;
}

/** The sum of a per-month split, rounded like the ledger rounds. */
export function totalGpuHours(byMonth: Readonly<Record<LedgerMonth, number>>): number {
  return roundGpuHours(Object.values(byMonth).reduce((sum, hours) => sum + hours, 0));
}
