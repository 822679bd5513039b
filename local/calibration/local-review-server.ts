/**
 * The review page on this machine: the same request handling as the Lambda behind API Gateway
 * (lambdas/judge/calibration/review-web.ts), served by node:http on 127.0.0.1 only, over the local
 * lake, the local review queue and the local signing key.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadMaskedTrace } from '../../lambdas/judge/calibration/calibration-queries';
import type { ReviewItem } from '../../lambdas/judge/calibration/review-item';
import { REVIEW_PAGE_HEADERS, reviewNoticePage } from '../../lambdas/judge/calibration/review-page';
import { handleReviewHttp, MAX_REVIEW_FORM_BYTES, reviewInternalErrorResponse, type ReviewWebDeps } from '../../lambdas/judge/calibration/review-web';
import { AgentIdentities } from '../../lambdas/shared/agent-pseudonyms';
import { ApprovalLinkSigner, REVIEW_LINK } from '../../lambdas/pipeline/approvals/signer';
import { createPseudonymiser } from '../../lambdas/shared/pseudonymisation';
import { LocalLake } from '../local-lake';
import { LocalPseudonymisationKeyProvider } from '../local-pseudonymisation-key';
import { DuckDbSqlEngine } from '../pipeline/duckdb-sql-engine';
import { LocalSigningKeyProvider } from '../pipeline/local-approval-signing-key';
import { readBody } from '../pipeline/local-approval-server';
import { sendPage, serveOnLoopback } from '../pipeline/loopback-server';
import { LocalLakeReviewSink } from './local-calibration-adapters';
import { LocalReviewQueue } from './local-review-queue';

const ROUTE = /^\/reviews\/([^/]+)$/;


async function serve(request: IncomingMessage, response: ServerResponse, deps: ReviewWebDeps): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const match = ROUTE.exec(url.pathname);
  if (match === null) {
    sendPage(response, { statusCode: 404, headers: REVIEW_PAGE_HEADERS, body: reviewNoticePage('Not found', ['Review pages live under /reviews/.']) });
    return;
  }
  let itemId: string | undefined;
  try {
    itemId = decodeURIComponent(match[1] ?? '');
  } catch {
    itemId = undefined; // malformed percent-encoding: answered as an invalid link
  }
  const result = await handleReviewHttp(
    {
      method: request.method ?? 'GET',
      itemId,
      query: Object.fromEntries(url.searchParams),
      body: request.method === 'POST' ? await readBody(request, MAX_REVIEW_FORM_BYTES) : undefined,
      contentType: request.headers['content-type'],
    },
    deps,
  );
  sendPage(response, result);
}

export interface LocalReviews {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly queue: LocalReviewQueue;
  /** The signed link of an item, valid `linkExpiryHours` after it was sampled. */
  linkFor(item: ReviewItem): Promise<string>;
  close(): Promise<void>;
}

export interface LocalReviewsOptions {
  /** The lake directory of the local run (the queue, the keys and the lake live there). */
  readonly lakeDir: string;
  readonly linkExpiryHours: number;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly clock?: () => Date;
  readonly onError?: (error: unknown) => void;
  /** A lake written with `lake.hashAgentIds`: the stage's declared agent ids, which the page names. */
  readonly hashedAgents?: readonly string[];
}

/** Opens the local lake and serves the review page on 127.0.0.1; resolves once it listens. */
export async function startLocalReviews(options: LocalReviewsOptions): Promise<LocalReviews> {
  const lake = await LocalLake.open(options.lakeDir);
  const engine = new DuckDbSqlEngine(lake);
  const queue = new LocalReviewQueue(options.lakeDir);
  const signer = new ApprovalLinkSigner(new LocalSigningKeyProvider(options.lakeDir), REVIEW_LINK);
  const keys = new LocalPseudonymisationKeyProvider(options.lakeDir);
  const clock = options.clock ?? (() => new Date());
  const deps: ReviewWebDeps = {
    queue,
    signer,
    loadTrace: (item) => loadMaskedTrace(engine, item),
    sink: new LocalLakeReviewSink(lake),
    pseudonymiser: async () => createPseudonymiser(await keys.key()),
    clock,
    // A lake written with hashAgentIds: a declared agent's configured name where the item holds its pseudonym.
    ...(options.hashedAgents === undefined ? {} : { agentName: async (id: string) => AgentIdentities.hashed(options.hashedAgents ?? [], createPseudonymiser(await keys.key())).displayName(id) }),
  };
  const onError = options.onError ?? ((error: unknown) => console.error('local review server:', error));
  const server = await serveOnLoopback((request, response) => serve(request, response, deps), { port: options.port, onError, internalError: reviewInternalErrorResponse });
  const { baseUrl } = server;
  return {
    baseUrl,
    queue,
    linkFor: (item) => signer.url(baseUrl, item.itemId, new Date(Date.parse(item.sampledAt) + options.linkExpiryHours * 3_600_000)),
    close: async () => {
      await server.close();
      lake.close();
    },
  };
}
