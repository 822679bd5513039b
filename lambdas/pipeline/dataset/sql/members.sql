-- Members: every training row of every prompt group of two or more, with its group id, size, reward spread
-- and DPO ranks; materialised as {{table:members}}, which the file queries read.
-- Parameters: those of the selection (selection.sql).
WITH {{selection}}
SELECT
  trace_id, agent_id, reward_policy_version, input_messages, retrieved_contexts, output, reward_components,
  feedback_score, judge_score, late_feedback, final_reward, group_id, group_size, best_rank, worst_rank, pairable
FROM members
