/**
 * The AWS adapter of the ModelRegistry port: SageMaker Model Registry, one model package group per
 * model family (created by the loop stack, named by modelPackageGroupName). Listing describes each
 * version too, because ListModelPackages returns neither the metrics nor the customer metadata.
 */
import {
  CreateModelPackageCommand,
  DescribeModelPackageCommand,
  UpdateModelPackageCommand,
  paginateListModelPackages,
  type ModelPackageSummary,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { MODEL_APPROVAL_STATUSES, versionFromArn, type ModelApprovalStatus, type ModelApprover, type ModelRegistry, type NewModelPackage, type RegisteredModelPackage } from '../register-model/model-registry';

/** DescribeModelPackage calls in flight at once while listing (SageMaker's describe APIs throttle early). */
const DESCRIBE_CONCURRENCY = 4;

function approvalStatus(value: string | undefined, arn: string): ModelApprovalStatus {
  if ((MODEL_APPROVAL_STATUSES as readonly string[]).includes(value ?? '')) return value as ModelApprovalStatus;
  throw new Error(`model package ${arn} has an unexpected approval status "${String(value)}"`);
}

/** SageMaker ApprovalDescription: at most 1,024 characters. */
const APPROVAL_DESCRIPTION_MAX = 1024;

/** The approval description written with a status: who or what decided, cut to SageMaker's limit. */
export function approvalDescription(status: ModelApprovalStatus, by: string): string {
  return `${status} by ${by}`.slice(0, APPROVAL_DESCRIPTION_MAX);
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of `items`. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}

/** SageMaker Model Registry behind the ModelRegistry and ModelApprover ports. */
export class SageMakerModelRegistry implements ModelRegistry, ModelApprover {
  constructor(private readonly client: SageMakerClient) {}

  async listPackages(groupName: string, filter: { readonly approvalStatus?: ModelApprovalStatus } = {}): Promise<RegisteredModelPackage[]> {
    const summaries: ModelPackageSummary[] = [];
    const pages = paginateListModelPackages(
      { client: this.client, pageSize: 100 },
      { ModelPackageGroupName: groupName, ModelPackageType: 'Versioned', ...(filter.approvalStatus === undefined ? {} : { ModelApprovalStatus: filter.approvalStatus }) },
    );
    for await (const page of pages) summaries.push(...(page.ModelPackageSummaryList ?? []));
    return mapLimited(summaries, DESCRIBE_CONCURRENCY, (summary) => this.describe(summary, groupName));
  }

  async createPackage(pkg: NewModelPackage): Promise<{ arn: string; version: number }> {
    const response = await this.client.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: pkg.groupName,
        ModelPackageDescription: pkg.description,
        ModelApprovalStatus: 'PendingManualApproval',
        InferenceSpecification: {
          Containers: [{ Image: pkg.servingImageUri, ModelDataUrl: pkg.modelDataUrl }],
          SupportedContentTypes: ['application/json'],
          SupportedResponseMIMETypes: ['application/json'],
        },
        ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: pkg.metricsUri } } },
        CustomerMetadataProperties: { ...pkg.metadata },
        ClientToken: pkg.idempotencyToken,
      }),
    );
    const arn = response.ModelPackageArn;
    if (arn === undefined) throw new Error(`CreateModelPackage in ${pkg.groupName} returned no ModelPackageArn`);
    return { arn, version: versionFromArn(arn) };
  }

  async setApprovalStatus(arn: string, status: ModelApprovalStatus, by: string): Promise<void> {
    await this.client.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: arn,
        ModelApprovalStatus: status,
        ApprovalDescription: approvalDescription(status, by),
      }),
    );
  }

  /**
   * Adds metadata entries to a version (UpdateModelPackage CustomerMetadataProperties, which SageMaker
   * merges into the version's existing entries): the erasure lineage's "trained on erased data" flag.
   */
  async setMetadata(arn: string, entries: Readonly<Record<string, string>>): Promise<void> {
    await this.client.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, CustomerMetadataProperties: { ...entries } }));
  }

  private async describe(summary: ModelPackageSummary, groupName: string): Promise<RegisteredModelPackage> {
    const arn = summary.ModelPackageArn;
    if (arn === undefined) throw new Error(`ListModelPackages returned a package of ${groupName} without an ARN`);
    const described = await this.client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    const metricsUri = described.ModelMetrics?.ModelQuality?.Statistics?.S3Uri;
    const modelDataUrl = described.InferenceSpecification?.Containers?.[0]?.ModelDataUrl;
    return {
      arn,
      groupName: summary.ModelPackageGroupName ?? groupName,
      version: summary.ModelPackageVersion ?? versionFromArn(arn),
      approvalStatus: approvalStatus(described.ModelApprovalStatus ?? summary.ModelApprovalStatus, arn),
      createdAt: described.CreationTime ?? summary.CreationTime ?? new Date(0),
      ...(metricsUri === undefined ? {} : { metricsUri }),
      ...(modelDataUrl === undefined ? {} : { modelDataUrl }),
      metadata: { ...(described.CustomerMetadataProperties ?? {}) },
    };
  }
}
