/**
 * The router's CPU capacity in the dev loop stack (the stage with a router target): a Fargate compute
 * environment in the training network with its own queue, the router image's job definition (no GPU),
 * a job role scoped to runs/ and golden-sets/, and no such resources in a stage without a router.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_CANARY } from '../../config/governance-defaults';
import { CanaryAlarms } from '../../lib/constructs/canary-alarms';
import { loadStageConfig } from '../../config';
import { isRouterTarget } from '../../config/schema';
import { bareApp, loopTemplate, resourcesOfType, statementsOfRole } from '../helpers/app';

type Resource = { Type: string; Properties: Record<string, unknown> };
const byType = (template: Template, type: string): Array<[string, Resource]> => resourcesOfType(template, type) as Array<[string, Resource]>;

describe('router training compute (dev)', () => {
  const config = loadStageConfig('dev');
  const router = config.targetModels.find(isRouterTarget)!;
  const template = loopTemplate('dev');
  const environment = byType(template, 'AWS::Batch::ComputeEnvironment').find(([id]) => id.startsWith('RouterTrainingComputeFargateEnvironment'));
  const jobDefinition = byType(template, 'AWS::Batch::JobDefinition').find(([id]) => id.startsWith('RouterTrainingComputeTrainJobDefinition'));

  test('a managed Fargate environment (not Spot) in the isolated training subnets, HTTPS-only security group', () => {
    expect(environment![1].Properties).toMatchObject({ Type: 'managed', ComputeResources: { Type: 'FARGATE', MaxvCpus: 16 } });
    const sg = byType(template, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('RouterTrainingComputeTaskSecurityGroup'))!;
    expect(sg[1].Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
    expect(sg[1].Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('the job definition runs the router image on Fargate with the router size, no GPU, no public IP', () => {
    const props = jobDefinition![1].Properties as { PlatformCapabilities: string[]; ContainerProperties: Record<string, unknown>; Timeout: unknown };
    expect(props.PlatformCapabilities).toEqual(['FARGATE']);
    expect(props.ContainerProperties).toMatchObject({
      ResourceRequirements: expect.arrayContaining([{ Type: 'VCPU', Value: String(router.resources.vcpus) }, { Type: 'MEMORY', Value: String(router.resources.memoryMiB) }]),
      NetworkConfiguration: { AssignPublicIp: 'DISABLED' },
    });
    expect(JSON.stringify(props.ContainerProperties.ResourceRequirements)).not.toContain('GPU');
    expect(props.Timeout).toEqual({ AttemptDurationSeconds: router.resources.maxJobHours * 3600 });
  });

  test('the job role reads runs/ and golden-sets/, writes runs/, and nothing else of S3', () => {
    const roleId = byType(template, 'AWS::IAM::Role').find(([id]) => id.startsWith('RouterTrainingComputeJobRole'))![0];
    const statements = statementsOfRole(template, roleId);
    const s3Resources = JSON.stringify(statements.filter((s) => JSON.stringify(s.Action).includes('s3:')).map((s) => s.Resource));
    expect(s3Resources).toContain('/runs/*');
    expect(s3Resources).toContain('/golden-sets/*');
    expect(s3Resources).not.toMatch(/"\/\*"|:::\*/);
  });

  test('a stage without a router target has none of it', () => {
    const prod = loopTemplate('prod-eu');
    expect(byType(prod, 'AWS::Batch::ComputeEnvironment').filter(([id]) => id.startsWith('RouterTrainingCompute'))).toEqual([]);
  });
});

describe("the router's canary alarms", () => {
  test('its misroute alarm fires at the router\'s own maxMisrouteRise; other models keep the stage threshold', () => {
    const stack = new Stack(bareApp(), 'AlarmsStack');
    new CanaryAlarms(stack, 'CanaryAlarms', { stage: 'dev', metricsNamespace: 'ns', targetModelIds: ['qwen3-4b', 'support-router'], alarms: DEFAULT_CANARY.alarms, misrouteRiseByModel: { 'support-router': 0.07 } });
    const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
    const threshold = (name: string) => Object.values(alarms).find((a) => (a as { Properties: { AlarmName: string } }).Properties.AlarmName === name)?.Properties.Threshold as number;
    expect(threshold('sial-dev-support-router-canary-misroute')).toBe(0.07);
    expect(threshold('sial-dev-qwen3-4b-canary-misroute')).toBe(DEFAULT_CANARY.alarms.misrouteRise);
  });

  test('the dev loop stack passes the router\'s threshold', () => {
    const config = loadStageConfig('dev');
    const router = config.targetModels.find(isRouterTarget)!;
    const alarms = loopTemplate('dev').findResources('AWS::CloudWatch::Alarm');
    const misroute = Object.values(alarms).find((a) => (a as { Properties: { AlarmName?: string } }).Properties.AlarmName === 'sial-dev-support-router-canary-misroute');
    expect(misroute?.Properties.Threshold).toBe(router.maxMisrouteRise);
  });
});
