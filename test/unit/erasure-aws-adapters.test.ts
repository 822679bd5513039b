/** The erasure's AWS adapters on aws-sdk-client-mock: registry flags send metadata only; version expiry pages and keeps current versions. */
import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { S3LakeObjectVersions } from '../../lambdas/erasure/aws/s3-lake-object-versions';
import { SageMakerModelRegistry } from '../../lambdas/pipeline/aws/sagemaker-model-registry';

const s3 = mockClient(S3Client);
const sagemaker = mockClient(SageMakerClient);
beforeEach(() => {
  s3.reset();
  sagemaker.reset();
});

describe('erasure AWS adapters', () => {
  it('flags a registry version with metadata only, never an approval status', async () => {
    sagemaker.on(UpdateModelPackageCommand).resolves({});
    await new SageMakerModelRegistry(new SageMakerClient({ region: 'eu-central-1' })).setMetadata('arn:aws:sagemaker:eu-central-1:1:model-package/g/1', { 'erasure.trainedOnErasedData': 'er-1' });
    const [call] = sagemaker.commandCalls(UpdateModelPackageCommand);
    expect(call!.args[0].input).toEqual({ ModelPackageArn: 'arn:aws:sagemaker:eu-central-1:1:model-package/g/1', CustomerMetadataProperties: { 'erasure.trainedOnErasedData': 'er-1' } });
  });

  it('deletes the noncurrent versions of every page by version id, and no current one', async () => {
    s3.on(ListObjectVersionsCommand, { Prefix: 'tables/traces/' })
      .resolvesOnce({ Versions: [{ Key: 'tables/traces/a', VersionId: '1', IsLatest: false }, { Key: 'tables/traces/b', VersionId: '2', IsLatest: true }], IsTruncated: true, NextKeyMarker: 'tables/traces/b', NextVersionIdMarker: '2' })
      .resolvesOnce({ Versions: [{ Key: 'tables/traces/c', VersionId: '3', IsLatest: false }], DeleteMarkers: [{ Key: 'tables/traces/d', VersionId: '4', IsLatest: true }], IsTruncated: false });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [] });
    expect(await new S3LakeObjectVersions(new S3Client({ region: 'eu-central-1' }), 'lake').deleteNoncurrentVersions('tables/traces/')).toBe(2);
    expect(s3.commandCalls(ListObjectVersionsCommand)[1]!.args[0].input).toMatchObject({ KeyMarker: 'tables/traces/b', VersionIdMarker: '2' });
    expect(s3.commandCalls(DeleteObjectsCommand)[0]!.args[0].input.Delete!.Objects).toEqual([{ Key: 'tables/traces/a', VersionId: '1' }, { Key: 'tables/traces/c', VersionId: '3' }]);
  });

  it('refuses a prefix that is not a table folder, and reports denied deletes as an error', async () => {
    const versions = new S3LakeObjectVersions(new S3Client({ region: 'eu-central-1' }), 'lake');
    await expect(versions.deleteNoncurrentVersions('')).rejects.toThrow(/table prefix ends in \//);
    s3.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: 'tables/x/a', VersionId: '1', IsLatest: false }], IsTruncated: false });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'tables/x/a', VersionId: '1', Code: 'AccessDenied' }] });
    await expect(versions.deleteNoncurrentVersions('tables/x/')).rejects.toThrow(/1 version\(s\): AccessDenied/);
  });
});
