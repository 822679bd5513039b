/**
 * The judge model of a stage's endpoint configuration (config/judge.ts), with its AWS clients created in
 * the function's own region (the stage's: where the boundary check placed the judge). The API key of an
 * OpenAI-compatible fleet is read from Secrets Manager once per execution environment, on first use.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { JudgeStageConfig } from '../../../config/judge';
import type { JudgeModel } from '../judge-model';
import type { JudgeEndpointKind } from '../judgment-row';
import { BedrockJudge } from './bedrock-judge';
import { OpenAiCompatibleJudge } from './openai-compatible-judge';
import { SageMakerJudge } from './sagemaker-judge';

/**
 * @param region where the clients call; @default the environment's (a Lambda's own region). The CLI
 *   passes the stage's, since an operator's environment may name another.
 */
export function judgeModelForStage(endpoint: JudgeStageConfig['endpoint'], region?: string): { model: JudgeModel; kind: JudgeEndpointKind } {
  const config = region === undefined ? {} : { region };
  switch (endpoint.kind) {
    case 'bedrock':
      return { model: new BedrockJudge(new BedrockRuntimeClient(config), endpoint.modelId), kind: 'bedrock' };
    case 'sagemaker':
      return { model: new SageMakerJudge(new SageMakerRuntimeClient(config), endpoint.endpointName), kind: 'sagemaker' };
    case 'openai-compatible': {
      const secretName = endpoint.apiKeySecretName;
      if (secretName === undefined) return { model: new OpenAiCompatibleJudge({ baseUrl: endpoint.baseUrl }), kind: 'openai-compatible' };
      const secrets = new SecretsManagerClient(config);
      let key: Promise<string> | undefined;
      const apiKey = (): Promise<string> => {
        key ??= secrets.send(new GetSecretValueCommand({ SecretId: secretName })).then((r) => {
          if (r.SecretString === undefined || r.SecretString === '') throw new Error(`secret ${secretName} holds no string`);
          return r.SecretString.trim();
        });
        // A failed read is not cached: the next call tries again.
        key.catch(() => (key = undefined));
        return key;
      };
      return { model: new OpenAiCompatibleJudge({ baseUrl: endpoint.baseUrl, apiKey }), kind: 'openai-compatible' };
    }
  }
}
