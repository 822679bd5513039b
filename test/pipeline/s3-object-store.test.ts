import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3ObjectStore } from '../../lambdas/pipeline/aws/s3-object-store';
import { parseS3Uri } from '../../lambdas/pipeline/aws/s3-uri';

const s3 = mockClient(S3Client);
const store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }));
// The part of the SDK's streaming body the store uses.
const body = (text: string) => ({ Body: { transformToString: async (encoding?: string) => (encoding === 'utf-8' ? text : 'wrong encoding') } as never });

beforeEach(() => s3.reset());

describe('parseS3Uri', () => {
  it('splits bucket and key, keeping the key verbatim', () => {
    expect(parseS3Uri('s3://sial-dev-artifacts/runs/r 1/eval/metrics.json')).toEqual({ bucket: 'sial-dev-artifacts', key: 'runs/r 1/eval/metrics.json' });
    expect(parseS3Uri('s3://bucket.with.dots/')).toEqual({ bucket: 'bucket.with.dots', key: '' });
  });

  it.each(['https://bucket/key', 's3://Bucket/key', 's3://b/key', 's3://bucket', 'bucket/key'])('refuses %s, naming it', (uri) => {
    expect(() => parseS3Uri(uri)).toThrow(`"${uri}" is not an S3 URI; expected s3://<bucket>/<key>`);
  });
});

describe('S3ObjectStore', () => {
  it('puts text under the bucket and key of the URI with its content type', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.putText('s3://sial-dev-artifacts/runs/r1/dataset/manifest.json', '{"a":1}');
    await store.putText('s3://sial-dev-artifacts/runs/r1/dataset/trace-ids.txt', 't1\nt2\n', 'text/plain');
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'sial-dev-artifacts', Key: 'runs/r1/dataset/manifest.json', Body: '{"a":1}', ContentType: 'application/json' },
      { Bucket: 'sial-dev-artifacts', Key: 'runs/r1/dataset/trace-ids.txt', Body: 't1\nt2\n', ContentType: 'text/plain' },
    ]);
  });

  it('reads an object as UTF-8 text', async () => {
    s3.on(GetObjectCommand, { Bucket: 'sial-dev-artifacts', Key: 'runs/r1/eval/metrics.json' }).resolves(body('{"faithfulness":0.9}'));
    expect(await store.getText('s3://sial-dev-artifacts/runs/r1/eval/metrics.json')).toBe('{"faithfulness":0.9}');
  });

  it('answers undefined for a key that does not exist', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    expect(await store.getText('s3://sial-dev-artifacts/missing.json')).toBeUndefined();
  });

  it('rethrows access denied and other failures: "missing" is never confused with "could not read"', async () => {
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }));
    await expect(store.getText('s3://sial-dev-artifacts/secret.json')).rejects.toThrow('Access Denied');
  });

  it('refuses a URI that is not s3:// before calling S3', async () => {
    await expect(store.getText('/tmp/metrics.json')).rejects.toThrow('is not an S3 URI');
    expect(s3.calls()).toHaveLength(0);
  });
});
