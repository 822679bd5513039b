/**
 * Iceberg maintenance in the data stack: an optimizer of each type on every lake table, with the stage's
 * settings, run by a Glue role confined to the lake tables.
 */
import { loadStageConfig } from '../../config';
import { LAKE_TABLES } from '../../lambdas/shared/lake-tables';
import { TABLE_OPTIMIZER_TYPES } from '../../lib/constructs/lake-table-maintenance';
import { synthesizedStage, withoutRetentionDenies } from '../helpers/app';

describe('lake table maintenance (dev)', () => {
  const config = loadStageConfig('dev');
  const { template } = synthesizedStage('dev');
  const optimizers = Object.values(template.findResources('AWS::Glue::TableOptimizer')) as Array<{
    Properties: { TableName: string; Type: string; TableOptimizerConfiguration: Record<string, unknown> & { Enabled: boolean; RoleArn: unknown } };
  }>;

  test('every lake table gets compaction, snapshot retention and orphan-file deletion', () => {
    const pairs = optimizers.map((o) => `${o.Properties.TableName}:${o.Properties.Type}`).sort();
    expect(pairs).toEqual(LAKE_TABLES.flatMap((t) => TABLE_OPTIMIZER_TYPES.map((type) => `${t.name}:${type}`)).sort());
    expect(optimizers.every((o) => o.Properties.TableOptimizerConfiguration.Enabled === true)).toBe(true);
  });

  test('the settings come from the stage config', () => {
    const { snapshotRetention, orphanFileDeletion } = config.lake.tableMaintenance;
    const retention = optimizers.find((o) => o.Properties.TableName === 'traces' && o.Properties.Type === 'retention')!;
    expect(retention.Properties.TableOptimizerConfiguration.RetentionConfiguration).toEqual({
      IcebergConfiguration: {
        SnapshotRetentionPeriodInDays: snapshotRetention.retentionDays,
        NumberOfSnapshotsToRetain: snapshotRetention.minSnapshotsToKeep,
        CleanExpiredFiles: snapshotRetention.cleanExpiredFiles,
      },
    });
    const orphans = optimizers.find((o) => o.Properties.TableName === 'gate_audit' && o.Properties.Type === 'orphan_file_deletion')!;
    expect(orphans.Properties.TableOptimizerConfiguration.OrphanFileDeletionConfiguration).toEqual({
      IcebergConfiguration: { OrphanFileRetentionPeriodInDays: orphanFileDeletion.orphanFileRetentionDays, Location: expect.anything() as unknown },
    });
    expect(JSON.stringify(orphans.Properties.TableOptimizerConfiguration.OrphanFileDeletionConfiguration)).toContain('/tables/gate_audit/');
  });

  test('one Glue role runs them all, confined to the lake tables, their Glue entries, the key and its own logs', () => {
    const roleIds = new Set(optimizers.map((o) => JSON.stringify(o.Properties.TableOptimizerConfiguration.RoleArn)));
    expect(roleIds.size).toBe(1);
    const roles = template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'glue.amazonaws.com' } }] } } });
    expect(Object.keys(roles)).toHaveLength(1);
    const [roleId] = Object.keys(roles);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes(`"Ref":"${roleId}"`));
    const statements = withoutRetentionDenies(policies.flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }).Properties.PolicyDocument.Statement));
    const deletes = statements.filter((s) => [s.Action].flat().includes('s3:DeleteObject'));
    expect(deletes).toHaveLength(1);
    const deletable = JSON.stringify(deletes[0]!.Resource);
    for (const table of LAKE_TABLES) expect(deletable).toContain(`/tables/${table.name}/*`);
    expect(deletable).not.toContain('errors/');
    expect(JSON.stringify(statements)).toContain('/aws-glue/iceberg-*');
  });
});

describe('table maintenance settings', () => {
  test('every stage keeps snapshots well inside the 30-day erasure bound', () => {
    for (const stage of ['dev', 'prod-eu', 'prod-kr']) {
      const { snapshotRetention } = loadStageConfig(stage).lake.tableMaintenance;
      expect(snapshotRetention.enabled).toBe(true);
      expect(snapshotRetention.retentionDays).toBeLessThanOrEqual(30);
    }
  });

});
