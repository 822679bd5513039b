-- How many candidates have no stored judgment under the candidate's prompt hash (what re-judging would
-- have to cover). Placeholder: {{judgments}}. Parameters: 1 judge prompt hash  2-3 trace window.
SELECT count(*) AS missing
FROM {{table:candidates}} c
WHERE NOT EXISTS (
  SELECT 1 FROM {{judgments}} j
  WHERE j.trace_id = c.trace_id
    AND j.judge_prompt_hash = ?
    AND j.trace_ts >= CAST(? AS TIMESTAMP)
    AND j.trace_ts <= CAST(? AS TIMESTAMP)
)
