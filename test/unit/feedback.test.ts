import { handleFeedback, MAX_FEEDBACK_BODY_BYTES } from '../../lambdas/feedback/handle-feedback';
import { feedbackRow, parseFeedbackBody } from '../../lambdas/feedback/feedback-event';
import type { FeedbackSink } from '../../lambdas/shared/ports';
import { dev } from '../../config/stages/dev';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import { processBatch } from '../../lambdas/gate-score/process-batch';
import { agentPseudonym } from '../../lambdas/shared/agent-pseudonyms';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import { makeTrace } from '../helpers/trace-factory';
import { testPseudonymiser } from '../helpers/pseudonymiser';

class MemorySink implements FeedbackSink {
  readonly rows: object[] = [];
  async put(row: object): Promise<void> {
    this.rows.push(row);
  }
}

const now = new Date('2026-11-21T12:00:00.000Z');

describe('feedback body', () => {
  it('accepts the documented feedback payload', () => {
    const parsed = parseFeedbackBody(JSON.stringify({ request_id: 'req-1', outcome: 'user_rejected', metadata: { completion_quality: 3, latency_ms: 420, token_count: 88 } }));
    expect(parsed).toEqual({ ok: true, body: { request_id: 'req-1', outcome: 'user_rejected', metadata: { completion_quality: 3, latency_ms: 420, token_count: 88 } } });
  });

  it.each([
    [{ outcome: 'success' }, 'request_id'],
    [{ request_id: 'r', outcome: 'great' }, 'outcome'],
    [{ request_id: 'r', outcome: 'success', metadata: { completion_quality: 11 } }, 'metadata.completion_quality'],
    [{ request_id: 'r', outcome: 'success', metadata: { token_count: 1.5 } }, 'metadata.token_count'],
    [{ request_id: 'r', outcome: 'success', comment: 'free text is refused' }, '(body)'],
    [{ request_id: 'r with spaces', outcome: 'success' }, 'request_id'],
  ])('names the wrong field of %j', (body, field) => {
    const parsed = parseFeedbackBody(JSON.stringify(body));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.field).toBe(field);
  });

  it('refuses an empty or non-JSON body', () => {
    expect(parseFeedbackBody('')).toEqual({ ok: false, error: { field: '(body)', message: 'a JSON body is required' } });
    expect(parseFeedbackBody('{oops')).toEqual({ ok: false, error: { field: '(body)', message: 'the body is not valid JSON' } });
  });

  it('gives a retried event the same feedback id, and a different event another', () => {
    const a = feedbackRow('agent', { request_id: 'r1', outcome: 'success' }, now);
    const b = feedbackRow('agent', { request_id: 'r1', outcome: 'success' }, new Date(now.getTime() + 5000));
    const c = feedbackRow('agent', { request_id: 'r1', outcome: 'error' }, now);
    expect(a.feedback_id).toBe(b.feedback_id);
    expect(a.feedback_id).not.toBe(c.feedback_id);
  });
});

describe('handleFeedback', () => {
  it('writes one row and answers 202 with its id', async () => {
    const sink = new MemorySink();
    const response = await handleFeedback({ agentId: 'rag-qa-agent', body: JSON.stringify({ request_id: 'req-9', trace_id: 'tr-9', outcome: 'success' }) }, sink, now);
    expect(response.statusCode).toBe(202);
    expect(sink.rows).toEqual([
      expect.objectContaining({ agent_id: 'rag-qa-agent', request_id: 'req-9', trace_id: 'tr-9', outcome: 'success', quality: null, received_at: now.getTime() * 1000 }),
    ]);
    expect(response.body.feedback_id).toBe((sink.rows[0] as { feedback_id: string }).feedback_id);
  });

  it('answers 400 naming the field and writes nothing', async () => {
    const sink = new MemorySink();
    const response = await handleFeedback({ agentId: 'a', body: JSON.stringify({ request_id: 'r', outcome: 'meh' }) }, sink, now);
    expect(response).toEqual({ statusCode: 400, body: expect.objectContaining({ error: 'invalid_body', field: 'outcome' }) });
    expect(sink.rows).toHaveLength(0);
  });

  it('validates the agent id from the path', async () => {
    const response = await handleFeedback({ agentId: undefined, body: '{}' }, new MemorySink(), now);
    expect(response.body).toEqual(expect.objectContaining({ field: 'agent-id' }));
  });

  it('decodes base64 bodies and refuses oversized ones with 413', async () => {
    const sink = new MemorySink();
    const encoded = Buffer.from(JSON.stringify({ request_id: 'r', outcome: 'timeout' })).toString('base64');
    expect((await handleFeedback({ agentId: 'a', body: encoded, isBase64Encoded: true }, sink, now)).statusCode).toBe(202);
    const huge = JSON.stringify({ request_id: 'r', outcome: 'success', pad: 'x'.repeat(MAX_FEEDBACK_BODY_BYTES) });
    expect((await handleFeedback({ agentId: 'a', body: huge }, sink, now)).statusCode).toBe(413);
  });
});

describe('handleFeedback with lake.hashAgentIds', () => {
  const stored = (agentId: string): string => agentPseudonym(testPseudonymiser, agentId);

  it("validates the path's own agent id and stores its pseudonym, the same value the gate writes in the agent's trace rows", async () => {
    const sink = new MemorySink();
    const response = await handleFeedback({ agentId: 'rag-qa-agent', body: JSON.stringify({ request_id: 'req-9', trace_id: 'tr-9', outcome: 'success' }) }, sink, now, { storedAgentId: stored });
    expect(response.statusCode).toBe(202);
    expect(sink.rows).toEqual([expect.objectContaining({ agent_id: stored('rag-qa-agent'), request_id: 'req-9' })]);
    expect(JSON.stringify(sink.rows)).not.toContain('rag-qa-agent');

    // Feedback rows match trace rows: the gate, under the same key and option, writes the same agent_id.
    const config = gateConfigFromStage({ ...dev, lake: { ...dev.lake, hashAgentIds: true } }, readRewardPolicy('v1'), { databaseName: 'db', tracesTable: 'traces', auditTable: 'gate_audit' });
    const trace = makeTrace({ agent_id: 'rag-qa-agent', request_id: 'req-9', trace_id: 'tr-9' });
    const outcome = await processBatch([{ recordId: 'r0', data: Buffer.from(JSON.stringify(trace)).toString('base64') }], { config, detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now: () => now });
    const traceRow = JSON.parse(Buffer.from(outcome.records[0]!.data, 'base64').toString('utf8')) as { agent_id: string; request_id: string };
    const feedback = sink.rows[0] as { agent_id: string; request_id: string };
    expect([traceRow.agent_id, traceRow.request_id]).toEqual([feedback.agent_id, feedback.request_id]);
  });

  it('still refuses an invalid agent id in the path before pseudonymising anything', async () => {
    const calls: string[] = [];
    const response = await handleFeedback({ agentId: 'a/b', body: '{}' }, new MemorySink(), now, { storedAgentId: (id) => (calls.push(id), stored(id)) });
    expect(response).toEqual({ statusCode: 400, body: expect.objectContaining({ field: 'agent-id' }) });
    expect(calls).toEqual([]);
  });
});
