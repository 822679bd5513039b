/**
 * The EventBridge event CloudWatch sends when an alarm changes state (source `aws.cloudwatch`,
 * detail-type `CloudWatch Alarm State Change`). For a composite alarm, `detail.configuration` holds the
 * `alarmRule` and `detail.state.reasonData` names the triggering child alarms; for a metric alarm,
 * `configuration.metrics`. Only the fields the rollback reads are required; the rest pass through.
 *
 * ```json
 * { "version": "0", "id": "...", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
 *   "account": "123456789012", "time": "2026-05-04T10:00:05Z", "region": "us-east-1",
 *   "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:sial-dev-qwen3-4b-canary"],
 *   "detail": { "alarmName": "sial-dev-qwen3-4b-canary",
 *     "state": { "value": "ALARM", "reason": "...", "reasonData": "{\"triggeringAlarms\":[...]}", "timestamp": "2026-05-04T10:00:04.512+0000" },
 *     "previousState": { "value": "OK", "reason": "...", "timestamp": "..." },
 *     "configuration": { "alarmRule": "ALARM(...) OR ALARM(...)" } } }
 * ```
 */
import * as z from '../../shared/zod-mini';

export const ALARM_STATE_CHANGE = { source: 'aws.cloudwatch', detailType: 'CloudWatch Alarm State Change' } as const;

const alarmStateSchema = z.looseObject({
  value: z.string(),
  reason: z._default(z.string(), ''),
  reasonData: z.optional(z.string()),
  /** CloudWatch writes `2026-05-04T10:00:04.512+0000` (no colon in the offset). */
  timestamp: z.string(),
});

export const alarmStateChangeEventSchema = z.looseObject({
  id: z.string(),
  'detail-type': z.literal(ALARM_STATE_CHANGE.detailType),
  source: z.literal(ALARM_STATE_CHANGE.source),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.looseObject({
    alarmName: z.string().check(z.minLength(1)),
    state: alarmStateSchema,
    previousState: z.optional(alarmStateSchema),
    configuration: z.optional(z.looseObject({ alarmRule: z.optional(z.string()), description: z.optional(z.string()) })),
  }),
});
export type AlarmStateChangeEvent = z.infer<typeof alarmStateChangeEventSchema>;

/**
 * A CloudWatch timestamp as a Date. CloudWatch's `+0000` offset is not ISO 8601's extended format, so
 * it is rewritten to `+00:00` rather than left to a parser's leniency.
 *
 * @throws Error when the value is not a timestamp.
 */
export function cloudWatchTimestamp(value: string): Date {
  const normalised = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const date = new Date(normalised);
  if (Number.isNaN(date.getTime())) throw new Error(`"${value}" is not a CloudWatch timestamp`);
  return date;
}

/** Names of the child alarms that tripped a composite alarm (from reasonData), when CloudWatch lists them. */
export function triggeringAlarms(reasonData: string | undefined): string[] {
  if (reasonData === undefined) return [];
  try {
    const parsed = JSON.parse(reasonData) as { triggeringAlarms?: Array<{ arn?: unknown }> };
    return (parsed.triggeringAlarms ?? []).map((a) => (typeof a.arn === 'string' ? (a.arn.split(':alarm:')[1] ?? a.arn) : '')).filter((name) => name !== '');
  } catch {
    return [];
  }
}
