import { createHash, createHmac } from 'node:crypto';
import { CLUSTER_ID_HEADER, EKS_TOKEN_PREFIX, EksTokenSource, eksToken, presignedUrlOfToken, stsHostname } from '../../lambdas/rollout/aws/eks-token';

const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+with=chars' });
const now = new Date('2026-05-04T10:00:00.000Z');

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** SigV4 of the presigned GET, computed here from the specification, independently of @smithy/signature-v4. */
function expectedSignature(url: URL, clusterName: string, secret: string): string {
  const params = [...url.searchParams].filter(([k]) => k !== 'X-Amz-Signature').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonicalQuery = params.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
  const canonicalHeaders = `host:${url.host}\n${CLUSTER_ID_HEADER}:${clusterName}\n`;
  const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, `host;${CLUSTER_ID_HEADER}`, createHash('sha256').update('', 'utf8').digest('hex')].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date')!;
  const scope = url.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  const [date, region, service] = scope.split('/');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

describe('EKS token (aws-iam-authenticator format)', () => {
  it('is k8s-aws-v1. + unpadded base64url of a presigned STS GetCallerIdentity URL', async () => {
    const { token, reuseUntil } = await eksToken({ clusterName: 'serving-dev', region: 'us-east-1', credentials, now });
    expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    expect(token.slice(EKS_TOKEN_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
    expect(reuseUntil.toISOString()).toBe('2026-05-04T10:10:00.000Z');

    const url = presignedUrlOfToken(token);
    expect(url.origin).toBe('https://sts.us-east-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20260504T100000Z');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20260504/us-east-1/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session/token+with=chars');
    // The cluster id header is signed (and stays a header: it is not hoisted into the query).
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe(`host;${CLUSTER_ID_HEADER}`);
    expect(url.searchParams.has(CLUSTER_ID_HEADER)).toBe(false);
  });

  it('carries a signature that verifies for its cluster only', async () => {
    const { token } = await eksToken({ clusterName: 'serving-dev', region: 'us-east-1', credentials, now });
    const url = presignedUrlOfToken(token);
    const signature = url.searchParams.get('X-Amz-Signature');
    expect(signature).toBe(expectedSignature(url, 'serving-dev', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'));
    // The same URL replayed against another cluster's name does not verify.
    expect(signature).not.toBe(expectedSignature(url, 'serving-prod', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'));
  });

  it('signs with the regional STS endpoint of the partition', () => {
    expect(stsHostname('eu-central-1')).toBe('sts.eu-central-1.amazonaws.com');
    expect(stsHostname('cn-north-1')).toBe('sts.cn-north-1.amazonaws.com.cn');
    expect(() => presignedUrlOfToken('Bearer abc')).toThrow('not an EKS token');
  });

  it('reuses a token for ten minutes, then makes a new one', async () => {
    let t = now.getTime();
    let calls = 0;
    const source = new EksTokenSource(
      {
        clusterName: 'serving-dev',
        region: 'us-east-1',
        credentials: async () => {
          calls += 1;
          return credentials();
        },
      },
      () => new Date(t),
    );
    const first = await source.token();
    t += 9 * 60 * 1000;
    expect(await source.token()).toBe(first);
    t += 2 * 60 * 1000;
    const third = await source.token();
    expect(third).not.toBe(first);
    expect(calls).toBe(2);
  });
});
