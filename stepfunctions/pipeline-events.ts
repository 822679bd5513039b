/**
 * The EventBridge events the workflows emit for other systems (native `events:putEvents` tasks, no
 * Lambda). Every event's source is `sial.<stage>`, so a subscriber's rule picks one stage's events; the
 * detail type names what happened. Each detail type has a JSON Schema in docs/events/<detail type>.json.
 */
export const PIPELINE_EVENT_TYPES = {
  datasetReady: 'sial.dataset.ready',
} as const;

export type PipelineEventType = (typeof PIPELINE_EVENT_TYPES)[keyof typeof PIPELINE_EVENT_TYPES];

/** The `source` of every event a stage emits. */
export function eventSourceOf(stage: string): string {
  return `sial.${stage}`;
}
