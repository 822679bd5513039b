/**
 * A bearer token for the Kubernetes API of an EKS cluster, made the way aws-iam-authenticator (and
 * `aws eks get-token`) makes it: a presigned STS GetCallerIdentity URL whose signature covers the
 * `x-k8s-aws-id: <cluster name>` header, base64url-encoded without padding and prefixed `k8s-aws-v1.`.
 * The cluster's authenticator replays the URL to STS to learn who is calling, and the signed header
 * stops a token for one cluster from being used on another. Signed with @smithy/signature-v4 and a
 * SHA-256 from node:crypto; the credentials come from the SDK's default provider chain.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** What a token starts with (aws-iam-authenticator's version prefix). */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** The header that binds a token to one cluster. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** X-Amz-Expires of the presigned URL: aws-iam-authenticator signs for 60 seconds. */
export const PRESIGN_EXPIRES_SECONDS = 60;
/**
 * How long a token may be reused. The cluster accepts a token for 15 minutes from its signing time;
 * kubectl refreshes at 14. Ten leaves room for clock skew and a slow call.
 */
export const TOKEN_REUSE_MS = 10 * 60 * 1000;

/** AWS credentials as the SDK's providers resolve them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
}
/** Resolves credentials (e.g. `new STSClient({}).config.credentials`). */
export type CredentialProvider = () => Promise<AwsCredentials>;

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): Buffer | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape @smithy/signature-v4 expects, from node:crypto. */
export class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** The regional STS host (China regions are in the amazonaws.com.cn partition). */
export function stsHostname(region: string): string {
  return `sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** Options of {@link eksToken}. */
export interface EksTokenOptions {
  readonly clusterName: string;
  /** The region whose STS endpoint signs (the Lambda's own region). */
  readonly region: string;
  readonly credentials: CredentialProvider;
  /** Signing time; tests pin it. @default now */
  readonly now?: Date;
}

/** A token and when it should no longer be reused. */
export interface EksToken {
  readonly token: string;
  readonly reuseUntil: Date;
}

/** Makes a token for `clusterName` (see the module comment for the format). */
export async function eksToken(options: EksTokenOptions): Promise<EksToken> {
  const signingDate = options.now ?? new Date();
  const hostname = stsHostname(options.region);
  const signer = new SignatureV4({ service: 'sts', region: options.region, credentials: options.credentials, sha256: NodeSha256 });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: options.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate },
  );
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([key, value]) => (Array.isArray(value) ? value.map((v) => [key, v] as const) : value === null ? [] : [[key, value] as const]))
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return { token: `${EKS_TOKEN_PREFIX}${Buffer.from(url, 'utf8').toString('base64url')}`, reuseUntil: new Date(signingDate.getTime() + TOKEN_REUSE_MS) };
}

/** The presigned URL inside a token (for tests and for debugging an Unauthorized answer). */
export function presignedUrlOfToken(token: string): URL {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) throw new Error(`not an EKS token: it does not start with ${EKS_TOKEN_PREFIX}`);
  return new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
}

/** Makes tokens for one cluster, reusing one until {@link TOKEN_REUSE_MS} has passed. */
export class EksTokenSource {
  private cached: EksToken | undefined;
  constructor(
    private readonly options: Omit<EksTokenOptions, 'now'>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async token(): Promise<string> {
    const now = this.clock();
    if (this.cached === undefined || now >= this.cached.reuseUntil) this.cached = await eksToken({ ...this.options, now });
    return this.cached.token;
  }
}
