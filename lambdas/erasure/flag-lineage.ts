/**
 * The lineage step shared by local mode and the stage's state machine: the report over the registry's
 * packages and the datasets, then the flag "trained on erased data" on every version it names (the
 * erasure ids in {@link ERASED_DATA_METADATA_KEY}, once each, so a re-run flags nothing twice).
 * Models are never deleted here (lineage.ts says why).
 */
import { MODEL_METADATA, type RegisteredModelPackage } from '../pipeline/register-model/model-registry';
import { protectedApprovedVersions } from '../pipeline/register-model/retention';
import { ERASED_DATA_METADATA_KEY, erasureLineage, type DatasetTraceList, type LineageReport } from './lineage';

/** The registry as the lineage step uses it: read every version, add metadata entries to one. */
export interface LineageRegistry {
  listAllPackages(): Promise<RegisteredModelPackage[]>;
  /** Sets the given metadata entries on a version; its other entries stay. */
  setMetadata(arn: string, entries: Readonly<Record<string, string>>): Promise<void>;
}

/** What of the stage config the report needs: which targets are routers, and the retention of each kind. */
export interface LineagePolicy {
  readonly routerTargetIds: ReadonlySet<string>;
  readonly retainApprovedModelVersions: number;
  readonly retainApprovedRouterVersions: number;
}

/**
 * Builds the report and flags the versions.
 *
 * @param datasetsOf the datasets to search, given the registry's packages (local mode: every manifest
 *   in the object store; AWS: the manifests of the runs that registered a version)
 */
export async function reportAndFlagLineage(
  registry: LineageRegistry,
  datasetsOf: (packages: readonly RegisteredModelPackage[]) => Promise<DatasetTraceList[]>,
  policy: LineagePolicy,
  erasedTraceIds: ReadonlySet<string>,
  erasure: string,
): Promise<LineageReport> {
  const packages = await registry.listAllPackages();
  const isRouter = (id: string): boolean => policy.routerTargetIds.has(id);
  const targetOf = (p: RegisteredModelPackage): string => p.metadata[MODEL_METADATA.targetModelId] ?? '';
  const protectedArns = new Set(
    [
      ...protectedApprovedVersions(packages.filter((p) => !isRouter(targetOf(p))), policy.retainApprovedModelVersions),
      ...protectedApprovedVersions(packages.filter((p) => isRouter(targetOf(p))), policy.retainApprovedRouterVersions),
    ].map((p) => p.arn),
  );
  const lineage = erasureLineage({ erasedTraceIds, datasets: await datasetsOf(packages), packages, isRouter, protectedArns });
  for (const version of [...lineage.models, ...lineage.routers]) {
    const pkg = packages.find((p) => p.arn === version.arn);
    const earlier = (pkg?.metadata[ERASED_DATA_METADATA_KEY] ?? '').split(' ').filter((id) => id !== '');
    if (!earlier.includes(erasure)) await registry.setMetadata(version.arn, { [ERASED_DATA_METADATA_KEY]: [...earlier, erasure].join(' ') });
  }
  return lineage;
}
