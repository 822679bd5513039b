/**
 * The router's canary reads the gate's per-variant series under the router's id: a kept trace that names
 * its router and router version counts for that series as well as for the model that answered, so the
 * misroute alarm compares the router's current and candidate versions on the requests each routed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countKept, newBatchReport } from '../../lambdas/gate-score/batch-report';
import { variantTotals } from '../../lambdas/gate-score/publish-metrics';
import { checkTrace, type Trace } from '../../lambdas/gate-score/trace';

const checked = checkTrace(JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'native', 'rag-answer.json'), 'utf8')));
if (!checked.ok) throw new Error('the native fixture rag-answer.json no longer fits the trace contract');
const base = checked.trace;
const reward = { reward: 0.8, components: { feedback: null, errors: 1, latency: 1, groundedness: 0.9, judge: null } } as unknown as Parameters<typeof countKept>[2];

function routed(variant: 'current' | 'candidate', misrouted: boolean): Trace {
  return { ...base, route: { tier: 'small', misrouted, router: 'support-router', router_variant: variant } };
}

describe("the router's canary series", () => {
  it('counts routed and misrouted traces per router version, beside the answering model', () => {
    const report = newBatchReport(4);
    countKept(report, routed('current', false), reward);
    countKept(report, routed('candidate', true), reward);
    countKept(report, routed('candidate', false), reward);
    countKept(report, { ...base, route: { tier: 'small', misrouted: true } }, reward);
    const totals = variantTotals(report, new Set(['support-router', base.model.name]));
    expect(totals.get('support-router/current')).toMatchObject({ kept: 1, routed: 1, misrouted: 0 });
    expect(totals.get('support-router/candidate')).toMatchObject({ kept: 2, routed: 2, misrouted: 1 });
    // The answering model counts every trace, routed by a named router or not.
    expect(totals.get(`${base.model.name}/current`)).toMatchObject({ kept: 4, routed: 4, misrouted: 2 });
  });

  it('accepts the router fields in the trace contract, and refuses unknown ones', () => {
    const good = {
      trace_id: 't-1',
      timestamp: '2026-11-20T10:15:02.125Z',
      agent_id: 'rag-qa-agent',
      model: { family: 'qwen3', name: 'qwen3-4b', version: 'v1', variant: 'current' },
      input_messages: [{ role: 'user', content: 'hi' }],
      retrieved_contexts: [],
      output: 'hello',
      tool_calls: [],
      error: false,
      usage: {},
      route: { tier: 'small', misrouted: false, router: 'support-router', router_variant: 'candidate' },
    };
    expect(checkTrace(good).ok).toBe(true);
    const bad = { ...good, route: { ...good.route, router_version: 2 } } as unknown;
    expect(checkTrace(bad)).toEqual({ ok: false, issues: [{ code: 'unrecognised_keys', path: ['route'], keys: ['router_version'] }] });
  });
});
