/**
 * Iceberg table maintenance for every lake table, declared in the stack: Glue table optimizers for
 * compaction (Firehose commits small files every buffer interval), snapshot retention (old snapshots
 * expire, taking the files only they reference, so erased rows are physically gone) and orphan-file
 * deletion (files of failed commits). Glue runs them with one service role that may touch exactly the
 * lake tables' prefixes, their Glue entries, the lake key and the optimizers' own log groups.
 */
import type { CfnElement} from 'aws-cdk-lib';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TableMaintenanceConfig } from '../../config/schema';
import { acknowledgeWildcardResource, acknowledgeWildcardResourceToken } from './private/acknowledge';
import type { TraceLake } from './trace-lake';

/** Properties of {@link LakeTableMaintenance}. */
export interface LakeTableMaintenanceProps {
  /** The lake whose tables are maintained (every table it declares). */
  readonly lake: TraceLake;
  /** What runs and how long snapshots and orphan files are kept (`lake.tableMaintenance`). */
  readonly settings: TableMaintenanceConfig;
}

/** The three optimizer types Glue offers for Iceberg tables. */
export const TABLE_OPTIMIZER_TYPES = ['compaction', 'retention', 'orphan_file_deletion'] as const;
export type TableOptimizerType = (typeof TABLE_OPTIMIZER_TYPES)[number];

/** Log groups Glue's Iceberg optimizers write to. */
const OPTIMIZER_LOG_GROUPS = '/aws-glue/iceberg-*';

/** One optimizer of each type per lake table, and the role Glue runs them with. */
export class LakeTableMaintenance extends Construct {
  /** The role Glue assumes to run the optimizers. */
  public readonly role: iam.Role;
  /** The optimizers, by table name, then by type. */
  public readonly optimizers: Readonly<Record<string, Readonly<Record<TableOptimizerType, glue.CfnTableOptimizer>>>>;

  constructor(scope: Construct, id: string, props: LakeTableMaintenanceProps) {
    super(scope, id);
    const { lake, settings } = props;
    const { snapshotRetention, orphanFileDeletion } = settings;
    if (snapshotRetention.enabled && snapshotRetention.retentionDays > 30) {
      throw new Error(`LakeTableMaintenance: snapshotRetention.retentionDays is ${snapshotRetention.retentionDays}; erased rows must be physically gone within 30 days, so at most 30`);
    }
    const stack = Stack.of(this);
    const tableNames = Object.keys(lake.tables);
    if (tableNames.length === 0) throw new Error('LakeTableMaintenance: the lake declares no tables');

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'Glue table optimizers of the lake: compaction, snapshot retention, orphan-file deletion',
    });
    // Rewrites and deletes data and metadata files of the lake tables, and commits to them in Glue.
    lake.grantIcebergWrite(this.role, tableNames);
    // Orphan-file deletion lists the table prefixes.
    iam.Grant.addToPrincipal({ grantee: this.role, actions: ['s3:ListBucket'], resourceArns: [lake.bucket.bucketArn] });
    const logGroups = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: OPTIMIZER_LOG_GROUPS, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    iam.Grant.addToPrincipal({ grantee: this.role, actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resourceArns: [logGroups, `${logGroups}:*`] });

    const bucketResource = lake.bucket.node.defaultChild as CfnElement;
    for (const name of tableNames) {
      acknowledgeWildcardResource(this.role, bucketResource, 'Arn', `/${lake.tablesPrefix}${name}/*`, `Optimizers rewrite and delete the "${name}" table's generated data and metadata files; access is limited to its prefix.`);
    }
    acknowledgeWildcardResourceToken(this.role, logGroups, "Glue's Iceberg optimizers create their own log groups under /aws-glue/iceberg-*; nothing else.");
    acknowledgeWildcardResourceToken(this.role, `${logGroups}:*`, "Log streams inside Glue's own Iceberg optimizer log groups (/aws-glue/iceberg-*), which Glue names per run.");

    const optimizers: Record<string, Record<TableOptimizerType, glue.CfnTableOptimizer>> = {};
    for (const name of tableNames) {
      const table = lake.tables[name]!;
      const make = (type: TableOptimizerType, enabled: boolean, extra: Partial<glue.CfnTableOptimizer.TableOptimizerConfigurationProperty>): glue.CfnTableOptimizer => {
        const optimizer = new glue.CfnTableOptimizer(this, `${name}-${type}`, {
          catalogId: stack.account,
          databaseName: lake.databaseName,
          tableName: name,
          type,
          tableOptimizerConfiguration: { enabled, roleArn: this.role.roleArn, ...extra },
        });
        // After its table, and after the role's policy: Glue checks the role when the optimizer is created.
        optimizer.node.addDependency(table, this.role);
        return optimizer;
      };
      optimizers[name] = {
        compaction: make('compaction', settings.compaction, {}),
        retention: make('retention', snapshotRetention.enabled, {
          retentionConfiguration: {
            icebergConfiguration: {
              snapshotRetentionPeriodInDays: snapshotRetention.retentionDays,
              numberOfSnapshotsToRetain: snapshotRetention.minSnapshotsToKeep,
              cleanExpiredFiles: snapshotRetention.cleanExpiredFiles,
            },
          },
        }),
        orphan_file_deletion: make('orphan_file_deletion', orphanFileDeletion.enabled, {
          orphanFileDeletionConfiguration: {
            icebergConfiguration: { orphanFileRetentionPeriodInDays: orphanFileDeletion.orphanFileRetentionDays, location: lake.tableLocation(name) },
          },
        }),
      };
    }
    this.optimizers = optimizers;
  }
}
