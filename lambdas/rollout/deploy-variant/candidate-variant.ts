/**
 * `Deploy candidate variant` and `Check endpoint status` (SageMaker targets only): the candidate joins
 * the serving endpoint as a second production variant at weight 0, and the state machine waits until
 * the endpoint is InService with it before the first step moves traffic.
 */
import * as z from '../../shared/zod-mini';
import { rolloutPlanSchema, type RolloutPlan } from '../contracts';
import type { CandidateDeployment, CandidateVariantDeployer, EndpointStatusReport } from '../ports';

/** `{ rollout: $.rollout }`. */
export const candidateVariantEventSchema = z.object({ rollout: rolloutPlanSchema });

/** `Deploy candidate variant` -> `$.deployment`. */
export const candidateDeploymentSchema = z.strictObject({
  endpointName: z.string(),
  variantName: z.string(),
  modelName: z.string(),
  endpointConfigName: z.string(),
  status: z.enum(['updating', 'in-place']),
});

/** `Check endpoint status` -> `$.endpoint`; `Endpoint in service?` reads `inService` and `failed`. */
export const endpointStatusReportSchema = z.strictObject({
  endpointName: z.string(),
  status: z.string(),
  inService: z.boolean(),
  failed: z.boolean(),
  candidateDeployed: z.boolean(),
  failureReason: z.optional(z.string()),
});

function sageMakerPlan(event: unknown): RolloutPlan {
  const { rollout } = candidateVariantEventSchema.parse(event);
  if (rollout.target.kind !== 'sagemaker') throw new Error(`rollout ${rollout.rolloutId} targets ${rollout.target.kind}: there is no SageMaker variant to deploy`);
  return rollout;
}

/** Adds the candidate variant at weight 0 (idempotent per rollout). */
export async function deployCandidate(event: unknown, deployer: CandidateVariantDeployer): Promise<CandidateDeployment> {
  return candidateDeploymentSchema.parse(await deployer.deployCandidateVariant(sageMakerPlan(event)));
}

/** The endpoint's status for the wait loop. */
export async function checkEndpoint(event: unknown, deployer: CandidateVariantDeployer): Promise<EndpointStatusReport> {
  return endpointStatusReportSchema.parse(await deployer.endpointStatus(sageMakerPlan(event)));
}
