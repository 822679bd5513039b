/**
 * The router training set's line contract, read the way the trainer reads it
 * (training/sial_training/router/dataset.py is the reference; test/vectors/router-dataset.jsonl and its
 * expected file are shared by both sides). The dataset build's SQL writes these lines; this reader lets a
 * TypeScript test hold that SQL to the contract the trainer enforces.
 */

/** The fields of a line, exactly these and no others. */
export const ROUTER_LINE_FIELDS = [
  'trace_id',
  'ts',
  'agent_id',
  'language',
  'user_message',
  'context_chars',
  'tool_calls',
  'prior_turns',
  'route_tier',
  'misrouted',
  'reward',
  'feedback_outcome',
  'error',
] as const;

export const FEEDBACK_OUTCOMES = ['success', 'fallback', 'timeout', 'error', 'user_rejected'] as const;

/** One valid line. */
export interface RouterLine {
  readonly trace_id: string;
  readonly ts: string;
  readonly agent_id: string;
  readonly language: string;
  readonly user_message: string;
  readonly context_chars: number;
  readonly tool_calls: number;
  readonly prior_turns: number;
  readonly route_tier: string | null;
  readonly misrouted: boolean | null;
  readonly reward: number;
  readonly feedback_outcome: (typeof FEEDBACK_OUTCOMES)[number] | null;
  readonly error: boolean;
}

/** What reading a file found: valid lines in order, malformed lines by 1-based number, non-blank lines. */
export interface RouterFileReading {
  readonly lines: RouterLine[];
  readonly malformed: Array<{ readonly line: number; readonly problems: string[] }>;
  readonly nonBlankLines: number;
}

// One spelling only: extended ISO-8601, whole seconds and an optional fraction, UTC as Z or +00:00.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|\+00:00)$/;

function isCalendarInstant(ts: string): boolean {
  const m = TIMESTAMP.exec(ts);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
}

const isText = (v: unknown): v is string => typeof v === 'string';
const isNonBlank = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
// JSON.parse reads 120.0 as 120, which the Python reader would refuse as a float; the build's SQL writes
// BIGINT columns, which never carry a fraction, so the difference cannot arise from our own files.
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Every problem of one parsed line (empty when it is valid). */
export function routerLineProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['a line must be a JSON object'];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  const missing = ROUTER_LINE_FIELDS.filter((f) => !(f in v));
  const extra = Object.keys(v).filter((k) => !(ROUTER_LINE_FIELDS as readonly string[]).includes(k));
  if (missing.length > 0) problems.push(`missing fields ${missing.join(', ')}`);
  if (extra.length > 0) problems.push(`unknown fields ${extra.sort().join(', ')}`);
  const check = (field: string, ok: (x: unknown) => boolean, what: string): void => {
    if (field in v && !ok(v[field])) problems.push(`${field} must be ${what}; received ${JSON.stringify(v[field])}`);
  };
  check('trace_id', isNonBlank, 'a non-empty string');
  check('ts', (x) => isText(x) && isCalendarInstant(x), 'an ISO-8601 UTC timestamp like 2026-11-02T09:15:00Z');
  check('agent_id', isNonBlank, 'a non-empty string');
  check('language', isNonBlank, 'a non-empty string');
  check('user_message', isText, 'a string');
  for (const f of ['context_chars', 'tool_calls', 'prior_turns']) check(f, isCount, 'an integer >= 0');
  check('route_tier', (x) => x === null || isNonBlank(x), 'a non-empty string or null');
  check('misrouted', (x) => x === null || typeof x === 'boolean', 'true, false or null');
  check('reward', (x) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1, 'a number in [0, 1]');
  check('feedback_outcome', (x) => x === null || (FEEDBACK_OUTCOMES as readonly unknown[]).includes(x), `null or one of ${FEEDBACK_OUTCOMES.join(', ')}`);
  check('error', (x) => typeof x === 'boolean', 'true or false');
  return problems;
}

/**
 * Reads a router file's bytes as the trainer does: lines split on `\n` only (a trailing `\r` dropped),
 * blank lines skipped, a line that is not UTF-8 or not JSON malformed, a repeated trace id malformed (the
 * first occurrence kept).
 */
export function readRouterFile(bytes: Uint8Array): RouterFileReading {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const lines: RouterLine[] = [];
  const malformed: Array<{ line: number; problems: string[] }> = [];
  const seen = new Set<string>();
  let nonBlankLines = 0;
  let start = 0;
  let number = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    number += 1;
    let raw = bytes.subarray(start, end);
    start = end + 1;
    if (raw.length > 0 && raw[raw.length - 1] === 0x0d) raw = raw.subarray(0, raw.length - 1);
    let text: string;
    try {
      text = decoder.decode(raw);
    } catch {
      nonBlankLines += 1;
      malformed.push({ line: number, problems: ['not UTF-8'] });
      continue;
    }
    if (text.trim() === '') continue;
    nonBlankLines += 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      malformed.push({ line: number, problems: ['not JSON'] });
      continue;
    }
    const problems = routerLineProblems(value);
    const traceId = (value as { trace_id?: unknown } | null)?.trace_id;
    if (problems.length === 0 && typeof traceId === 'string' && seen.has(traceId)) problems.push(`trace_id ${traceId} repeats an earlier line`);
    if (problems.length > 0) {
      malformed.push({ line: number, problems });
      continue;
    }
    seen.add(traceId as string);
    lines.push(value as RouterLine);
  }
  return { lines, malformed, nonBlankLines };
}
