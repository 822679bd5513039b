/**
 * Reading trace files for `sial ingest`: one trace per record, in any format the gate accepts (the
 * project's JSON, a Langfuse trace export, an OTLP/JSON export). A file is JSON Lines (`.jsonl`,
 * `.ndjson`: one record per non-blank line), a JSON array of records, or one JSON object. Records are
 * sent as the producer wrote them (re-serialised compactly); the gate decides whether each is valid.
 * A line that is not JSON is reported by file and line and is not sent; its neighbours are.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

/** Firehose's limit on one record, in bytes. */
export const MAX_RECORD_BYTES = 1_024_000;

export interface TraceRecord {
  /** `file:line` (JSON Lines) or `file[index]` (array), for messages. */
  readonly source: string;
  readonly data: Buffer;
}

export interface ReadProblem {
  readonly source: string;
  readonly problem: string;
}

function record(source: string, value: unknown, problems: ReadProblem[]): TraceRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ source, problem: 'not a JSON object (one trace per record)' });
    return undefined;
  }
  const data = Buffer.from(JSON.stringify(value), 'utf8');
  if (data.length > MAX_RECORD_BYTES) {
    problems.push({ source, problem: `${data.length} bytes, more than Firehose's ${MAX_RECORD_BYTES} per record` });
    return undefined;
  }
  return { source, data };
}

/** The records of one file's text, and what could not be read (never the content, only where and why). */
export function parseTraceFile(name: string, text: string): { records: TraceRecord[]; problems: ReadProblem[] } {
  const records: TraceRecord[] = [];
  const problems: ReadProblem[] = [];
  const lines = ['.jsonl', '.ndjson'].includes(extname(name).toLowerCase());
  if (lines) {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        problems.push({ source: `${name}:${i + 1}`, problem: 'not valid JSON' });
        return;
      }
      const r = record(`${name}:${i + 1}`, value, problems);
      if (r !== undefined) records.push(r);
    });
    return { records, problems };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { records, problems: [{ source: name, problem: 'not valid JSON (name JSON Lines files .jsonl or .ndjson)' }] };
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const r = record(`${name}[${i}]`, item, problems);
      if (r !== undefined) records.push(r);
    });
  } else {
    const r = record(name, value, problems);
    if (r !== undefined) records.push(r);
  }
  return { records, problems };
}

export function readTraceFile(path: string): { records: TraceRecord[]; problems: ReadProblem[] } {
  return parseTraceFile(path, readFileSync(path, 'utf8'));
}
