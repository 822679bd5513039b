import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { loadStageConfig } from '../../config';
import type { StageConfig } from '../../config/schema';
import { gateConfigDigest, parseGateConfig } from '../../lambdas/gate-score/gate-config-env';
import { TraceGateFunction, type TraceGateFunctionProps } from '../../lib/constructs/trace-gate-function';
import { GATE_RESERVED_CONCURRENCY, PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { STAGE_NAMES, actionsOf, bareApp, dataTemplate, resourcesOf, resourcesOfType, rewardPolicyFor, statementsOfRole, withoutRetentionDenies, type SynthesizedStatement } from '../helpers/app';

function gateFunction(template: Template): { id: string; props: Record<string, unknown> } {
  const fns = resourcesOfType(template, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('GateFunction'));
  expect(fns).toHaveLength(1);
  return { id: fns[0]![0], props: fns[0]![1].Properties! };
}

describe.each(STAGE_NAMES)('gate function in %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = dataTemplate(stage);
  const { props } = gateFunction(template);
  const env = (props.Environment as { Variables: Record<string, string> }).Variables;

  test('runs the bundled ESM handler on Node.js 22, arm64, with active tracing', () => {
    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      MemorySize: 1024,
      Timeout: 120,
    });
  });

  test('GATE_CONFIG parses with the Lambda\'s own parser, its digest beside it, and carries the stage configuration', () => {
    expect(env.GATE_CONFIG_SHA256).toBe(gateConfigDigest(env.GATE_CONFIG as string));
    const gate = parseGateConfig(env.GATE_CONFIG, env.GATE_CONFIG_SHA256);
    expect(gate).toEqual({
      stage: config.stage,
      dataBoundary: config.dataBoundary,
      databaseName: config.lake.databaseName,
      tracesTable: 'traces',
      auditTable: 'gate_audit',
      pii: config.pii,
      agentSlosMs: Object.fromEntries(config.agents.map((a) => [a.id, a.latencySloMs])),
      targetModelIds: config.targetModels.map((m) => m.id),
      defaultLatencySloMs: config.defaultLatencySloMs,
      rewardPolicy: rewardPolicyFor(config),
      modelPrices: config.operations.modelPrices,
    });
  });

  test('Powertools service name and metrics namespace are set', () => {
    expect(env.POWERTOOLS_SERVICE_NAME).toBe('trace-gate');
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(config.metricsNamespace);
  });

  test('is told where the pseudonymisation key is, and may read it (and decrypt it through Secrets Manager only)', () => {
    expect(env.PSEUDONYMISATION_KEY_SECRET_ARN).toEqual({ Ref: PINNED_LOGICAL_IDS.pseudonymisationKey });
    const roleId = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Effect: 'Allow', Resource: { Ref: PINNED_LOGICAL_IDS.pseudonymisationKey } },
        ]),
      },
    });
    // The lake key lets the role decrypt only through Secrets Manager (a key-policy statement).
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Action: 'kms:Decrypt',
            Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${config.region}.amazonaws.com` } },
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::GetAtt': [roleId, 'Arn'] } },
            Resource: '*',
          },
        ]),
      },
    });
  });

  test(config.production ? `reserves ${GATE_RESERVED_CONCURRENCY} concurrent executions` : 'reserves no concurrency (dev accounts)', () => {
    expect(props.ReservedConcurrentExecutions).toBe(config.production ? GATE_RESERVED_CONCURRENCY : undefined);
  });

  test('logs to its own log group with a retention', () => {
    const logGroupRef = (props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const logGroup = template.toJSON().Resources[logGroupRef] as { Type: string; Properties: { RetentionInDays: number } };
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBe(90);
  });

  test('its role has no managed policy and may call comprehend:DetectPiiEntities', () => {
    const roleId = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId] as { Properties: { ManagedPolicyArns?: unknown } };
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const policy = resourcesOfType(template, 'AWS::IAM::Policy').find(([, p]) => JSON.stringify(p.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]));
    const statements = withoutRetentionDenies((policy![1].Properties!.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement);
    const wildcard = statements.filter((s) => s.Resource === '*').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    // Only actions without resource-level permissions may be on *.
    expect(wildcard.sort()).toEqual(['comprehend:DetectPiiEntities', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });
});

describe('TraceGateFunction validation', () => {
  const config: StageConfig = loadStageConfig('dev');
  const base: Omit<TraceGateFunctionProps, 'pseudonymisationKey'> = {
    stage: config.stage,
    dataBoundary: config.dataBoundary,
    pii: config.pii,
    agents: config.agents,
    targetModels: config.targetModels,
    defaultLatencySloMs: config.defaultLatencySloMs,
    rewardPolicy: rewardPolicyFor(config),
    databaseName: 'lake',
    tracesTable: 'traces',
    auditTable: 'gate_audit',
    metricsNamespace: 'Test',
  };
  const build = (props: Partial<Omit<TraceGateFunctionProps, 'pseudonymisationKey'>>) => {
    const stack = new Stack(bareApp(), 'S');
    return new TraceGateFunction(stack, 'Gate', { ...base, pseudonymisationKey: new secretsmanager.Secret(stack, 'Key'), ...props });
  };

  test('refuses a timeout longer than Firehose allows a transformation', () => {
    expect(() => build({ timeout: Duration.minutes(6) })).toThrow('TraceGateFunction: timeout is 360 s; Firehose transformations must finish within 1 to 300 s');
  });

  test('refuses a configuration that breaks the GATE_CONFIG contract, naming the field', () => {
    expect(() => build({ tracesTable: '' })).toThrow(/The gate configuration is invalid: tracesTable: /);
  });

  test('refuses a configuration holding an unresolved token: its digest is fixed at synthesis', () => {
    expect(() => build({ tracesTable: Lazy.string({ produce: () => 'traces' }) })).toThrow(/unresolved token; GATE_CONFIG must be plain values/);
  });

  test('refuses an agent listed twice', () => {
    expect(() => build({ agents: [{ id: 'a', latencySloMs: 1 }, { id: 'a', latencySloMs: 2 }] })).toThrow('agent "a" is listed twice');
  });

  test('refuses an environment beyond Lambda\'s 4 KB, naming its size', () => {
    const agents = Array.from({ length: 200 }, (_, i) => ({ id: `agent-with-a-long-name-${i}`, latencySloMs: 1000 }));
    expect(() => build({ agents })).toThrow(/environment variables take \d+ bytes; Lambda allows at most 4096/);
  });
});

describe('TraceGateFunction: named-entity endpoints', () => {
  /** The statements of the gate role that mention SageMaker. */
  function sageMakerStatements(template: Template): SynthesizedStatement[] {
    const { props } = gateFunction(template);
    const roleId = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    return statementsOfRole(template, roleId).filter((s) => actionsOf(s).some((a) => a.startsWith('sagemaker:')));
  }

  test('prod-kr may invoke exactly its Korean endpoint, by its ARN in the stage region and account', () => {
    const statements = sageMakerStatements(dataTemplate('prod-kr'));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'sagemaker:InvokeEndpoint',
        Resource: { 'Fn::Join': ['', ['arn:aws:sagemaker:ap-northeast-2:', { Ref: 'AWS::AccountId' }, ':endpoint/sial-prod-kr-pii-ner-ko']] },
      },
    ]);
  });

  test.each(['dev', 'prod-eu'] as const)('%s configures no entity detector and gets no SageMaker permission', (stage) => {
    expect(sageMakerStatements(dataTemplate(stage))).toEqual([]);
  });

  test('grants each configured endpoint by its own lower-cased ARN (SageMaker lower-cases names in ARNs), never a wildcard', () => {
    const config = loadStageConfig('prod-kr');
    const ner = config.pii.entityDetectors.ko!;
    const stack = new Stack(bareApp(), 'S', { env: { region: 'ap-northeast-2', account: '123456789012' } });
    const gate = new TraceGateFunction(stack, 'Gate', {
      stage: config.stage,
      dataBoundary: config.dataBoundary,
      pii: { ...config.pii, entityDetectors: { ko: { ...ner, endpoint: 'arn:aws:sagemaker:ap-northeast-2:123456789012:endpoint/NER-Ko' }, ja: { ...ner, endpoint: 'ner-ja' } } },
      agents: config.agents,
      targetModels: config.targetModels,
      defaultLatencySloMs: config.defaultLatencySloMs,
      rewardPolicy: rewardPolicyFor(config),
      databaseName: 'lake',
      tracesTable: 'traces',
      auditTable: 'gate_audit',
      metricsNamespace: 'Test',
      pseudonymisationKey: new secretsmanager.Secret(stack, 'Key'),
    });
    const expected = ['arn:aws:sagemaker:ap-northeast-2:123456789012:endpoint/ner-ja', 'arn:aws:sagemaker:ap-northeast-2:123456789012:endpoint/ner-ko'];
    expect(gate.entityDetectorEndpointArns.map((arn) => stack.resolve(arn))).toEqual(
      expected.map((arn) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, arn.slice('arn:aws'.length)]] })),
    );
    const statements = sageMakerStatements(Template.fromStack(stack));
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]!)).toEqual(['sagemaker:InvokeEndpoint']);
    expect(resourcesOf(statements[0]!)).toEqual(gate.entityDetectorEndpointArns.map((arn) => stack.resolve(arn)));
    expect(JSON.stringify(statements)).not.toContain('*');
  });
});
