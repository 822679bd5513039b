/**
 * SageMaker adapter of the TrafficRouter and CandidateVariantDeployer ports: the current version and the
 * candidate are production variants of the serving endpoint (plan.current.servingName and
 * plan.candidate.servingName), and a step is UpdateEndpointWeightsAndCapacities. What serves is read from
 * DescribeEndpoint ProductionVariants[].CurrentWeight: while the endpoint is Updating, DesiredWeight
 * holds the weight asked for and CurrentWeight the one that still serves, so a weight that has not taken
 * reads as a mismatch until it has.
 *
 * IAM (on the endpoint, its configurations and the candidate's model): sagemaker:DescribeEndpoint and
 * UpdateEndpointWeightsAndCapacities for the router; for deployCandidateVariant also
 * DescribeEndpointConfig, CreateEndpointConfig, CreateModel, UpdateEndpoint, DescribeModelPackage on the
 * package group, and iam:PassRole of the SageMaker execution role.
 */
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput,
  type ProductionVariant,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { RolloutTarget } from '../../../config/schema';
import { errorName } from '../../pipeline/approvals/aws/error-name';
import type { RolloutPlan, TrafficWeights } from '../contracts';
import { TrafficTargetBusy } from '../errors';
import type { CandidateDeployment, CandidateVariantDeployer, EndpointStatusReport, TrafficRouter } from '../ports';
import { desiredWeightsFor, endpointConfigNameFor, modelNameFor, variantSplit, variantsWithCandidate } from '../sagemaker/variants';

type SageMakerTarget = Extract<RolloutTarget, { kind: 'sagemaker' }>;

/** Endpoint states in which a deployment has ended badly: waiting longer will not bring the candidate. */
const FAILED_STATES = new Set(['Failed', 'UpdateRollbackFailed', 'OutOfService', 'Deleting']);

/** SageMaker refuses a change to an endpoint whose update is in progress with a ValidationException. */
function isBusy(error: unknown): boolean {
  return errorName(error) === 'ValidationException' && /in[- ]progress|being updated|is (updating|creating|systemupdating|rollingback)/i.test((error as Error).message ?? '');
}

/** CreateModel / CreateEndpointConfig of a name that exists: an earlier attempt of the same deploy. */
function isAlreadyExisting(error: unknown): boolean {
  return errorName(error) === 'ValidationException' && /already exist/i.test((error as Error).message ?? '');
}

function sageMakerTarget(target: RolloutTarget): SageMakerTarget {
  if (target.kind !== 'sagemaker') throw new Error(`the SageMaker traffic router was given a ${target.kind} target`);
  return target;
}

/** Options of the adapter. */
export interface SageMakerTrafficRouterOptions {
  /** Role SageMaker assumes to run the candidate's model (SAGEMAKER_EXECUTION_ROLE_ARN); needed only to deploy. */
  readonly executionRoleArn?: string;
}

export class SageMakerTrafficRouter implements TrafficRouter, CandidateVariantDeployer {
  constructor(
    private readonly client: SageMakerClient,
    private readonly options: SageMakerTrafficRouterOptions = {},
  ) {}

  async readWeights(target: RolloutTarget, plan: RolloutPlan): Promise<TrafficWeights> {
    const { endpointName } = sageMakerTarget(target);
    const endpoint = await this.describe(endpointName);
    return variantSplit(endpoint.ProductionVariants ?? [], plan, `endpoint ${endpointName}`);
  }

  async setWeights(target: RolloutTarget, plan: RolloutPlan, weights: TrafficWeights): Promise<void> {
    const { endpointName } = sageMakerTarget(target);
    const endpoint = await this.describe(endpointName);
    if (endpoint.EndpointStatus !== 'InService') throw new TrafficTargetBusy(`endpoint ${endpointName} is ${String(endpoint.EndpointStatus)}; weights can change only when it is InService`);
    const desired = desiredWeightsFor(endpoint.ProductionVariants ?? [], plan, weights, `endpoint ${endpointName}`);
    if (desired.length === 0) return;
    try {
      await this.client.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: endpointName, DesiredWeightsAndCapacities: desired }));
    } catch (error) {
      if (isBusy(error)) throw new TrafficTargetBusy(`endpoint ${endpointName} refused the weights: ${(error as Error).message}`);
      throw error;
    }
  }

  /**
   * Adds the candidate as a production variant at weight 0: CreateModel from the model package, a new
   * endpoint configuration (the one in use, its variants at the weights and instance counts they serve
   * with now, plus the candidate), UpdateEndpoint. Repeating it for the same rollout finds its own
   * model, configuration and update instead of making new ones.
   *
   * @throws TrafficTargetBusy when the endpoint is updating for some other reason.
   */
  async deployCandidateVariant(plan: RolloutPlan): Promise<CandidateDeployment> {
    const target = sageMakerTarget(plan.target);
    const { endpointName } = target;
    const variantName = plan.candidate.servingName;
    const modelName = modelNameFor(plan.targetModelId, plan.candidate.modelPackageVersion, plan.candidate.modelPackageArn);
    const endpointConfigName = endpointConfigNameFor(endpointName, plan.rolloutId);
    const result = (status: CandidateDeployment['status']): CandidateDeployment => ({ endpointName, variantName, modelName, endpointConfigName, status });

    const endpoint = await this.describe(endpointName);
    if ((endpoint.ProductionVariants ?? []).some((v) => v.VariantName === variantName)) return result('in-place');
    if (endpoint.EndpointConfigName === endpointConfigName || endpoint.PendingDeploymentSummary?.EndpointConfigName === endpointConfigName) return result('updating');
    if (endpoint.EndpointStatus !== 'InService') throw new TrafficTargetBusy(`endpoint ${endpointName} is ${String(endpoint.EndpointStatus)}; the candidate variant is added only when it is InService`);
    if (endpoint.EndpointConfigName === undefined) throw new Error(`endpoint ${endpointName} reports no endpoint configuration`);
    const executionRoleArn = this.options.executionRoleArn;
    if (executionRoleArn === undefined) throw new Error('no SageMaker execution role is configured (SAGEMAKER_EXECUTION_ROLE_ARN): the candidate model cannot be created');

    const config = await this.client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName }));
    const configVariants = config.ProductionVariants ?? [];
    const currentVariant = configVariants.find((v) => v.VariantName === plan.current.servingName);
    if (currentVariant === undefined) throw new Error(`endpoint configuration ${endpoint.EndpointConfigName} has no variant ${plan.current.servingName} (the current version)`);

    await this.ignoreExisting(() =>
      this.client.send(
        new CreateModelCommand({
          ModelName: modelName,
          ExecutionRoleArn: executionRoleArn,
          PrimaryContainer: { ModelPackageName: plan.candidate.modelPackageArn },
          Tags: [{ Key: 'sial:targetModelId', Value: plan.targetModelId }],
        }),
      ),
    );
    // The candidate runs like the current version (health-check and download timeouts, volume, routing),
    // on the instance type and count the stage configures for it.
    const { ServerlessConfig: _s, CapacityReservationConfig: _c, InstancePools: _p, AcceleratorType: _a, ManagedInstanceScaling: _m, ...likeCurrent } = currentVariant;
    const candidate: ProductionVariant = { ...likeCurrent, VariantName: variantName, ModelName: modelName, InstanceType: target.instanceType as ProductionVariant['InstanceType'], InitialInstanceCount: target.initialInstanceCount };
    // Everything else of the configuration in use (data capture, KMS key, async and VPC settings) carries over.
    const { EndpointConfigName: _n, EndpointConfigArn: _arn, CreationTime: _t, ProductionVariants: _v, $metadata: _meta, ...carried } = config;
    await this.ignoreExisting(() =>
      this.client.send(
        new CreateEndpointConfigCommand({
          ...carried,
          EndpointConfigName: endpointConfigName,
          ProductionVariants: variantsWithCandidate(configVariants, endpoint.ProductionVariants ?? [], plan, candidate),
          Tags: [
            { Key: 'sial:rolloutId', Value: plan.rolloutId },
            { Key: 'sial:targetModelId', Value: plan.targetModelId },
          ],
        }),
      ),
    );
    try {
      await this.client.send(new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: endpointConfigName, RetainAllVariantProperties: false }));
    } catch (error) {
      if (isBusy(error)) throw new TrafficTargetBusy(`endpoint ${endpointName} refused the new configuration: ${(error as Error).message}`);
      throw error;
    }
    return result('updating');
  }

  async endpointStatus(plan: RolloutPlan): Promise<EndpointStatusReport> {
    const { endpointName } = sageMakerTarget(plan.target);
    const endpoint = await this.describe(endpointName);
    const status = String(endpoint.EndpointStatus ?? 'Unknown');
    const candidateDeployed = (endpoint.ProductionVariants ?? []).some((v) => v.VariantName === plan.candidate.servingName);
    // Back in service without the candidate and with a failure reason: the update was rolled back.
    const rolledBack = status === 'InService' && !candidateDeployed && endpoint.FailureReason !== undefined && endpoint.FailureReason !== '';
    return {
      endpointName,
      status,
      inService: status === 'InService' && candidateDeployed,
      failed: FAILED_STATES.has(status) || rolledBack,
      candidateDeployed,
      ...(endpoint.FailureReason === undefined || endpoint.FailureReason === '' ? {} : { failureReason: endpoint.FailureReason }),
    };
  }

  private describe(endpointName: string): Promise<DescribeEndpointOutput> {
    return this.client.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  }

  private async ignoreExisting(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      if (!isAlreadyExisting(error)) throw error;
    }
  }
}
