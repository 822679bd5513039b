/**
 * The one shape of every event a workflow puts: a native `events:putEvents` Task (no Lambda) with one
 * entry, source `sial.<stage>`, the detail as JSONPath, the state's data kept. Each caller adds its own
 * Catch: whether a lost event may fail the run depends on what the run has done by then.
 */
import { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { eventSourceOf, type PipelineEventType } from './pipeline-events';

/** Throttling and service errors of `events:putEvents`, retried before the state's Catch applies. */
export const EVENTBRIDGE_TRANSIENT_ERRORS = ['EventBridge.InternalException', 'EventBridge.ThrottlingException'] as const;

/** Where the events go and what their source says. */
export interface EventTarget {
  readonly stage: string;
  readonly eventBus: events.IEventBus;
}

/**
 * Puts one event. Every JSONPath in `detail` must exist whenever the state runs: a missing path is
 * States.Runtime, which no Catch sees.
 */
export function putEventTask(scope: Construct, id: string, target: EventTarget, detailType: PipelineEventType, detail: Record<string, unknown>): tasks.EventBridgePutEvents {
  const task = new tasks.EventBridgePutEvents(scope, id, {
    entries: [{ eventBus: target.eventBus, source: eventSourceOf(target.stage), detailType, detail: sfn.TaskInput.fromObject(detail) }],
    // An event is a side effect: what follows still needs the state's data.
    resultPath: sfn.JsonPath.DISCARD,
  });
  task.addRetry({ errors: [...EVENTBRIDGE_TRANSIENT_ERRORS], interval: Duration.seconds(2), maxAttempts: 4, backoffRate: 2 });
  return task;
}
