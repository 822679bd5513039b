-- Training completions: one row per completion of every GRPO prompt group, with its DPO role.
--
-- Runs unchanged on Athena (Trino, Iceberg tables in Glue) and DuckDB (local Parquet lake). The only
-- engine-specific text is in {{placeholders}}, substituted by the engine adapter (sql-template.ts):
--   {{traces}}       the traces table (a quoted identifier)
--   {{transform}}    Trino `transform` / DuckDB `list_transform` (map a lambda over an array)
--   {{json_format}}  Trino `json_format` / DuckDB `json`      (JSON value -> compact JSON text)
--
-- Parameters (`?`, bound by the engine, never spliced into the text), in order:
--   1 data_boundary  2 reward_policy_version  3-4 training scopes the target may read
--   5 window start   6 window end (inclusive; 'YYYY-MM-DD HH:MM:SS.mmm' UTC)
--   7 minimum reward gap of a DPO pair (already lowered by a float tolerance)
--
-- A prompt is the whole conversation the model saw before it answered (every input message as
-- [role, content], in order: system prompt, earlier turns, tool results) plus its retrieved contexts; a
-- group is one agent and one prompt. Only groups with
-- at least two completions are returned (GRPO needs a group to compare within). Complex values leave the
-- engine as JSON text, because Athena's GetQueryResults renders arrays in a form no parser can read back.
WITH selected AS (
  SELECT
    trace_id,
    agent_id,
    reward,
    output,
    {{json_format}}(CAST({{transform}}(input_messages, m -> ARRAY[m.role, m.content]) AS JSON)) AS prompt_json,
    {{json_format}}(CAST(retrieved_contexts AS JSON)) AS contexts_json,
    -- Only to require a user turn: a conversation without one (a cron prompt) is no training prompt.
    {{json_format}}(CAST({{transform}}(filter(input_messages, m -> m.role = 'user'), m -> m.content) AS JSON)) AS user_json
  FROM {{traces}}
  -- selection:begin (identical in every query that reads training traces; a test keeps them equal)
  WHERE consent = true
    AND data_boundary = ?
    AND reward_policy_version = ?
    AND training_scope IN (?, ?)
    AND ts >= CAST(? AS TIMESTAMP)
    AND ts <= CAST(? AS TIMESTAMP)
  -- selection:end
),
grouped AS (
  SELECT
    trace_id,
    agent_id,
    reward,
    output,
    prompt_json,
    contexts_json,
    count(*) OVER (PARTITION BY agent_id, prompt_json, contexts_json) AS group_size,
    max(reward) OVER (PARTITION BY agent_id, prompt_json, contexts_json)
      - min(reward) OVER (PARTITION BY agent_id, prompt_json, contexts_json) >= ? AS gap_met,
    -- Two mirror-image total orders: the first row of one is the last of the other, so in a group of two
    -- or more the chosen and the rejected completion are always different rows, ties broken by trace id.
    row_number() OVER (PARTITION BY agent_id, prompt_json, contexts_json ORDER BY reward DESC, trace_id ASC) AS best_rank,
    row_number() OVER (PARTITION BY agent_id, prompt_json, contexts_json ORDER BY reward ASC, trace_id DESC) AS worst_rank
  FROM selected
  WHERE user_json <> '[]'
)
SELECT
  agent_id,
  prompt_json,
  contexts_json,
  trace_id,
  output,
  reward,
  group_size,
  CASE
    WHEN gap_met AND best_rank = 1 THEN 'chosen'
    WHEN gap_met AND worst_rank = 1 THEN 'rejected'
  END AS dpo_role
FROM grouped
WHERE group_size >= 2
