/**
 * The approval page on this machine: the same request handling as the Lambda behind API Gateway
 * (lambdas/pipeline/approvals/web.ts), served by node:http on 127.0.0.1 only, so approval links work
 * in local mode without exposing anything to the network.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { noticePage, PAGE_HEADERS } from '../../lambdas/pipeline/approvals/page';
import type { ApprovalLinkSigner } from '../../lambdas/pipeline/approvals/signer';
import type { ApprovalStore } from '../../lambdas/pipeline/approvals/store';
import type { TaskCallbacks } from '../../lambdas/pipeline/approvals/task-callbacks';
import { handleApprovalHttp, internalErrorResponse, MAX_FORM_BYTES, type ApprovalHttpResponse } from '../../lambdas/pipeline/approvals/web';
import type { Clock } from '../../lambdas/pipeline/ports';

export interface LocalApprovalServerOptions {
  readonly store: ApprovalStore;
  readonly signer: ApprovalLinkSigner;
  readonly callbacks: TaskCallbacks;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly clock?: Clock;
  /** Where unexpected errors go (default: console.error). */
  readonly onError?: (error: unknown) => void;
}

export interface LocalApprovalServer {
  /** `http://127.0.0.1:<port>`: the approval page base URL for prepare-approval. */
  readonly baseUrl: string;
  close(): Promise<void>;
}

const ROUTE = /^\/approvals\/([^/]+)$/;

/** Reads at most `limit + 1` bytes and drains the rest, so an oversized body is refused without being buffered. */
export async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    if (size <= limit) chunks.push(buffer.subarray(0, limit + 1 - size));
    size += buffer.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, result: Pick<ApprovalHttpResponse, 'statusCode' | 'headers' | 'body'>): void {
  response.writeHead(result.statusCode, { ...result.headers, 'content-length': Buffer.byteLength(result.body) });
  response.end(result.body);
}

async function serve(request: IncomingMessage, response: ServerResponse, options: LocalApprovalServerOptions): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const match = ROUTE.exec(url.pathname);
  if (match === null) {
    send(response, { statusCode: 404, headers: PAGE_HEADERS, body: noticePage({ title: 'Not found', paragraphs: ['Approval pages live under /approvals/.'] }) });
    return;
  }
  let approvalId: string | undefined;
  try {
    approvalId = decodeURIComponent(match[1] ?? '');
  } catch {
    approvalId = undefined; // malformed percent-encoding: web.ts answers it as an invalid link
  }
  const userAgent = request.headers['user-agent'];
  const result = await handleApprovalHttp(
    {
      method: request.method ?? 'GET',
      approvalId,
      query: Object.fromEntries(url.searchParams),
      body: request.method === 'POST' ? await readBody(request, MAX_FORM_BYTES) : undefined,
      contentType: request.headers['content-type'],
      ...(request.socket.remoteAddress !== undefined ? { sourceIp: request.socket.remoteAddress } : {}),
      ...(userAgent !== undefined ? { userAgent } : {}),
    },
    { store: options.store, signer: options.signer, callbacks: options.callbacks, clock: options.clock ?? (() => new Date()) },
  );
  send(response, result);
}

/** Starts the local approval page on 127.0.0.1; resolves once it listens. */
export async function startLocalApprovalServer(options: LocalApprovalServerOptions): Promise<LocalApprovalServer> {
  const onError = options.onError ?? ((error: unknown) => console.error('local approval server:', error));
  const server = createServer((request, response) => {
    serve(request, response, options).catch((error: unknown) => {
      onError(error);
      if (!response.headersSent) send(response, internalErrorResponse());
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections would hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}
