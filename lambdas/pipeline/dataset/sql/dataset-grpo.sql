-- GRPO records, written by the engine (Athena UNLOAD, DuckDB COPY) straight to the run's dataset prefix:
-- one JSON line per prompt group. Format (read by training/sial_training/dataset.py):
--   {"group_id", "agent_id", "prompt": [{"role", "content"}...], "contexts": [...],
--    "completions": [{"trace_id", "reward", "completion": [{"role": "assistant", "content"}],
--                     "reward_components": {"feedback", "errors", "latency", "groundedness", "judge"},
--                     "reward_policy_version", "late_feedback"}...]}
-- Completions best first (reward, then trace id). No parameters: it reads the materialised members and,
-- by trace id, their content in the materialised candidates.
SELECT
  m.group_id,
  m.agent_id,
  min_by(c.input_messages, m.trace_id) AS prompt,
  min_by(c.retrieved_contexts, m.trace_id) AS contexts,
  -- Sorted by best_rank (1 = the best: reward, then trace id; selection.sql) as an array rather than by an
  -- ordered aggregate: each completion is put behind its rank, the list sorted on the rank (unique in a
  -- group, so the completion itself is never compared), and the rank taken off again. The same order as
  -- ORDER BY final_reward DESC, trace_id ASC, without the engine sorting whole rows group by group.
  {{transform}}(array_sort(array_agg(
    CAST(ROW(
      m.best_rank,
      CAST(ROW(
        m.trace_id,
        m.final_reward,
        ARRAY[CAST(ROW('assistant', c.output) AS ROW(role VARCHAR, content VARCHAR))],
        CAST(ROW(c.feedback_score, c.reward_components.errors, c.reward_components.latency, c.reward_components.groundedness, c.judge_score)
          AS ROW(feedback DOUBLE, errors DOUBLE, latency DOUBLE, groundedness DOUBLE, judge DOUBLE)),
        c.reward_policy_version,
        c.late_feedback
      ) AS ROW(trace_id VARCHAR, reward DOUBLE, completion {{message_list_type}}, reward_components ROW(feedback DOUBLE, errors DOUBLE, latency DOUBLE, groundedness DOUBLE, judge DOUBLE), reward_policy_version VARCHAR, late_feedback BOOLEAN))
    ) AS ROW(sort_key BIGINT, completion ROW(trace_id VARCHAR, reward DOUBLE, completion {{message_list_type}}, reward_components ROW(feedback DOUBLE, errors DOUBLE, latency DOUBLE, groundedness DOUBLE, judge DOUBLE), reward_policy_version VARCHAR, late_feedback BOOLEAN)))
  )), x -> x.completion) AS completions
FROM {{table:members}} m
JOIN {{table:candidates}} c ON c.trace_id = m.trace_id
GROUP BY m.agent_id, m.group_id
ORDER BY m.agent_id, m.group_id
