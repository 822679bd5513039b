-- The current window's traces that show each dimension's problem, worst first, at most N per agent and
-- dimension: judged less faithful than the agent's baseline mean, negative feedback, an error, slower than
-- the baseline's latency percentile, costlier than the baseline's mean, misrouted.
--
-- Placeholders: {{traces}}, {{feedback}}, {{judgments}}, {{percentile}}.
-- Parameters, in order: 1-7 as in operating-rows.sql  8 the latency percentile (0..1)  9 N
WITH {{operating-rows}},
baseline AS (
  SELECT
    agent_id,
    avg(faithfulness) AS faithfulness_mean,
    {{percentile}}(latency_ms, CAST(? AS DOUBLE)) AS latency_threshold,
    avg(cost_usd) AS cost_mean
  FROM operating_rows
  WHERE report_window = 'baseline'
  GROUP BY agent_id
),
current_rows AS (
  SELECT r.*, b.faithfulness_mean, b.latency_threshold, b.cost_mean
  FROM operating_rows r
  LEFT JOIN baseline b ON b.agent_id = r.agent_id
  WHERE r.report_window = 'current'
),
flagged AS (
  SELECT agent_id, trace_id, 'faithfulness' AS dimension, faithfulness_mean - faithfulness AS severity FROM current_rows WHERE faithfulness < faithfulness_mean
  UNION ALL
  SELECT agent_id, trace_id, 'positive_feedback_rate', CAST(1 AS DOUBLE) FROM current_rows WHERE feedback_outcome <> 'success'
  UNION ALL
  SELECT agent_id, trace_id, 'error_rate', CAST(1 AS DOUBLE) FROM current_rows WHERE error
  UNION ALL
  SELECT agent_id, trace_id, 'latency_percentile', latency_ms - latency_threshold FROM current_rows WHERE latency_ms > latency_threshold
  UNION ALL
  SELECT agent_id, trace_id, 'cost_per_request', cost_usd - cost_mean FROM current_rows WHERE cost_usd > cost_mean
  UNION ALL
  SELECT agent_id, trace_id, 'misroute_rate', CAST(1 AS DOUBLE) FROM current_rows WHERE misrouted
),
ranked AS (
  SELECT agent_id, dimension, trace_id, row_number() OVER (PARTITION BY agent_id, dimension ORDER BY severity DESC, trace_id) AS flag_rank
  FROM flagged
)
SELECT agent_id, dimension, trace_id
FROM ranked
WHERE flag_rank <= ?
ORDER BY agent_id, dimension, flag_rank
