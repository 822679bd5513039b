/**
 * The outcomes a user must be able to trust, each reachable from the command line with
 * `sial local run --scenario NAME`. A scenario sets only what the simulation decides: the simulated
 * Batch's attempts and eval metrics, the month's GPU-hours already used, what the scripted approver
 * answers under --auto-approve, and the candidate's quality series during the canary. Everything else
 * (the gates, the dataset build, eligibility, budget arithmetic, the eval gate, the rollout and its
 * rollback) is the production code deciding on that input.
 */
import type { ApprovalKind, EvalMetrics } from '../lambdas/pipeline/contracts';
import type { ScriptedDecision } from './pipeline/scripted-approver';
import type { SimulatedBatchScenario } from './pipeline/simulated-batch';

export const SCENARIO_NAMES = ['healthy', 'regression', 'eval-fail', 'over-budget', 'spot-storm', 'game-day'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The candidate's eval metrics when it is as good as production or a little better. */
export const GOOD_CANDIDATE_METRICS: EvalMetrics = {
  faithfulness: 0.9,
  metrics: { answer_relevance: 0.87, context_precision: 0.82 },
  goldenSetVersion: 'local-golden-v1',
  examples: 200,
  meanAnswerChars: 190,
};

/** A candidate that answers less faithfully than the gate's floor allows. */
const WEAK_CANDIDATE_METRICS: EvalMetrics = { ...GOOD_CANDIDATE_METRICS, faithfulness: 0.78, metrics: { answer_relevance: 0.84, context_precision: 0.8 } };

/** A quality regression that shows only in production traffic, during the canary. */
export interface CanaryRegression {
  /** The step (0-based) during whose bake the candidate degrades. */
  readonly stepIndex: number;
  /** Canary checks into that step's bake before it degrades. */
  readonly afterChecks: number;
  /** Faithfulness of the current version and of the degraded candidate, as the gate scores live traces. */
  readonly currentFaithfulness: number;
  readonly candidateFaithfulness: number;
  /**
   * A router's regression is a misroute rate rising (local/router/router-scenario.ts): the same
   * arithmetic with the scores as 1 - misroute rate and the router's rise as the threshold.
   */
  readonly misroute?: { readonly current: number; readonly candidate: number; readonly threshold: number };
}

export interface Scenario {
  readonly name: ScenarioName;
  /** A few words for --help. */
  readonly brief: string;
  /** One sentence for the run's header. */
  readonly description: string;
  /** What the simulated Batch plays, given the job definition's attempts (the stage's `training.attempts`). */
  readonly batch: (jobAttempts: number) => SimulatedBatchScenario;
  /** What the scripted approver answers with --auto-approve. */
  readonly autoApprove: Readonly<Partial<Record<ApprovalKind, ScriptedDecision>>>;
  /**
   * GPU-hours already used this month before the run, as a share of what would leave too little room
   * for this run's estimate; undefined starts the month empty.
   */
  readonly monthUsedBeforeRun?: 'leaves-too-little';
  readonly regression?: CanaryRegression;
  /** Runs the game-day drill against the serving version instead of training. */
  readonly gameDay?: boolean;
  /** Whether --trainer real can play it (scenarios that script Batch or the canary cannot). */
  readonly realTrainer: boolean;
}

const HEALTHY_BATCH: SimulatedBatchScenario = {
  trainAttempts: ['spot-reclaim', 'success'],
  attemptHours: 1.5,
  totalSteps: 500,
  checkpointEvery: 50,
  evalMetrics: GOOD_CANDIDATE_METRICS,
};

const APPROVE_ALL = { train: 'approve', finops: 'approve', 'deploy-stage': 'approve' } as const;

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  healthy: {
    name: 'healthy',
    brief: 'promoted after one Spot reclaim (default)',
    description: 'one Spot reclaim resumed from its checkpoint, a candidate that passes the eval gate, a healthy canary: promoted',
    batch: () => HEALTHY_BATCH,
    autoApprove: APPROVE_ALL,
    realTrainer: true,
  },
  regression: {
    name: 'regression',
    brief: 'the canary alarm fires at 50 %: rolled back',
    description: 'the candidate passes the eval gate, then answers less faithfully at 50 % of the traffic: the canary alarm fires and traffic rolls back',
    batch: () => HEALTHY_BATCH,
    autoApprove: APPROVE_ALL,
    regression: { stepIndex: 1, afterChecks: 5, currentFaithfulness: 0.9, candidateFaithfulness: 0.78 },
    realTrainer: false,
  },
  'eval-fail': {
    name: 'eval-fail',
    brief: 'the eval gate refuses the candidate',
    description: 'the candidate scores below the faithfulness floor on the golden set: the eval gate refuses it and nothing is registered',
    batch: () => ({ ...HEALTHY_BATCH, trainAttempts: ['success'], evalMetrics: WEAK_CANDIDATE_METRICS }),
    autoApprove: APPROVE_ALL,
    realTrainer: false,
  },
  'over-budget': {
    name: 'over-budget',
    brief: 'FinOps is asked and declines: stopped',
    description: "the month's GPU-hours leave too little room for the run: FinOps is asked (the scripted approver declines) and nothing trains",
    batch: () => HEALTHY_BATCH,
    autoApprove: { ...APPROVE_ALL, finops: 'reject' },
    monthUsedBeforeRun: 'leaves-too-little',
    realTrainer: true,
  },
  'spot-storm': {
    name: 'spot-storm',
    brief: 'Spot reclaims on every attempt but the last: resumed, promoted',
    description: 'Spot reclaims every training attempt but the last, and the first eval attempt: each retry resumes from the newest checkpoint, every attempt is booked, and the run still promotes',
    // As many reclaims as the job definition's attempts leave room for: Batch's own retry rules decide.
    batch: (jobAttempts) => ({
      ...HEALTHY_BATCH,
      trainAttempts: [...Array.from({ length: Math.max(0, jobAttempts - 1) }, () => 'spot-reclaim' as const), 'success'],
      evalAttempts: jobAttempts > 1 ? ['spot-reclaim', 'success'] : ['success'],
    }),
    autoApprove: APPROVE_ALL,
    realTrainer: false,
  },
  'game-day': {
    name: 'game-day',
    brief: 'the rollback drill on the serving version, timed',
    description: 'no training: the game-day drill forces the canary alarm on the serving version and measures breach -> verified rollback against the bound',
    batch: () => HEALTHY_BATCH,
    autoApprove: APPROVE_ALL,
    gameDay: true,
    realTrainer: false,
  },
};

export function isScenarioName(value: string): value is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(value);
}
