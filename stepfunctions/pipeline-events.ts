/**
 * The EventBridge events the workflows emit for other systems (native `events:putEvents` tasks, no
 * Lambda). Every event's source is `sial.<stage>`, so a subscriber's rule picks one stage's events; the
 * detail type names what happened. Each detail type has a JSON Schema in docs/events/<detail type>.json.
 */
export const PIPELINE_EVENT_TYPES = {
  datasetReady: 'sial.dataset.ready',
  /** A run's Batch job was submitted, succeeded or failed (`status`). */
  jobUpdated: 'sial.job.updated',
  /** A model version was registered, promoted or rolled back (`action`). */
  modelUpdated: 'sial.model.updated',
  /** The daily operating reports (costs, confidence, regressions) of a day were written. */
  reportsReady: 'sial.reports.ready',
} as const;

export type PipelineEventType = (typeof PIPELINE_EVENT_TYPES)[keyof typeof PIPELINE_EVENT_TYPES];

/**
 * The jobs a run submits to Batch; each job's name is `<kind>-<runId>`, so a subscriber can match
 * Batch's own `aws.batch` state changes (RUNNABLE, RUNNING, ...) to a run.
 */
export const JOB_EVENT_KINDS = ['train', 'eval', 'train-router'] as const;
export type JobEventKind = (typeof JOB_EVENT_KINDS)[number];

/**
 * What the workflow itself sees of a job: it submits it, then `.sync` waits for the end. Batch's
 * intermediate states are not the workflow's to report (aws.batch events carry them).
 */
export const JOB_EVENT_STATUSES = ['submitted', 'succeeded', 'failed'] as const;
export type JobEventStatus = (typeof JOB_EVENT_STATUSES)[number];

/** What happened to a model version. */
export const MODEL_EVENT_ACTIONS = ['registered', 'promoted', 'rolled-back'] as const;
export type ModelEventAction = (typeof MODEL_EVENT_ACTIONS)[number];

/** The `source` of every event a stage emits. */
export function eventSourceOf(stage: string): string {
  return `sial.${stage}`;
}

/**
 * Why a `rolled-back` event's version was rolled back, when no canary alarm was the cause (then the
 * reason is the alarm's name): a step approval rejected (`operator`) or not decided in time, too few
 * candidate traces to judge it by twice its bake time, or a failure of the rollout itself.
 */
export const ROLLBACK_EVENT_REASONS = ['operator', 'approval-expired', 'insufficient-data', 'failure'] as const;
export type RollbackEventReason = (typeof ROLLBACK_EVENT_REASONS)[number];
