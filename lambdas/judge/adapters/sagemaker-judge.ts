/**
 * The judge on a SageMaker real-time endpoint: an LLM serving container (LMI/vLLM, TGI) that accepts
 * the chat-completions request body and answers the same envelope, invoked with InvokeEndpoint in the
 * stage's own account and region.
 *
 * Errors are classified as in the NER adapter: throttling, 5xx, a model that is not ready, timeouts and
 * a container answer of 429/5xx are transient; anything else is final for the call.
 */
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { isTransientSageMakerError } from '../../shared/aws/sagemaker-errors';
import { chatCompletionsBody, readChatCompletion, JudgeResponseError } from './chat-completions';
import { TransientJudgeError, type JudgeCompletion, type JudgeCompletionRequest, type JudgeModel } from '../judge-model';

export class SageMakerJudge implements JudgeModel {
  readonly name: string;

  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly endpointName: string,
  ) {
    this.name = `sagemaker:${endpointName}`;
  }

  async complete(request: JudgeCompletionRequest): Promise<JudgeCompletion> {
    let body: Uint8Array | undefined;
    try {
      const response = await this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.endpointName,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: new TextEncoder().encode(JSON.stringify(chatCompletionsBody(request))),
        }),
      );
      body = response.Body;
    } catch (error) {
      if (isTransientSageMakerError(error)) throw new TransientJudgeError('the SageMaker judge endpoint failed transiently', { cause: error });
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body ?? new Uint8Array()));
    } catch {
      throw new JudgeResponseError('the SageMaker judge endpoint answered a body that is not JSON');
    }
    return readChatCompletion(parsed);
  }
}
