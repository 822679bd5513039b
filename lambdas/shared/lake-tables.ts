/**
 * The lake's Iceberg tables as plain data: one definition read by the Glue table construct (the
 * CloudFormation schema and partition spec), by the gate Lambda (which row goes to which table) and by
 * the local lake. Field ids are stable: Iceberg tracks columns by id, so never renumber a field;
 * add new ones with the next free id.
 *
 * Timestamp columns are written by Firehose from epoch *microseconds* (Firehose's Iceberg contract).
 *
 * Every string column declares what it may hold (`content`): text that went through the PII scan, an
 * identifier under a named rule, a keyed pseudonym, a value of the project's own vocabulary, or a
 * gate reason. The row builders check each string against its class before a row leaves the
 * function, and a unit test keeps every string column classified.
 *
 * Rows about a person carry `subject_key`, the keyed pseudonym of the user id the producer sent
 * (traces, gate_audit); the tables keyed by trace id (feedback, judgments, reviews) reach the person
 * through the trace ids of those rows, which is how erasure finds them (see {@link SUBJECT_TABLES}).
 * `confidence_scores` holds aggregates per agent x model only ({@link AGGREGATE_TABLES}).
 */

export type IcebergPrimitive = 'string' | 'boolean' | 'int' | 'long' | 'double' | 'timestamp';

export interface IcebergListType {
  readonly type: 'list';
  readonly elementId: number;
  readonly element: IcebergPrimitive | IcebergStructType;
  readonly elementRequired: boolean;
}

export interface IcebergStructType {
  readonly type: 'struct';
  readonly fields: readonly IcebergField[];
}

export type IcebergType = IcebergPrimitive | IcebergListType | IcebergStructType;

/** The identifier rules (lambdas/gate-score/identifiers.ts holds each rule's characters and length). */
export type IdentifierRuleName =
  | 'trace-id'
  | 'request-id'
  | 'agent-id'
  | 'model-family'
  | 'model-name'
  | 'model-version'
  | 'model-variant'
  | 'tool-name'
  | 'route-tier'
  | 'data-region'
  | 'language';

/**
 * What a string column may hold:
 * - `masked-text`: free text that went through the PII scan and was masked;
 * - `identifier`: a producer's or our identifier, validated by its rule (characters, length, no
 *   structured PII);
 * - `pseudonym`: a keyed pseudonym (`hmac-sha256:<hex>`), never the value it stands for;
 * - `vocabulary`: one of the project's own values (an enum, a configured name);
 * - `digest`: a SHA-256 digest of the project's own configuration (`sha256:<64 hex>`);
 * - `reason`: a gate reason, `<code>: <detail>` in the project's words.
 */
export type ColumnContent =
  | { readonly kind: 'masked-text' }
  | { readonly kind: 'identifier'; readonly rule: IdentifierRuleName }
  | { readonly kind: 'pseudonym' }
  | { readonly kind: 'vocabulary' }
  | { readonly kind: 'digest' }
  | { readonly kind: 'reason' };

export interface IcebergField {
  readonly id: number;
  readonly name: string;
  readonly type: IcebergType;
  readonly required: boolean;
  readonly doc?: string;
  /** What a string column (or a list of strings) may hold; see {@link ColumnContent}. */
  readonly content?: ColumnContent;
}

const maskedText: ColumnContent = { kind: 'masked-text' };
const pseudonym: ColumnContent = { kind: 'pseudonym' };
const vocabulary: ColumnContent = { kind: 'vocabulary' };
const digest: ColumnContent = { kind: 'digest' };
const reason: ColumnContent = { kind: 'reason' };
/**
 * Marked free of side effects so that esbuild can drop the tables a bundle does not read: without it,
 * each `identifier(...)` call keeps its table (the gate bundled all five for the two it writes).
 */
const identifier = /* @__NO_SIDE_EFFECTS__ */ (rule: IdentifierRuleName): ColumnContent => ({ kind: 'identifier', rule });

export interface IcebergPartitionField {
  readonly sourceName: string;
  readonly transform: 'identity' | 'day';
  readonly name: string;
  /** Partition field ids start at 1000 by Iceberg convention. */
  readonly fieldId: number;
}

export interface LakeTableDefinition {
  readonly name: string;
  readonly description: string;
  readonly fields: readonly IcebergField[];
  readonly partitions: readonly IcebergPartitionField[];
  /** Columns the table is sorted by within a file (Iceberg write order). */
  readonly sortBy: readonly string[];
}

const messageStruct: IcebergStructType = {
  type: 'struct',
  fields: [
    { id: 101, name: 'role', type: 'string', required: true, content: vocabulary },
    { id: 102, name: 'content', type: 'string', required: true, content: maskedText },
  ],
};

const toolCallStruct: IcebergStructType = {
  type: 'struct',
  fields: [
    { id: 111, name: 'name', type: 'string', required: true, content: identifier('tool-name') },
    { id: 112, name: 'arguments', type: 'string', required: true, content: maskedText },
    { id: 113, name: 'result', type: 'string', required: false, content: maskedText },
    { id: 114, name: 'status', type: 'string', required: true, content: vocabulary },
  ],
};

const rewardComponentsStruct: IcebergStructType = {
  type: 'struct',
  fields: [
    { id: 121, name: 'feedback', type: 'double', required: false },
    { id: 122, name: 'errors', type: 'double', required: false },
    { id: 123, name: 'latency', type: 'double', required: false },
    { id: 124, name: 'groundedness', type: 'double', required: false },
    { id: 125, name: 'judge', type: 'double', required: false },
  ],
};

/** Masked, gated, scored traces: the training lake. */
export const TRACES_TABLE: LakeTableDefinition = {
  name: 'traces',
  description: 'Masked production traces that passed every gate, with reward components and the reward policy version',
  fields: [
    { id: 1, name: 'trace_id', type: 'string', required: true, content: identifier('trace-id') },
    { id: 2, name: 'ts', type: 'timestamp', required: true, doc: 'trace start, UTC' },
    { id: 3, name: 'agent_id', type: 'string', required: true, content: identifier('agent-id') },
    { id: 4, name: 'request_id', type: 'string', required: false, doc: 'joins feedback events', content: identifier('request-id') },
    { id: 5, name: 'session_id', type: 'string', required: false, content: pseudonym },
    { id: 6, name: 'model', type: 'string', required: true, doc: 'model name; a partition column', content: identifier('model-name') },
    { id: 7, name: 'model_family', type: 'string', required: true, content: identifier('model-family') },
    { id: 8, name: 'model_version', type: 'string', required: true, content: identifier('model-version') },
    { id: 9, name: 'model_variant', type: 'string', required: true, content: identifier('model-variant') },
    { id: 10, name: 'consent', type: 'boolean', required: true, doc: 'always true here: the consent gate discards the rest' },
    { id: 11, name: 'data_region', type: 'string', required: true, content: identifier('data-region') },
    { id: 12, name: 'data_boundary', type: 'string', required: true, content: vocabulary },
    { id: 13, name: 'confidentiality', type: 'string', required: true, content: vocabulary },
    { id: 14, name: 'training_scope', type: 'string', required: true, doc: 'all-models | internal-only-models', content: vocabulary },
    { id: 15, name: 'language', type: 'string', required: true, content: identifier('language') },
    { id: 16, name: 'input_messages', type: { type: 'list', elementId: 100, element: messageStruct, elementRequired: true }, required: true },
    { id: 17, name: 'retrieved_contexts', type: { type: 'list', elementId: 103, element: 'string', elementRequired: true }, required: true, content: maskedText },
    { id: 18, name: 'output', type: 'string', required: true, content: maskedText },
    { id: 19, name: 'tool_calls', type: { type: 'list', elementId: 110, element: toolCallStruct, elementRequired: true }, required: true },
    { id: 20, name: 'feedback_outcome', type: 'string', required: false, content: vocabulary },
    { id: 21, name: 'feedback_quality', type: 'double', required: false },
    { id: 22, name: 'error', type: 'boolean', required: true },
    { id: 23, name: 'latency_ms', type: 'double', required: false },
    { id: 24, name: 'input_tokens', type: 'long', required: false },
    { id: 25, name: 'output_tokens', type: 'long', required: false },
    { id: 26, name: 'cost_usd', type: 'double', required: false },
    { id: 27, name: 'route_tier', type: 'string', required: false, content: identifier('route-tier') },
    { id: 28, name: 'misrouted', type: 'boolean', required: false },
    { id: 29, name: 'pii_scanner', type: 'string', required: true, doc: 'what read the text: comprehend, pattern, or an entity detector, plus +comprehend for Latin runs', content: vocabulary },
    { id: 30, name: 'pii_entities_masked', type: 'int', required: true },
    { id: 31, name: 'reward', type: 'double', required: true, doc: '0..1 under reward_policy_version' },
    { id: 32, name: 'reward_components', type: rewardComponentsStruct, required: true },
    { id: 33, name: 'reward_policy_version', type: 'string', required: true, content: vocabulary },
    { id: 34, name: 'source_format', type: 'string', required: true, doc: 'native | langfuse | otlp', content: vocabulary },
    { id: 35, name: 'gated_at', type: 'timestamp', required: true },
    { id: 36, name: 'subject_key', type: 'string', required: false, doc: 'keyed pseudonym of the end user id the producer sent; erasure finds rows by it', content: pseudonym },
  ],
  partitions: [
    { sourceName: 'ts', transform: 'day', name: 'ts_day', fieldId: 1000 },
    { sourceName: 'model', transform: 'identity', name: 'model', fieldId: 1001 },
    { sourceName: 'consent', transform: 'identity', name: 'consent', fieldId: 1002 },
  ],
  sortBy: ['agent_id', 'ts'],
};

/** Content-free records of discarded traces: which gate, why, when. Never holds trace content. */
export const GATE_AUDIT_TABLE: LakeTableDefinition = {
  name: 'gate_audit',
  description: 'One content-free row per discarded trace: trace id, gate, reason, time',
  fields: [
    { id: 1, name: 'trace_id', type: 'string', required: true, content: identifier('trace-id') },
    { id: 2, name: 'gate', type: 'string', required: true, content: vocabulary },
    { id: 3, name: 'reason', type: 'string', required: true, content: reason },
    { id: 4, name: 'discarded_at', type: 'timestamp', required: true },
    { id: 5, name: 'agent_id', type: 'string', required: false, content: identifier('agent-id') },
    { id: 6, name: 'model', type: 'string', required: false, content: identifier('model-name') },
    { id: 7, name: 'data_boundary', type: 'string', required: true, doc: 'the boundary of the stage that discarded it', content: vocabulary },
    { id: 8, name: 'subject_key', type: 'string', required: false, doc: 'keyed pseudonym of the end user id the producer sent; erasure finds rows by it', content: pseudonym },
  ],
  partitions: [{ sourceName: 'discarded_at', transform: 'day', name: 'discarded_day', fieldId: 1000 }],
  sortBy: ['gate', 'discarded_at'],
};

/** Explicit feedback events from `POST /agents/{agent-id}/feedback`, joinable to traces by request id. */
export const FEEDBACK_TABLE: LakeTableDefinition = {
  name: 'feedback',
  description: 'Agent feedback events (success, fallback, timeout, error, user_rejected), joinable to traces by request_id or trace_id',
  fields: [
    { id: 1, name: 'feedback_id', type: 'string', required: true, content: vocabulary },
    { id: 2, name: 'agent_id', type: 'string', required: true, content: identifier('agent-id') },
    { id: 3, name: 'request_id', type: 'string', required: true, content: identifier('request-id') },
    { id: 4, name: 'trace_id', type: 'string', required: false, content: identifier('trace-id') },
    { id: 5, name: 'outcome', type: 'string', required: true, content: vocabulary },
    { id: 6, name: 'quality', type: 'double', required: false, doc: '0-10' },
    { id: 7, name: 'latency_ms', type: 'double', required: false },
    { id: 8, name: 'token_count', type: 'long', required: false },
    { id: 9, name: 'received_at', type: 'timestamp', required: true },
  ],
  partitions: [
    { sourceName: 'received_at', transform: 'day', name: 'received_day', fieldId: 1000 },
    { sourceName: 'agent_id', transform: 'identity', name: 'agent_id', fieldId: 1001 },
  ],
  sortBy: ['request_id'],
};

/**
 * The LLM judge's scores of kept traces: one row per trace judged under a judge prompt hash. No trace
 * content is copied; join to `traces` by trace_id. Re-delivered or re-judged rows are possible
 * (Firehose delivers at least once), so readers take the latest `judged_at` per trace and prompt hash.
 */
export const JUDGMENTS_TABLE: LakeTableDefinition = {
  name: 'judgments',
  description: 'LLM-judge scores per kept trace (faithfulness, answer relevance, misroute) under a reward policy and judge prompt hash; no content',
  fields: [
    { id: 1, name: 'trace_id', type: 'string', required: true, content: identifier('trace-id') },
    { id: 2, name: 'trace_ts', type: 'timestamp', required: true, doc: 'the trace start (traces.ts), so both tables prune by the same day' },
    { id: 3, name: 'agent_id', type: 'string', required: true, content: identifier('agent-id') },
    { id: 4, name: 'model', type: 'string', required: true, content: identifier('model-name') },
    { id: 5, name: 'model_variant', type: 'string', required: true, content: identifier('model-variant') },
    { id: 6, name: 'route_tier', type: 'string', required: false, content: identifier('route-tier') },
    { id: 7, name: 'reward_policy_version', type: 'string', required: true, content: vocabulary },
    { id: 8, name: 'judge_model', type: 'string', required: true, doc: 'the judge model of the policy (e.g. Qwen/Qwen3-4B)', content: identifier('model-name') },
    { id: 9, name: 'judge_endpoint', type: 'string', required: true, doc: 'openai-compatible | sagemaker | bedrock | simulated', content: vocabulary },
    { id: 10, name: 'judge_prompt_hash', type: 'string', required: true, doc: 'SHA-256 of the policy judge section; equal hashes judge alike', content: digest },
    { id: 11, name: 'faithfulness', type: 'double', required: false, doc: 'supported claims / claims; null = no judgment' },
    { id: 12, name: 'answer_relevance', type: 'double', required: false },
    { id: 13, name: 'misrouted', type: 'boolean', required: false, doc: 'null when unrouted or no judgment' },
    { id: 14, name: 'claims', type: 'int', required: false },
    { id: 15, name: 'judge_score', type: 'double', required: false, doc: 'the reward judge component: the dimensions combined with the policy weights, renormalised' },
    { id: 16, name: 'no_judgment', type: 'string', required: false, doc: 'why dimensions have no judgment: "<dimension>: <code>; ..."', content: reason },
    { id: 17, name: 'input_tokens', type: 'long', required: true },
    { id: 18, name: 'output_tokens', type: 'long', required: true },
    { id: 19, name: 'judged_at', type: 'timestamp', required: true },
  ],
  partitions: [{ sourceName: 'trace_ts', transform: 'day', name: 'trace_day', fieldId: 1000 }],
  sortBy: ['trace_id'],
};

/**
 * People's own scores of judged traces (the weekly calibration sample), one row per submitted review.
 * The reviewer is a keyed pseudonym; the judge's scores are not copied (join `judgments`).
 */
export const REVIEWS_TABLE: LakeTableDefinition = {
  name: 'reviews',
  description: 'Human reviews of sampled judged traces: the reviewer\'s own faithfulness, relevance and misroute verdicts; no content',
  fields: [
    { id: 1, name: 'review_id', type: 'string', required: true, content: vocabulary },
    { id: 2, name: 'trace_id', type: 'string', required: true, content: identifier('trace-id') },
    { id: 3, name: 'agent_id', type: 'string', required: true, content: identifier('agent-id') },
    { id: 4, name: 'review_week', type: 'string', required: true, doc: 'ISO week of the sample, e.g. 2026-W49', content: vocabulary },
    { id: 5, name: 'score_band', type: 'string', required: true, doc: 'the judged-score stratum the item was drawn from', content: vocabulary },
    { id: 6, name: 'judge_prompt_hash', type: 'string', required: true, content: digest },
    { id: 7, name: 'reviewer', type: 'string', required: true, content: pseudonym },
    { id: 8, name: 'faithfulness', type: 'double', required: false },
    { id: 9, name: 'answer_relevance', type: 'double', required: false },
    { id: 10, name: 'misrouted', type: 'boolean', required: false },
    { id: 11, name: 'sampled_at', type: 'timestamp', required: true },
    { id: 12, name: 'reviewed_at', type: 'timestamp', required: true },
  ],
  partitions: [{ sourceName: 'reviewed_at', transform: 'day', name: 'reviewed_day', fieldId: 1000 }],
  sortBy: ['trace_id'],
};

/**
 * The daily confidence scores per agent x model (lambdas/operations/confidence.ts), one row per report
 * day, agent and model: aggregates of the feedback outcomes, no trace, request or person in them. The
 * operating-report workflow MERGEs each day's scores keyed by (report_date, agent_id, model), so a
 * rerun that computes the same scores changes nothing (lambdas/operations/confidence-table.ts).
 */
export const CONFIDENCE_SCORES_TABLE: LakeTableDefinition = {
  name: 'confidence_scores',
  description: 'Daily confidence score per agent x model (feedback aggregates, blended with the model\'s global score, decayed when idle); no trace, request or person',
  fields: [
    { id: 1, name: 'report_date', type: 'timestamp', required: true, doc: 'the report day at 00:00 UTC (the day its end falls on); with agent_id and model the row\'s key' },
    { id: 2, name: 'agent_id', type: 'string', required: true, content: identifier('agent-id') },
    { id: 3, name: 'model', type: 'string', required: true, content: identifier('model-name') },
    { id: 4, name: 'score', type: 'double', required: true, doc: '0..1' },
    { id: 5, name: 'global_score', type: 'double', required: true, doc: 'the model\'s positive-outcome rate over all agents (the prior)' },
    { id: 6, name: 'observed_rate', type: 'double', required: true },
    { id: 7, name: 'feedback_count', type: 'long', required: true },
    { id: 8, name: 'weight', type: 'double', required: true, doc: 'the agent\'s own share of the score' },
    { id: 9, name: 'idle_days', type: 'int', required: true },
    { id: 10, name: 'divergence_pp', type: 'double', required: true, doc: 'score minus global score, in percentage points' },
    { id: 11, name: 'needs_review', type: 'boolean', required: true },
    { id: 12, name: 'last_feedback_at', type: 'timestamp', required: true },
    { id: 13, name: 'computed_at', type: 'timestamp', required: true, doc: 'the end of the report run that wrote the row\'s values (its start time); a rerun with equal scores leaves it' },
  ],
  partitions: [{ sourceName: 'report_date', transform: 'day', name: 'report_day', fieldId: 1000 }],
  sortBy: ['agent_id', 'model'],
};

export const LAKE_TABLES = [TRACES_TABLE, GATE_AUDIT_TABLE, FEEDBACK_TABLE, JUDGMENTS_TABLE, REVIEWS_TABLE, CONFIDENCE_SCORES_TABLE] as const;

/**
 * How erasure finds a data subject's rows in each table: by the subject key column (tables whose rows
 * name the person) or by trace id (tables whose rows hang off a trace). Every lake table is listed:
 * a unit test fails when a new table is added without saying how its rows are erased.
 */
export const SUBJECT_TABLES: readonly { readonly table: LakeTableDefinition; readonly by: 'subject_key' | 'trace_id' | 'trace_or_request_id' }[] = [
  { table: TRACES_TABLE, by: 'subject_key' },
  { table: GATE_AUDIT_TABLE, by: 'subject_key' },
  // Feedback events may name only the request (trace_id is optional): the agent's request id reaches them too.
  { table: FEEDBACK_TABLE, by: 'trace_or_request_id' },
  { table: JUDGMENTS_TABLE, by: 'trace_id' },
  { table: REVIEWS_TABLE, by: 'trace_id' },
];

/**
 * The lake tables that hold no data about a person: aggregates over many traces, with no trace id,
 * request id or subject key to reach a person by. Erasure has nothing to remove from them; their rows
 * still expire under a row retention. Together with {@link SUBJECT_TABLES} every lake table is listed
 * exactly once (a unit test fails otherwise), so a new table must say which it is.
 */
export const AGGREGATE_TABLES: readonly { readonly table: LakeTableDefinition; readonly why: string }[] = [
  { table: CONFIDENCE_SCORES_TABLE, why: 'one row per report day, agent and model: counts and rates of feedback outcomes, never a trace, request or user' },
];

/** The name of a lake table (a unit test keeps it equal to the names in {@link LAKE_TABLES}). */
export type LakeTableName = 'traces' | 'gate_audit' | 'feedback' | 'judgments' | 'reviews' | 'confidence_scores';

/**
 * The time column row retention (`lake.rowRetentionDays`) measures each table's rows by: the column
 * the table is partitioned by day on, so an expiry deletes whole old days. `judgments` goes by its
 * trace's start (trace_ts), so a judgment expires with its trace under equal retention.
 * A unit test keeps every table listed and each column a timestamp.
 */
export const RETENTION_TIME_COLUMNS: Readonly<Record<LakeTableName, string>> = {
  traces: 'ts',
  gate_audit: 'discarded_at',
  feedback: 'received_at',
  judgments: 'trace_ts',
  reviews: 'reviewed_at',
  confidence_scores: 'report_date',
};
