/**
 * A page server on 127.0.0.1 for local mode (the approval page, the review page): the page's response
 * written as the Lambda would return it, a handler failure answered with the page's own error response
 * (or the connection dropped once headers went out), and a close that does not wait for keep-alive
 * connections to time out.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a page handler returns (API Gateway's proxy result, transport-neutral). */
export interface PageResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function sendPage(response: ServerResponse, result: PageResponse): void {
  response.writeHead(result.statusCode, { ...result.headers, 'content-length': Buffer.byteLength(result.body) });
  response.end(result.body);
}

export interface LoopbackServer {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Serves `handle` on 127.0.0.1 (`port` 0 picks a free one); resolves once it listens. */
export async function serveOnLoopback(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  options: { readonly port?: number; readonly onError: (error: unknown) => void; readonly internalError: () => PageResponse },
): Promise<LoopbackServer> {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.onError(error);
      if (!response.headersSent) sendPage(response, options.internalError());
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
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections would hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}
