/**
 * State names of the training pipeline. They are a contract: the local engine overrides Task states by
 * name, the graph test walks them, and operators read them in the console. Rename only with all three.
 */
export const TRAINING_STATES = {
  validateRequest: 'Validate request',
  buildDataset: 'Build dataset',
  emitDatasetReady: 'Emit dataset ready',
  datasetOnly: 'Dataset only?',
  datasetBuilt: 'Dataset built',
  checkEligibility: 'Check eligibility',
  eligible: 'Eligible?',
  notifyNotEligible: 'Notify not eligible',
  notEligible: 'Not eligible',
  checkGpuBudget: 'Check GPU budget',
  withinBudget: 'Within budget?',
  prepareFinopsApproval: 'Prepare FinOps approval',
  requestFinopsApproval: 'Request FinOps approval',
  notifyFinopsRejected: 'Notify FinOps rejection',
  finopsRejected: 'Stopped by FinOps',
  prepareTrainingApproval: 'Prepare training approval',
  requestTrainingApproval: 'Request training approval',
  notifyTrainingRejected: 'Notify training rejection',
  trainingRejected: 'Training rejected',
  notifyApprovalExpired: 'Notify approval expired',
  approvalExpired: 'Approval expired',
  // The binding GPU budget: hold the estimate once approved, give back what is left however the run ends.
  approvedByFinops: 'Approved by FinOps?',
  reserveGpuBudget: 'Reserve GPU budget',
  budgetReserved: 'Budget reserved?',
  prepareFinopsApprovalOfReservation: 'Prepare FinOps approval of reservation',
  requestFinopsApprovalOfReservation: 'Request FinOps approval of reservation',
  reserveGpuBudgetApprovedByFinops: 'Reserve GPU budget approved by FinOps',
  releaseGpuReservation: 'Release GPU reservation',
  releaseGpuReservationAfterFailure: 'Release GPU reservation of failed run',
  // Job events (sial.job.updated) around each Batch job: before it, and after its hours are booked.
  emitTrainJobSubmitted: 'Emit training job submitted',
  emitTrainJobSucceeded: 'Emit training job succeeded',
  emitTrainJobFailed: 'Emit training job failed',
  emitEvalJobSubmitted: 'Emit eval job submitted',
  emitEvalJobSucceeded: 'Emit eval job succeeded',
  emitEvalJobFailed: 'Emit eval job failed',
  emitRouterJobSubmitted: 'Emit router job submitted',
  emitRouterJobSucceeded: 'Emit router job succeeded',
  emitRouterJobFailed: 'Emit router job failed',
  // Job records (the jobs table, `sial jobs`): each written right before the job event of the same moment.
  recordTrainJobSubmitted: 'Record training job submitted',
  recordTrainJobSucceeded: 'Record training job succeeded',
  recordTrainJobFailed: 'Record training job failed',
  recordEvalJobSubmitted: 'Record eval job submitted',
  recordEvalJobSucceeded: 'Record eval job succeeded',
  recordEvalJobFailed: 'Record eval job failed',
  recordRouterJobSubmitted: 'Record router job submitted',
  recordRouterJobSucceeded: 'Record router job succeeded',
  recordRouterJobFailed: 'Record router job failed',
  train: 'Train',
  recordGpuHours: 'Record GPU hours',
  recordGpuHoursAfterFailure: 'Record GPU hours of failed run',
  evaluate: 'Evaluate',
  recordEvalGpuHours: 'Record eval GPU hours',
  recordEvalGpuHoursAfterFailure: 'Record GPU hours of failed eval',
  // The router's CPU path (router targets): no GPU budget before the approval, a Fargate job after it.
  routerTarget: 'Router target?',
  routerNeedsNoGpuBudget: 'No GPU budget for a router',
  whichTrainer: 'Which trainer?',
  prepareRouterJob: 'Prepare router job',
  trainRouter: 'Train router',
  recordRouterCpuHours: 'Record router CPU hours',
  recordRouterCpuHoursAfterFailure: 'Record CPU hours of failed router run',
  checkEvalGate: 'Check eval gate',
  registerModel: 'Register model',
  emitModelRegistered: 'Emit model registered',
  notifyRegistered: 'Notify registered',
  handOverToRollout: 'Hand over to canary rollout',
  notifyFailure: 'Notify failure',
  failed: 'Pipeline failed',
} as const;

export type TrainingStateName = (typeof TRAINING_STATES)[keyof typeof TRAINING_STATES];

/** Errors the pipeline's Lambdas throw on purpose; Catch clauses and tests match on these names. */
export const PIPELINE_ERRORS = {
  /** Validate request: a managed closed model or a model the stage does not list (the scope rule). */
  requestRefused: 'RequestRefused',
  /** A human rejected an approval (training, FinOps or a deploy stage). */
  approvalRejected: 'ApprovalRejected',
  /** The eval gate failed; the cause carries the metrics. */
  evalGateFailed: 'EvalGateFailed',
} as const;
