/**
 * What `sial retention remove --execute` calls in AWS: SageMaker to list and delete a model package, S3 to
 * delete every version of its artifact. Both calls are denied to every role of the loop and to operator
 * roles carrying the stage's operator Deny policy: they succeed only with the break-glass role.
 */
import { DeleteModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DeleteObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerModelRegistry } from '../../lambdas/pipeline/aws/sagemaker-model-registry';
import type { ModelRegistry } from '../../lambdas/pipeline/register-model/model-registry';

export interface RetentionBackend {
  readonly registry: Pick<ModelRegistry, 'listPackages'>;
  deleteModelPackage(arn: string): Promise<void>;
  /** Deletes every version (and delete marker) of the object at `s3Uri`; returns how many. */
  deleteAllVersions(s3Uri: string): Promise<number>;
}

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

/** The AWS backend, with the environment's credentials (the break-glass role's, to succeed). */
export function awsRetentionBackend(region: string): RetentionBackend {
  const sagemaker = new SageMakerClient({ region });
  const s3 = new S3Client({ region });
  return {
    registry: new SageMakerModelRegistry(sagemaker),
    async deleteModelPackage(arn) {
      await sagemaker.send(new DeleteModelPackageCommand({ ModelPackageName: arn }));
    },
    async deleteAllVersions(s3Uri) {
      const match = S3_URI.exec(s3Uri);
      if (match === null) throw new Error(`"${s3Uri}" is not an s3://bucket/key URI`);
      const [, bucket, key] = match as unknown as [string, string, string];
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
      // Prefix listing: keep the exact key only (model.tar.gz of this run, not a sibling).
      const versions = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].filter((v) => v.Key === key && v.VersionId !== undefined);
      for (const version of versions) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: version.VersionId }));
      return versions.length;
    },
  };
}
