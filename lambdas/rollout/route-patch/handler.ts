/**
 * `Plan HTTPRoute patch` Lambda (EKS targets): `{ rollout, progress, route }` -> `{ Path, RequestBody,
 * expected }` for the eks:call PATCH state. Pure: no environment, no AWS permission.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../../shared/powertools';
import { planRoutePatch, type PlannedRoutePatch } from './plan-route-patch';

async function plan(event: unknown): Promise<PlannedRoutePatch> {
  const planned = planRoutePatch(event);
  logger.info('HTTPRoute patch planned', { path: planned.Path, expected: planned.expected });
  return planned;
}

export const handler = middy(plan).use(injectLambdaContext(logger));
