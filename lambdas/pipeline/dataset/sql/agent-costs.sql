-- The daily cost report: per agent, requests, tokens in and out and their cost in a window (the first copy
-- of each trace), and how many requests carry no cost (an unpriced model, or no token counts).
--
-- Placeholder: {{traces}}.
-- Parameters, in order: 1-2 the window (traces.ts, end excluded)
SELECT
  agent_id,
  count(*) AS requests,
  coalesce(sum(input_tokens), 0) AS tokens_in,
  coalesce(sum(output_tokens), 0) AS tokens_out,
  coalesce(sum(cost_usd), CAST(0 AS DOUBLE)) AS cost_usd,
  count(*) - count(cost_usd) AS unpriced_requests
FROM (
  SELECT agent_id, input_tokens, output_tokens, cost_usd, row_number() OVER (PARTITION BY trace_id ORDER BY gated_at, ts) AS copy_rank
  FROM {{traces}}
  WHERE ts >= CAST(? AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP)
) copies
WHERE copy_rank = 1
GROUP BY agent_id
ORDER BY agent_id
