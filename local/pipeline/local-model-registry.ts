/**
 * LOCAL model registry for `npm run local` and the tests: a JSON file standing in for SageMaker Model
 * Registry, behind the same ModelRegistry port. Versions are numbered per group from 1, ARNs use the
 * `local` region and a zero account so nobody mistakes them for real ones, and a ClientToken-style
 * idempotency token returns the version it first created. Approving a version (the human step in
 * SageMaker Studio, or the rollout's `Promote candidate`) is `setApprovalStatus` of the ModelApprover port.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import {
  MODEL_APPROVAL_STATUSES,
  type ModelApprovalStatus,
  type ModelApprover,
  type ModelRegistry,
  type NewModelPackage,
  type RegisteredModelPackage,
} from '../../lambdas/pipeline/register-model/model-registry';

const storedPackageSchema = z.strictObject({
  arn: z.string(),
  groupName: z.string(),
  version: z.number().check(z.int(), z.positive()),
  approvalStatus: z.enum(MODEL_APPROVAL_STATUSES),
  createdAt: z.string(),
  description: z.string(),
  servingImageUri: z.string(),
  modelDataUrl: z.string(),
  metricsUri: z.optional(z.string()),
  metadata: z.record(z.string(), z.string()),
  idempotencyToken: z.optional(z.string()),
  approvalHistory: z.array(z.strictObject({ status: z.enum(MODEL_APPROVAL_STATUSES), at: z.string(), by: z.string() })),
});
type StoredPackage = z.infer<typeof storedPackageSchema>;

const registryFileSchema = z.strictObject({
  simulated: z.literal('local model registry: not SageMaker'),
  packages: z.array(storedPackageSchema),
});
type RegistryFile = z.infer<typeof registryFileSchema>;

/** The ARN a local package gets: shaped like SageMaker's so the same parsing works, and plainly local. */
export function localModelPackageArn(groupName: string, version: number): string {
  return `arn:aws:sagemaker:local:000000000000:model-package/${groupName}/${version}`;
}

/** The registry file of a local state directory (`npm run local` keeps it there; the CLI reads it). */
export function localModelRegistryFile(stateDir: string): string {
  return join(stateDir, 'model-registry.json');
}

export class LocalModelRegistry implements ModelRegistry, ModelApprover {
  /** @param file the registry's JSON file (created on first write). */
  constructor(
    private readonly file: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async listPackages(groupName: string, filter: { readonly approvalStatus?: ModelApprovalStatus } = {}): Promise<RegisteredModelPackage[]> {
    return this.read()
      .packages.filter((p) => p.groupName === groupName && (filter.approvalStatus === undefined || p.approvalStatus === filter.approvalStatus))
      .map(toRegistered);
  }

  async createPackage(pkg: NewModelPackage): Promise<{ arn: string; version: number }> {
    const state = this.read();
    const existing = state.packages.find((p) => p.idempotencyToken === pkg.idempotencyToken && p.groupName === pkg.groupName);
    if (existing !== undefined) return { arn: existing.arn, version: existing.version };
    const version = Math.max(0, ...state.packages.filter((p) => p.groupName === pkg.groupName).map((p) => p.version)) + 1;
    const at = this.clock().toISOString();
    const stored: StoredPackage = {
      arn: localModelPackageArn(pkg.groupName, version),
      groupName: pkg.groupName,
      version,
      approvalStatus: 'PendingManualApproval',
      createdAt: at,
      description: pkg.description,
      servingImageUri: pkg.servingImageUri,
      modelDataUrl: pkg.modelDataUrl,
      metricsUri: pkg.metricsUri,
      metadata: { ...pkg.metadata },
      idempotencyToken: pkg.idempotencyToken,
      approvalHistory: [{ status: 'PendingManualApproval', at, by: 'pipeline' }],
    };
    this.write({ ...state, packages: [...state.packages, stored] });
    return { arn: stored.arn, version };
  }

  /** Every version of every group (the erasure lineage reads them all). */
  async listAllPackages(): Promise<RegisteredModelPackage[]> {
    return this.read().packages.map(toRegistered);
  }

  /** Sets metadata entries on a version (SageMaker UpdateModelPackage CustomerMetadataProperties); others stay. */
  async setMetadata(arn: string, entries: Readonly<Record<string, string>>): Promise<void> {
    const state = this.read();
    const target = state.packages.find((p) => p.arn === arn);
    if (target === undefined) throw new Error(`local model registry: no model package ${arn}`);
    target.metadata = { ...target.metadata, ...entries };
    this.write(state);
  }

  /** Approves or rejects a version, as a human would in the registry or the rollout's promotion does. */
  async setApprovalStatus(arn: string, status: ModelApprovalStatus, by: string): Promise<void> {
    const state = this.read();
    const target = state.packages.find((p) => p.arn === arn);
    if (target === undefined) throw new Error(`local model registry: no model package ${arn}`);
    target.approvalStatus = status;
    target.approvalHistory.push({ status, at: this.clock().toISOString(), by });
    this.write(state);
  }

  private read(): RegistryFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { simulated: 'local model registry: not SageMaker', packages: [] };
      throw error;
    }
    return registryFileSchema.parse(JSON.parse(text));
  }

  /** Writes a temporary file and renames it, so an interrupted run never leaves half a registry. */
  private write(state: RegistryFile): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temporary, this.file);
  }
}

function toRegistered(p: StoredPackage): RegisteredModelPackage {
  return {
    arn: p.arn,
    groupName: p.groupName,
    version: p.version,
    approvalStatus: p.approvalStatus,
    createdAt: new Date(p.createdAt),
    ...(p.metricsUri === undefined ? {} : { metricsUri: p.metricsUri }),
    modelDataUrl: p.modelDataUrl,
    metadata: { ...p.metadata },
  };
}
