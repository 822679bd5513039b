-- The manifest's counts, one row, over the same selection as the files. Parameters: those of the selection (selection.sql).
WITH {{selection}}
SELECT
  (SELECT count(*) FROM copies) AS rows_in_window,
  (SELECT count(*) FROM copies WHERE copy_rank > 1) AS duplicate_copies,
  (SELECT count(*) FROM candidates WHERE NOT version_accepted) AS excluded_policy_version,
  (SELECT count(*) FROM candidates WHERE version_accepted AND NOT has_user_words) AS excluded_no_user_turn,
  (SELECT count(*) FROM candidates WHERE version_accepted AND has_user_words AND contaminated) AS excluded_golden_overlap,
  (SELECT count(*) FROM usable u WHERE NOT EXISTS (SELECT 1 FROM agent_figures af WHERE af.agent_id = u.agent_id AND af.eligible)) AS excluded_ineligible_agent,
  (SELECT count(*) FROM usable WHERE late_feedback) AS late_feedback_applied,
  (SELECT count(*) FROM usable u CROSS JOIN params p WHERE u.reward_policy_version <> p.current_version) AS rescored_older_policy,
  (SELECT count(DISTINCT trace_id) FROM members) AS traces_used,
  (SELECT count(DISTINCT group_id) FROM members) AS grpo_groups,
  (SELECT count(*) FROM members) AS grpo_completions,
  (SELECT count(DISTINCT group_id) FROM members WHERE pairable) AS dpo_pairs
