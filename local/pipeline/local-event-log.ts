/**
 * Local stand-in for EventBridge `events:putEvents` (named so: nothing is sent anywhere). Each entry a
 * workflow puts is appended as one JSON line to `<lake>/state/events.jsonl`, shaped like the event a
 * subscriber on the bus receives, so `npm run local` shows the events and `sial jobs --local` reads them.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LocalTaskHandler } from './asl-runner';

/** One delivered event, as EventBridge hands it to a rule target. */
export interface LocalEvent {
  readonly id: string;
  readonly time: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly 'event-bus-name': string;
  readonly detail: unknown;
}

export function localEventLogPath(lakeDir: string): string {
  return join(lakeDir, 'state', 'events.jsonl');
}

interface PutEventsEntry {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly EventBusName?: unknown;
  readonly Detail?: unknown;
}

function entriesOf(input: unknown): PutEventsEntry[] {
  const entries = (input as { Entries?: unknown } | null)?.Entries;
  if (!Array.isArray(entries) || entries.length === 0) throw new Error('events:putEvents (local): input has no Entries');
  return entries as PutEventsEntry[];
}

function eventOf(entry: PutEventsEntry, time: string): LocalEvent {
  const { Source: source, DetailType: detailType, EventBusName: bus, Detail: detail } = entry;
  if (typeof source !== 'string' || typeof detailType !== 'string') throw new Error('events:putEvents (local): an entry lacks Source or DetailType');
  // Step Functions serialises Detail to a JSON string for EventBridge; the local engine may hand either.
  const parsed: unknown = typeof detail === 'string' ? JSON.parse(detail) : detail;
  return { id: randomUUID(), time, source, 'detail-type': detailType, 'event-bus-name': typeof bus === 'string' ? bus : 'default', detail: parsed };
}

/** The Task handler: appends every entry, answers like PutEvents does. */
export function localPutEventsHandler(lakeDir: string, clock: () => Date, onEvent?: (event: LocalEvent) => void): LocalTaskHandler {
  const path = localEventLogPath(lakeDir);
  return async (input) => {
    const time = clock().toISOString();
    // Validate every entry before writing any: a bad entry appends nothing.
    const events = entriesOf(input).map((entry) => eventOf(entry, time));
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, events.map((event) => `${JSON.stringify(event)}\n`).join(''));
    for (const event of events) onEvent?.(event);
    return { Entries: events.map((event) => ({ EventId: event.id })), FailedEntryCount: 0 };
  };
}

/** Every event in the local event log, oldest first; none when no workflow has put one yet. */
export function readLocalEvents(lakeDir: string): LocalEvent[] {
  const path = localEventLogPath(lakeDir);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as LocalEvent;
      } catch {
        throw new Error(`${path}:${index + 1}: not a JSON event line`);
      }
    });
}
