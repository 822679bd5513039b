/**
 * stepfunctions/render-asl.ts: CloudFormation tokens in a DefinitionString become deterministic
 * placeholders, ARN-shaped where the resource type is known, and anything it cannot render is refused.
 */
import { allStateNames, renderAsl, stateMachineLogicalIds } from '../../stepfunctions/render-asl';

const RESOURCES = {
  Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
  Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
  Queue: { Type: 'AWS::Batch::JobQueue', Properties: {} },
  Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
};

function template(definition: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Resources: { ...RESOURCES, Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: definition, ...extra } } } };
}

test('joins the definition and renders Ref, Fn::GetAtt, Fn::ImportValue and pseudo parameters', () => {
  const definition = {
    'Fn::Join': [
      '',
      [
        '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"',
        { 'Fn::GetAtt': ['Fn', 'Arn'] },
        '","Parameters":{"TopicArn":"',
        { Ref: 'Topic' },
        '","Queue":"',
        { Ref: 'Queue' },
        '","Table":"',
        { Ref: 'Table' },
        '","Bucket":"s3://',
        { 'Fn::ImportValue': 'sial-dev-data:ExportsOutputRefArtifactBucket953D5FD3' },
        '/x","Where":"arn:',
        { Ref: 'AWS::Partition' },
        ':states:::',
        { Ref: 'AWS::Region' },
        '"},"End":true}}}',
      ],
    ],
  };
  const asl = renderAsl(template(definition), 'Machine', { region: 'eu-central-1', accountId: '123456789012' });
  expect(asl.States.A).toEqual({
    Type: 'Task',
    Resource: 'arn:aws:lambda:eu-central-1:123456789012:function:Fn',
    Parameters: {
      TopicArn: 'arn:aws:sns:eu-central-1:123456789012:Topic',
      Queue: 'arn:aws:batch:eu-central-1:123456789012:job-queue/Queue',
      Table: 'Table',
      Bucket: 's3://sial-dev-data-exportsoutputrefartifactbucket953d5fd3/x',
      Where: 'arn:aws:states:::eu-central-1',
    },
    End: true,
  });
});

test('applies DefinitionSubstitutions and a custom import resolver', () => {
  const asl = renderAsl(
    template('{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"${Value}","End":true}}}', { DefinitionSubstitutions: { Value: { 'Fn::ImportValue': 'Export' } } }),
    'Machine',
    { importValue: (name) => `imported:${name}` },
  );
  expect(asl.States.P).toEqual({ Type: 'Pass', Result: 'imported:Export', End: true });
});

test('lists state machines and every state name, nested branches included', () => {
  const nested = { StartAt: 'Par', States: { Par: { Type: 'Parallel', Branches: [{ StartAt: 'B1', States: { B1: { Type: 'Pass', End: true } } }], End: true } } };
  const t = template(JSON.stringify(nested));
  expect(stateMachineLogicalIds(t)).toEqual(['Machine']);
  expect(allStateNames(renderAsl(t, 'Machine'))).toEqual(['Par', 'B1']);
});

test('refuses what it cannot render, saying what it found', () => {
  expect(() => renderAsl(template('{}'), 'Other')).toThrow('renderAsl: no AWS::StepFunctions::StateMachine "Other" in the template; found Machine');
  expect(() => renderAsl(template({ 'Fn::Join': ['', ['{', { 'Fn::FindInMap': ['M', 'a', 'b'] }, '}']] }), 'Machine')).toThrow('intrinsic function Fn::FindInMap');
  expect(() => renderAsl(template({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Missing', 'Arn'] }]] }), 'Machine')).toThrow('Fn::GetAtt names "Missing"');
  expect(() => renderAsl(template('{"States":{}}'), 'Machine')).toThrow('has no StartAt/States');
  expect(() => renderAsl({}, 'Machine')).toThrow('expected a CloudFormation template object with Resources');
});
