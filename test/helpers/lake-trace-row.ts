/**
 * A kept trace as a `traces` lake row, for tests that fill a local lake by hand: a plausible row of the
 * US boundary (qwen3-4b, current variant, English, consent, masked by Comprehend, scored under v1),
 * with whatever the test cares about given in `overrides`.
 */
import type { TraceLakeRow } from '../../lambdas/gate-score/lake-rows';

/** Epoch microseconds of an ISO instant (how timestamp columns are written). */
export const micros = (iso: string): number => Date.parse(iso) * 1000;

export function lakeTraceRow(id: string, at: string, overrides: Partial<TraceLakeRow> = {}): TraceLakeRow {
  return {
    trace_id: id,
    ts: micros(at),
    agent_id: 'rag-qa-agent',
    request_id: null,
    session_id: null,
    model: 'qwen3-4b',
    model_family: 'qwen3',
    model_version: '2026-10-01',
    model_variant: 'current',
    consent: true,
    data_region: 'us-east-1',
    data_boundary: 'US',
    confidentiality: 'internal',
    training_scope: 'all-models',
    language: 'en',
    input_messages: [{ role: 'user', content: 'What is the refund window?' }],
    retrieved_contexts: [],
    output: `answer of ${id}`,
    tool_calls: [],
    feedback_outcome: null,
    feedback_quality: null,
    error: false,
    latency_ms: 800,
    input_tokens: 20,
    output_tokens: 40,
    cost_usd: 0.0001,
    route_tier: null,
    misrouted: null,
    pii_scanner: 'comprehend',
    pii_entities_masked: 0,
    reward: 0.5,
    reward_components: { feedback: null, errors: 1, latency: 1, groundedness: null, judge: null },
    reward_policy_version: 'v1',
    source_format: 'native',
    gated_at: micros(at) + 5_000_000,
    subject_key: null,
    ...overrides,
  };
}
