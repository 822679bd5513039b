/**
 * SIMULATED SageMaker endpoint for `npm run local`, the rollout simulation and the tests: production
 * variants with weights, an InService / Updating status driven by an injected clock, and the calls the
 * canary makes, in the SDK's shapes (`updateEndpointWeightsAndCapacities` for the `Set SageMaker
 * weights` state, `describeEndpoint`) and behind the rollout's ports (TrafficRouter,
 * CandidateVariantDeployer), with the same weight and variant rules as the real adapter
 * (lambdas/rollout/sagemaker/variants.ts).
 *
 * Like SageMaker, a weight update is asynchronous: DesiredWeight changes at once, CurrentWeight after
 * `weightUpdateSeconds`, and a second update while Updating is refused. `silentlyIgnoreWeightUpdates`
 * makes updates go through Updating and back to InService without the weights changing, the failure the
 * verify step exists for. Everything it reports is marked SIMULATED.
 */
import type { RolloutTarget } from '../../config/schema';
import type { RolloutPlan, TrafficWeights } from '../../lambdas/rollout/contracts';
import { TrafficTargetBusy } from '../../lambdas/rollout/errors';
import type { CandidateDeployment, CandidateVariantDeployer, EndpointStatusReport, TrafficRouter } from '../../lambdas/rollout/ports';
import { desiredWeightsFor, endpointConfigNameFor, modelNameFor, variantSplit, type LiveVariant } from '../../lambdas/rollout/sagemaker/variants';

/** Marks everything the simulation says. */
export const SIMULATED = '[SIMULATED]';

/** A variant the endpoint starts with. */
export interface SimulatedVariantSpec {
  readonly name: string;
  readonly weight: number;
  /** @default 1 */
  readonly instanceCount?: number;
}

export interface SimulatedSageMakerEndpointOptions {
  readonly endpointName: string;
  readonly variants: readonly SimulatedVariantSpec[];
  readonly clock: () => Date;
  /** Seconds from UpdateEndpointWeightsAndCapacities to the new CurrentWeight. @default 20 */
  readonly weightUpdateSeconds?: number;
  /** Seconds from UpdateEndpoint (candidate variant) to InService. @default 300 */
  readonly deploySeconds?: number;
}

interface VariantState {
  currentWeight: number;
  desiredWeight: number;
  instanceCount: number;
}

type Pending =
  | { readonly kind: 'weights'; readonly completesAt: number; readonly ignored: boolean }
  | { readonly kind: 'deploy'; readonly completesAt: number; readonly variantName: string; readonly instanceCount: number; readonly endpointConfigName: string; readonly fails: boolean };

/** The SDK error SageMaker answers a refused call with (matched by name, as the adapter does). */
function validationException(message: string): Error {
  const error = new Error(message);
  error.name = 'ValidationException';
  return error;
}

export class SimulatedSageMakerEndpoint implements TrafficRouter, CandidateVariantDeployer {
  /** Every change, as a line a local run prints. */
  readonly events: string[] = [];
  /** When true, weight updates are accepted but never take (the endpoint returns to InService unchanged). */
  silentlyIgnoreWeightUpdates = false;
  /** When true, the next candidate deployment fails and the endpoint rolls back to its old variants. */
  failNextDeploy = false;

  private readonly variants = new Map<string, VariantState>();
  private pending: Pending | undefined;
  private endpointConfigName: string;
  private failureReason: string | undefined;
  private readonly weightUpdateMs: number;
  private readonly deployMs: number;

  constructor(private readonly options: SimulatedSageMakerEndpointOptions) {
    for (const v of options.variants) this.variants.set(v.name, { currentWeight: v.weight, desiredWeight: v.weight, instanceCount: v.instanceCount ?? 1 });
    this.endpointConfigName = `${options.endpointName}-initial`;
    this.weightUpdateMs = (options.weightUpdateSeconds ?? 20) * 1000;
    this.deployMs = (options.deploySeconds ?? 300) * 1000;
  }

  get endpointName(): string {
    return this.options.endpointName;
  }

  /** InService or Updating, after applying whatever the clock says has finished. */
  get status(): 'InService' | 'Updating' {
    this.advance();
    return this.pending === undefined ? 'InService' : 'Updating';
  }

  /** DescribeEndpoint, in the SDK's shape. */
  describeEndpoint(input: { EndpointName?: string } = {}): {
    EndpointName: string;
    EndpointArn: string;
    EndpointConfigName: string;
    EndpointStatus: 'InService' | 'Updating';
    ProductionVariants: Array<Required<Pick<LiveVariant, 'VariantName' | 'CurrentWeight' | 'DesiredWeight' | 'CurrentInstanceCount'>>>;
    FailureReason?: string;
    Simulated: string;
  } {
    this.checkName(input.EndpointName);
    const status = this.status;
    return {
      EndpointName: this.endpointName,
      EndpointArn: `arn:aws:sagemaker:local:000000000000:endpoint/${this.endpointName}`,
      EndpointConfigName: this.endpointConfigName,
      EndpointStatus: status,
      ProductionVariants: [...this.variants].map(([name, v]) => ({ VariantName: name, CurrentWeight: v.currentWeight, DesiredWeight: v.desiredWeight, CurrentInstanceCount: v.instanceCount })),
      ...(this.failureReason === undefined ? {} : { FailureReason: this.failureReason }),
      Simulated: `${SIMULATED} SageMaker endpoint ${this.endpointName}: not AWS`,
    };
  }

  /** UpdateEndpointWeightsAndCapacities, in the SDK's shape (the `Set SageMaker weights` state's input). */
  updateEndpointWeightsAndCapacities(input: { EndpointName?: string; DesiredWeightsAndCapacities?: ReadonlyArray<{ VariantName?: string; DesiredWeight?: number }> }): { EndpointArn: string } {
    this.checkName(input.EndpointName);
    if (this.status !== 'InService') throw validationException(`Cannot update in-progress endpoint "${this.endpointName}" ${SIMULATED}`);
    const desired = input.DesiredWeightsAndCapacities ?? [];
    if (desired.length === 0) throw validationException(`DesiredWeightsAndCapacities is empty ${SIMULATED}`);
    for (const d of desired) {
      if (d.VariantName === undefined || !this.variants.has(d.VariantName)) throw validationException(`The variant(s) "[${String(d.VariantName)}]" are not present in endpoint "${this.endpointName}" ${SIMULATED}`);
      if (d.DesiredWeight !== undefined && !(d.DesiredWeight >= 0)) throw validationException(`DesiredWeight must be >= 0 ${SIMULATED}`);
    }
    for (const d of desired) if (d.DesiredWeight !== undefined) this.variants.get(d.VariantName as string)!.desiredWeight = d.DesiredWeight;
    const ignored = this.silentlyIgnoreWeightUpdates;
    this.pending = { kind: 'weights', completesAt: this.now() + this.weightUpdateMs, ignored };
    this.log(`weights asked: ${desired.map((d) => `${d.VariantName}=${d.DesiredWeight}`).join(', ')}${ignored ? ' (will silently not take)' : ''}`);
    return { EndpointArn: `arn:aws:sagemaker:local:000000000000:endpoint/${this.endpointName}` };
  }

  async readWeights(target: RolloutTarget, plan: RolloutPlan): Promise<TrafficWeights> {
    this.checkTarget(target);
    return variantSplit(this.describeEndpoint().ProductionVariants, plan, `${SIMULATED} endpoint ${this.endpointName}`);
  }

  async setWeights(target: RolloutTarget, plan: RolloutPlan, weights: TrafficWeights): Promise<void> {
    this.checkTarget(target);
    const described = this.describeEndpoint();
    if (described.EndpointStatus !== 'InService') throw new TrafficTargetBusy(`${SIMULATED} endpoint ${this.endpointName} is ${described.EndpointStatus}`);
    const desired = desiredWeightsFor(described.ProductionVariants, plan, weights, `${SIMULATED} endpoint ${this.endpointName}`);
    if (desired.length > 0) this.updateEndpointWeightsAndCapacities({ EndpointName: this.endpointName, DesiredWeightsAndCapacities: desired });
  }

  async deployCandidateVariant(plan: RolloutPlan): Promise<CandidateDeployment> {
    if (plan.target.kind !== 'sagemaker') throw new Error(`${SIMULATED} endpoint was given a ${plan.target.kind} rollout`);
    this.checkName(plan.target.endpointName);
    const variantName = plan.candidate.servingName;
    const endpointConfigName = endpointConfigNameFor(this.endpointName, plan.rolloutId);
    const result = (status: CandidateDeployment['status']): CandidateDeployment => ({
      endpointName: this.endpointName,
      variantName,
      modelName: modelNameFor(plan.targetModelId, plan.candidate.modelPackageVersion, plan.candidate.modelPackageArn),
      endpointConfigName,
      status,
    });
    if (this.variants.has(variantName)) return result('in-place');
    if (this.pending?.kind === 'deploy' && this.pending.endpointConfigName === endpointConfigName) return result('updating');
    if (this.status !== 'InService') throw new TrafficTargetBusy(`${SIMULATED} endpoint ${this.endpointName} is Updating`);
    this.failureReason = undefined;
    this.pending = { kind: 'deploy', completesAt: this.now() + this.deployMs, variantName, instanceCount: plan.target.initialInstanceCount, endpointConfigName, fails: this.failNextDeploy };
    this.failNextDeploy = false;
    this.log(`adding variant ${variantName} at weight 0 (${plan.target.instanceType} x ${plan.target.initialInstanceCount}), config ${endpointConfigName}`);
    return result('updating');
  }

  async endpointStatus(plan: RolloutPlan): Promise<EndpointStatusReport> {
    const described = this.describeEndpoint();
    const candidateDeployed = this.variants.has(plan.candidate.servingName);
    return {
      endpointName: this.endpointName,
      status: described.EndpointStatus,
      inService: described.EndpointStatus === 'InService' && candidateDeployed,
      failed: described.EndpointStatus === 'InService' && !candidateDeployed && this.failureReason !== undefined,
      candidateDeployed,
      ...(this.failureReason === undefined ? {} : { failureReason: this.failureReason }),
    };
  }

  /** The split between two named variants right now (for a simulation's report). */
  split(currentVariant: string, candidateVariant: string): { current: number; candidate: number } {
    this.advance();
    const total = [...this.variants.values()].reduce((sum, v) => sum + v.currentWeight, 0);
    const share = (name: string): number => (total === 0 ? 0 : Math.round((100 * (this.variants.get(name)?.currentWeight ?? 0)) / total));
    return { current: share(currentVariant), candidate: share(candidateVariant) };
  }

  private advance(): void {
    const pending = this.pending;
    if (pending === undefined || this.now() < pending.completesAt) return;
    this.pending = undefined;
    if (pending.kind === 'weights') {
      for (const v of this.variants.values()) {
        if (pending.ignored) v.desiredWeight = v.currentWeight;
        else v.currentWeight = v.desiredWeight;
      }
      this.log(pending.ignored ? 'weight update finished WITHOUT taking (simulated fault)' : `weights now ${[...this.variants].map(([n, v]) => `${n}=${v.currentWeight}`).join(', ')}`);
      return;
    }
    if (pending.fails) {
      this.failureReason = `${SIMULATED} variant ${pending.variantName} failed its health check; endpoint rolled back to its previous configuration`;
      this.log(this.failureReason);
      return;
    }
    this.variants.set(pending.variantName, { currentWeight: 0, desiredWeight: 0, instanceCount: pending.instanceCount });
    this.endpointConfigName = pending.endpointConfigName;
    this.log(`variant ${pending.variantName} InService at weight 0`);
  }

  private now(): number {
    return this.options.clock().getTime();
  }

  private log(message: string): void {
    this.events.push(`${SIMULATED} ${this.options.clock().toISOString()} SageMaker endpoint ${this.endpointName}: ${message}`);
  }

  private checkName(name: string | undefined): void {
    if (name !== undefined && name !== this.endpointName) throw validationException(`Could not find endpoint "${name}" ${SIMULATED} (this is ${this.endpointName})`);
  }

  private checkTarget(target: RolloutTarget): void {
    if (target.kind !== 'sagemaker') throw new Error(`${SIMULATED} endpoint was given a ${target.kind} target`);
    this.checkName(target.endpointName);
  }
}
