/**
 * `Advance step` Lambda: `{ rollout: $.rollout, progress: $.progress }` -> RolloutProgress (ResultPath
 * `$.progress`). Pure: no environment, no AWS permission.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../../shared/powertools';
import type { RolloutProgress } from '../contracts';
import { advanceStep, advanceStepEventSchema } from './advance-step';

async function advance(event: unknown): Promise<RolloutProgress> {
  const parsed = advanceStepEventSchema.parse(event);
  const progress = advanceStep(parsed);
  logger.info(progress.done ? 'rollout steps done' : 'next step', { rolloutId: parsed.rollout.rolloutId, index: progress.index, candidatePercent: progress.candidatePercent, done: progress.done });
  return progress;
}

export const handler = middy(advance).use(injectLambdaContext(logger));
