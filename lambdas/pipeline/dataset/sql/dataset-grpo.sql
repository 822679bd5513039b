-- GRPO records, written by the engine (Athena UNLOAD, DuckDB COPY) straight to the run's dataset prefix:
-- one JSON line per prompt group. Format (read by training/sial_training/dataset.py):
--   {"group_id", "agent_id", "prompt": [{"role", "content"}...], "contexts": [...],
--    "completions": [{"trace_id", "reward", "completion": [{"role": "assistant", "content"}],
--                     "reward_components": {"feedback", "errors", "latency", "groundedness", "judge"},
--                     "reward_policy_version", "late_feedback"}...]}
-- Completions best first (reward, then trace id). No parameters: it reads the materialised members and,
-- by trace id, their content in the materialised candidates.
--
-- The completions are aggregated per group from the narrow columns only (the output and the scores); the
-- group's prompt and contexts are then joined once per group, from its best row (best_rank = 1). Every row
-- of a group has the same conversation and contexts (the group id is a hash of them and the agent), so any
-- row's are the group's; aggregating the conversations row by row (min_by) copied each of them into the
-- aggregate. The candidates table is this build's own materialised table, not the traces table: the second
-- read of it scans other columns (the conversation, for one row in each group).
WITH groups AS (
  SELECT
    m.agent_id,
    m.group_id,
    -- Sorted by best_rank (1 = the best: reward, then trace id; selection.sql) as an array rather than by an
    -- ordered aggregate: each completion's fields are put behind its rank, the list sorted on the rank (unique
    -- in a group, so the other fields are never compared), and each completion then built from its fields.
    -- The same order as ORDER BY final_reward DESC, trace_id ASC, without the engine sorting whole rows group
    -- by group; the aggregate holds flat rows, and the nested completion (its message list and components)
    -- is built once per completion after the sort.
    {{transform}}(array_sort(array_agg(
      CAST(ROW(
        m.best_rank, m.trace_id, m.final_reward, c.output,
        c.feedback_score, c.reward_components.errors, c.reward_components.latency, c.reward_components.groundedness, c.judge_score,
        c.reward_policy_version, c.late_feedback
      ) AS ROW(sort_key BIGINT, trace_id VARCHAR, reward DOUBLE, output VARCHAR,
        feedback DOUBLE, errors DOUBLE, latency DOUBLE, groundedness DOUBLE, judge DOUBLE,
        reward_policy_version VARCHAR, late_feedback BOOLEAN))
    )), x -> CAST(ROW(
      x.trace_id,
      x.reward,
      ARRAY[CAST(ROW('assistant', x.output) AS ROW(role VARCHAR, content VARCHAR))],
      CAST(ROW(x.feedback, x.errors, x.latency, x.groundedness, x.judge)
        AS ROW(feedback DOUBLE, errors DOUBLE, latency DOUBLE, groundedness DOUBLE, judge DOUBLE)),
      x.reward_policy_version,
      x.late_feedback
    ) AS ROW(trace_id VARCHAR, reward DOUBLE, completion {{message_list_type}}, reward_components ROW(feedback DOUBLE, errors DOUBLE, latency DOUBLE, groundedness DOUBLE, judge DOUBLE), reward_policy_version VARCHAR, late_feedback BOOLEAN))) AS completions
  FROM {{table:members}} m
  JOIN {{table:candidates}} c ON c.trace_id = m.trace_id
  GROUP BY m.agent_id, m.group_id
)
SELECT
  g.group_id,
  g.agent_id,
  pc.input_messages AS prompt,
  pc.retrieved_contexts AS contexts,
  g.completions
FROM groups g
JOIN {{table:members}} b ON b.agent_id = g.agent_id AND b.group_id = g.group_id AND b.best_rank = 1
JOIN {{table:candidates}} pc ON pc.trace_id = b.trace_id
ORDER BY g.agent_id, g.group_id
