/**
 * The canary rollout's ports. Domain modules depend on these only; the AWS adapters live in
 * lambdas/rollout/aws/ (SageMaker, the Kubernetes API of EKS, DynamoDB, CloudWatch) and the local ones
 * in local/rollout/ (simulated endpoint and route, in-memory store, settable alarm).
 */
import type { RolloutTarget } from '../../config/schema';
import type { RollbackRecord, RolloutPlan, ServingVersion, TrafficWeights } from './contracts';

/**
 * Moves and reads the traffic split between the plan's two versions on one kind of target: SageMaker
 * production-variant weights, or the backendRef weights of a Gateway API HTTPRoute. The versions are
 * named by `plan.current.servingName` and `plan.candidate.servingName` (variant or backend names).
 */
export interface TrafficRouter {
  /**
   * Asks for `weights`. Returns once the target accepted the request, not once it serves it: SageMaker
   * applies weights asynchronously, so only {@link readWeights} says what serves.
   *
   * @throws TrafficTargetBusy when the target cannot take a change now (an update in progress, a
   *   conflicting write); trying again shortly is right.
   */
  setWeights(target: RolloutTarget, plan: RolloutPlan, weights: TrafficWeights): Promise<void>;
  /**
   * What serves now, in percent of the target's traffic. A weight that has been asked for but has not
   * taken yet is not reported: the split is what requests see.
   *
   * @throws WeightsNotApplied when the traffic is not a split between the two versions (the current
   *   version is missing, or a third variant or backend carries traffic).
   */
  readWeights(target: RolloutTarget, plan: RolloutPlan): Promise<TrafficWeights>;
}

/** What serves as a target model's current version, and what can be rolled back to. */
export interface DeploymentState {
  readonly targetModelId: string;
  /** The version that serves 100 % outside a rollout. */
  readonly current: ServingVersion;
  /**
   * Versions kept deployable, newest first, `current` first: the retention rule (the last
   * `retainApprovedModelVersions`, at least 3). A rollback after promotion is a rollout of one of them.
   */
  readonly deployable: readonly ServingVersion[];
  /** Increases with every write; the optimistic-concurrency token of `promote`. */
  readonly revision: number;
  readonly updatedAt: string;
  /** The rollout that made `current` current, or `seed` for a version recorded by an operator. */
  readonly promotedBy: string;
}

/** A promotion: `next` becomes current if `expectedCurrentArn` still is. */
export interface PromoteRequest {
  readonly targetModelId: string;
  /** The package the rollout started from (plan.current); anything else current is a conflict. */
  readonly expectedCurrentArn: string;
  readonly next: ServingVersion;
  /** How many versions stay in `deployable` (settings.retainApprovedModelVersions). */
  readonly keep: number;
  readonly rolloutId: string;
  readonly at: Date;
}

/** `recordRollback`'s answer: whether this call wrote the record, and the record that stands. */
export interface RecordRollbackOutcome {
  readonly recorded: boolean;
  /** The first writer's record; this call's when `recorded` is true. */
  readonly record: RollbackRecord;
}

/** `setActiveRollout`'s answer: whether this plan holds the model now, and the plan that does. */
export interface ActiveRolloutClaim {
  readonly acquired: boolean;
  readonly active: RolloutPlan;
}

/**
 * Deployment state per target model (DynamoDB in AWS, memory or a file locally). Every write that two
 * actors could race on is conditional: the state machine and the alarm Lambda may roll back the same
 * rollout at the same moment, and two executions may try to promote.
 */
export interface DeploymentStore {
  /** The model's deployment, or undefined when none has been recorded yet (see `seedCurrent`). */
  getCurrent(targetModelId: string): Promise<DeploymentState | undefined>;
  /**
   * Records the version that serves a model before its first rollout (an operator's act: the loop cannot
   * know what the serving team deployed). Refuses with an Error when the model already has one.
   */
  seedCurrent(targetModelId: string, version: ServingVersion, at: Date): Promise<DeploymentState>;
  /**
   * Replaces a recorded current version that is wrong (an operator's correction, `sial rollout seed
   * --force`): writes what a seed writes (`version` current and the only deployable one, promoted by
   * `seed`) at the next revision, and only if the stored revision still is `expectedRevision`.
   *
   * @throws Error when the model has no state, or it changed since the caller read `expectedRevision`.
   */
  reseedCurrent(targetModelId: string, version: ServingVersion, at: Date, expectedRevision: number): Promise<DeploymentState>;
  /**
   * Makes `request.next` current and keeps the previous versions deployable (newest first, `keep` in
   * all). A retry of the same promotion returns the stored state.
   *
   * @throws PromotionConflict when the current version is neither the expected one nor `next` promoted
   *   by the same rollout.
   */
  promote(request: PromoteRequest): Promise<DeploymentState>;
  /** Stores a rollout's rollback once: the first writer wins, later calls get the stored record. */
  recordRollback(record: RollbackRecord): Promise<RecordRollbackOutcome>;
  /** A rollout's rollback record, if it was rolled back. Strongly consistent. */
  getRollback(rolloutId: string): Promise<RollbackRecord | undefined>;
  /**
   * The model's most recent rollback (latest `verifiedAt`), if it ever had one. Rollbacks are kept by
   * rollout, not by model, so this reads every rollback record: for operators, never on a rollout's path.
   */
  latestRollback(targetModelId: string): Promise<RollbackRecord | undefined>;
  /**
   * Marks `plan` as the model's active rollout, so the alarm Lambda knows whom to roll back. Acquired when
   * no rollout is active or this same rollout is (a retry); otherwise the other rollout's plan is returned.
   */
  setActiveRollout(targetModelId: string, plan: RolloutPlan): Promise<ActiveRolloutClaim>;
  /** The model's active rollout, if any. Strongly consistent. */
  getActiveRollout(targetModelId: string): Promise<RolloutPlan | undefined>;
  /** Ends `rolloutId`'s hold on the model; false when it did not hold it (already cleared, or another's). */
  clearActiveRollout(targetModelId: string, rolloutId: string): Promise<boolean>;
}

/** CloudWatch alarm states. */
export const ALARM_STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
export type AlarmStateValue = (typeof ALARM_STATES)[number];

/** An alarm's state as CloudWatch reports it. */
export interface AlarmStatus {
  readonly state: AlarmStateValue;
  readonly reason: string;
  /** When the alarm last changed state. */
  readonly updatedAt: Date;
}

/** Reads an alarm's state (CloudWatch DescribeAlarms; a settable value locally). */
export interface AlarmReader {
  /** @throws Error when there is no such alarm: a missing canary alarm must stop a rollout, not pass it. */
  state(alarmName: string): Promise<AlarmStatus>;
}

/** Where a SageMaker candidate variant stands after `Deploy candidate variant`. */
export interface CandidateDeployment {
  readonly endpointName: string;
  readonly variantName: string;
  readonly modelName: string;
  readonly endpointConfigName: string;
  /** `updating`: UpdateEndpoint was called (now or by an earlier attempt); `in-place`: the variant was already on the endpoint. */
  readonly status: 'updating' | 'in-place';
}

/** The endpoint's state for the `Check endpoint status` loop. */
export interface EndpointStatusReport {
  readonly endpointName: string;
  /** SageMaker EndpointStatus (InService, Updating, Failed, ...). */
  readonly status: string;
  /** InService with the candidate variant on it: the weights can move. */
  readonly inService: boolean;
  /** Failed, or back in service without the candidate (the update rolled back): stop waiting. */
  readonly failed: boolean;
  readonly candidateDeployed: boolean;
  readonly failureReason?: string;
}

/** Puts the candidate on the serving endpoint as a second production variant at weight 0 (SageMaker only). */
export interface CandidateVariantDeployer {
  deployCandidateVariant(plan: RolloutPlan): Promise<CandidateDeployment>;
  endpointStatus(plan: RolloutPlan): Promise<EndpointStatusReport>;
}
