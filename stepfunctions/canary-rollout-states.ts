/**
 * State names of the canary rollout and the game day. A contract, like the training pipeline's: the
 * local engine overrides Task states by name, tests walk them, operators read them in the console.
 */
export const ROLLOUT_STATES = {
  validateRollout: 'Validate rollout',
  deployTarget: 'Deploy target?',
  deployCandidateVariant: 'Deploy candidate variant',
  describeCluster: 'Describe EKS cluster',
  waitForEndpoint: 'Wait for endpoint',
  checkEndpointStatus: 'Check endpoint status',
  endpointInService: 'Endpoint in service?',
  nextStep: 'Next step',
  prepareStepApproval: 'Prepare step approval',
  requestStepApproval: 'Request step approval',
  trafficTarget: 'Traffic target?',
  setSageMakerWeights: 'Set SageMaker weights',
  verifySageMakerWeights: 'Verify SageMaker weights',
  patchRouteWeights: 'Patch HTTPRoute weights',
  readRoute: 'Read HTTPRoute',
  planRoutePatch: 'Plan HTTPRoute patch',
  verifyRouteWeights: 'Verify HTTPRoute weights',
  waitBake: 'Bake',
  checkCanary: 'Check canary',
  canaryHealthy: 'Canary healthy?',
  advanceStep: 'Advance step',
  promote: 'Promote candidate',
  emitModelPromoted: 'Emit model promoted',
  notifyPromoted: 'Notify promoted',
  promoted: 'Promoted',
  rollBack: 'Roll back',
  rollbackReason: 'Rollback reason?',
  reasonAlarm: 'Reason: canary alarm',
  reasonOperator: 'Reason: operator',
  reasonApprovalExpired: 'Reason: approval expired',
  reasonInsufficientData: 'Reason: insufficient data',
  reasonFailure: 'Reason: failure',
  emitModelRolledBack: 'Emit model rolled back',
  notifyRolledBack: 'Notify rolled back',
  rolledBack: 'Rolled back',
  notifyRejected: 'Notify rollout rejected',
  rejected: 'Rollout rejected',
} as const;

export type RolloutStateName = (typeof ROLLOUT_STATES)[keyof typeof ROLLOUT_STATES];

export const GAME_DAY_STATES = {
  startDrill: 'Start drill',
  setSelfCanary: 'Set self canary',
  breachAlarm: 'Breach canary alarm',
  waitForRollback: 'Wait for rollback',
  checkRollback: 'Check rollback',
  rollbackVerified: 'Rollback verified?',
  recordDrill: 'Record drill',
  withinBound: 'Within bound?',
  drillPassed: 'Drill passed',
  drillFailed: 'Drill failed',
} as const;

export const ROLLOUT_ERRORS = {
  /** The traffic a step asked for is not what the endpoint or route reports. */
  weightsNotApplied: 'WeightsNotApplied',
  /** The canary alarm fired or the rollback Lambda acted: the execution ends as rolled back. */
  rolledBack: 'RolledBack',
} as const;
