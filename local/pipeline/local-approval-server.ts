/**
 * The approval page on this machine: the same request handling as the Lambda behind API Gateway
 * (lambdas/pipeline/approvals/web.ts), served by node:http on 127.0.0.1 only, so approval links work
 * in local mode without exposing anything to the network.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { noticePage, PAGE_HEADERS } from '../../lambdas/pipeline/approvals/page';
import type { ApproverLists } from '../../lambdas/pipeline/approvals/approver-duties';
import type { ApprovalLinkSigner } from '../../lambdas/pipeline/approvals/signer';
import type { ApprovalStore } from '../../lambdas/pipeline/approvals/store';
import type { TaskCallbacks } from '../../lambdas/pipeline/approvals/task-callbacks';
import { handleApprovalHttp, internalErrorResponse, MAX_FORM_BYTES } from '../../lambdas/pipeline/approvals/web';
import type { Clock } from '../../lambdas/pipeline/ports';
import { sendPage, serveOnLoopback } from './loopback-server';

export interface LocalApprovalServerOptions {
  readonly store: ApprovalStore;
  readonly signer: ApprovalLinkSigner;
  readonly callbacks: TaskCallbacks;
  /** The stage's approver lists the page enforces (none: anyone but the requester). */
  readonly approvers?: ApproverLists;
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


async function serve(request: IncomingMessage, response: ServerResponse, options: LocalApprovalServerOptions): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const match = ROUTE.exec(url.pathname);
  if (match === null) {
    sendPage(response, { statusCode: 404, headers: PAGE_HEADERS, body: noticePage({ title: 'Not found', paragraphs: ['Approval pages live under /approvals/.'] }) });
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
    { store: options.store, signer: options.signer, callbacks: options.callbacks, clock: options.clock ?? (() => new Date()), approversOf: () => options.approvers },
  );
  sendPage(response, result);
}

/** Starts the local approval page on 127.0.0.1; resolves once it listens. */
export async function startLocalApprovalServer(options: LocalApprovalServerOptions): Promise<LocalApprovalServer> {
  const onError = options.onError ?? ((error: unknown) => console.error('local approval server:', error));
  return serveOnLoopback((request, response) => serve(request, response, options), { port: options.port, onError, internalError: internalErrorResponse });
}
