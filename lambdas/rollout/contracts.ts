/**
 * The canary rollout's data contracts: the execution input and what each Task state reads and writes
 * (ResultPaths named in the comments). The state machine (stepfunctions/canary-rollout.ts), the
 * Lambdas, the local engine and the tests share these. JSONPath only: the loop over steps keeps its
 * position in `$.progress`, advanced by a Lambda, not by variables.
 */
import * as z from '../shared/zod-mini';
import { rolloutTargetSchema } from '../../config/schema';

const isoInstant = z.iso.datetime({ offset: true });
const id = z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/));

/**
 * A Standard workflow's execution ARN, `arn:aws:states:<region>:<account>:execution:<state machine>:<name>`
 * (the local engine's `$$.Execution.Id` has region `local`). Names exclude `:` and whitespace, so the
 * last field is the execution name.
 */
export const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]+:[^:\s]+$/;
export const executionArnSchema = z.string().check(z.regex(EXECUTION_ARN, 'must be a Step Functions execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>)'));

/** The execution name in an execution ARN (its last field). */
export function executionNameOf(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}

/** StartExecution input: the registration the training pipeline handed over, and who asked. */
export const rolloutInputSchema = z.strictObject({
  targetModelId: z.string().check(z.minLength(1), z.maxLength(64)),
  modelPackageArn: z.string().check(z.minLength(1)),
  modelPackageVersion: z.number().check(z.int(), z.positive()),
  requestedBy: z.string().check(z.minLength(1), z.maxLength(256)),
});
export type RolloutInput = z.infer<typeof rolloutInputSchema>;

/** A model version as it serves: its registry package and its SageMaker variant or EKS backend. */
export const servingVersionSchema = z.strictObject({
  modelPackageArn: z.string(),
  modelPackageVersion: z.number().check(z.int(), z.positive()),
  /** SageMaker production variant name, or the EKS backendRef (service) name. */
  servingName: z.string().check(z.minLength(1)),
});
export type ServingVersion = z.infer<typeof servingVersionSchema>;

/**
 * `Validate rollout` -> `$.rollout`. Input: `{ input: $, executionName: $$.Execution.Name, executionArn:
 * $$.Execution.Id }`.
 */
export const rolloutPlanSchema = z.strictObject({
  rolloutId: id,
  /**
   * The execution that runs the rollout (or drill), so `sial rollout release` can ask Step Functions
   * about it without being told which state machine. Optional: plans and claims written before it was
   * recorded still parse; for those the CLI derives the ARN from the state machine's.
   */
  executionArn: z.optional(executionArnSchema),
  stage: z.string(),
  targetModelId: z.string(),
  modelFamily: z.string(),
  target: rolloutTargetSchema,
  /** What serves 100 % now; the rollout always ends with it at 100 % unless the candidate is promoted. */
  current: servingVersionSchema,
  candidate: servingVersionSchema,
  stepsPercent: z.array(z.number().check(z.int(), z.gte(1), z.lte(100))).check(z.minLength(1)),
  bakeSeconds: z.number().check(z.int(), z.positive()),
  checkIntervalSeconds: z.number().check(z.int(), z.positive()),
  /** The composite canary alarm of this model (its state decides a rollback). */
  alarmName: z.string().check(z.minLength(1)),
  requestedBy: z.string(),
  startedAt: isoInstant,
  /**
   * The candidate's eval gate comparison with production and its training lineage, from the registry,
   * for the deploy approvals. Validate rollout always sets it; optional so that a drill's plan and
   * claims written before it existed still parse.
   */
  evalEvidence: z.optional(z.record(z.string(), z.string())),
});
export type RolloutPlan = z.infer<typeof rolloutPlanSchema>;

/** `$.progress`: where the loop over steps is. Written by `Validate rollout` (index 0) and `Advance step`. */
export const rolloutProgressSchema = z.strictObject({
  /** Index into stepsPercent of the step being applied or baked. */
  index: z.number().check(z.int(), z.nonnegative()),
  /** stepsPercent[index]: the candidate's share during this step. */
  candidatePercent: z.number().check(z.int(), z.gte(0), z.lte(100)),
  /** 100 - candidatePercent, so integrations can use it directly. */
  currentPercent: z.number().check(z.int(), z.gte(0), z.lte(100)),
  /** When this step's weights were verified (the bake clock starts there). */
  stepStartedAt: z.nullable(isoInstant),
  /** True after the last step has baked. */
  done: z.boolean(),
});
export type RolloutProgress = z.infer<typeof rolloutProgressSchema>;

/** Traffic split between the two versions, in percent (they sum to 100). */
export const trafficWeightsSchema = z.strictObject({ currentPercent: z.number().check(z.int(), z.gte(0), z.lte(100)), candidatePercent: z.number().check(z.int(), z.gte(0), z.lte(100)) }).check(z.refine((w) => w.currentPercent + w.candidatePercent === 100, 'weights must sum to 100'));
export type TrafficWeights = z.infer<typeof trafficWeightsSchema>;

/** `Verify ... weights` -> `$.verified`. A mismatch throws `WeightsNotApplied` instead. */
export const weightsVerifiedSchema = z.strictObject({
  expected: trafficWeightsSchema,
  observed: trafficWeightsSchema,
  verifiedAt: isoInstant,
});

/** `Check canary` -> `$.check`. Input: `{ rollout: $.rollout, progress: $.progress }`. */
export const canaryCheckSchema = z.strictObject({
  alarmState: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  /** The rollback Lambda already acted for this rollout (alarm -> EventBridge), or the alarm is in ALARM. */
  rollBack: z.boolean(),
  /** Why, in words, when rollBack is true (the alarm's reason or the rollback record's). */
  reason: z.optional(z.string()),
  /** The step has baked for bakeSeconds since its weights were verified. */
  baked: z.boolean(),
  checkedAt: isoInstant,
});
export type CanaryCheck = z.infer<typeof canaryCheckSchema>;

/** `Roll back` -> `$.rollback`, and what the EventBridge-triggered rollback Lambda records. */
export const rollbackRecordSchema = z.strictObject({
  rolloutId: id,
  targetModelId: z.string(),
  reason: z.string(),
  /** Who acted first: the alarm's Lambda, or the state machine's own Roll back state. */
  by: z.enum(['alarm-lambda', 'state-machine']),
  /** When the breach was observed (alarm state change time) and when 100 % current was verified. */
  breachAt: z.nullable(isoInstant),
  verifiedAt: isoInstant,
  weights: trafficWeightsSchema,
});
export type RollbackRecord = z.infer<typeof rollbackRecordSchema>;

/** `Promote candidate` -> `$.promotion`. */
export const promotionSchema = z.strictObject({
  targetModelId: z.string(),
  current: servingVersionSchema,
  previous: servingVersionSchema,
  approvedModelPackageArn: z.string(),
  promotedAt: isoInstant,
});
export type Promotion = z.infer<typeof promotionSchema>;
