/**
 * Turns an approval's summary (arbitrary JSON from the state machine) into label/value lines for the
 * e-mail and the page. Values are plain text with control and bidirectional-override characters
 * replaced, so a hostile value can neither add lines to an e-mail (a fake second link) nor reorder
 * what a human reads; the page additionally HTML-escapes them (page.ts).
 */
import type { ApprovalSummary } from './approval-record';

export interface SummaryLine {
  readonly label: string;
  readonly value: string;
}

/** Lines shown at most; a larger summary ends with a line saying how many were left out. */
export const MAX_SUMMARY_LINES = 100;
const MAX_VALUE_CHARS = 300;
const MAX_DEPTH = 6;

// C0/C1 controls, DEL, line/paragraph separators, and the bidi embedding/override/isolate characters.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** An instant for humans: `2026-11-24 12:00 UTC`. */
export function utc(iso: string): string {
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

/** One line of plain text, safe to put in an e-mail or (escaped) in HTML. */
export function plainText(value: string, maxChars = MAX_VALUE_CHARS): string {
  const flat = value.replace(UNSAFE_CHARS, ' ');
  return flat.length > maxChars ? `${flat.slice(0, maxChars - 1)}…` : flat;
}

function scalar(value: unknown): string {
  if (value === null) return 'none';
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
  if (typeof value === 'string') return plainText(value);
  return String(value);
}

function walk(value: unknown, label: string, depth: number, out: SummaryLine[]): void {
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    out.push({ label, value: plainText(value.map(scalar).join(', ')) });
  } else if (value !== null && typeof value === 'object' && depth < MAX_DEPTH) {
    const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value);
    if (entries.length === 0) out.push({ label, value: 'none' });
    for (const [key, child] of entries) {
      const childLabel = key.startsWith('[') ? `${label}${key}` : label === '' ? key : `${label}.${key}`;
      walk(child, plainText(childLabel, 120), depth + 1, out);
    }
  } else if (value !== null && typeof value === 'object') {
    out.push({ label, value: plainText(JSON.stringify(value)) });
  } else {
    out.push({ label, value: scalar(value) });
  }
}

/** The summary as lines, in the order the state machine gave them (it knows what matters first). */
export function summaryLines(summary: ApprovalSummary): SummaryLine[] {
  const out: SummaryLine[] = [];
  for (const [key, value] of Object.entries(summary)) walk(value, plainText(key, 120), 1, out);
  if (out.length <= MAX_SUMMARY_LINES) return out;
  return [...out.slice(0, MAX_SUMMARY_LINES), { label: '…', value: `${out.length - MAX_SUMMARY_LINES} more line(s) not shown` }];
}
