/**
 * The stateless stack of one stage: the training pipeline (functions, state machine, schedules), its
 * Batch GPU capacity, the approvals page and topics, the GPU budget alarm, and the canary rollout (its
 * alarms, functions, rollout and game-day state machines, alarm rollback), and the stage's dashboard.
 * Everything stateful it uses (lake, trace stream, artifact bucket, ledger, approvals and deployments
 * tables, model package groups) is passed in from the data stack as constructs; CDK turns those
 * references into stack exports.
 */
import * as path from 'node:path';
import { CfnOutput, CrossStackReferences, Fn, Lazy, ReferenceStrength, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { erasureDeadlineDays, isRouterTarget, type StageConfig, type TrainingConfig } from '../../config/schema';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { CONFIDENCE_SCORES_TABLE, FEEDBACK_TABLE, GATE_AUDIT_TABLE, JUDGMENTS_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import { pipelineSettingsFromStage, rewardScoringOf, type PipelineSettings } from '../../lambdas/pipeline/settings';
import { Approvals } from '../constructs/approvals';
import type { ArtifactStore } from '../constructs/artifact-store';
import { CanaryAlarms } from '../constructs/canary-alarms';
import { CanaryRollout } from '../constructs/canary-rollout';
import { GpuBudget } from '../constructs/gpu-budget';
import { JudgeCalibration } from '../constructs/judge-calibration';
import type { IcebergDeliveryStream } from '../constructs/iceberg-delivery-stream';
import type { ModelRegistry } from '../constructs/model-registry';
import { Observability } from '../constructs/observability';
import { AgentOperationsAlarms } from '../constructs/agent-operations-alarms';
import { OperatingReports } from '../constructs/operating-reports';
import { agentSlos } from '../../config/operations';
import type { PipelineTables } from '../constructs/pipeline-tables';
import { PROJECT_ROOT } from '../constructs/private/esm-function';
import type { TraceLake } from '../constructs/trace-lake';
import { TrainingCompute } from '../constructs/training-compute';
import { RouterTrainingCompute } from '../constructs/router-training-compute';
import { JudgeCuration } from '../constructs/judge-curation';
import { Erasure } from '../constructs/erasure';
import { DEFAULT_ROW_EXPIRY_SCHEDULE, RowExpiry } from '../constructs/row-expiry';
import { rowRetentionRules } from '../../lambdas/shared/row-retention';
import { curationSettingsFromStage } from '../../lambdas/judge/curation/settings';
import { TrainingPipeline } from '../constructs/training-pipeline';
import { denyRetentionBreakingActions } from '../constructs/retention-guard';

/** Properties of {@link LoopStack}. */
export interface LoopStackProps extends StackProps {
  /** The validated stage configuration. */
  readonly config: StageConfig;
  /** The trace lake (data stack). */
  readonly lake: TraceLake;
  /** The artifact bucket (data stack). */
  readonly artifacts: ArtifactStore;
  /** Ledger and approvals tables (data stack). */
  readonly pipelineTables: PipelineTables;
  /** Model package groups (data stack). */
  readonly modelRegistry: ModelRegistry;
  /** The trace delivery stream (data stack): the dashboard graphs its delivery. */
  readonly traceStream: IcebergDeliveryStream;
  /** The judgment stream (data stack): the judge's curation writes its judgments there. */
  readonly judgmentStream: IcebergDeliveryStream;
  /** The review delivery stream (data stack): the review page writes people's reviews to it. */
  readonly reviewStream: IcebergDeliveryStream;
  /** The stage's pseudonymisation key (data stack): reviewers are stored as keyed pseudonyms. */
  readonly pseudonymisationKey: secretsmanager.ISecret;

  /**
   * The stage's reward policy: the training and eval jobs score generated answers with it.
   *
   * @default - none (GRPO and eval jobs stop with exit 64)
   */
  readonly rewardPolicy?: RewardPolicy;

  /**
   * Folder of the trainer image built as an asset when `training.image.kind` is `asset`.
   *
   * @default <repository>/training
   */
  readonly trainingImageDirectory?: string;
}

/** Availability zones of the training VPC: always from `Fn::GetAZs`, so no context lookup ever runs. */
export const TRAINING_AZ_COUNT = 3;


/** The trainer image of a stage: the asset built from `directory`, or the configured URI. */
export function trainingImage(scope: Construct, image: TrainingConfig['image'], directory: string): ecs.ContainerImage {
  if (image.kind === 'asset') {
    // p5en/p5/g-family instances are x86_64; synth only stages the folder, `cdk deploy` builds it.
    return ecs.ContainerImage.fromAsset(directory, { platform: ecrAssets.Platform.LINUX_AMD64 });
  }
  // An ECR image is pulled with the execution role's grant; anything else is pulled as a public image.
  const ecrUri = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+?)(?::([A-Za-z0-9._-]+)|@(sha256:[0-9a-f]{64}))?$/.exec(image.uri);
  if (ecrUri === null) return ecs.ContainerImage.fromRegistry(image.uri);
  const [, account, region, repositoryName, tag, digest] = ecrUri;
  const stack = Stack.of(scope);
  const repository = ecr.Repository.fromRepositoryAttributes(scope, 'TrainingImageRepository', {
    repositoryName: repositoryName!,
    repositoryArn: `arn:${stack.partition}:ecr:${region}:${account}:repository/${repositoryName}`,
  });
  return ecs.ContainerImage.fromEcrRepository(repository, digest ?? tag ?? 'latest');
}

/** The loop stack of one stage. */
export class LoopStack extends Stack {
  /** PIPELINE_SETTINGS of every pipeline function. */
  public readonly pipelineSettings: PipelineSettings;
  /** VPC, Batch environments, queue, job definitions. */
  public readonly compute: TrainingCompute;
  /** CPU capacity and image of the stage's router targets; absent for a stage without one. */
  public readonly routerCompute?: RouterTrainingCompute;
  /** Signing secret, topics, approval page API. */
  public readonly approvals: Approvals;
  /** Ledger access and the 80 % alarm. */
  public readonly budget: GpuBudget;
  /** Functions, state machine, schedules. */
  public readonly pipeline: TrainingPipeline;
  /** The canary alarms of the stage's target models. */
  public readonly canaryAlarms: CanaryAlarms;
  /** Rollout functions, the rollout and game-day state machines, the alarm rollback and drill schedules. */
  public readonly rollout: CanaryRollout;
  /** The stage's CloudWatch dashboard. */
  public readonly observability: Observability;
  /** Per-agent latency SLO and daily cost anomaly alarms. */
  public readonly agentAlarms: AgentOperationsAlarms;
  /** The daily operating reports (costs, confidence, regressions) and their schedule. */
  public readonly operatingReports: OperatingReports;
  /** The judge's curation; absent for a stage without a judge. */
  public readonly judgeCuration?: JudgeCuration;
  /** Weekly review sample, review page, agreement report and its alarms. */
  public readonly judgeCalibration: JudgeCalibration;
  /** The erasure ledger, workflow and deadline alarm. */
  public readonly erasure: Erasure;
  /** The daily row expiry of the lake; absent when no table has a row retention. */
  public readonly rowExpiry?: RowExpiry;

  constructor(scope: Construct, id: string, props: LoopStackProps) {
    const { config, lake, artifacts, pipelineTables, modelRegistry, traceStream, judgmentStream, reviewStream, pseudonymisationKey, trainingImageDirectory, ...stackProps } = props;
    super(scope, id, {
      description: `Self-Improving Agent Loop loop stack (${config.stage}, ${config.dataBoundary} boundary): training pipeline, Batch GPU capacity, approvals, GPU budget, canary rollout, dashboard`,
      ...stackProps,
    });
    // Strong (Export/ImportValue): the data stack cannot drop a table, bucket or group this stack uses.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    // Every role of the loop (functions, state machines, jobs, SageMaker) may never remove a registered version.
    denyRetentionBreakingActions(this, artifacts.bucket.bucketArn);
    // Stateless: nothing here holds data that outlives a redeploy, but logs are audit evidence in production.
    const logRemovalPolicy = config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.pipelineSettings = pipelineSettingsFromStage(config, {
      databaseName: lake.databaseName,
      tracesTable: TRACES_TABLE.name,
      auditTable: GATE_AUDIT_TABLE.name,
      feedbackTable: FEEDBACK_TABLE.name,
      judgmentsTable: JUDGMENTS_TABLE.name,
    }, props.rewardPolicy === undefined ? undefined : rewardScoringOf(props.rewardPolicy));
    const registryNames = JSON.stringify(Object.entries(modelRegistry.groupNames).sort());
    const settingsNames = JSON.stringify(Object.entries(this.pipelineSettings.modelPackageGroups).sort());
    if (registryNames !== settingsNames) {
      throw new Error(`LoopStack: the model registry has groups ${registryNames} but the pipeline settings name ${settingsNames}; both must come from the same target models`);
    }

    this.compute = new TrainingCompute(this, 'TrainingCompute', {
      stage: config.stage,
      training: config.training,
      image: trainingImage(this, config.training.image, trainingImageDirectory ?? path.join(PROJECT_ROOT, 'training')),
      artifacts,
      rewardPolicy: props.rewardPolicy,
      network: config.training.network,
      maxAzs: TRAINING_AZ_COUNT,
      logRemovalPolicy,
    });

    const routers = config.targetModels.filter(isRouterTarget);
    if (routers.length > 0) {
      this.routerCompute = new RouterTrainingCompute(this, 'RouterTrainingCompute', {
        stage: config.stage,
        routers,
        vpc: this.compute.vpc,
        subnets: this.compute.subnets,
        artifacts,
        ...(trainingImageDirectory === undefined ? {} : { imageDirectory: trainingImageDirectory }),
        logRemovalPolicy,
      });
    }

    this.approvals = new Approvals(this, 'Approvals', {
      stage: config.stage,
      table: pipelineTables.approvalsTable,
      approverEmails: config.approvals.approverEmails,
      finopsEmails: config.approvals.finopsEmails,
      notificationEmails: config.approvals.notificationEmails,
      ...(config.approvals.approvers !== undefined ? { approvers: config.approvals.approvers } : {}),
      metricsNamespace: config.metricsNamespace,
      logRemovalPolicy,
    });

    this.budget = new GpuBudget(this, 'GpuBudget', {
      stage: config.stage,
      gpuBudget: config.gpuBudget,
      ledgerTable: pipelineTables.ledgerTable,
      metricsNamespace: config.metricsNamespace,
      alarmTopic: this.approvals.finopsTopic,
    });

    // The rollout reuses the pipeline's approval functions, and the pipeline's last state starts the
    // rollout: each needs the other while it is built. The pipeline gets the rollout state machine as a
    // reference whose ARN is produced at synthesis, once the rollout exists; CloudFormation sees a plain
    // Ref and no cycle, since nothing of the rollout refers to the pipeline's state machine.
    const rolloutStateMachineRef = sfn.StateMachine.fromStateMachineArn(
      this,
      'RolloutStateMachineRef',
      Lazy.string({ produce: () => this.rollout.stateMachine.stateMachineArn }),
    );

    this.pipeline = new TrainingPipeline(this, 'Pipeline', {
      stage: config.stage,
      settings: this.pipelineSettings,
      ...(config.lake.hashAgentIds === true ? { agentPseudonymisationKey: pseudonymisationKey } : {}),
      metricsNamespace: config.metricsNamespace,
      lake,
      artifacts,
      registry: modelRegistry,
      budget: this.budget,
      approvals: this.approvals,
      jobsTable: pipelineTables.jobsTable,
      compute: this.compute,
      ...(this.routerCompute === undefined ? {} : { routerCompute: this.routerCompute }),
      schedules: config.schedules,
      servingImageUri: config.training.servingImageUri,
      rolloutStateMachine: rolloutStateMachineRef,
      logRemovalPolicy,
    });

    const curationSettings =
      props.rewardPolicy === undefined
        ? undefined
        : curationSettingsFromStage(config, props.rewardPolicy, {
            databaseName: lake.databaseName,
            tracesTable: TRACES_TABLE.name,
            auditTable: GATE_AUDIT_TABLE.name,
            feedbackTable: FEEDBACK_TABLE.name,
            judgmentsTable: JUDGMENTS_TABLE.name,
          });
    if (curationSettings !== undefined) {
      this.judgeCuration = new JudgeCuration(this, 'JudgeCuration', {
        stage: config.stage,
        settings: curationSettings,
        lake,
        artifacts,
        workGroupName: this.pipeline.workGroup.name as string,
        judgmentStream,
        deliveryBufferSeconds: config.lake.delivery.bufferIntervalSeconds,
        timezone: config.schedules.timezone,
        schedulesEnabled: config.schedules.enabled,
        logRemovalPolicy,
      });
    }

    this.canaryAlarms = new CanaryAlarms(this, 'CanaryAlarms', {
      stage: config.stage,
      metricsNamespace: config.metricsNamespace,
      targetModelIds: config.targetModels.map((m) => m.id),
      alarms: config.canary.alarms,
      // A router rolls back at its own misroute rise (the threshold its eval gate used).
      misrouteRiseByModel: Object.fromEntries(config.targetModels.filter(isRouterTarget).map((m) => [m.id, m.maxMisrouteRise])),
    });
    this.rollout = new CanaryRollout(this, 'Rollout', {
      stage: config.stage,
      settings: this.pipelineSettings,
      metricsNamespace: config.metricsNamespace,
      deploymentsTable: pipelineTables.deploymentsTable,
      registry: modelRegistry,
      artifacts,
      approvals: this.approvals,
      approvalFunctions: { prepare: this.pipeline.functions.prepareApproval, request: this.pipeline.functions.requestApproval },
      alarms: this.canaryAlarms,
      servingImageUri: config.training.servingImageUri,
      ...(this.routerCompute === undefined ? {} : { routerImage: this.routerCompute.image }),
      timezone: config.schedules.timezone,
      logRemovalPolicy,
    });

    this.judgeCalibration = new JudgeCalibration(this, 'JudgeCalibration', {
      stage: config.stage,
      config: config.judgeCalibration,
      schedulesEnabled: config.schedules.enabled,
      timezone: config.schedules.timezone,
      queueTable: pipelineTables.reviewQueueTable,
      lake,
      reviewStream,
      pseudonymisationKey,
      ...(config.lake.hashAgentIds === true ? { hashedAgents: config.agents.map((a) => a.id) } : {}),
      artifacts,
      approvals: this.approvals,
      metricsNamespace: config.metricsNamespace,
      logRemovalPolicy,
    });

    this.agentAlarms = new AgentOperationsAlarms(this, 'AgentOperations', {
      stage: config.stage,
      metricsNamespace: config.metricsNamespace,
      slos: agentSlos(config.agents),
      costAnomalyStdDevs: config.operations.costAnomalyStdDevs,
      sloTopic: this.approvals.notificationsTopic,
      costTopic: this.approvals.finopsTopic,
    });

    // The models traces name that the stage knows (what it trains and what it prices): the only ones
    // whose confidence scores get metric series of their own.
    const operatingModels = [...new Set([...config.targetModels.map((m) => m.id), ...Object.keys(config.operations.modelPrices)])].sort();
    this.operatingReports = new OperatingReports(this, 'OperatingReports', {
      stage: config.stage,
      config: {
        stage: config.stage,
        lake: { ...this.pipelineSettings.lake, confidenceTable: CONFIDENCE_SCORES_TABLE.name },
        ...config.operations.regression,
        confidence: config.operations.confidence,
        agents: config.agents.map((a) => a.id),
        models: operatingModels,
        ...(config.lake.hashAgentIds === true ? { hashAgentIds: true } : {}),
      },
      ...(config.lake.hashAgentIds === true ? { agentPseudonymisationKey: pseudonymisationKey } : {}),
      lake,
      artifacts,
      workGroupName: this.pipeline.workGroup.name as string,
      metricsNamespace: config.metricsNamespace,
      topic: this.approvals.notificationsTopic,
      schedule: config.operations.reportSchedule,
      timezone: config.schedules.timezone,
      schedulesEnabled: config.schedules.enabled,
      logRemovalPolicy,
    });

    this.erasure = new Erasure(this, 'Erasure', {
      stage: config.stage,
      production: config.production,
      deadlineDays: erasureDeadlineDays(config),
      lake,
      artifacts,
      registry: modelRegistry,
      approvals: this.approvals,
      ledgerTable: pipelineTables.erasureLedgerTable,
      workGroupName: this.pipeline.workGroup.name as string,
      lineage: {
        modelPackageGroups: Object.values(modelRegistry.groupNames).sort(),
        routerTargetIds: routers.map((m) => m.id),
        retainApprovedModelVersions: config.retainApprovedModelVersions,
        retainApprovedRouterVersions: config.retainApprovedRouterVersions,
      },
      metricsNamespace: config.metricsNamespace,
      timezone: config.schedules.timezone,
      logRemovalPolicy,
    });

    const rowRetention = rowRetentionRules(config.lake.rowRetentionDays ?? {});
    if (rowRetention.length > 0) {
      this.rowExpiry = new RowExpiry(this, 'RowExpiry', {
        stage: config.stage,
        lake,
        artifacts,
        workGroupName: this.pipeline.workGroup.name as string,
        rules: rowRetention,
        schedule: config.schedules.rowExpiry ?? DEFAULT_ROW_EXPIRY_SCHEDULE,
        timezone: config.schedules.timezone,
        schedulesEnabled: config.schedules.enabled,
        failureTopic: this.approvals.notificationsTopic,
        logRemovalPolicy,
      });
    }

    this.observability = new Observability(this, 'Observability', {
      stage: config.stage,
      metricsNamespace: config.metricsNamespace,
      targetModelIds: config.targetModels.map((m) => m.id),
      canary: config.canary,
      canaryAlarms: this.canaryAlarms,
      budget: this.budget,
      stateMachines: { trainingPipeline: this.pipeline.stateMachine, rollout: this.rollout.stateMachine, gameDay: this.rollout.gameDayStateMachine },
      traceDeliveryStreamName: traceStream.deliveryStreamName,
      agents: {
        slos: agentSlos(config.agents),
        alarms: this.agentAlarms,
        costAnomalyStdDevs: config.operations.costAnomalyStdDevs,
        // What the reward holds unlisted agents to: the default SLO at p95.
        defaultSlo: { percentile: 'p95', targetMs: config.defaultLatencySloMs },
        models: operatingModels,
        reportsUri: artifacts.uriOf(artifacts.reportsPrefix),
      },
    });

    Tags.of(this).add('project', 'self-improving-agent-loop');
    Tags.of(this).add('stage', config.stage);
    Tags.of(this).add('data-boundary', config.dataBoundary);

    new CfnOutput(this, 'StateMachineArn', { value: this.pipeline.stateMachine.stateMachineArn, description: 'Training pipeline: start executions here (console, CLI, schedules)' });
    new CfnOutput(this, 'ApprovalPageBaseUrl', { value: this.approvals.pageBaseUrl, description: 'Approval links start with this URL (<base>approvals/<id>?exp=..&sig=..)' });
    new CfnOutput(this, 'JobQueueArn', { value: this.compute.jobQueue.jobQueueArn, description: 'Batch queue of the training and eval jobs' });
    new CfnOutput(this, 'RolloutStateMachineArn', { value: this.rollout.stateMachine.stateMachineArn, description: 'Canary rollout: started by the training pipeline for each registered model, or by hand' });
    new CfnOutput(this, 'GameDayStateMachineArn', { value: this.rollout.gameDayStateMachine.stateMachineArn, description: 'Game-day drill: start with { "targetModelId", "requestedBy" }' });
    if (this.rowExpiry !== undefined) {
      new CfnOutput(this, 'RowExpiryStateMachineArn', { value: this.rowExpiry.stateMachine.stateMachineArn, description: 'Row expiry of the lake tables (daily): start it by hand after fixing a failed run' });
    }
    new CfnOutput(this, 'ErasureStateMachineArn', { value: this.erasure.stateMachine.stateMachineArn, description: 'Erasure workflow: sial erase --subject|--session|--trace-id ... --state-machine <this>' });
    new CfnOutput(this, 'PseudonymisationKeySecretArn', { value: pseudonymisationKey.secretArn, description: 'The pseudonymisation key: sial erase --subject|--session reads it to pseudonymise the id before the execution starts' });
    new CfnOutput(this, 'DashboardUrl', { value: this.observability.dashboardUrl, description: `CloudWatch dashboard ${this.observability.dashboardName}: canary alarms and signals per model, per-agent traffic, cost, SLO and reports, ingest, pipeline executions, GPU budget, rollback seconds` });
    const eksTargets = config.targetModels.flatMap((m) => (m.rollout.kind === 'eks' ? [m.rollout] : []));
    if (eksTargets.length > 0) {
      // What each EKS cluster must grant before a rollout can move its traffic (docs/decisions.md).
      new CfnOutput(this, 'EksAccessPrincipals', {
        value: Fn.join(' ', this.rollout.eksClusterPrincipals.map((r) => r.roleArn)),
        description: `Give each of these roles an EKS access entry on ${[...new Set(eksTargets.map((t) => t.clusterName))].join(', ')} (Kubernetes group sial-canary-rollout), and bind that group to a Role allowing get and patch on httproutes.gateway.networking.k8s.io ${eksTargets.map((t) => `${t.namespace}/${t.httpRouteName}`).join(', ')}. The cluster endpoint must be public (Step Functions eks:call).`,
      });
    }
  }

  /**
   * Availability zones as `Fn::GetAZs` tokens, whatever the stack's environment: with a pinned account
   * CDK would otherwise look them up in the account (no context lookups: synthesis must work without credentials).
   */
  override get availabilityZones(): string[] {
    return Array.from({ length: TRAINING_AZ_COUNT }, (_, i) => Fn.select(i, Fn.getAzs()));
  }
}
