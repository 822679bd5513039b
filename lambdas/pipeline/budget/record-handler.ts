/**
 * The ledger-writing states' Lambda. The four booking states (`Record GPU hours`, `Record GPU hours of
 * failed run`, `Record eval GPU hours`, `Record GPU hours of failed eval`): `{ jobKind, request, budget,
 * job }` or `{ jobKind, request, budget, error }` -> GpuUsage (ResultPath `$.gpuUsage` /
 * `$.evalGpuUsage`). Books each job of a run once, whether it succeeded or failed, takes it off the
 * run's reservation, and publishes the month's usage for the 80 % alarm. The reservation states:
 * `{ operation: 'reserve', ... }` -> BudgetReservation (`$.reservation`) and `{ operation: 'release',
 * executionName }` -> ReservationRelease (`$.reservationRelease`), see reserve-budget.ts; the same
 * release, with `endedAs`, comes asynchronously from the EventBridge rule on executions that ended
 * ABORTED, TIMED_OUT or FAILED (execution-ended.ts).
 * Needs PIPELINE_SETTINGS and LEDGER_TABLE (dynamodb:GetItem, PutItem, UpdateItem on the table; the
 * transaction needs no permission of its own).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { GpuUsage } from '../contracts';
import { PIPELINE_ENV, pipelineSettingsFromEnv, requiredEnv } from '../settings';
import { logger, metrics } from '../../shared/powertools';
import { publishBudgetMetrics } from './budget-metrics';
import { DynamoDbLedger } from './dynamodb-ledger';
import { recordGpuHours, recordGpuHoursEventSchema } from './record-gpu-hours';
import { parseReleaseEvent, parseReserveEvent, releaseGpuReservation, reserveGpuBudget, type BudgetReservation, type ReservationRelease } from './reserve-budget';

const settings = pipelineSettingsFromEnv();
const ledger = new DynamoDbLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), requiredEnv(PIPELINE_ENV.ledgerTable));

async function reserve(event: unknown): Promise<BudgetReservation> {
  const reservation = await reserveGpuBudget(parseReserveEvent(event), { ledger, stage: settings.stage, ceilingGpuHours: settings.gpuBudget.monthlyCeilingGpuHours, now: new Date() });
  logger.info(reservation.reserved ? 'GPU budget reserved' : 'No room in the GPU budget for this run: FinOps approval needed', { ...reservation });
  return reservation;
}

async function release(event: unknown): Promise<ReservationRelease> {
  const { runId, endedAs } = parseReleaseEvent(event);
  const released = await releaseGpuReservation(runId, { ledger, stage: settings.stage, now: new Date() });
  // endedAs: the execution ended (ABORTED, TIMED_OUT, FAILED) without a release state; the rule sent this.
  logger.info(endedAs === undefined ? 'GPU reservation released' : `GPU reservation released after the execution ended ${endedAs}`, { ...released, ...(endedAs === undefined ? {} : { endedAs }) });
  return released;
}

function operationOf(event: unknown): unknown {
  return typeof event === 'object' && event !== null ? (event as { operation?: unknown }).operation : undefined;
}

async function dispatch(event: unknown): Promise<GpuUsage | BudgetReservation | ReservationRelease> {
  const operation = operationOf(event);
  if (operation === 'reserve') return reserve(event);
  if (operation === 'release') return release(event);
  if (operation !== undefined) throw new Error(`Invalid input to the GPU ledger function: unknown operation ${JSON.stringify(operation)}; expected reserve, release or none (a booking)`);
  return record(event);
}

async function record(event: unknown): Promise<GpuUsage> {
  const parsed = recordGpuHoursEventSchema.parse(event);
  const result = await recordGpuHours(parsed, { ledger, gpusPerJob: settings.training.gpusPerJob, now: new Date() });
  const { run, outcome } = result;
  if (outcome.kind !== 'job') logger.warn('GPU usage not measured from the Batch job', { runId: run.runId, jobKind: run.jobKind, error: outcome.error, source: run.source, gpuHours: run.gpuHours });
  logger.info(result.recorded ? 'GPU hours booked' : 'GPU hours already booked for this job of the run; nothing added', {
    runId: run.runId,
    jobKind: run.jobKind,
    jobStatus: run.jobStatus,
    attempts: run.attempts,
    spotReclaims: run.spotReclaims,
    gpuHours: run.gpuHours,
    gpuHoursByMonth: run.gpuHoursByMonth,
    monthUsedGpuHours: result.usage.monthUsedGpuHours,
    convertedFromReservation: result.convertedGpuHours,
  });
  publishBudgetMetrics(metrics, {
    stage: settings.stage,
    usedGpuHours: result.usage.monthUsedGpuHours,
    ceilingGpuHours: settings.gpuBudget.monthlyCeilingGpuHours,
    ...(result.recorded ? { runGpuHours: run.gpuHours } : {}),
  });
  return result.usage;
}

export const handler = middy(dispatch)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
