import { handleFeedback, MAX_FEEDBACK_BODY_BYTES } from '../../lambdas/feedback/handle-feedback';
import { feedbackRow, parseFeedbackBody } from '../../lambdas/feedback/feedback-event';
import type { FeedbackSink } from '../../lambdas/shared/ports';

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
