-- Eligibility figures over the same selection and window as the training completions.
--
-- Placeholders (see training-completions.sql): {{traces}}, {{feedback}}.
-- Parameters, in order:
--   1 data_boundary  2 reward_policy_version  3-4 training scopes  5 window start  6 window end
--   7 feedback window start  8 feedback window end  9 high-quality reward threshold
--
-- Positive feedback = distinct `success` events of the feedback table in the window (feedback_id is a hash
-- of the event's content, so a client retry is one event) + selected traces whose own feedback outcome is
-- success and whose (agent_id, request_id) has no success event in the window: the same interaction
-- reported both ways counts once. A trace without a request_id cannot be matched and counts on its own.
WITH selected AS (
  SELECT
    trace_id,
    agent_id,
    request_id,
    reward,
    feedback_outcome
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
success_events AS (
  SELECT feedback_id, agent_id, request_id
  FROM {{feedback}}
  WHERE outcome = 'success'
    AND received_at >= CAST(? AS TIMESTAMP)
    AND received_at <= CAST(? AS TIMESTAMP)
),
event_requests AS (
  SELECT DISTINCT agent_id, request_id
  FROM success_events
),
trace_only_success AS (
  SELECT s.trace_id
  FROM selected s
  LEFT JOIN event_requests e
    ON e.agent_id = s.agent_id AND e.request_id = s.request_id
  WHERE s.feedback_outcome = 'success'
    AND e.request_id IS NULL
)
SELECT
  (SELECT count(DISTINCT feedback_id) FROM success_events) AS positive_feedback_events,
  (SELECT count(*) FROM trace_only_success) AS positive_trace_feedback,
  (SELECT count(*) FROM selected WHERE reward >= ?) AS high_quality_traces
