-- The manifest's counts, one row: the lake's copies of the window, what the candidates excluded, what the
-- materialised members hold. Parameters: those of the selection (selection.sql), then
--   7 data_boundary  8-9 trace window (ts)  10 current policy version.
WITH {{selection}},
copies AS (
  SELECT trace_id, count(*) AS copies
  FROM {{traces}}
  WHERE consent = true
    AND data_boundary = ?
    AND ts >= CAST(? AS TIMESTAMP)
    AND ts <= CAST(? AS TIMESTAMP)
  GROUP BY trace_id
)
SELECT
  (SELECT coalesce(sum(copies), 0) FROM copies) AS rows_in_window,
  (SELECT coalesce(sum(copies - 1), 0) FROM copies) AS duplicate_copies,
  (SELECT count(*) FROM candidates WHERE NOT version_accepted) AS excluded_policy_version,
  (SELECT count(*) FROM candidates WHERE version_accepted AND NOT has_user_words) AS excluded_no_user_turn,
  (SELECT count(*) FROM candidates WHERE version_accepted AND has_user_words AND contaminated) AS excluded_golden_overlap,
  (SELECT count(*) FROM usable u WHERE NOT EXISTS (SELECT 1 FROM agent_figures af WHERE af.agent_id = u.agent_id AND af.eligible)) AS excluded_ineligible_agent,
  (SELECT count(*) FROM usable WHERE late_feedback) AS late_feedback_applied,
  (SELECT count(*) FROM usable u WHERE u.reward_policy_version <> ?) AS rescored_older_policy,
  -- One member row per trace (the candidates keep one copy of each trace id): counted without a DISTINCT.
  (SELECT count(*) FROM {{table:members}}) AS traces_used,
  (SELECT count(DISTINCT group_id) FROM {{table:members}}) AS grpo_groups,
  (SELECT count(*) FROM {{table:members}}) AS grpo_completions,
  (SELECT count(DISTINCT group_id) FROM {{table:members}} WHERE pairable) AS dpo_pairs
