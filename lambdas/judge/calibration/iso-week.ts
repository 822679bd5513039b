/** ISO 8601 weeks (Monday first; week 1 holds the year's first Thursday), the review sample's salt and label. */

/** The ISO week of an instant in UTC, e.g. `2026-W49`. */
export function isoWeek(instant: Date): string {
  if (Number.isNaN(instant.getTime())) throw new RangeError('isoWeek needs a valid date');
  const day = new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
  const weekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay();
  // The Thursday of this week decides the year the week belongs to.
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export const ISO_WEEK_PATTERN = /^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/;

/** Monday 00:00 UTC of an ISO week (`2026-W49`). */
export function isoWeekStart(week: string): Date {
  if (!ISO_WEEK_PATTERN.test(week)) throw new RangeError(`"${week}" is not an ISO week such as 2026-W49`);
  const [year, number] = week.split('-W').map(Number) as [number, number];
  // January 4th is always in week 1.
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const weekday = jan4.getUTCDay() === 0 ? 7 : jan4.getUTCDay();
  return new Date(Date.UTC(year, 0, 4 - weekday + 1 + (number - 1) * 7));
}
