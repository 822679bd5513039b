-- GRPO records, written by the engine (Athena UNLOAD, DuckDB COPY) straight to the run's dataset prefix:
-- one JSON line per prompt group. Format (read by training/sial_training/dataset.py):
--   {"group_id", "agent_id", "prompt": [{"role", "content"}...], "contexts": [...],
--    "completions": [{"trace_id", "reward", "completion": [{"role": "assistant", "content"}],
--                     "reward_components": {"feedback", "errors", "latency", "groundedness", "judge"},
--                     "reward_policy_version", "late_feedback"}...]}
-- Completions best first (reward, then trace id). No parameters: it reads the materialised members.
SELECT
  group_id,
  agent_id,
  min_by(input_messages, trace_id) AS prompt,
  min_by(retrieved_contexts, trace_id) AS contexts,
  array_agg(
    CAST(ROW(
      trace_id,
      final_reward,
      ARRAY[CAST(ROW('assistant', output) AS ROW(role VARCHAR, content VARCHAR))],
      CAST(ROW(feedback_score, reward_components.errors, reward_components.latency, reward_components.groundedness, judge_score)
        AS ROW(feedback DOUBLE, errors DOUBLE, latency DOUBLE, groundedness DOUBLE, judge DOUBLE)),
      reward_policy_version,
      late_feedback
    ) AS ROW(trace_id VARCHAR, reward DOUBLE, completion {{message_list_type}}, reward_components ROW(feedback DOUBLE, errors DOUBLE, latency DOUBLE, groundedness DOUBLE, judge DOUBLE), reward_policy_version VARCHAR, late_feedback BOOLEAN))
    ORDER BY final_reward DESC, trace_id ASC
  ) AS completions
FROM {{table:members}}
GROUP BY agent_id, group_id
ORDER BY agent_id, group_id
