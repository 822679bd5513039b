-- What the judge reads of the candidates that have no stored judgment under the candidate's prompt hash,
-- the first N by trace id (a stable choice, so a re-run judges the same traces): only as many as the
-- budget allows ever leave the engine. Messages as JSON [[role, content], ...], contexts as a JSON array.
-- Placeholder: {{judgments}}. Parameters: 1 judge prompt hash  2-3 trace window  4 at most this many.
WITH judged AS (
  SELECT DISTINCT trace_id
  FROM {{judgments}}
  WHERE judge_prompt_hash = ?
    AND trace_ts >= CAST(? AS TIMESTAMP)
    AND trace_ts <= CAST(? AS TIMESTAMP)
),
missing AS (
  SELECT
    c.trace_id, c.input_messages, c.output, c.retrieved_contexts,
    row_number() OVER (ORDER BY c.trace_id) AS pick
  FROM {{table:candidates}} c
  LEFT JOIN judged j ON j.trace_id = c.trace_id
  WHERE j.trace_id IS NULL
)
SELECT
  trace_id,
  {{json_format}}(CAST({{transform}}(input_messages, m -> ARRAY[m.role, m.content]) AS JSON)) AS messages_json,
  output,
  {{json_format}}(CAST(retrieved_contexts AS JSON)) AS contexts_json
FROM missing
WHERE pick <= CAST(? AS BIGINT)
ORDER BY trace_id
