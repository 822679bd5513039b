-- The judge's work for one window: the latest gated copy of each kept trace of the boundary whose start
-- lies in [from, to), minus the traces already judged under the current judge prompts (so re-running a
-- day judges nothing twice), with exactly what the judge reads. Written as JSON lines by the engine
-- (Athena UNLOAD, DuckDB COPY); the judging function reads one file at a time.
--
-- Placeholders: {{traces}}, {{judgments}}.
-- Parameters, in order: 1 data_boundary  2-3 trace window (ts)  4 judge prompt hash  5-6 trace window (trace_ts)
WITH latest AS (
  SELECT
    trace_id, ts, agent_id, model, model_variant, route_tier, input_messages, retrieved_contexts, output,
    row_number() OVER (PARTITION BY trace_id ORDER BY gated_at DESC, output ASC) AS copy_rank
  FROM {{traces}}
  WHERE consent = true
    AND data_boundary = ?
    AND ts >= CAST(? AS TIMESTAMP)
    AND ts < CAST(? AS TIMESTAMP)
),
judged AS (
  SELECT DISTINCT trace_id
  FROM {{judgments}}
  WHERE judge_prompt_hash = ?
    AND trace_ts >= CAST(? AS TIMESTAMP)
    AND trace_ts < CAST(? AS TIMESTAMP)
)
SELECT
  l.trace_id, CAST(l.ts AS VARCHAR) AS ts, l.agent_id, l.model, l.model_variant, l.route_tier,
  l.input_messages, l.retrieved_contexts, l.output
FROM latest l LEFT JOIN judged j ON j.trace_id = l.trace_id
WHERE l.copy_rank = 1 AND j.trace_id IS NULL
ORDER BY l.trace_id
