-- The daily cost report: per agent, requests, tokens in and out and their cost in a window (the first copy
-- of each trace), and how many requests carry no cost (an unpriced model, or no token counts).
-- The rows are the report itself: read as rows for the CSV and unloaded as they are to Parquet, so the
-- columns are in the CSV's order, the counts are BIGINT on both engines (DuckDB's sum would be HUGEINT),
-- and the cost is rounded to micro-dollars here, as the CSV prints it, so the two files agree.
--
-- Placeholder: {{traces}}.
-- Parameters, in order: 1-2 the window (traces.ts, end excluded); 3-4 the one agent to report, twice
-- ('' for every agent).
SELECT
  agent_id,
  CAST(coalesce(sum(input_tokens), 0) AS BIGINT) AS tokens_in,
  CAST(coalesce(sum(output_tokens), 0) AS BIGINT) AS tokens_out,
  round(coalesce(sum(cost_usd), CAST(0 AS DOUBLE)), 6) AS cost_usd,
  CAST(count(*) AS BIGINT) AS requests,
  CAST(count(*) - count(cost_usd) AS BIGINT) AS unpriced_requests
FROM (
  SELECT agent_id, input_tokens, output_tokens, cost_usd, row_number() OVER (PARTITION BY trace_id ORDER BY gated_at, ts) AS copy_rank
  FROM {{traces}}
  WHERE ts >= CAST(? AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP)
) copies
WHERE copy_rank = 1 AND (? = '' OR agent_id = ?)
GROUP BY agent_id
ORDER BY agent_id
