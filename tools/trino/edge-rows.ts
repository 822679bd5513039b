/**
 * Rows the demo traffic rarely or never has, added to (a copy of) the lake before both engines build from
 * it, so the comparison covers them: prompts full of Unicode punctuation, symbols and full-width forms (the
 * word split's `[\s\p{P}\p{S}]` class), a trace delivered twice with different scores (the latest gated copy
 * wins), late feedback joined by request id and by trace id, and a row of a policy version the stage does
 * not accept. They are copies of one real trace of the lake's busiest agent with these fields changed, so
 * they land in a group that trains.
 */
import { TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import type { LocalLake } from '../../local/local-lake';

const MINUTE_US = 60_000_000;

/** Prompts that exercise the word split: inverted marks, guillemets, dashes, emoji, full-width letters, NBSP. */
const UNICODE_PROMPTS = [
  '¿Cómo cancelo mi plan anual? «urgente» — gracias 🙏',
  'ＦＵＬＬ-width words… and “curly quotes”, naïve café\u00a0prices: €12·50 / ¥800',
];

/** Appends the edge rows; returns how many traces and feedback events were added. */
export async function addEdgeRows(lake: LocalLake): Promise<{ traces: number; feedback: number }> {
  const timestampColumns = TRACES_TABLE.fields.filter((f) => f.type === 'timestamp').map((f) => f.name);
  const columns = TRACES_TABLE.fields.map((f) => (timestampColumns.includes(f.name) ? `epoch_us("${f.name}") AS "${f.name}"` : `"${f.name}"`));
  const [template] = await lake.query(`
    SELECT ${columns.join(', ')} FROM traces
    WHERE consent AND training_scope = 'all-models' AND agent_id = (SELECT agent_id FROM traces GROUP BY agent_id ORDER BY count(*) DESC, agent_id LIMIT 1)
    ORDER BY ts DESC, trace_id LIMIT 1`);
  if (template === undefined) throw new Error('the lake has no trace to copy the edge rows from: run `sial local run` first');
  const ts = Number(template.ts);
  const system = (template.input_messages as Array<{ role: string; content: string }>).filter((m) => m.role === 'system');
  const traces: Array<Record<string, unknown>> = [];
  const trace = (id: string, prompt: string, reward: number, minutesBefore: number, changes: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...template,
    trace_id: id,
    request_id: `req-${id}`,
    ts: ts - minutesBefore * MINUTE_US,
    gated_at: ts - minutesBefore * MINUTE_US + 5_000_000,
    input_messages: [...system, { role: 'user', content: prompt }],
    output: `Answer ${id}: see the plan terms.`,
    reward,
    reward_components: { feedback: null, errors: 1, latency: 1, groundedness: reward, judge: null },
    feedback_outcome: null,
    ...changes,
  });
  UNICODE_PROMPTS.forEach((prompt, p) => {
    for (let n = 0; n < 3; n++) traces.push(trace(`edge-${p}-${n}`, prompt, [0.9, 0.5, 0.2][n]!, 10 * p + n + 1));
  });
  // Delivered twice: the later gated copy, with another score, is the one that counts.
  traces.push(trace('edge-0-1', UNICODE_PROMPTS[0]!, 0.65, 2, { gated_at: ts + MINUTE_US }));
  // A version the stage does not accept: counted as excluded, never trained.
  traces.push(trace('edge-old-policy', UNICODE_PROMPTS[1]!, 0.8, 30, { reward_policy_version: 'v0' }));
  await lake.append('traces', traces);
  // Inside the build window, which ends a minute after the newest trace.
  const received = ts + 30_000_000;
  const event = (id: string, changes: Record<string, unknown>): Record<string, unknown> => ({
    feedback_id: id,
    agent_id: template.agent_id,
    request_id: 'req-none',
    trace_id: null,
    outcome: 'success',
    quality: null,
    latency_ms: null,
    token_count: null,
    received_at: received,
    ...changes,
  });
  const feedback = [
    event('edge-fb-by-request', { request_id: 'req-edge-0-2', outcome: 'success', quality: 9 }),
    event('edge-fb-by-trace', { trace_id: 'edge-1-0', outcome: 'user_rejected' }),
  ];
  await lake.append('feedback', feedback);
  return { traces: traces.length, feedback: feedback.length };
}
