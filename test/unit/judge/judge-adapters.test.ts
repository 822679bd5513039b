/**
 * The judge endpoint adapters: the OpenAI-compatible one against a fake fetch, the SageMaker one with
 * aws-sdk-client-mock. What is transient (retried by the judge), what is final, and that errors never
 * carry what the endpoint answered.
 */
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { BedrockJudge } from '../../../lambdas/judge/adapters/bedrock-judge';
import { JudgeResponseError } from '../../../lambdas/judge/adapters/chat-completions';
import { JudgeEndpointRejected, OpenAiCompatibleJudge } from '../../../lambdas/judge/adapters/openai-compatible-judge';
import { SageMakerJudge } from '../../../lambdas/judge/adapters/sagemaker-judge';
import { TransientJudgeError } from '../../../lambdas/judge/judge-model';

const request = { model: 'Qwen/Qwen3-4B-Instruct-2507', system: 'sys', user: 'masked trace text', temperature: 0, maxOutputTokens: 256 };
const envelope = (content: string | null, finish = 'stop') => ({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }], usage: { prompt_tokens: 120, completion_tokens: 9, total_tokens: 129 } });

function fakeFetch(respond: (url: string, init: RequestInit) => Response | Promise<Response>): { fetch: typeof fetch; calls: Array<{ url: string; init: RequestInit }> } {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  return {
    calls,
    fetch: (async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init: init ?? {} });
      return respond(String(url), init ?? {});
    }) as typeof fetch,
  };
}

describe('OpenAiCompatibleJudge', () => {
  it('posts a chat-completions request with the bearer token and reads text, usage and truncation', async () => {
    const fake = fakeFetch(() => Response.json(envelope('{"score": 1}', 'length')));
    const judge = new OpenAiCompatibleJudge({ baseUrl: 'https://judge.internal.example.com/v1/', apiKey: async () => 'token-1', fetch: fake.fetch });
    await expect(judge.complete(request)).resolves.toEqual({ text: '{"score": 1}', inputTokens: 120, outputTokens: 9, truncated: true });
    expect(judge.name).toBe('openai-compatible:judge.internal.example.com');
    const [call] = fake.calls;
    expect(call?.url).toBe('https://judge.internal.example.com/v1/chat/completions');
    expect((call?.init.headers as Record<string, string>).authorization).toBe('Bearer token-1');
    expect(JSON.parse(String(call?.init.body))).toEqual({
      model: request.model,
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'masked trace text' },
      ],
      temperature: 0,
      max_tokens: 256,
      stream: false,
    });
  });

  it.each([408, 429, 500, 503])('treats HTTP %i as transient', async (status) => {
    const judge = new OpenAiCompatibleJudge({ baseUrl: 'https://j/v1', fetch: fakeFetch(() => new Response('echo: masked trace text', { status })).fetch });
    const error = await judge.complete(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientJudgeError);
    expect(String((error as Error).message)).not.toContain('masked trace text');
  });

  it('treats other statuses, a body that is not JSON and an envelope outside the contract as final', async () => {
    const rejected = new OpenAiCompatibleJudge({ baseUrl: 'https://j/v1', fetch: fakeFetch(() => new Response('bad request: masked trace text', { status: 400 })).fetch });
    const error = await rejected.complete(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JudgeEndpointRejected);
    expect(String((error as Error).message)).not.toContain('masked trace text');
    const notJson = new OpenAiCompatibleJudge({ baseUrl: 'https://j/v1', fetch: fakeFetch(() => new Response('<html>', { status: 200 })).fetch });
    await expect(notJson.complete(request)).rejects.toBeInstanceOf(JudgeResponseError);
    const noUsage = new OpenAiCompatibleJudge({ baseUrl: 'https://j/v1', fetch: fakeFetch(() => Response.json({ choices: [{ message: { content: 'x' } }] })).fetch });
    await expect(noUsage.complete(request)).rejects.toBeInstanceOf(JudgeResponseError);
  });

  it('treats an unreachable endpoint or a timeout as transient', async () => {
    const refused = new OpenAiCompatibleJudge({ baseUrl: 'https://j/v1', fetch: (async () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))) as typeof fetch });
    await expect(refused.complete(request)).rejects.toBeInstanceOf(TransientJudgeError);
    const hung = new OpenAiCompatibleJudge({
      baseUrl: 'https://j/v1',
      timeoutMs: 10,
      fetch: ((_url: string, init: RequestInit) =>
        new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)))) as unknown as typeof fetch,
    });
    await expect(hung.complete(request)).rejects.toBeInstanceOf(TransientJudgeError);
  });

  it('reads a null content as an empty answer (which the judge then treats as malformed)', async () => {
    const judge = new OpenAiCompatibleJudge({ baseUrl: 'https://j/v1', fetch: fakeFetch(() => Response.json(envelope(null))).fetch });
    await expect(judge.complete(request)).resolves.toMatchObject({ text: '' });
  });
});

describe('SageMakerJudge', () => {
  const sagemaker = mockClient(SageMakerRuntimeClient);
  beforeEach(() => sagemaker.reset());
  const client = new SageMakerRuntimeClient({ region: 'eu-central-1' });

  it('invokes the endpoint with the chat-completions body and reads the envelope', async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode(JSON.stringify(envelope('{"misrouted": true}'))) as never });
    const judge = new SageMakerJudge(client, 'sial-prod-eu-judge');
    await expect(judge.complete(request)).resolves.toEqual({ text: '{"misrouted": true}', inputTokens: 120, outputTokens: 9, truncated: false });
    const input = sagemaker.commandCalls(InvokeEndpointCommand)[0]?.args[0].input;
    expect(input?.EndpointName).toBe('sial-prod-eu-judge');
    expect(JSON.parse(new TextDecoder().decode(input?.Body as Uint8Array)).messages).toHaveLength(2);
    expect(judge.name).toBe('sagemaker:sial-prod-eu-judge');
  });

  it('classifies throttling and a container 5xx as transient, a container 4xx and a bad body as final', async () => {
    const judge = new SageMakerJudge(client, 'e');
    sagemaker
      .on(InvokeEndpointCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .rejectsOnce(Object.assign(new Error('worker died'), { name: 'ModelError', OriginalStatusCode: 503 }))
      .rejectsOnce(Object.assign(new Error('bad input'), { name: 'ModelError', OriginalStatusCode: 400 }))
      .resolvesOnce({ Body: new TextEncoder().encode('not json') as never });
    await expect(judge.complete(request)).rejects.toBeInstanceOf(TransientJudgeError);
    await expect(judge.complete(request)).rejects.toBeInstanceOf(TransientJudgeError);
    await expect(judge.complete(request)).rejects.toMatchObject({ name: 'ModelError' });
    await expect(judge.complete(request)).rejects.toBeInstanceOf(JudgeResponseError);
  });
});

describe('BedrockJudge', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  beforeEach(() => bedrock.reset());
  const client = new BedrockRuntimeClient({ region: 'eu-central-1' });

  it('calls Converse with the system prompt, the user message and the inference settings, and reads text, usage and truncation', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: '{"score": ' }, { text: '0.5}' }] } }, stopReason: 'max_tokens', usage: { inputTokens: 80, outputTokens: 7, totalTokens: 87 }, metrics: { latencyMs: 5 } });
    const judge = new BedrockJudge(client, 'eu.anthropic.claude-sonnet');
    await expect(judge.complete(request)).resolves.toEqual({ text: '{"score": 0.5}', inputTokens: 80, outputTokens: 7, truncated: true });
    const input = bedrock.commandCalls(ConverseCommand)[0]?.args[0].input;
    expect(input).toEqual({
      modelId: request.model,
      system: [{ text: 'sys' }],
      messages: [{ role: 'user', content: [{ text: 'masked trace text' }] }],
      inferenceConfig: { temperature: 0, maxTokens: 256 },
    });
    expect(judge.name).toBe('bedrock:eu.anthropic.claude-sonnet');
  });

  it('reads a filtered answer as its text (empty), not as an error', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [] } }, stopReason: 'content_filtered', usage: { inputTokens: 80, outputTokens: 0, totalTokens: 80 }, metrics: { latencyMs: 5 } });
    await expect(new BedrockJudge(client, 'm').complete(request)).resolves.toMatchObject({ text: '', truncated: false });
  });

  it('classifies throttling, unavailability and model timeouts as transient; validation and access errors as final', async () => {
    const judge = new BedrockJudge(client, 'm');
    const named = (name: string) => Object.assign(new Error(name), { name, $metadata: {} });
    bedrock
      .on(ConverseCommand)
      .rejectsOnce(named('ThrottlingException'))
      .rejectsOnce(named('ServiceUnavailableException'))
      .rejectsOnce(named('ModelTimeoutException'))
      .rejectsOnce(named('ValidationException'))
      .rejectsOnce(named('AccessDeniedException'));
    for (let i = 0; i < 3; i += 1) await expect(judge.complete(request)).rejects.toBeInstanceOf(TransientJudgeError);
    await expect(judge.complete(request)).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(judge.complete(request)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
