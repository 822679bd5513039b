/** Builds valid traces for tests; each test overrides only what it is about. */
import type { Trace } from '../../lambdas/gate-score/trace';

let counter = 0;

export function makeTrace(overrides: Partial<Trace> = {}): Trace {
  counter += 1;
  return {
    trace_id: `tr-${counter.toString().padStart(6, '0')}`,
    timestamp: '2026-11-20T10:00:00.000Z',
    agent_id: 'rag-qa-agent',
    request_id: `req-${counter}`,
    model: { family: 'qwen3', name: 'qwen3-4b', version: '2026-11-01', variant: 'current' },
    consent: true,
    data_region: 'us-east-1',
    confidentiality: 'internal',
    language: 'en',
    input_messages: [{ role: 'user', content: 'What is the refund window for annual plans?' }],
    retrieved_contexts: ['Annual plans can be refunded within 30 days of purchase.'],
    output: 'Annual plans can be refunded within 30 days of purchase.',
    tool_calls: [],
    error: false,
    latency_ms: 800,
    usage: { input_tokens: 120, output_tokens: 30 },
    ...overrides,
  };
}
