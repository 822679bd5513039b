/**
 * `sial review` on a local run's lake directory: list, open (the masked trace, terminal-safe, without
 * the judge's scores), submit once; validated options and the CLI's exit codes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli/main';
import { EXIT } from '../../bin/cli/command';
import type { ReviewItem } from '../../lambdas/judge/calibration/review-item';
import { LocalLake } from '../../local/local-lake';
import { queueReviewItems } from '../helpers/calibration-lake';

describe('sial review --local', () => {
  let dir: string;
  let items: ReviewItem[];
  let out: string[];
  let err: string[];
  const context = () => ({ io: { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) }, env: {}, clock: () => new Date('2026-11-30T09:00:00.000Z') });
  const sial = (...args: string[]) => runCli(['review', ...args], context());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-cli-review-'));
    items = await queueReviewItems(
      dir,
      [
        { id: 'trace-a', agent: 'rag-qa-agent', at: '2026-11-25T10:00:00.000Z', question: 'Refund policy?\u001b[2J', contexts: ['Refunds within 14 days.'], answer: 'Within 14 days.\u001b]0;owned\u0007' },
        { id: 'trace-b', agent: 'code-reviewer', at: '2026-11-26T10:00:00.000Z', question: 'Review this diff', contexts: [], answer: 'Looks fine.' },
      ],
      '2026-W49',
      '2026-11-30T06:00:00.000Z',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    out = [];
    err = [];
  });

  it('lists the open items', async () => {
    await expect(sial('list', '--local', dir)).resolves.toBe(EXIT.ok);
    expect(out[0]).toMatch(/^ID\s+WEEK\s+AGENT\s+BAND\s+TRACE$/);
    expect(out.join('\n')).toContain('trace-a');
    expect(out.at(-1)).toBe('2 open. Read one with: sial review open ID --local DIR');
    out = [];
    await expect(sial('list', '--json', '--local', dir)).resolves.toBe(EXIT.ok);
    expect((JSON.parse(out.join('\n')) as ReviewItem[]).map((i) => i.traceId).sort()).toEqual(['trace-a', 'trace-b']);
  });

  it('opens the masked trace with every escape sequence replaced', async () => {
    const item = items.find((i) => i.traceId === 'trace-a') as ReviewItem;
    await expect(sial('open', item.itemId, '--local', dir)).resolves.toBe(EXIT.ok);
    const text = out.join('\n');
    expect(text).toContain('Trace trace-a (agent rag-qa-agent, no route tier)');
    expect(text).toContain('    Refunds within 14 days.');
    expect(text).toContain('    Within 14 days. ]0;owned ');
    expect(text.includes('\u001b') || text.includes('\u0007')).toBe(false);
    expect(text).toContain(`sial review submit ${item.itemId}`);
  });

  it('submits once, then refuses a second review of the same item', async () => {
    const item = items.find((i) => i.traceId === 'trace-b') as ReviewItem;
    await expect(sial('submit', item.itemId, '--faithfulness', '0.9', '--relevance', '0.8', '--misrouted', 'no', '--local', dir)).resolves.toBe(EXIT.ok);
    expect(out).toEqual([`Recorded your review of ${item.itemId} (trace trace-b): faithfulness 0.9, relevance 0.8, misrouted no.`]);
    await expect(sial('submit', item.itemId, '--faithfulness', '0.1', '--relevance', '0.1', '--local', dir)).resolves.toBe(EXIT.failed);
    expect(err[0]).toMatch(/was already reviewed at 2026-11-30T09:00:00.000Z\. A review is final\.$/);
    const lake = await LocalLake.open(dir);
    try {
      await expect(lake.query(`SELECT faithfulness, misrouted FROM reviews WHERE trace_id = 'trace-b'`)).resolves.toEqual([{ faithfulness: 0.9, misrouted: false }]);
    } finally {
      lake.close();
    }
    out = [];
    await expect(sial('list', '--local', dir)).resolves.toBe(EXIT.ok);
    expect(out.join('\n')).not.toContain('trace-b');
  });

  it.each([
    [['submit', 'rv-' + '1'.repeat(32), '--faithfulness', '2', '--relevance', '0.5'], '--faithfulness must be at most 1; received "2"'],
    [['submit', 'rv-' + '1'.repeat(32), '--faithfulness', '0.5'], 'submit needs --faithfulness X and --relevance Y'],
    [['submit', 'rv-' + '1'.repeat(32), '--faithfulness', '0.5', '--relevance', '0.5', '--misrouted', 'maybe'], '--misrouted must be yes, no or na'],
    [['open', 'trace-a'], '"trace-a" is not a review item id'],
    [['list', '--faithfulness', '1'], '--faithfulness is for submit'],
    [['approve'], 'unknown action "approve"'],
    [['list', '--colour'], "Unknown option '--colour'"],
  ])('refuses %j with a usage error (exit 2)', async (args, message) => {
    await expect(sial(...args, '--local', dir)).resolves.toBe(EXIT.usage);
    expect(err[0]).toContain(message);
  });

  it('needs --local, and --help prints the usage', async () => {
    await expect(sial('list')).resolves.toBe(EXIT.usage);
    expect(err[0]).toContain('--local DIR is required');
    await expect(sial('--help')).resolves.toBe(EXIT.ok);
    expect(out[0]).toMatch(/^usage:\n {2}sial review list/);
    await expect(sial('open', 'rv-' + '2'.repeat(32), '--local', dir)).resolves.toBe(EXIT.failed);
  });
});
