/**
 * The router's CPU capacity in the dev loop stack (the stage with a router target): a Fargate compute
 * environment in the training network with its own queue, the router image's job definition (no GPU),
 * a job role scoped to runs/ and golden-sets/, and no such resources in a stage without a router.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import { isRouterTarget } from '../../config/schema';
import { loopTemplate, resourcesOfType, statementsOfRole } from '../helpers/app';

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
