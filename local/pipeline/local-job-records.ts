/**
 * Local stand-in for the jobs table (named so: not DynamoDB). The training pipeline's `Record ... job
 * ...` states are answered by executing their UpdateItem on `<lake>/state/jobs.json`
 * (local-dynamodb-update.ts), items kept as DynamoDB's API spells them; `sial jobs --local <lake>`
 * reads them back through the same record schema as the AWS path.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseJobRecord, type JobRecord } from '../../lambdas/pipeline/jobs/job-record';
import type { LocalTaskHandler } from './asl-runner';
import { applyUpdateItem, keyOf, plainItem, type Item, type UpdateItemInput } from './local-dynamodb-update';

const MARK = 'local job records: not DynamoDB';

interface JobsFile {
  readonly local: typeof MARK;
  readonly items: Record<string, Item>;
}

/** The file in a lake directory: `sial local run` writes it, `sial jobs --local` reads it. */
export function localJobRecordsFile(lakeDir: string): string {
  return join(lakeDir, 'state', 'jobs.json');
}

function readFile(path: string): JobsFile {
  if (!existsSync(path)) return { local: MARK, items: {} };
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<JobsFile>;
  if (parsed.local !== MARK || typeof parsed.items !== 'object' || parsed.items === null) throw new Error(`${path} is not a local job records file`);
  return parsed as JobsFile;
}

function writeFile(path: string, file: JobsFile): void {
  mkdirSync(dirname(path), { recursive: true });
  // Whole or not at all: a reader never sees half a file.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The item's id in the file: its key's values, in key order. */
function idOf(key: Item): string {
  return Object.values(key)
    .map((value) => value.S ?? '')
    .join('#');
}

/** The Task handler of a `dynamodb:updateItem` state on the jobs table; answers like UpdateItem without ReturnValues. */
export function localJobRecordsHandler(lakeDir: string): LocalTaskHandler {
  const path = localJobRecordsFile(lakeDir);
  return async (input) => {
    const update = input as UpdateItemInput;
    const id = idOf(keyOf(update));
    const file = readFile(path);
    // The update is judged whole before anything is written: a refused one leaves the file as it was.
    const after = applyUpdateItem(file.items[id], update);
    writeFile(path, { local: MARK, items: { ...file.items, [id]: after } });
    return {};
  };
}

/** Every job record of the local runs in `lakeDir`, unordered; none when no run has submitted a job. */
export function readLocalJobRecords(lakeDir: string): JobRecord[] {
  const file = readFile(localJobRecordsFile(lakeDir));
  return Object.values(file.items).map((item) => parseJobRecord(plainItem(item)));
}
