/**
 * The time windows of the daily reports: the current window is the `currentDays` before the report's end,
 * the baseline the `baselineDays` before that. Both are half-open ([start, end)), so a trace at a boundary
 * counts once.
 */

export interface ReportWindows {
  readonly baselineStart: Date;
  readonly currentStart: Date;
  readonly end: Date;
}

const DAY_MS = 86_400_000;

export function reportWindows(end: Date, currentDays: number, baselineDays: number): ReportWindows {
  const currentStart = new Date(end.getTime() - currentDays * DAY_MS);
  return { baselineStart: new Date(currentStart.getTime() - baselineDays * DAY_MS), currentStart, end };
}

/**
 * Reads a window length as operators write it: `7d` (days) or `7` (days).
 * @throws Error naming the value and what is allowed
 */
export function parseWindowDays(text: string): number {
  const match = /^(\d{1,3})d?$/.exec(text.trim());
  const days = match === null ? NaN : Number(match[1]);
  if (!Number.isInteger(days) || days < 1 || days > 365) throw new Error(`window "${text}" is not a number of days between 1 and 365 such as 7d`);
  return days;
}

/** `2026-11-20T00:00:00.000Z/2026-11-27T00:00:00.000Z`: how a report names a window (ISO 8601 interval). */
export function intervalText(start: Date, end: Date): string {
  return `${start.toISOString()}/${end.toISOString()}`;
}
