/**
 * The judge on Amazon Bedrock, through the Converse API in the stage's own region (config validation
 * holds the region and any cross-region inference profile to the stage's data boundary).
 *
 * Errors: throttling, service unavailability, a model that is not ready or timed out, and internal
 * errors are transient (retried by the judge with backoff); anything else (validation, access denied,
 * a missing model) is final for the call. An answer cut at the output limit, or at the context window,
 * is reported truncated; a filtered answer comes back as its (usually empty) text, which the judge then
 * reads as malformed: no judgment, never a score.
 */
import { ConverseCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { isTransientAwsError } from '../../shared/aws/transient-errors';
import { TransientJudgeError, type JudgeCompletion, type JudgeCompletionRequest, type JudgeModel } from '../judge-model';

const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'ModelNotReadyException',
  'ModelTimeoutException',
  'InternalServerException',
  'RequestTimeout',
  'TimeoutError',
]);

export class BedrockJudge implements JudgeModel {
  readonly name: string;

  constructor(
    private readonly client: BedrockRuntimeClient,
    modelId: string,
  ) {
    this.name = `bedrock:${modelId}`;
  }

  async complete(request: JudgeCompletionRequest): Promise<JudgeCompletion> {
    let response;
    try {
      response = await this.client.send(
        new ConverseCommand({
          modelId: request.model,
          system: [{ text: request.system }],
          messages: [{ role: 'user', content: [{ text: request.user }] }],
          inferenceConfig: { temperature: request.temperature, maxTokens: request.maxOutputTokens },
        }),
      );
    } catch (error) {
      if (isTransientAwsError(error, TRANSIENT_ERROR_NAMES)) throw new TransientJudgeError('the Bedrock judge failed transiently', { cause: error });
      throw error;
    }
    const text = (response.output?.message?.content ?? []).map((block) => block.text ?? '').join('');
    return {
      text,
      inputTokens: response.usage?.inputTokens ?? 0,
      outputTokens: response.usage?.outputTokens ?? 0,
      truncated: response.stopReason === 'max_tokens' || response.stopReason === 'model_context_window_exceeded',
    };
  }
}
