/**
 * cdk-nag AwsSolutions over every stage: zero unacknowledged findings, and every acknowledgement
 * carries a specific reason. The plugin itself is proven to fail synthesis on a finding.
 */
import { Stack, Validations, type App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { loadStageConfig } from '../config';
import { STAGE_NAMES, buildTestApp, type StageName } from './helpers/app';

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
  );
}

const built = new Map<StageName, App>();
function synthesizedWithNag(stage: StageName): App {
  let app = built.get(stage);
  if (app === undefined) {
    app = buildTestApp(stage, { nag: true }).app;
    // Synthesis runs the aspects that record late acknowledgements, then the registered nag plugin,
    // which throws on any unacknowledged finding.
    app.synth();
    built.set(stage, app);
  }
  return app;
}

describe.each(STAGE_NAMES)('cdk-nag AwsSolutions in %s', (stage) => {
  test('reports no unacknowledged finding (errors and warnings alike)', () => {
    const app = synthesizedWithNag(stage);
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}: ${v.description}`));
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('every acknowledgement names one rule (wildcards one by one) and gives a specific reason', () => {
    const acks = acknowledgements(synthesizedWithNag(stage)).filter((a) => a.id.includes('AwsSolutions-'));
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect({ ...ack, reasonLength: ack.reason.length >= 60 }).toEqual({ ...ack, reasonLength: true });
      // An IAM5 acknowledgement always names the finding it covers, never the whole rule.
      if (ack.id.includes('AwsSolutions-IAM5')) expect(ack.id).toMatch(/AwsSolutions-IAM5\[(Resource|Action)::.+\]$/);
      if (ack.id.includes('AwsSolutions-IAM4')) expect(ack.id).toMatch(/AwsSolutions-IAM4\[Policy::.+\]$/);
    }
    // No rule is waved through for the whole stack or app.
    expect(acks.filter((a) => !a.path.includes('/'))).toEqual([]);
  });

  test('both stacks of the stage are checked: the loop stack carries its own acknowledgements', () => {
    const app = synthesizedWithNag(stage);
    const stacks = app.node.children.filter((c): c is Stack => c instanceof Stack).map((c) => c.stackName);
    expect(stacks.sort()).toEqual([`sial-${stage}-data`, `sial-${stage}-loop`]);
    const loopAcks = acknowledgements(app).filter((a) => a.path.startsWith(`sial-${stage}-loop/`)).map((a) => a.id.replace(/^Annotation::/i, ''));
    // The approval page is deliberately not IAM-authorized; the reason is recorded, not hidden.
    expect(loopAcks).toEqual(expect.arrayContaining(['AwsSolutions-APIG4', 'AwsSolutions-COG4', 'AwsSolutions-SMG4']));
  });

  test('the pseudonymisation key is the only secret of the data stack, and it says why it is not rotated', () => {
    const dataAcks = acknowledgements(synthesizedWithNag(stage)).filter((a) => a.path.startsWith(`sial-${stage}-data/`) && a.id.replace(/^Annotation::/i, '') === 'AwsSolutions-SMG4');
    expect(dataAcks.map((a) => a.path)).toEqual([`sial-${stage}-data/PseudonymisationKey/Secret`]);
    expect(dataAcks[0]?.reason).toMatch(/breaking joins/);
  });

  test('the canary rollout acknowledges its wildcards one by one, on the role that holds each', () => {
    const rolloutAcks = acknowledgements(synthesizedWithNag(stage)).filter((a) => a.path.startsWith(`sial-${stage}-loop/Rollout/`));
    const ids = (role: string): string[] => rolloutAcks.filter((a) => a.path === `sial-${stage}-loop/Rollout/${role}`).map((a) => a.id.replace(/^Annotation::/i, ''));
    // Every function role: X-Ray (and, for Validate, ListModelPackages) only.
    expect(ids('RollBack/Role')).toEqual(['AwsSolutions-IAM5[Resource::*]']);
    // Deploying a variant: the configurations and models a rollout names at run time, the packages it reads.
    const config = loadStageConfig(stage);
    const deploy = ids('DeployCandidate/Role');
    if (config.targetModels.some((m) => m.rollout.kind === 'sagemaker')) {
      expect(deploy).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:aws:sagemaker:[a-z0-9-]+:<AWS::AccountId>:endpoint-config\/\*\]$/)]));
      expect(deploy.filter((id) => /:model\/[a-z0-9.-]+-v\*\]$/.test(id))).toHaveLength(config.targetModels.filter((m) => m.rollout.kind === 'sagemaker').length);
    }
    // The state machines: each invoked function's versions, by name.
    expect(ids('StateMachine/Role').filter((id) => id.endsWith('.Arn>:*]')).length).toBeGreaterThanOrEqual(11);
  });
});

test('the plugin fails synthesis on an unacknowledged wildcard in the canary rollout', () => {
  const { app, loopStack } = buildTestApp('dev', { nag: true });
  loopStack.rollout.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['sagemaker:UpdateEndpointWeightsAndCapacities'], resources: ['arn:aws:sagemaker:us-east-1:123456789012:endpoint/*'] }));
  expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
});

test('the registered plugin fails synthesis on an unacknowledged finding', () => {
  const { app, dataStack } = buildTestApp('dev', { nag: true });
  new s3.Bucket(Stack.of(dataStack), 'UnloggedBucket');
  expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
});

test('the plugin also fails synthesis on a finding in the loop stack', () => {
  const { app, loopStack } = buildTestApp('dev', { nag: true });
  // Neither encrypted nor TLS-only: SNS3 (AwsSolutions waives TLS-only for encrypted topics).
  new sns.Topic(loopStack, 'PlainTopic');
  expect(() => app.synth()).toThrow(/AwsSolutions-SNS3/);
});
