/**
 * The monthly GPU-hour guardrail: access to the ledger table for the budget steps, and
 * a CloudWatch alarm on the share of the month's ceiling already used, notifying FinOps. The ledger
 * table is stateful (FinOps evidence) and comes from the data stack.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { GpuBudgetConfig } from '../../config/schema';
import { BUDGET_DIMENSION, BUDGET_METRIC } from '../../lambdas/pipeline/budget/budget-metrics';

/** Properties of {@link GpuBudget}. */
export interface GpuBudgetProps {
  /** Stage name: the metric's `Stage` dimension. */
  readonly stage: string;
  /** The ceiling and the alarm fraction (`config.gpuBudget`). */
  readonly gpuBudget: GpuBudgetConfig;
  /** The GPU-hour ledger (data stack), encrypted with a customer managed key. */
  readonly ledgerTable: dynamodb.ITable;
  /** Namespace the budget functions publish their EMF metrics in. */
  readonly metricsNamespace: string;
  /** Where the alarm goes (the FinOps topic). */
  readonly alarmTopic: sns.ITopic;

  /**
   * Period over which the alarm takes the highest published fraction. The budget steps publish only
   * when a run is proposed or booked, so a period is mostly empty; empty periods are not breaching.
   *
   * @default Duration.hours(1)
   */
  readonly alarmPeriod?: Duration;
}

/**
 * `GpuBudgetUsedFraction` (namespace from config, dimension `Stage`, published by
 * lambdas/pipeline/budget) >= `alarmAtFraction` raises an alarm to FinOps, once per crossing.
 */
export class GpuBudget extends Construct {
  /** The ledger table. */
  public readonly ledgerTable: dynamodb.ITable;
  /** The month's used share of the ceiling, 0-1, as the budget functions publish it. */
  public readonly usedFractionMetric: cloudwatch.Metric;
  /** The month's usage in GPU-hours. */
  public readonly usedGpuHoursMetric: cloudwatch.Metric;
  /** Alarm at `alarmAtFraction` of the ceiling. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: GpuBudgetProps) {
    super(scope, id);
    const { alarmAtFraction, monthlyCeilingGpuHours } = props.gpuBudget;
    if (!(alarmAtFraction > 0 && alarmAtFraction < 1)) {
      throw new Error(`GpuBudget: alarmAtFraction is ${alarmAtFraction}; expected a share of the ceiling strictly between 0 and 1`);
    }
    if (!(monthlyCeilingGpuHours > 0)) throw new Error(`GpuBudget: monthlyCeilingGpuHours is ${monthlyCeilingGpuHours}; expected a positive number`);
    if (props.ledgerTable.encryptionKey === undefined) throw new Error('GpuBudget: the ledger table has no customer managed key; expected one');
    this.ledgerTable = props.ledgerTable;

    const period = props.alarmPeriod ?? Duration.hours(1);
    const dimensionsMap = { [BUDGET_DIMENSION.stage]: props.stage };
    this.usedFractionMetric = new cloudwatch.Metric({
      namespace: props.metricsNamespace,
      metricName: BUDGET_METRIC.usedFraction,
      dimensionsMap,
      statistic: cloudwatch.Stats.MAXIMUM,
      period,
    });
    this.usedGpuHoursMetric = new cloudwatch.Metric({
      namespace: props.metricsNamespace,
      metricName: BUDGET_METRIC.usedGpuHours,
      dimensionsMap,
      statistic: cloudwatch.Stats.MAXIMUM,
      period,
    });

    this.alarm = new cloudwatch.Alarm(this, 'UsedFractionAlarm', {
      alarmDescription: `${props.stage}: the month's GPU-hours passed ${Math.round(alarmAtFraction * 100)} % of the ${monthlyCeilingGpuHours} GPU-h ceiling; runs that would cross it need a FinOps approval`,
      metric: this.usedFractionMetric,
      threshold: alarmAtFraction,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
  }

  /** `Check GPU budget` and `Check eligibility` (last trained): consistent reads of ledger items. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const items = iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem'], resourceArns: [this.ledgerTable.tableArn] });
    return items.combine(this.ledgerTable.encryptionKey!.grantDecrypt(grantee));
  }

  /** `Record GPU hours`: the booking transaction (conditional put of the run, ADD to months) and last-trained updates. */
  public grantRecord(grantee: iam.IGrantable): iam.Grant {
    const items = iam.Grant.addToPrincipal({
      grantee,
      // TransactWriteItems is authorized per item action: PutItem and UpdateItem.
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resourceArns: [this.ledgerTable.tableArn],
    });
    return items.combine(this.ledgerTable.encryptionKey!.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'));
  }
}
