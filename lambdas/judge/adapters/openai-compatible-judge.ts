/**
 * The judge on an OpenAI-compatible endpoint: a self-hosted fleet (vLLM, SGLang) serving e.g.
 * Qwen3-4B inside the stage's boundary. The API key is read from Secrets Manager by the caller and
 * handed in as a function, so it is fetched once and never logged or stored.
 *
 * Errors: HTTP 429 and 5xx, a timeout and a dropped connection are transient (retried by the judge
 * with backoff); any other status and a body outside the contract are final for that call. Error
 * messages name the status only: a response body may echo the prompt, which holds trace text.
 */
import { chatCompletionsBody, JudgeResponseError, readChatCompletion } from './chat-completions';
import { TransientJudgeError, type JudgeCompletion, type JudgeCompletionRequest, type JudgeModel } from '../judge-model';

export interface OpenAiCompatibleJudgeOptions {
  /** e.g. `https://judge.internal.example.com/v1`; `/chat/completions` is appended. */
  readonly baseUrl: string;
  /** Resolves the bearer token (Secrets Manager in AWS); undefined for an endpoint without auth. */
  readonly apiKey?: () => Promise<string>;
  /** @default 60000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** A status the endpoint may answer differently next time. */
function transientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export class JudgeEndpointRejected extends Error {
  override name = 'JudgeEndpointRejected';
}

export class OpenAiCompatibleJudge implements JudgeModel {
  readonly name: string;
  private readonly url: string;

  constructor(private readonly options: OpenAiCompatibleJudgeOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.name = `openai-compatible:${new URL(this.url).host}`;
  }

  async complete(request: JudgeCompletionRequest): Promise<JudgeCompletion> {
    const doFetch = this.options.fetch ?? fetch;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey !== undefined) headers.authorization = `Bearer ${await this.options.apiKey()}`;
    let response: Response;
    try {
      response = await doFetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(chatCompletionsBody(request)),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      // Timeouts (AbortSignal), refused or dropped connections: the endpoint may answer next time.
      throw new TransientJudgeError('the judge endpoint could not be reached', { cause: error });
    }
    if (!response.ok) {
      if (transientStatus(response.status)) throw new TransientJudgeError(`the judge endpoint answered HTTP ${response.status}`);
      throw new JudgeEndpointRejected(`the judge endpoint answered HTTP ${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new JudgeResponseError('the judge endpoint answered a body that is not JSON');
    }
    return readChatCompletion(body);
  }
}
