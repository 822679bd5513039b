/**
 * The loop stack as a whole: composed after the data stack of its stage, strong references to it, no
 * context lookups even with a pinned account, no synthesis warnings, and the image choices.
 */
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import type { StageConfig } from '../../config/schema';
import { LoopStack } from '../../lib/stacks/loop-stack';
import { STAGE_NAMES, actionsOf, buildTestApp, resourcesOf, statementsOfRole, synthesizedStage } from '../helpers/app';

describe.each(STAGE_NAMES)('loop stack of %s', (stage) => {
  const config = loadStageConfig(stage);
  const { loopStack, dataStack, loopTemplate } = synthesizedStage(stage);

  test('is named after the stage, deployed in its region after its data stack, and not termination-protected', () => {
    expect(loopStack.stackName).toBe(`sial-${stage}-loop`);
    expect(loopStack.region).toBe(config.region);
    expect(loopStack.dependencies).toContain(dataStack);
    expect(loopStack.terminationProtection).toBe(false);
  });

  test('uses the data stack through strong references (exports), never by name', () => {
    const imports = JSON.stringify(loopTemplate.toJSON()).match(/"Fn::ImportValue":"[^"]+"/g) ?? [];
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) expect(i).toContain(`sial-${stage}-data:`);
    expect(JSON.stringify(loopTemplate.toJSON())).not.toContain('Fn::GetStackOutput');
  });

  test('raises no warning or error annotation', () => {
    const annotations = Annotations.fromStack(loopStack);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
  });

  test('tags every resource with project, stage and data boundary', () => {
    loopTemplate.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      Tags: Match.arrayWith([
        { Key: 'data-boundary', Value: config.dataBoundary },
        { Key: 'project', Value: 'self-improving-agent-loop' },
        { Key: 'stage', Value: stage },
      ]),
    });
  });

  test('outputs where to start runs and where approval links point', () => {
    loopTemplate.hasOutput('StateMachineArn', Match.objectLike({ Value: { Ref: Match.stringLikeRegexp('^PipelineStateMachine') } }));
    loopTemplate.hasOutput('ApprovalPageBaseUrl', Match.objectLike({}));
    loopTemplate.hasOutput('JobQueueArn', Match.objectLike({}));
  });

  test(`registers models with the serving image the stage configures (${config.region})`, () => {
    expect(config.training.servingImageUri).toContain(`.dkr.ecr.${config.region}.amazonaws.com/`);
    loopTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SERVING_IMAGE_URI: config.training.servingImageUri }) },
    });
  });
});

test('a pinned account triggers no context lookup (availability zones come from Fn::GetAZs)', () => {
  const pinned: StageConfig = { ...loadStageConfig('prod-eu'), account: '123456789012' };
  const { app } = buildTestApp('prod-eu', { config: pinned });
  const assembly = app.synth();
  expect(assembly.manifest.missing ?? []).toEqual([]);
});

describe('trainer image', () => {
  function jobImageAndPulls(image: StageConfig['training']['image']): { image: unknown; pulls: unknown[] } {
    const config = loadStageConfig('prod-kr');
    const { loopStack } = buildTestApp('prod-kr', { config: { ...config, training: { ...config.training, image } } });
    const template = Template.fromStack(loopStack);
    const [, definition] = Object.entries(template.findResources('AWS::Batch::JobDefinition'))[0]!;
    const props = (definition as { Properties: { ContainerProperties: { Image: unknown; ExecutionRoleArn: { 'Fn::GetAtt': [string, string] } } } }).Properties.ContainerProperties;
    const role = props.ExecutionRoleArn['Fn::GetAtt'][0];
    const pulls = statementsOfRole(template, role).filter((st) => actionsOf(st).includes('ecr:BatchGetImage')).flatMap(resourcesOf);
    return { image: props.Image, pulls };
  }

  test('an ECR image URI is pulled with a grant on its repository only', () => {
    const { image, pulls } = jobImageAndPulls({ kind: 'uri', uri: '123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/sial/trainer:1.2.3' });
    expect(image).toEqual({ 'Fn::Join': ['', ['123456789012.dkr.ecr.ap-northeast-2.', { Ref: 'AWS::URLSuffix' }, '/sial/trainer:1.2.3']] });
    expect(pulls).toEqual(['arn:aws:ecr:ap-northeast-2:123456789012:repository/sial/trainer']);
  });

  test('an image from another registry is used as given, with no ECR grant', () => {
    const { image, pulls } = jobImageAndPulls({ kind: 'uri', uri: 'ghcr.io/example/trainer:1' });
    expect(image).toBe('ghcr.io/example/trainer:1');
    expect(pulls).toEqual([]);
  });

  test('the serving image must be an ECR image (SageMaker serves model packages from ECR)', () => {
    const { app, dataStack } = buildTestApp('dev');
    const base = loadStageConfig('dev');
    // Bypasses the config schema (which refuses it too) to prove the construct's own check.
    const config: StageConfig = { ...base, training: { ...base.training, servingImageUri: 'docker.io/vllm/vllm-openai:latest' } };
    expect(
      () =>
        new LoopStack(app, 'Second', {
          env: { region: config.region },
          config,
          lake: dataStack.lake,
          artifacts: dataStack.artifacts,
          pipelineTables: dataStack.pipelineTables,
          modelRegistry: dataStack.modelRegistry,
          traceStream: dataStack.traceStream,
          judgmentStream: dataStack.judgmentStream,
          reviewStream: dataStack.reviewStream,
          pseudonymisationKey: dataStack.pseudonymisationKey.secret,
        }),
    ).toThrow('TrainingPipeline: servingImageUri "docker.io/vllm/vllm-openai:latest" is not an ECR image URI');
  });
});
