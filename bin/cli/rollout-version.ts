/**
 * What `sial rollout seed` records, checked the way the rollout will use it: a registered, not rejected
 * version of the model's package group in the stage's region (a rollback after promotion is a rollout
 * of a recorded version, and `Validate rollout` accepts only those), serving where the target kind
 * lets the rollout find it (a SageMaker variant the loop will not reuse for another version, or one of
 * the HTTPRoute's two configured backends).
 */
import { registryKeyOf, type StageConfig, type TargetModel } from '../../config/schema';
import { modelPackageGroupName } from '../../lambdas/pipeline/settings';
import { MODEL_METADATA, type ModelRegistry, type RegisteredModelPackage } from '../../lambdas/pipeline/register-model/model-registry';
import type { ServingVersion } from '../../lambdas/rollout/contracts';
import { drillVariantNameFor, isLoopVariant, SAGEMAKER_NAME, variantNameFor } from '../../lambdas/rollout/sagemaker/variants';

/** What the operator named: a version of the model's group or its package ARN (or both, checked against each other). */
export interface SeedVersionRequest {
  readonly packageArn?: string;
  readonly version?: number;
  readonly servingName?: string;
}

/** A refused seed: the message says what was received and what would be accepted. */
export class SeedRefused extends Error {
  override name = 'SeedRefused';
}

/** `arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>`, as `Validate rollout` reads it. */
function packageCoordinates(arn: string): { region: string; group: string; version: number } | undefined {
  const match = /^arn:aws[a-z-]*:sagemaker:([^:]*):\d{12}:model-package\/([^/]+)\/(\d+)$/.exec(arn);
  return match === null ? undefined : { region: match[1]!, group: match[2]!, version: Number(match[3]) };
}

/** Checks a package ARN against the group and region before anything is read. */
function checkArn(arn: string, group: string, request: SeedVersionRequest, region: string | undefined): void {
  const coordinates = packageCoordinates(arn);
  if (coordinates === undefined) throw new SeedRefused(`--package-arn "${arn}" is not a versioned SageMaker model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)`);
  if (coordinates.group !== group) throw new SeedRefused(`model package ${arn} is in group ${coordinates.group}; the rollout takes only versions of ${group}`);
  if (region !== undefined && coordinates.region !== region) throw new SeedRefused(`model package ${arn} is in ${coordinates.region}; the stage serves from ${region}`);
  if (request.version !== undefined && request.version !== coordinates.version) {
    throw new SeedRefused(`--version ${request.version} does not match the version in --package-arn (${coordinates.version})`);
  }
}

/** The registered package the request names. */
async function registeredPackage(model: TargetModel, group: string, request: SeedVersionRequest, registry: Pick<ModelRegistry, 'listPackages'>): Promise<RegisteredModelPackage> {
  const packages = await registry.listPackages(group);
  const found = packages.find((p) => (request.packageArn !== undefined ? p.arn === request.packageArn : p.version === request.version));
  if (found === undefined) {
    const named = request.packageArn ?? `version ${String(request.version)}`;
    const versions = packages.map((p) => p.version).sort((a, b) => a - b);
    const has = versions.length === 0 ? 'has no versions' : `has versions ${versions.join(', ')}`;
    throw new SeedRefused(`${named} is not registered in ${group} (${has}); register the version that serves ${model.id} in that group first`);
  }
  if (found.approvalStatus === 'Rejected') throw new SeedRefused(`model package ${found.arn} is Rejected in the registry; a rejected version is never recorded as current`);
  const registeredFor = found.metadata[MODEL_METADATA.targetModelId];
  if (registeredFor !== undefined && registeredFor !== model.id) throw new SeedRefused(`model package ${found.arn} was registered for ${registeredFor}, not for ${model.id}`);
  return found;
}

/** Where the version serves, as the rollout of this target kind will look for it. */
function servingNameFor(model: TargetModel, version: number, requested: string | undefined): string {
  const target = model.rollout;
  if (target.kind === 'eks') {
    const name = requested ?? target.currentBackend;
    if (name !== target.currentBackend && name !== target.candidateBackend) {
      throw new SeedRefused(`--serving-name must be one of the two backends of HTTPRoute ${target.namespace}/${target.httpRouteName}: ${target.currentBackend} or ${target.candidateBackend}; received "${name}"`);
    }
    return name;
  }
  if (requested === undefined) throw new SeedRefused(`--serving-name is required for ${model.id}: the name of the production variant of endpoint ${target.endpointName} that serves it (e.g. AllTraffic)`);
  if (!SAGEMAKER_NAME.test(requested)) throw new SeedRefused(`--serving-name "${requested}" is not a SageMaker variant name (1-63 letters, digits and dashes)`);
  if (requested === drillVariantNameFor(model.id, version) || (isLoopVariant(requested, model.id) && requested !== variantNameFor(model.id, version))) {
    throw new SeedRefused(`variant ${requested} is a name the rollout gives another version of ${model.id} (version ${version} would serve as ${variantNameFor(model.id, version)}); name the variant that serves it`);
  }
  return requested;
}

/**
 * The version to record for `model`, looked up in the registry.
 *
 * @param region the region the package must be in; undefined locally (local ARNs say `local`).
 * @throws SeedRefused for anything the rollout would not accept as its current version.
 */
export async function seedVersion(stage: StageConfig, model: TargetModel, request: SeedVersionRequest, registry: Pick<ModelRegistry, 'listPackages'>, region: string | undefined): Promise<ServingVersion> {
  const group = modelPackageGroupName(stage.stage, registryKeyOf(model));
  if (request.packageArn !== undefined) checkArn(request.packageArn, group, request, region);
  const registered = await registeredPackage(model, group, request, registry);
  return { modelPackageArn: registered.arn, modelPackageVersion: registered.version, servingName: servingNameFor(model, registered.version, request.servingName) };
}
