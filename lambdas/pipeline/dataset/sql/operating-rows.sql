-- Shared by the operating reports (included as {{operating-rows}} after WITH): one row per trace of the
-- baseline and current windows (the first copy of a re-delivered trace), labelled with its window, with
-- the latest explicit feedback on its request (else the feedback the trace carried) and its latest judgment.
-- Parameters, in order: 1 current start  2-3 baseline start, end (traces.ts)  4-5 the same (feedback.received_at)
-- 6-7 the same (judgments.trace_ts)
traces_in AS (
  SELECT
    trace_id, agent_id, request_id, ts, error, latency_ms, cost_usd, misrouted, feedback_outcome, model, model_version,
    CASE WHEN ts >= CAST(? AS TIMESTAMP) THEN 'current' ELSE 'baseline' END AS report_window,
    row_number() OVER (PARTITION BY trace_id ORDER BY gated_at, ts) AS copy_rank
  FROM {{traces}}
  WHERE ts >= CAST(? AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP)
),
feedback_latest AS (
  SELECT
    agent_id, request_id, outcome,
    row_number() OVER (PARTITION BY agent_id, request_id ORDER BY received_at DESC, feedback_id) AS event_rank
  FROM {{feedback}}
  WHERE received_at >= CAST(? AS TIMESTAMP) AND received_at < CAST(? AS TIMESTAMP)
),
judged AS (
  SELECT
    trace_id, faithfulness, misrouted,
    row_number() OVER (PARTITION BY trace_id ORDER BY judged_at DESC, faithfulness ASC) AS judgment_rank
  FROM {{judgments}}
  WHERE trace_ts >= CAST(? AS TIMESTAMP) AND trace_ts < CAST(? AS TIMESTAMP)
),
operating_rows AS (
  SELECT
    t.trace_id, t.agent_id, t.ts, t.report_window, t.error, t.latency_ms, t.cost_usd, t.model, t.model_version,
    coalesce(f.outcome, t.feedback_outcome) AS feedback_outcome,
    -- The judge's verdict when there is one; else what the serving router reported.
    coalesce(j.misrouted, t.misrouted) AS misrouted,
    j.faithfulness
  FROM traces_in t
  LEFT JOIN feedback_latest f ON f.agent_id = t.agent_id AND f.request_id = t.request_id AND f.event_rank = 1
  LEFT JOIN judged j ON j.trace_id = t.trace_id AND j.judgment_rank = 1
  WHERE t.copy_rank = 1
)
