/**
 * The erasure workflow as synthesized: the ledger table, the erasure role's grants (exactly what the
 * workflow needs: VACUUM without s3:DeleteObject reports success and deletes nothing, so delete and
 * delete-version must both be there, on exactly the lake table prefixes), the alarms, cdk-nag, and the
 * state machine EXECUTED through its paths (the synthesized ASL, run locally with stubbed Tasks).
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { SUBJECT_TABLES } from '../../lambdas/shared/lake-tables';
import { ERASURE_STATES as S } from '../../stepfunctions/erasure';
import { renderAsl, stateMachineLogicalIds } from '../../stepfunctions/render-asl';
import { actionsOf, buildTestApp, resourcesOf, statementsOfRole, synthesizedStage } from '../helpers/app';
import { execute, named } from './asl-execution';

const built = synthesizedStage('dev');
const loopStack = built.loopStack;
const template = built.loopTemplate;
const erasureRole = loopStack.getLogicalId(loopStack.erasure.role.node.defaultChild as never);
const statements = statementsOfRole(template, erasureRole);

/** The S3 object ARNs (as resolved JSON) a set of statements grants `action` on. */
function objectResourcesOf(action: string): string[] {
  return statements.filter((s) => actionsOf(s).includes(action)).flatMap((s) => resourcesOf(s).map((r) => JSON.stringify(r))).sort();
}

describe('Erasure construct', () => {
  it('keeps the ledger encrypted with a customer managed key, with point-in-time recovery', () => {
    // Stateful, so in the data stack with the other records; the loop stack only references it.
    const props = built.template.toJSON().Resources[PINNED_LOGICAL_IDS.erasureLedgerTable].Properties;
    expect(props.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    expect(props.SSESpecification.KMSMasterKeyId).toBeDefined();
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.KeySchema).toEqual([{ AttributeName: 'erasureId', KeyType: 'HASH' }]);
  });

  it('grants the erasure role s3:DeleteObject AND s3:DeleteObjectVersion on exactly the lake table prefixes', () => {
    const expected = SUBJECT_TABLES.map((t) => t.table.name).sort();
    for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion']) {
      const resources = objectResourcesOf(action);
      // One resource per table, each the lake bucket's tables/<name>/*, and nothing else (no artifact prefix, no bucket-wide *).
      expect(resources).toHaveLength(expected.length);
      const prefixes = resources.map((r) => {
        expect(r).toContain('LakeBucketArn');
        const match = /"\/tables\/([a-z_]+)\/\*"/.exec(r);
        expect(match).not.toBeNull();
        return match![1]!;
      });
      expect(prefixes.sort()).toEqual(expected);
    }
    // Reading and writing the table files (Athena rewrites them) is on the same prefixes of the lake bucket.
    for (const action of ['s3:GetObject', 's3:PutObject']) {
      const lakeResources = objectResourcesOf(action).filter((r) => r.includes('LakeBucketArn'));
      expect(lakeResources.map((r) => /"\/tables\/([a-z_]+)\/\*"/.exec(r)?.[1]).sort()).toEqual(expected);
    }
    // Listing versions is bucket-level; nothing lists or deletes in another bucket or on *.
    const listVersions = statements.filter((s) => actionsOf(s).includes('s3:ListBucketVersions'));
    const listed = listVersions.flatMap(resourcesOf).map((r) => JSON.stringify(r));
    expect(listed).toHaveLength(1);
    expect(listed[0]).toContain('LakeBucketArn');
    expect(listed[0]).not.toContain('/');
  });

  it('would catch the gap: the same check on the role without s3:DeleteObject fails', () => {
    const tables = SUBJECT_TABLES.map((t) => t.table.name).sort();
    const gaps = (list: typeof statements): string[] =>
      ['s3:DeleteObject', 's3:DeleteObjectVersion'].filter((action) => {
        const granted = list.filter((s) => actionsOf(s).includes(action)).flatMap((s) => resourcesOf(s).map((r) => /"\/tables\/([a-z_]+)\/\*"/.exec(JSON.stringify(r))?.[1]));
        return JSON.stringify(granted.sort()) !== JSON.stringify(tables);
      });
    expect(gaps(statements)).toEqual([]);
    const withoutDelete = statements.map((s) => ({ ...s, Action: actionsOf(s).filter((a) => a !== 's3:DeleteObject') }));
    expect(gaps(withoutDelete)).toEqual(['s3:DeleteObject']);
  });

  it('holds nothing wider: no s3:* or service wildcard, no * resource except the actions without resource-level permissions', () => {
    for (const s of statements) {
      expect(actionsOf(s).filter((a) => a.endsWith(':*') || a === '*')).toEqual([]);
      if (resourcesOf(s).includes('*')) expect(actionsOf(s).every((a) => ['sagemaker:ListModelPackages', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords'].includes(a))).toBe(true);
    }
    const athena = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('athena:')));
    expect(JSON.stringify(athena.flatMap(resourcesOf))).toContain(':workgroup/');
    const glue = statements.filter((s) => actionsOf(s).includes('glue:UpdateTable'));
    const glueResources = JSON.stringify(glue.flatMap(resourcesOf));
    for (const { table } of SUBJECT_TABLES) expect(glueResources).toContain(`/${table.name}`);
    const sagemaker = statements.filter((s) => actionsOf(s).includes('sagemaker:UpdateModelPackage'));
    expect(JSON.stringify(sagemaker.flatMap(resourcesOf))).toContain(':model-package/');
    expect(statements.some((s) => actionsOf(s).includes('dynamodb:PutItem'))).toBe(true);
    expect(statements.some((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:Delete')))).toBe(false);
  });

  it('alarms on failed executions and on overdue requests, to the notifications topic, and checks the deadline daily', () => {
    const topic = { Ref: loopStack.getLogicalId(loopStack.approvals.notificationsTopic.node.defaultChild as never) };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ErasuresOverdue', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [topic] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExecutionsFailed', AlarmActions: [topic] });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 6 * * ? *)', State: 'ENABLED' });
    template.hasOutput('ErasureStateMachineArn', Match.anyValue());
  });

  it('passes cdk-nag with no unacknowledged finding', () => {
    const app = buildTestApp('dev', { nag: true });
    const errors = Annotations.fromStack(app.loopStack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(errors.map((e) => `${e.id}: ${String(e.entry.data)}`)).toEqual([]);
  });
});

describe('the erasure state machine, executed', () => {
  const asl = (() => {
    const json = template.toJSON() as unknown;
    const id = stateMachineLogicalIds(json).find((i) => i.startsWith('Erasure'))!;
    return renderAsl(json, id);
  })();
  const target = { kind: 'subject', subjectKey: `hmac-sha256:${'a'.repeat(64)}` };
  const run = { erasureId: 'er-20261204T000000Z-00000001', target };
  const ok = {
    [S.record]: () => run,
    [S.resolve]: () => ({ ...run, reached: { traceIds: ['t-1'], requests: [] }, files: { traces: ['tables/traces/data/a.parquet'] } }),
    [S.delete]: (input: unknown) => (input as { state: unknown }).state as never,
    [S.rewrite]: () => ({}),
    [S.vacuum]: () => ({}),
    [S.expireVersions]: () => ({ versionsDeleted: { traces: 2 } }),
    [S.verify]: () => ({ verified: true }),
    [S.lineage]: () => ({ datasets: [], versions: [] }),
  };

  it('runs every step in order, waits out the snapshot age before VACUUM, and ends Erased', async () => {
    const result = await execute(asl, { target }, ok);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).toEqual([S.receive, S.record, S.resolve, S.delete, S.rewrite, S.waitSnapshotAge, S.vacuum, S.expireVersions, S.verify, S.lineage, S.erased]);
    expect(result.inputs[S.record]).toMatchObject({ step: 'record', input: { target } });
    // Each later step gets the state the earlier ones built: the files recorded before the DELETE reach Verify.
    expect(result.inputs[S.verify]).toMatchObject({ step: 'verify', state: { erasureId: run.erasureId, files: { traces: ['tables/traces/data/a.parquet'] } } });
    const wait = asl.States[S.waitSnapshotAge] as { Seconds?: number };
    expect(wait.Seconds).toBeGreaterThan(300);
  });

  it('a failed step marks the ledger failed and notifies, then the execution fails', async () => {
    const result = await execute(asl, { target }, {
      ...ok,
      [S.vacuum]: () => named('AthenaQueryError', 'VACUUM failed'),
      [S.markFailed]: () => ({ recorded: true, erasureId: run.erasureId, error: 'AthenaQueryError' }),
      [S.notifyFailure]: () => ({}),
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('AthenaQueryError');
    expect(result.visited).toContain(S.markFailed);
    expect(result.visited.slice(-2)).toEqual([S.notifyFailure, S.failed]);
    expect(result.calls[S.vacuum]).toBe(4); // retried three times first
    expect(result.inputs[S.markFailed]).toMatchObject({ step: 'mark-failed', state: { erasureId: run.erasureId }, failure: { Error: 'AthenaQueryError' } });
    expect(result.visited).not.toContain(S.verify);
  });

  it('a request refused before it is recorded still notifies (the failure path has a state to pass)', async () => {
    const result = await execute(asl, { target: { kind: 'subject', subjectKey: 'raw-user-id' } }, {
      ...ok,
      [S.record]: () => named('ErasureInputError', 'target.subjectKey must be a keyed pseudonym'),
      [S.markFailed]: (input) => ({ recorded: false, state: input as never }),
      [S.notifyFailure]: () => ({}),
    });
    expect(result.status).toBe('FAILED');
    expect(result.inputs[S.markFailed]).toMatchObject({ state: {} });
    expect(result.visited.slice(-2)).toEqual([S.notifyFailure, S.failed]);
  });

  it('a verification that finds rows left fails through the same path', async () => {
    const result = await execute(asl, { target }, { ...ok, [S.verify]: () => named('ErasureNotVerified', 'rows left'), [S.markFailed]: () => ({ recorded: true }), [S.notifyFailure]: () => ({}) });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ErasureNotVerified');
    expect(result.visited).not.toContain(S.lineage);
  });
});
