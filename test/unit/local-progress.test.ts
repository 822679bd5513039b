/**
 * The local run's progress on a terminal: state lines become one status line rewritten in place (all
 * machines' current states, the bake countdown on the virtual clock, the ingest bar), other lines scroll
 * above it, and the status line is removed before the summary.
 */
import { minutesSeconds, progressBar, stateLine, TerminalProgress } from '../../local/run/progress';

/** Carriage return + erase line: how the status line is redrawn. */
const ERASE_LINE = `\r${String.fromCharCode(27)}[2K`;

class FakeTerminal {
  readonly chunks: string[] = [];
  constructor(readonly columns = 120) {}
  write(chunk: string): void {
    this.chunks.push(chunk);
  }
  /** What the terminal shows: a carriage return + erase-line drops the current line. */
  screen(): string[] {
    const lines = [''];
    for (const chunk of this.chunks) {
      for (const part of chunk.split(new RegExp(`(${ERASE_LINE.replace('[', '\\[')}|\n)`))) {
        if (part === ERASE_LINE) lines[lines.length - 1] = '';
        else if (part === '\n') lines.push('');
        else lines[lines.length - 1] += part;
      }
    }
    return lines;
  }
}

describe('terminal progress', () => {
  it('keeps plain lines, turns state lines into one status line with every machine and the bake countdown', () => {
    const terminal = new FakeTerminal();
    const progress = new TerminalProgress(terminal);
    progress.ingest(3, 12);
    expect(terminal.screen().at(-1)).toBe('ingest [#####---------------] 3/12 batches');
    progress.line('Ingest: 1500 demo traces through the gate and score code...');
    progress.line('  [training] Build dataset');
    progress.line('  [training] Hand over to canary rollout');
    progress.line('  [rollout] Bake ...');
    progress.baking(1, 50, 600, 1800);
    expect(terminal.screen()).toEqual([
      'Ingest: 1500 demo traces through the gate and score code...',
      'training: Hand over to canary rollout | rollout: Bake | step 2 at 50 %: 20:00 of 30:00 bake left (virtual clock)',
    ]);
    progress.line('  [rollout] Promote candidate');
    expect(terminal.screen().at(-1)).toBe('training: Hand over to canary rollout | rollout: Promote candidate');
    progress.end();
    expect(terminal.screen()).toEqual(['Ingest: 1500 demo traces through the gate and score code...', '']);
  });

  it('cuts a status line to the terminal width', () => {
    const terminal = new FakeTerminal(30);
    new TerminalProgress(terminal).line('  [training] Prepare a very long state name that does not fit');
    expect(terminal.screen().at(-1)).toBe('training: Prepare a very l...');
  });

  it('reads state lines and formats bars and durations', () => {
    expect(stateLine('  [game day] Breach canary alarm')).toEqual({ machine: 'game day', state: 'Breach canary alarm' });
    expect(stateLine('[training] not indented')).toBeUndefined();
    expect(progressBar(12, 12, 4)).toBe('[####] 12/12');
    expect(progressBar(0, 0, 4)).toBe('[####] 0/0');
    expect(minutesSeconds(3725)).toBe('62:05');
  });
});
