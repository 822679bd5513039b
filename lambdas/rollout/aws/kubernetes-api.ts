/**
 * A minimal client of one EKS cluster's Kubernetes API: JSON GET and PATCH over HTTPS, trusting only the
 * cluster's own certificate authority (from the stage configuration, as kubeconfig's
 * certificate-authority-data), authenticated with an EKS bearer token. Enough for the rollback Lambda
 * to read and weigh an HTTPRoute; it is not a general Kubernetes client.
 */
import { request as httpsRequest } from 'node:https';

/** One HTTPS request as the transport sends it. */
export interface HttpsRequest {
  readonly method: 'GET' | 'PATCH';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** PEM of the only CA the server certificate may chain to. */
  readonly ca: string;
  readonly timeoutMs: number;
}

export interface HttpsResponse {
  readonly status: number;
  readonly body: string;
}

/** Sends one request; injected so that tests see exactly what goes over the wire. */
export type HttpsTransport = (request: HttpsRequest) => Promise<HttpsResponse>;

/** Largest response read (an HTTPRoute is a few KiB; anything far larger is not what was asked for). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** node:https with certificate verification against the given CA only (never disabled). */
export const nodeHttpsTransport: HttpsTransport = (req) =>
  new Promise((resolve, reject) => {
    const url = new URL(req.url);
    if (url.protocol !== 'https:') {
      reject(new Error(`the Kubernetes API is called over HTTPS only; received ${url.protocol}`));
      return;
    }
    const outgoing = httpsRequest(
      url,
      { method: req.method, headers: { ...req.headers, ...(req.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(req.body)) }) }, ca: req.ca, timeout: req.timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            response.destroy(new Error(`the Kubernetes API answered more than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`the Kubernetes API did not answer within ${req.timeoutMs} ms`)));
    outgoing.on('error', reject);
    if (req.body !== undefined) outgoing.write(req.body);
    outgoing.end();
  });

/** A non-2xx answer of the Kubernetes API, with its status and the Status object's reason. */
export class KubernetesApiError extends Error {
  override name = 'KubernetesApiError';
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Where the cluster is and how to authenticate. */
export interface KubernetesApiOptions {
  /** `https://...eks.amazonaws.com`, as EKS DescribeCluster reports it (eks-cluster-connection.ts). */
  readonly endpoint: string;
  /** Base64 of the CA's PEM, as EKS DescribeCluster and kubeconfig give it. */
  readonly certificateAuthority: string;
  /** A bearer token for each request (EksTokenSource#token). */
  readonly token: () => Promise<string>;
  readonly transport?: HttpsTransport;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

export class KubernetesApi {
  private readonly ca: string;
  private readonly transport: HttpsTransport;

  constructor(private readonly options: KubernetesApiOptions) {
    this.ca = Buffer.from(options.certificateAuthority, 'base64').toString('utf8');
    if (!this.ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error('the cluster certificate authority is not base64 of a PEM certificate');
    this.transport = options.transport ?? nodeHttpsTransport;
  }

  /** GETs a JSON object. */
  get(path: string): Promise<unknown> {
    return this.call('GET', path);
  }

  /** PATCHes with a JSON body of the given patch content type and returns the object as stored. */
  patch(path: string, body: unknown, contentType: string): Promise<unknown> {
    return this.call('PATCH', path, JSON.stringify(body), contentType);
  }

  private async call(method: HttpsRequest['method'], path: string, body?: string, contentType?: string): Promise<unknown> {
    const token = await this.options.token();
    const response = await this.transport({
      method,
      url: new URL(path, this.options.endpoint).toString(),
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(contentType === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body }),
      ca: this.ca,
      timeoutMs: this.options.timeoutMs ?? 10_000,
    });
    let parsed: unknown;
    try {
      parsed = response.body === '' ? undefined : (JSON.parse(response.body) as unknown);
    } catch {
      parsed = undefined;
    }
    if (response.status < 200 || response.status > 299) {
      const status = parsed !== null && typeof parsed === 'object' ? (parsed as { reason?: unknown; message?: unknown }) : {};
      const reason = typeof status.reason === 'string' ? status.reason : undefined;
      const detail = typeof status.message === 'string' ? status.message : response.body.slice(0, 500);
      throw new KubernetesApiError(response.status, reason, `${method} ${path} answered HTTP ${response.status}${reason === undefined ? '' : ` ${reason}`}: ${detail}`);
    }
    if (parsed === undefined) throw new Error(`${method} ${path} answered HTTP ${response.status} without a JSON body`);
    return parsed;
  }
}
