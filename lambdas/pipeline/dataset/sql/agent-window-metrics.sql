-- The regression report's figures per agent and window (baseline | current): requests, mean judged
-- faithfulness, the share of feedback that was positive, error rate, the latency percentile, mean cost per
-- request and misroute rate, each with how many requests it was measured on (a rate over a handful of
-- requests is noise). A dimension with nothing to measure it by is NULL.
--
-- Placeholders: {{traces}}, {{feedback}}, {{judgments}}, {{percentile}}.
-- Parameters, in order: 1-7 as in operating-rows.sql  8 the latency percentile (0..1)
WITH {{operating-rows}}
SELECT
  agent_id,
  report_window,
  count(*) AS requests,
  avg(faithfulness) AS faithfulness,
  avg(CASE WHEN feedback_outcome IS NULL THEN NULL WHEN feedback_outcome = 'success' THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) AS positive_feedback_rate,
  avg(CASE WHEN error THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) AS error_rate,
  {{percentile}}(latency_ms, CAST(? AS DOUBLE)) AS latency_percentile,
  avg(cost_usd) AS cost_per_request,
  avg(CASE WHEN misrouted THEN CAST(1 AS DOUBLE) WHEN NOT misrouted THEN CAST(0 AS DOUBLE) END) AS misroute_rate,
  count(faithfulness) AS faithfulness_samples,
  count(feedback_outcome) AS positive_feedback_rate_samples,
  count(*) AS error_rate_samples,
  count(latency_ms) AS latency_percentile_samples,
  count(cost_usd) AS cost_per_request_samples,
  count(misrouted) AS misroute_rate_samples
FROM operating_rows
GROUP BY agent_id, report_window
ORDER BY agent_id, report_window
