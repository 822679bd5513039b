import { approvalStatus, kindLabel } from '../../../lambdas/pipeline/approvals/approval-record';
import { escapeHtml, noticePage } from '../../../lambdas/pipeline/approvals/page';
import { MAX_SUMMARY_LINES, plainText, summaryLines, utc } from '../../../lambdas/pipeline/approvals/summary-text';

describe('summary text', () => {
  it('flattens nested figures to dotted labels in the given order, formatting numbers and nulls', () => {
    expect(summaryLines({ counts: { tracesUsed: 12345, share: 0.25 }, lastTrainedAt: null, tags: ['a', 'b'], groups: [{ n: 1 }], empty: {} })).toEqual([
      { label: 'counts.tracesUsed', value: '12,345' },
      { label: 'counts.share', value: '0.25' },
      { label: 'lastTrainedAt', value: 'none' },
      { label: 'tags', value: 'a, b' },
      { label: 'groups[0].n', value: '1' },
      { label: 'empty', value: 'none' },
    ]);
    expect(summaryLines({})).toEqual([]);
  });

  it('bounds the number of lines and the length of values', () => {
    const many = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, i]));
    const lines = summaryLines(many);
    expect(lines).toHaveLength(MAX_SUMMARY_LINES + 1);
    expect(lines.at(-1)).toEqual({ label: '…', value: '50 more line(s) not shown' });
    expect(plainText('x'.repeat(1000))).toHaveLength(300);
  });

  it('removes line breaks, controls and bidi overrides', () => {
    expect(plainText('a\r\nb\u0000c\u202Ed\u2066e\u2028f')).toBe('a  b c d e f');
  });

  it('escapes the five HTML specials and the backtick', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`</a>`)).toBe('&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#96;&#60;/a&#62;');
    expect(noticePage({ title: '<b>t</b>', paragraphs: ['<i>p</i>'] })).not.toMatch(/<b>|<i>/);
  });

  it('words and times', () => {
    expect(utc('2026-11-24T12:00:59.999Z')).toBe('2026-11-24 12:00 UTC');
    expect(kindLabel('deploy-stage')).toBe('deployment stage');
    expect(approvalStatus({ status: 'pending', expiresAt: '2026-11-24T12:00:00.000Z' }, new Date('2026-11-24T12:00:00.000Z'))).toBe('expired');
    expect(approvalStatus({ status: 'approved', expiresAt: '2026-11-24T12:00:00.000Z' }, new Date('2027-01-01T00:00:00.000Z'))).toBe('approved');
  });
});
