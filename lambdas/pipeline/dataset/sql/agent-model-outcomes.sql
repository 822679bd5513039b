-- The confidence scores' evidence: per agent and model, how many requests got feedback, how many of those
-- were positive, and when the newest came (the latest explicit feedback on a request, else the feedback
-- the trace carried; the first copy of each trace).
--
-- Placeholders: {{traces}}, {{feedback}}.
-- Parameters, in order: 1-2 the lookback window (traces.ts)  3-4 the same (feedback.received_at)
WITH traces_in AS (
  SELECT trace_id, agent_id, request_id, model, ts, feedback_outcome, row_number() OVER (PARTITION BY trace_id ORDER BY gated_at, ts) AS copy_rank
  FROM {{traces}}
  WHERE ts >= CAST(? AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP)
),
feedback_latest AS (
  SELECT agent_id, request_id, outcome, received_at, row_number() OVER (PARTITION BY agent_id, request_id ORDER BY received_at DESC, feedback_id) AS event_rank
  FROM {{feedback}}
  WHERE received_at >= CAST(? AS TIMESTAMP) AND received_at < CAST(? AS TIMESTAMP)
),
outcomes AS (
  SELECT t.agent_id, t.model, coalesce(f.outcome, t.feedback_outcome) AS outcome, coalesce(f.received_at, t.ts) AS outcome_at
  FROM traces_in t
  LEFT JOIN feedback_latest f ON f.agent_id = t.agent_id AND f.request_id = t.request_id AND f.event_rank = 1
  WHERE t.copy_rank = 1 AND coalesce(f.outcome, t.feedback_outcome) IS NOT NULL
)
SELECT
  agent_id,
  model,
  count(*) AS feedback_count,
  sum(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END) AS positive_count,
  max(outcome_at) AS last_feedback_at
FROM outcomes
GROUP BY agent_id, model
ORDER BY agent_id, model
