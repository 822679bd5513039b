import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRouterFile, routerLineProblems } from '../../lambdas/pipeline/router/router-line';

const VECTORS = join(__dirname, '..', 'vectors');

describe('the router line contract, on the vectors the Python trainer is tested with', () => {
  const expected = JSON.parse(readFileSync(join(VECTORS, 'router-dataset.expected.json'), 'utf8')) as {
    nonBlankLines: number;
    valid: number;
    malformed: Array<{ line: number; why: string }>;
  };
  const reading = readRouterFile(readFileSync(join(VECTORS, 'router-dataset.jsonl')));

  it('finds exactly the valid lines and the malformed line numbers the trainer finds', () => {
    expect(reading.nonBlankLines).toBe(expected.nonBlankLines);
    expect(reading.lines).toHaveLength(expected.valid);
    expect(reading.malformed.map((m) => m.line)).toEqual(expected.malformed.map((m) => m.line));
  });

  it('keeps a U+2028 inside a string on its line, and the line after the malformed ones', () => {
    expect(reading.lines.map((l) => l.trace_id)).toEqual(expect.arrayContaining(['v-line-separator', 'v-after-malformed']));
  });

  it('names each problem', () => {
    const good = reading.lines[0]!;
    expect(routerLineProblems(good)).toEqual([]);
    expect(routerLineProblems({ ...good, latency_ms: 1 })).toEqual(['unknown fields latency_ms']);
    expect(routerLineProblems({ ...good, ts: '2026-11-02T09:15:00+09:00' })[0]).toMatch(/^ts must be an ISO-8601 UTC timestamp/);
    expect(routerLineProblems({ ...good, tool_calls: true })[0]).toMatch(/^tool_calls must be an integer >= 0/);
    expect(routerLineProblems({ ...good, route_tier: null, misrouted: null, feedback_outcome: null })).toEqual([]);
  });
});
