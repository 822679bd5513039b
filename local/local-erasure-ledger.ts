/**
 * The LOCAL erasure ledger: a JSON file (`<lake dir>/state/erasure-ledger.json`) standing in for the
 * stage's DynamoDB table, behind the same ErasureLedger port. Written whole to a temporary file and
 * renamed, so an interrupted command never leaves half a ledger.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ErasureLedger, ErasureLedgerEntry } from '../lambdas/erasure/ledger';

interface LedgerFile {
  readonly simulated: 'local erasure ledger: not DynamoDB';
  readonly entries: ErasureLedgerEntry[];
}

export class LocalErasureLedger implements ErasureLedger {
  constructor(private readonly file: string) {}

  async put(entry: ErasureLedgerEntry): Promise<void> {
    const state = this.read();
    const entries = [...state.entries.filter((e) => e.erasureId !== entry.erasureId), entry].sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ ...state, entries }, null, 2)}\n`);
    renameSync(temporary, this.file);
  }

  async get(erasureId: string): Promise<ErasureLedgerEntry | undefined> {
    return this.read().entries.find((e) => e.erasureId === erasureId);
  }

  async list(): Promise<ErasureLedgerEntry[]> {
    return this.read().entries;
  }

  private read(): LedgerFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { simulated: 'local erasure ledger: not DynamoDB', entries: [] };
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<LedgerFile>;
    if (parsed.simulated !== 'local erasure ledger: not DynamoDB' || !Array.isArray(parsed.entries)) throw new Error(`${this.file} is not a local erasure ledger`);
    return parsed as LedgerFile;
  }
}
