/**
 * Fixtures of the rollout tests: the dev stage's settings and models, plans for both target kinds, a
 * virtual clock whose sleep moves time (so settle windows of minutes run in microseconds), and a
 * CloudWatch alarm state change event as EventBridge delivers it.
 */
import { dev } from '../../config/stages/dev';
import type { TargetModel } from '../../config/schema';
import { canaryAlarmName, modelPackageGroupName, pipelineSettingsFromStage, type PipelineSettings } from '../../lambdas/pipeline/settings';
import { rolloutPlanSchema, type RolloutPlan, type ServingVersion } from '../../lambdas/rollout/contracts';
import type { EksTarget } from '../../lambdas/rollout/eks/http-route';
import type { SettleOptions } from '../../lambdas/rollout/traffic/settle';

export const LAKE = { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' } as const;
export const settings: PipelineSettings = pipelineSettingsFromStage(dev, LAKE);

export const SAGEMAKER_MODEL: TargetModel = dev.targetModels.find((m) => m.rollout.kind === 'sagemaker')!;
export const EKS_MODEL: TargetModel = dev.targetModels.find((m) => m.rollout.kind === 'eks')!;
export const EKS_TARGET = EKS_MODEL.rollout as EksTarget;
export const GROUP = modelPackageGroupName('dev', 'qwen3');

export function packageArn(version: number, group = GROUP): string {
  return `arn:aws:sagemaker:us-east-1:123456789012:model-package/${group}/${version}`;
}

export function version(v: number, servingName: string): ServingVersion {
  return { modelPackageArn: packageArn(v), modelPackageVersion: v, servingName };
}

/** The dev stage's two state machines whose executions claim a model, as their ARNs name them. */
export const ROLLOUT_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:sial-dev-rollout';
export const GAME_DAY_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:sial-dev-game-day';

/** The ARN of execution `name` of `machine`. */
export function executionArnOf(name: string, machine = ROLLOUT_MACHINE): string {
  return `${machine.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** `executionName` and `executionArn` as a state passes them (`$$.Execution.Name`, `$$.Execution.Id`). */
export function executionContext(name: string, machine = ROLLOUT_MACHINE): { executionName: string; executionArn: string } {
  return { executionName: name, executionArn: executionArnOf(name, machine) };
}

/** A plan as Validate rollout makes it, for the SageMaker model (current v3 on `AllTraffic`, candidate v4). */
export function sageMakerPlan(overrides: Partial<RolloutPlan> = {}): RolloutPlan {
  return rolloutPlanSchema.parse({
    rolloutId: 'rollout-1',
    stage: 'dev',
    targetModelId: SAGEMAKER_MODEL.id,
    modelFamily: 'qwen3',
    target: SAGEMAKER_MODEL.rollout,
    current: version(3, 'AllTraffic'),
    candidate: version(4, 'qwen3-4b-v4'),
    stepsPercent: [10, 50, 100],
    bakeSeconds: 1800,
    checkIntervalSeconds: 10,
    alarmName: canaryAlarmName('dev', SAGEMAKER_MODEL.id),
    requestedBy: 'ml-approver@example.com',
    startedAt: '2026-05-04T10:00:00.000Z',
    ...overrides,
  });
}

/** A plan for the EKS model (current on its currentBackend, candidate on its candidateBackend). */
export function eksPlan(overrides: Partial<RolloutPlan> = {}): RolloutPlan {
  return rolloutPlanSchema.parse({
    ...sageMakerPlan(),
    rolloutId: 'rollout-eks-1',
    targetModelId: EKS_MODEL.id,
    target: EKS_MODEL.rollout,
    current: version(3, EKS_TARGET.currentBackend),
    candidate: version(4, EKS_TARGET.candidateBackend),
    alarmName: canaryAlarmName('dev', EKS_MODEL.id),
    ...overrides,
  });
}

/** Time that moves only when someone sleeps (or the test advances it). */
export class VirtualClock {
  private ms: number;
  constructor(start = '2026-05-04T10:00:00.000Z') {
    this.ms = new Date(start).getTime();
  }
  readonly now = (): Date => new Date(this.ms);
  readonly sleep = async (ms: number): Promise<void> => {
    this.ms += ms;
  };
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  settle(timeoutSeconds = 240, pollSeconds = 2): SettleOptions {
    return { clock: this.now, sleep: this.sleep, timeoutMs: timeoutSeconds * 1000, pollMs: pollSeconds * 1000 };
  }
}

/** A `CloudWatch Alarm State Change` event of a composite canary alarm, as EventBridge delivers it. */
export function alarmEvent(options: { alarmName: string; value?: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA'; timestamp?: string; time?: string }): Record<string, unknown> {
  const value = options.value ?? 'ALARM';
  const timestamp = options.timestamp ?? '2026-05-04T10:00:04.512+0000';
  return {
    version: '0',
    id: '2b5ba2a4-5e0b-6c1f-9d6e-7f3f4c2f2a11',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: options.time ?? '2026-05-04T10:00:05Z',
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${options.alarmName}`],
    detail: {
      alarmName: options.alarmName,
      state: {
        value,
        reason: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${options.alarmName}-faithfulness transitioned to ALARM at Monday 04 May, 2026 10:00:04 UTC`,
        reasonData: JSON.stringify({
          triggeringAlarms: [{ arn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${options.alarmName}-faithfulness`, state: { value: 'ALARM', timestamp } }],
        }),
        timestamp,
      },
      previousState: {
        value: 'OK',
        reason: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${options.alarmName}-faithfulness transitioned to OK at Monday 04 May, 2026 09:40:00 UTC`,
        reasonData: JSON.stringify({ triggeringAlarms: [] }),
        timestamp: '2026-05-04T09:40:00.001+0000',
      },
      configuration: {
        alarmRule: `ALARM("${options.alarmName}-faithfulness") OR ALARM("${options.alarmName}-misroute") OR ALARM("${options.alarmName}-errors") OR ALARM("${options.alarmName}-latency")`,
        description: 'canary alarm',
      },
    },
  };
}
