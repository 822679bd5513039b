/**
 * The lake's Iceberg tables as plain data: one definition read by the Glue table construct (the
 * CloudFormation schema and partition spec), by the gate Lambda (which row goes to which table) and by
 * the local lake. Field ids are stable: Iceberg tracks columns by id, so never renumber a field;
 * add new ones with the next free id.
 *
 * Timestamp columns are written by Firehose from epoch *microseconds* (Firehose's Iceberg contract).
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

export interface IcebergField {
  readonly id: number;
  readonly name: string;
  readonly type: IcebergType;
  readonly required: boolean;
  readonly doc?: string;
}

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
    { id: 101, name: 'role', type: 'string', required: true },
    { id: 102, name: 'content', type: 'string', required: true },
  ],
};

const toolCallStruct: IcebergStructType = {
  type: 'struct',
  fields: [
    { id: 111, name: 'name', type: 'string', required: true },
    { id: 112, name: 'arguments', type: 'string', required: true },
    { id: 113, name: 'result', type: 'string', required: false },
    { id: 114, name: 'status', type: 'string', required: true },
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
    { id: 1, name: 'trace_id', type: 'string', required: true },
    { id: 2, name: 'ts', type: 'timestamp', required: true, doc: 'trace start, UTC' },
    { id: 3, name: 'agent_id', type: 'string', required: true },
    { id: 4, name: 'request_id', type: 'string', required: false, doc: 'joins feedback events' },
    { id: 5, name: 'session_id', type: 'string', required: false },
    { id: 6, name: 'model', type: 'string', required: true, doc: 'model name; a partition column' },
    { id: 7, name: 'model_family', type: 'string', required: true },
    { id: 8, name: 'model_version', type: 'string', required: true },
    { id: 9, name: 'model_variant', type: 'string', required: true },
    { id: 10, name: 'consent', type: 'boolean', required: true, doc: 'always true here: the consent gate discards the rest' },
    { id: 11, name: 'data_region', type: 'string', required: true },
    { id: 12, name: 'data_boundary', type: 'string', required: true },
    { id: 13, name: 'confidentiality', type: 'string', required: true },
    { id: 14, name: 'training_scope', type: 'string', required: true, doc: 'all-models | internal-only-models' },
    { id: 15, name: 'language', type: 'string', required: true },
    { id: 16, name: 'input_messages', type: { type: 'list', elementId: 100, element: messageStruct, elementRequired: true }, required: true },
    { id: 17, name: 'retrieved_contexts', type: { type: 'list', elementId: 103, element: 'string', elementRequired: true }, required: true },
    { id: 18, name: 'output', type: 'string', required: true },
    { id: 19, name: 'tool_calls', type: { type: 'list', elementId: 110, element: toolCallStruct, elementRequired: true }, required: true },
    { id: 20, name: 'feedback_outcome', type: 'string', required: false },
    { id: 21, name: 'feedback_quality', type: 'double', required: false },
    { id: 22, name: 'error', type: 'boolean', required: true },
    { id: 23, name: 'latency_ms', type: 'double', required: false },
    { id: 24, name: 'input_tokens', type: 'long', required: false },
    { id: 25, name: 'output_tokens', type: 'long', required: false },
    { id: 26, name: 'cost_usd', type: 'double', required: false },
    { id: 27, name: 'route_tier', type: 'string', required: false },
    { id: 28, name: 'misrouted', type: 'boolean', required: false },
    { id: 29, name: 'pii_scanner', type: 'string', required: true, doc: 'comprehend | pattern' },
    { id: 30, name: 'pii_entities_masked', type: 'int', required: true },
    { id: 31, name: 'reward', type: 'double', required: true, doc: '0..1 under reward_policy_version' },
    { id: 32, name: 'reward_components', type: rewardComponentsStruct, required: true },
    { id: 33, name: 'reward_policy_version', type: 'string', required: true },
    { id: 34, name: 'source_format', type: 'string', required: true, doc: 'native | langfuse | otlp' },
    { id: 35, name: 'gated_at', type: 'timestamp', required: true },
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
    { id: 1, name: 'trace_id', type: 'string', required: true },
    { id: 2, name: 'gate', type: 'string', required: true },
    { id: 3, name: 'reason', type: 'string', required: true },
    { id: 4, name: 'discarded_at', type: 'timestamp', required: true },
    { id: 5, name: 'agent_id', type: 'string', required: false },
    { id: 6, name: 'model', type: 'string', required: false },
    { id: 7, name: 'data_boundary', type: 'string', required: true, doc: 'the boundary of the stage that discarded it' },
  ],
  partitions: [{ sourceName: 'discarded_at', transform: 'day', name: 'discarded_day', fieldId: 1000 }],
  sortBy: ['gate', 'discarded_at'],
};

/** Explicit feedback events from `POST /agents/{agent-id}/feedback`, joinable to traces by request id. */
export const FEEDBACK_TABLE: LakeTableDefinition = {
  name: 'feedback',
  description: 'Agent feedback events (seed 002 outcomes), joinable to traces by request_id or trace_id',
  fields: [
    { id: 1, name: 'feedback_id', type: 'string', required: true },
    { id: 2, name: 'agent_id', type: 'string', required: true },
    { id: 3, name: 'request_id', type: 'string', required: true },
    { id: 4, name: 'trace_id', type: 'string', required: false },
    { id: 5, name: 'outcome', type: 'string', required: true },
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

export const LAKE_TABLES = [TRACES_TABLE, GATE_AUDIT_TABLE, FEEDBACK_TABLE] as const;
