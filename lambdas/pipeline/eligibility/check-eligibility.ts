/**
 * `Check eligibility`: a run is proposed for approval only when the window holds enough
 * positive feedback and enough high-quality traces, and the model was not trained within the cooldown.
 * Each unmet rule becomes one sentence for the notification. Pure apart from the TrainingHistory port.
 */
import { eligibilityResultSchema, type DatasetManifest, type EligibilityResult, type ValidatedRequest } from '../contracts';
import type { Clock } from '../ports';
import type { PipelineSettings } from '../settings';
import type { TrainingHistory } from './training-history';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What checkEligibility needs. */
export interface CheckEligibilityDeps {
  readonly history: TrainingHistory;
  readonly settings: PipelineSettings;
  readonly clock: Clock;
}

/** Days, to one decimal place, for sentences. */
function days(ms: number): string {
  return (Math.floor((ms / DAY_MS) * 10) / 10).toFixed(1);
}

/**
 * The dataset must be the one built for this request, with the figures this stage's settings ask for;
 * anything else is a wiring error, not an ineligible run.
 */
function checkInput(request: ValidatedRequest, dataset: DatasetManifest, settings: PipelineSettings): void {
  if (dataset.targetModelId !== request.targetModelId || dataset.boundary !== request.boundary) {
    throw new Error(
      `dataset ${dataset.datasetId} was built for ${dataset.targetModelId} in ${dataset.boundary}, not for ${request.targetModelId} in ${request.boundary}`,
    );
  }
  const e = settings.eligibility;
  if (dataset.eligibility.positiveFeedbackWindowDays !== e.positiveFeedbackWindowDays || dataset.eligibility.highQualityReward !== e.highQualityReward) {
    throw new Error(
      `dataset ${dataset.datasetId} counted over ${dataset.eligibility.positiveFeedbackWindowDays} days with high quality at reward >= ${dataset.eligibility.highQualityReward}; ` +
        `this stage's eligibility settings say ${e.positiveFeedbackWindowDays} days and >= ${e.highQualityReward}: rebuild the dataset`,
    );
  }
}

/** Applies the eligibility rules to a built dataset. */
export async function checkEligibility(
  input: { request: ValidatedRequest; dataset: DatasetManifest },
  deps: CheckEligibilityDeps,
): Promise<EligibilityResult> {
  const { request, dataset } = input;
  const rules = deps.settings.eligibility;
  checkInput(request, dataset, deps.settings);
  const { positiveFeedback, highQualityTraces, positiveFeedbackWindowDays: windowDays, highQualityReward } = dataset.eligibility;
  const reasons: string[] = [];

  if (positiveFeedback < rules.minPositiveFeedback) {
    reasons.push(
      `Only ${positiveFeedback} positive feedback events in the last ${windowDays} days; at least ${rules.minPositiveFeedback} are needed.`,
    );
  }
  if (highQualityTraces < rules.minHighQualityTraces) {
    reasons.push(
      `Only ${highQualityTraces} high-quality traces (reward >= ${highQualityReward}) in the last ${windowDays} days; at least ${rules.minHighQualityTraces} are needed.`,
    );
  }

  // The rule holds per agent: one agent's feedback never makes another's traces trainable. The dataset
  // holds only eligible agents' traces; when no agent qualifies on its own, say which came closest.
  const agents = dataset.eligibility.agents;
  if (reasons.length === 0 && !agents.some((a) => a.eligible)) {
    const shown = [...agents]
      .sort((a, b) => b.positiveFeedback + b.highQualityTraces - (a.positiveFeedback + a.highQualityTraces))
      .slice(0, 5)
      .map((a) => `${a.agentId}: ${a.positiveFeedback} positive feedback, ${a.highQualityTraces} high-quality traces`);
    reasons.push(
      `No agent is eligible on its own figures (at least ${rules.minPositiveFeedback} positive feedback and ${rules.minHighQualityTraces} high-quality traces each in the last ${windowDays} days)` +
        (shown.length > 0 ? `; closest: ${shown.join('; ')}.` : '.'),
    );
  }

  const lastTrainedAt = await deps.history.lastTrainedAt(request.targetModelId);
  if (lastTrainedAt !== undefined && rules.cooldownDays > 0) {
    const now = deps.clock();
    const elapsed = now.getTime() - lastTrainedAt.getTime();
    const cooldownMs = rules.cooldownDays * DAY_MS;
    // Exactly cooldownDays after the last training is allowed again ("no training within N days").
    if (elapsed < cooldownMs) {
      const nextAllowed = new Date(lastTrainedAt.getTime() + cooldownMs).toISOString();
      const ago = elapsed >= 0 ? `${days(elapsed)} days ago` : 'in the future by this clock';
      reasons.push(
        `${request.targetModelId} was last trained at ${lastTrainedAt.toISOString()} (${ago}); models are trained at most once every ${rules.cooldownDays} days, so the next run is possible from ${nextAllowed}.`,
      );
    }
  }

  // Not one of the configured rules, but an approval to train on nothing would waste an approver's time and a job start.
  const examples = request.algorithm === 'router' ? (dataset.counts.routerRows ?? 0) : request.algorithm === 'dpo' ? dataset.counts.dpoPairs : dataset.counts.grpoGroups;
  if (examples === 0) {
    reasons.push(
      request.algorithm === 'router'
        ? 'The router dataset has no rows: no usable trace of an eligible agent in the window.'
        : request.algorithm === 'dpo'
          ? 'The dataset has no DPO pairs: no prompt had two completions whose rewards differ enough to prefer one.'
          : 'The dataset has no GRPO groups: no prompt had at least two completions in the window.',
    );
  }

  return eligibilityResultSchema.parse({
    eligible: reasons.length === 0,
    reasons,
    figures: {
      positiveFeedback,
      minPositiveFeedback: rules.minPositiveFeedback,
      highQualityTraces,
      minHighQualityTraces: rules.minHighQualityTraces,
      lastTrainedAt: lastTrainedAt === undefined ? null : lastTrainedAt.toISOString(),
      cooldownDays: rules.cooldownDays,
    },
  });
}
