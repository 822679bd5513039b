/**
 * SageMaker production variants as the canary uses them: the current version and the candidate are two
 * variants of the serving endpoint, and the split is their weights. Pure: names, splits and the
 * endpoint configuration that adds the candidate are computed here, the API calls are made by
 * lambdas/rollout/aws/sagemaker-traffic-router.ts and simulated by local/rollout/simulated-sagemaker-endpoint.ts.
 */
import { createHash } from 'node:crypto';
import type { RolloutPlan, TrafficWeights } from '../contracts';
import { percentSplit } from '../traffic/weights';

/** A variant as DescribeEndpoint reports it (ProductionVariants[]). */
export interface LiveVariant {
  readonly VariantName?: string | undefined;
  /** The weight that serves now. */
  readonly CurrentWeight?: number | undefined;
  /** The weight asked for by UpdateEndpointWeightsAndCapacities; differs from CurrentWeight while Updating. */
  readonly DesiredWeight?: number | undefined;
  readonly CurrentInstanceCount?: number | undefined;
}

/** A variant of an endpoint configuration (CreateEndpointConfig ProductionVariants[]); other fields are kept as they are. */
export interface ConfigVariant {
  readonly VariantName?: string | undefined;
  readonly InitialVariantWeight?: number | undefined;
  readonly InitialInstanceCount?: number | undefined;
}

/** SageMaker names (variants, models, endpoint configs): 1-63 of [a-zA-Z0-9-], starting and ending alphanumeric. */
export const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const MAX_NAME = 63;

function slug(value: string): string {
  return value.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
}

function shortHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 8);
}

/** Joins `prefix` and `suffix` with a dash, cutting the prefix so the result fits SageMaker's 63 characters. */
function fitName(prefix: string, suffix: string): string {
  const room = MAX_NAME - suffix.length - 1;
  const cut = slug(prefix.slice(0, room));
  return `${cut === '' ? 'sial' : cut}-${suffix}`;
}

/** The variant name of a model version on its endpoint: `<model>-v<version>` (e.g. `qwen3-4b-v7`). */
export function variantNameFor(targetModelId: string, version: number): string {
  return fitName(targetModelId, `v${version}`);
}

/**
 * The variant of a game-day self-canary: the current version's package on a second variant
 * (`<model>-v<version>-drill`), so it never collides with the variant that serves the version.
 */
export function drillVariantNameFor(targetModelId: string, version: number): string {
  return fitName(targetModelId, `v${version}-drill`);
}

/** True for a variant the loop created for this model (named by {@link variantNameFor} or {@link drillVariantNameFor}). */
export function isLoopVariant(variantName: string, targetModelId: string): boolean {
  const match = /-v(\d+)(-drill)?$/.exec(variantName);
  if (match === null) return false;
  const version = Number(match[1]);
  return variantNameFor(targetModelId, version) === variantName || drillVariantNameFor(targetModelId, version) === variantName;
}

/**
 * The SageMaker model of a package: one per package (the ARN's hash tells two stages' packages of the
 * same model and version apart in one account), so a later rollout of the same package reuses it.
 */
export function modelNameFor(targetModelId: string, version: number, modelPackageArn: string): string {
  return fitName(`${targetModelId}-v${version}`, shortHash(modelPackageArn));
}

/** The endpoint configuration a rollout creates: one per rollout, so a retried deploy finds its own. */
export function endpointConfigNameFor(endpointName: string, rolloutId: string): string {
  return fitName(endpointName, `c${shortHash(rolloutId)}`);
}

/**
 * The split the endpoint serves between the plan's variants (CurrentWeight; a weight asked for but not
 * taken yet does not count). A candidate not on the endpoint has weight 0.
 *
 * @throws WeightsNotApplied when the current variant is missing or another variant carries traffic.
 */
export function variantSplit(variants: readonly LiveVariant[], plan: Pick<RolloutPlan, 'current' | 'candidate'>, where: string, expected?: TrafficWeights): TrafficWeights {
  const weightOf = (name: string): number | undefined => {
    const found = variants.find((v) => v.VariantName === name);
    return found === undefined ? undefined : (found.CurrentWeight ?? 0);
  };
  const names = new Set([plan.current.servingName, plan.candidate.servingName]);
  return percentSplit(
    {
      current: weightOf(plan.current.servingName),
      candidate: weightOf(plan.candidate.servingName) ?? 0,
      others: variants.filter((v) => !names.has(v.VariantName ?? '')).map((v) => ({ name: `variant ${v.VariantName ?? '?'}`, weight: v.CurrentWeight ?? 0 })),
    },
    where,
    expected,
  );
}

/** One entry of UpdateEndpointWeightsAndCapacities DesiredWeightsAndCapacities. */
export interface DesiredWeight {
  readonly VariantName: string;
  readonly DesiredWeight: number;
}

/**
 * The weights to ask for: the current variant at `currentPercent`, the candidate at `candidatePercent`,
 * every other variant that carries (or is asked to carry) traffic at 0. Empty when the endpoint already
 * serves exactly that and nothing else is pending, so a repeated request costs no update.
 *
 * @throws Error when the current variant is missing, or the candidate is missing and should get traffic.
 */
export function desiredWeightsFor(variants: readonly LiveVariant[], plan: Pick<RolloutPlan, 'current' | 'candidate'>, weights: TrafficWeights, where: string): DesiredWeight[] {
  const has = (name: string): boolean => variants.some((v) => v.VariantName === name);
  if (!has(plan.current.servingName)) throw new Error(`${where} has no variant ${plan.current.servingName} (the current version)`);
  if (!has(plan.candidate.servingName) && weights.candidatePercent > 0) {
    throw new Error(`${where} has no variant ${plan.candidate.servingName} (the candidate) to send ${weights.candidatePercent} % to; deploy it first`);
  }
  const wanted = (name: string): number =>
    name === plan.current.servingName ? weights.currentPercent : name === plan.candidate.servingName ? weights.candidatePercent : 0;
  const desired = variants
    .filter((v) => v.VariantName !== undefined)
    .filter((v) => v.VariantName === plan.current.servingName || v.VariantName === plan.candidate.servingName || (v.CurrentWeight ?? 0) > 0 || (v.DesiredWeight ?? 0) > 0)
    .map((v) => ({ VariantName: v.VariantName as string, DesiredWeight: wanted(v.VariantName as string) }));
  // Weights are relative: "already there" means the same proportions with nothing pending elsewhere.
  const settled = variants.every((v) => v.DesiredWeight === undefined || v.DesiredWeight === v.CurrentWeight);
  const total = variants.reduce((sum, v) => sum + (v.CurrentWeight ?? 0), 0);
  const matches =
    total > 0 && desired.every((d) => Math.abs((100 * (variants.find((v) => v.VariantName === d.VariantName)?.CurrentWeight ?? 0)) / total - d.DesiredWeight) < 1e-9);
  return settled && matches ? [] : desired;
}

/**
 * The production variants of the endpoint configuration that adds the candidate: every variant of the
 * configuration in use, with the weight and instance count it serves with now (UpdateEndpoint with
 * RetainAllVariantProperties false takes them from the new configuration, so they must be copied or
 * traffic would move), plus the candidate at weight 0. Earlier candidates of this model that serve
 * nothing are dropped: they would hold GPU instances and the endpoint's variant quota, and an older
 * version stays deployable through the registry and the deployment store, not through an idle variant.
 *
 * @throws Error when the configuration lacks the current variant.
 */
export function variantsWithCandidate<V extends ConfigVariant>(configVariants: readonly V[], live: readonly LiveVariant[], plan: Pick<RolloutPlan, 'targetModelId' | 'current' | 'candidate'>, candidate: V): V[] {
  if (!configVariants.some((v) => v.VariantName === plan.current.servingName)) {
    throw new Error(`the endpoint configuration in use has no variant ${plan.current.servingName} (the current version of ${plan.targetModelId})`);
  }
  const kept = configVariants
    .filter((v) => v.VariantName !== plan.candidate.servingName)
    .filter((v) => {
      const name = v.VariantName ?? '';
      const serving = live.find((l) => l.VariantName === name)?.CurrentWeight ?? 0;
      return name === plan.current.servingName || serving > 0 || !isLoopVariant(name, plan.targetModelId);
    })
    .map((v) => {
      const now = live.find((l) => l.VariantName === v.VariantName);
      return {
        ...v,
        InitialVariantWeight: now?.CurrentWeight ?? v.InitialVariantWeight,
        ...(v.InitialInstanceCount !== undefined && now?.CurrentInstanceCount !== undefined ? { InitialInstanceCount: now.CurrentInstanceCount } : {}),
      };
    });
  return [...kept, { ...candidate, InitialVariantWeight: 0 }];
}
