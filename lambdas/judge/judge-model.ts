/**
 * The port every judge endpoint sits behind: one chat completion, text in, text out, with the token
 * counts the endpoint reports. Adapters: an OpenAI-compatible endpoint (a self-hosted vLLM or SGLang
 * fleet), a SageMaker endpoint, and the simulated judge of local mode (clearly labelled). The domain
 * (judge-trace.ts) never sees which.
 */

export interface JudgeCompletionRequest {
  readonly model: string;
  readonly system: string;
  readonly user: string;
  readonly temperature: number;
  readonly maxOutputTokens: number;
}

export interface JudgeCompletion {
  readonly text: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** True when the endpoint stopped at the output limit (the answer is then incomplete). */
  readonly truncated: boolean;
}

export interface JudgeModel {
  /** Shown in judgments and logs: the endpoint kind and name (`simulated-judge` says so). */
  readonly name: string;
  complete(request: JudgeCompletionRequest): Promise<JudgeCompletion>;
}

/** An endpoint error worth retrying (throttling, a 5xx, a timeout): the call is tried again with backoff. */
export class TransientJudgeError extends Error {
  override name = 'TransientJudgeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
