/**
 * The lake's row expiry: synthesized in the dev loop stack (one Athena DELETE per table with a
 * retention, least-privilege role, schedule), and its state machine executed on the local Step
 * Functions engine (every table expired in order; a failed statement ends in Expiry failed).
 */
import { loadStageConfig } from '../../config';
import { RETENTION_TIME_COLUMNS } from '../../lambdas/shared/lake-tables';
import { ATHENA_START_QUERY_SYNC, ROW_EXPIRY_STATES as S } from '../../stepfunctions/row-expiry';
import { renderAsl, stateMachineLogicalIds, type AslDefinition } from '../../stepfunctions/render-asl';
import { DEFAULT_ROW_EXPIRY_SCHEDULE } from '../../lib/constructs/row-expiry';
import { actionsOf, loopTemplate, resourcesOf, resourcesOfType, statementsOfRole } from '../helpers/app';
import { execute, named } from './asl-execution';

const template = loopTemplate('dev');
const config = loadStageConfig('dev');
const retention = config.lake.rowRetentionDays!;
const tables = Object.keys(RETENTION_TIME_COLUMNS).filter((t) => t in retention);

const asl: AslDefinition = (() => {
  const json = template.toJSON() as unknown;
  return renderAsl(json, stateMachineLogicalIds(json).find((i) => i.startsWith('RowExpiryStateMachine'))!);
})();

function stateMachineRoleStatements(): ReturnType<typeof statementsOfRole> {
  const [, machine] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').find(([id]) => id.startsWith('RowExpiryStateMachine'))!;
  const roleId = (machine.Properties!.RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  return statementsOfRole(template, roleId);
}

describe('row expiry (dev, synthesized)', () => {
  it('runs one Athena DELETE per table with a retention, on the table\'s time column and its days, with no Lambda', () => {
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) {
      const state = asl.States[S.expire(table)] as unknown as { Resource: string; Parameters: { QueryString: string; QueryExecutionContext: { Database: string } } };
      expect(state.Resource).toBe(ATHENA_START_QUERY_SYNC);
      expect(state.Parameters.QueryString).toBe(
        `DELETE FROM "${config.lake.databaseName}"."${table}" WHERE "${RETENTION_TIME_COLUMNS[table as keyof typeof RETENTION_TIME_COLUMNS]}" < date_add('day', -${retention[table as keyof typeof retention]}, CAST(current_date AS timestamp))`,
      );
      expect(state.Parameters.QueryExecutionContext.Database).toBe(config.lake.databaseName);
    }
    expect(Object.values(asl.States).filter((s) => s.Type === 'Task')).toHaveLength(tables.length);
  });

  it('lets the role delete rows of exactly those tables, in the stage workgroup, and delete no S3 object', () => {
    const statements = stateMachineRoleStatements();
    const actions = statements.flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 'athena:GetQueryExecution', 'glue:UpdateTable', 's3:PutObject']));
    expect(actions.filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
    expect(actions.some((a) => a.endsWith('*'))).toBe(false);
    const glueResources = JSON.stringify(statements.filter((s) => actionsOf(s).includes('glue:UpdateTable')).flatMap(resourcesOf));
    for (const table of tables) expect(glueResources).toContain(`/${table}`);
    expect(glueResources).not.toContain('/*');
    const athenaResources = JSON.stringify(statements.filter((s) => actionsOf(s).includes('athena:StartQueryExecution')).flatMap(resourcesOf));
    expect(athenaResources).toContain('workgroup/');
  });

  it('announces a failed run on the notifications topic, and outputs the state machine for a rerun by hand', () => {
    const [, alarm] = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(([id]) => id.startsWith('RowExpiryFailedAlarm'))!;
    const props = alarm.Properties as { MetricName: string; Namespace: string; Dimensions: Array<{ Value: { Ref: string } }>; AlarmActions: Array<{ Ref: string }>; Threshold: number; ComparisonOperator: string };
    expect({ metric: props.MetricName, namespace: props.Namespace, threshold: props.Threshold, op: props.ComparisonOperator }).toEqual({ metric: 'ExecutionsFailed', namespace: 'AWS/States', threshold: 0, op: 'GreaterThanThreshold' });
    expect(props.Dimensions[0]!.Value.Ref).toMatch(/^RowExpiryStateMachine/);
    expect(props.AlarmActions.map((a) => a.Ref)).toEqual([expect.stringMatching(/NotificationsTopic/)]);
    const outputs = (template.toJSON() as { Outputs: Record<string, { Value: { Ref: string } }> }).Outputs;
    expect(outputs.RowExpiryStateMachineArn?.Value.Ref).toMatch(/^RowExpiryStateMachine/);
  });

  it('runs on the default daily schedule, off while the stage\'s schedules are off', () => {
    const schedule = resourcesOfType(template, 'AWS::Scheduler::Schedule').find(([id]) => id.startsWith('RowExpiry'))![1].Properties as { ScheduleExpression: string; State: string };
    expect(schedule.ScheduleExpression).toBe(config.schedules.rowExpiry ?? DEFAULT_ROW_EXPIRY_SCHEDULE);
    expect(schedule.State).toBe(config.schedules.enabled ? 'ENABLED' : 'DISABLED');
  });
});

describe('the row expiry state machine, executed', () => {
  const ok = Object.fromEntries(tables.map((t) => [S.expire(t), () => ({ QueryExecution: { Status: { State: 'SUCCEEDED' } } })]));

  it('expires every table in order and ends in Expired', async () => {
    const result = await execute(asl, {}, ok);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).toEqual([...tables.map(S.expire), S.expired]);
  });

  it('ends in Expiry failed when a statement keeps failing, after its retries, and runs no later table', async () => {
    const failing = tables[1]!;
    const result = await execute(asl, {}, { ...ok, [S.expire(failing)]: () => named('States.TaskFailed', 'ICEBERG_COMMIT_ERROR') });
    expect(result.status).toBe('FAILED');
    expect(result.visited.at(-1)).toBe(S.expiryFailed);
    expect(result.calls[S.expire(failing)]).toBe(4);
    expect(result.visited).not.toContain(S.expire(tables[2]!));
    expect(result.cause).toContain('ICEBERG_COMMIT_ERROR');
  });

  it('retries a statement that fails once (a concurrent Iceberg commit) and goes on', async () => {
    const flaky = tables[0]!;
    const result = await execute(asl, {}, { ...ok, [S.expire(flaky)]: (_input, call) => (call === 1 ? named('States.TaskFailed', 'ICEBERG_COMMIT_ERROR') : { QueryExecution: {} }) });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.calls[S.expire(flaky)]).toBe(2);
  });
});
