-- Judged quality per model and serving variant for a window of traces (the latest judgment of each trace
-- under the current judge prompts): mean faithfulness of the traces with a faithfulness judgment, and the
-- share judged misrouted of the traces with a misroute judgment. Published for the canary alarms.
--
-- Placeholder: {{judgments}}.
-- Parameters, in order: 1 judge prompt hash  2-3 trace window (trace_ts)
SELECT
  model,
  model_variant,
  count(faithfulness) AS faithfulness_judged,
  avg(faithfulness) AS faithfulness_mean,
  count(misrouted) AS misroute_judged,
  avg(CASE WHEN misrouted THEN 1.0 WHEN NOT misrouted THEN 0.0 END) AS misroute_rate
FROM (
  SELECT
    model, model_variant, faithfulness, misrouted,
    row_number() OVER (PARTITION BY trace_id ORDER BY judged_at DESC, faithfulness ASC) AS judgment_rank
  FROM {{judgments}}
  WHERE judge_prompt_hash = ?
    AND trace_ts >= CAST(? AS TIMESTAMP)
    AND trace_ts < CAST(? AS TIMESTAMP)
) latest
WHERE judgment_rank = 1
GROUP BY model, model_variant
ORDER BY model, model_variant
