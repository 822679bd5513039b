/**
 * Progress of a local run on an interactive terminal: one status line at the bottom, rewritten in place,
 * showing the ingest bar, the state each state machine is in, and the canary bake's countdown on the
 * virtual clock; every other line scrolls above it as usual. Without a terminal (a pipe, CI, the tests)
 * nothing here is used and the run prints its plain lines.
 */

/** What a terminal can do (process.stdout, or a test double). */
export interface TerminalStream {
  write(chunk: string): unknown;
  readonly columns?: number;
}

/** A text bar: `[########------------] 12/30`. */
export function progressBar(done: number, total: number, width = 20): string {
  const share = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}

/** `mm:ss`, hours folded into minutes (a bake is 30 minutes by default). */
export function minutesSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A progress line of a state machine (`  [training] Build dataset`), as machine and state. */
export function stateLine(line: string): { machine: string; state: string } | undefined {
  const match = /^ {2}\[(training|rollout|game day)\] (.+)$/.exec(line);
  return match === null ? undefined : { machine: match[1] as string, state: (match[2] as string).replace(/ \.\.\.$/, '') };
}

/** The status line and the lines above it, on one terminal. */
export class TerminalProgress {
  private status = '';
  /** The latest state of each state machine, shown together. */
  private readonly states = new Map<string, string>();
  private bake = '';

  constructor(private readonly stream: TerminalStream) {}

  /** A line that stays: printed above the status line, which is drawn again below it. */
  line(text: string): void {
    const state = stateLine(text);
    if (state !== undefined) {
      this.states.set(state.machine, state.state);
      if (state.machine !== 'rollout' || !state.state.startsWith('Bake')) this.bake = '';
      this.show(this.stateStatus());
      return;
    }
    this.stream.write(`${this.clear()}${text}\n${this.status}`);
  }

  /** The ingest bar. */
  ingest(done: number, total: number): void {
    this.show(`ingest ${progressBar(done, total)} batches`);
  }

  /** The canary bake's countdown on the virtual clock. */
  baking(step: number, candidatePercent: number, bakedSeconds: number, bakeSeconds: number): void {
    this.bake = `step ${step + 1} at ${candidatePercent} %: ${minutesSeconds(bakeSeconds - bakedSeconds)} of ${minutesSeconds(bakeSeconds)} bake left (virtual clock)`;
    this.show(this.stateStatus());
  }

  /** Removes the status line (before the summary). */
  end(): void {
    this.stream.write(this.clear());
    this.status = '';
  }

  private stateStatus(): string {
    const states = [...this.states].map(([machine, state]) => `${machine}: ${state}`).join(' | ');
    return this.bake === '' ? states : `${states} | ${this.bake}`;
  }

  private show(text: string): void {
    // A terminal that reports no width (0, as under `script`) gets a common one.
    const columns = this.stream.columns !== undefined && this.stream.columns > 0 ? this.stream.columns : 100;
    const width = Math.max(20, columns - 1);
    this.status = text.length > width ? `${text.slice(0, width - 3)}...` : text;
    this.stream.write(`${this.clear()}${this.status}`);
  }

  private clear(): string {
    return this.status === '' ? '' : '\r\u001b[2K';
  }
}
