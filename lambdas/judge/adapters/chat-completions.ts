/**
 * The OpenAI chat-completions contract, as vLLM, SGLang and SageMaker's LLM serving containers speak
 * it: the request body both judge adapters send, and the strict reading of the response envelope.
 */
import * as z from '../../shared/zod-mini';
import type { JudgeCompletion, JudgeCompletionRequest } from '../judge-model';

/** The request body: two messages, no streaming. */
export function chatCompletionsBody(request: JudgeCompletionRequest): object {
  return {
    model: request.model,
    messages: [
      { role: 'system', content: request.system },
      { role: 'user', content: request.user },
    ],
    temperature: request.temperature,
    max_tokens: request.maxOutputTokens,
    stream: false,
  };
}

const responseSchema = z.object({
  choices: z.array(
      z.object({
        message: z.object({ content: z.nullable(z.string()) }),
        finish_reason: z.optional(z.nullable(z.string())),
      }),
    ).check(z.minLength(1)),
  usage: z.object({ prompt_tokens: z.number().check(z.int(), z.nonnegative()), completion_tokens: z.number().check(z.int(), z.nonnegative()) }),
});

/** The endpoint answered, but not in the contract (wrong envelope, no usage): final for the call. */
export class JudgeResponseError extends Error {
  override name = 'JudgeResponseError';
}

/** Reads a response body; throws JudgeResponseError when it is not the contract. */
export function readChatCompletion(body: unknown): JudgeCompletion {
  const parsed = responseSchema.safeParse(body);
  if (!parsed.success) throw new JudgeResponseError('the judge endpoint answered outside the chat-completions contract');
  const choice = parsed.data.choices[0] as z.infer<typeof responseSchema>['choices'][number];
  return {
    text: choice.message.content ?? '',
    inputTokens: parsed.data.usage.prompt_tokens,
    outputTokens: parsed.data.usage.completion_tokens,
    truncated: choice.finish_reason === 'length',
  };
}
