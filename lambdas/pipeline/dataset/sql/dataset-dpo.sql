-- DPO pairs, written by the engine straight to the run's dataset prefix: one JSON line per group whose
-- best and worst rewards differ by at least the stage's margin; the best is chosen over the worst. Format:
--   {"group_id", "agent_id", "prompt": [...], "contexts": [...], "chosen": [{"role": "assistant", "content"}],
--    "rejected": [...], "chosen_trace_id", "rejected_trace_id", "chosen_reward", "rejected_reward"}
-- No parameters: it reads the materialised members.
SELECT
  c.group_id,
  c.agent_id,
  c.input_messages AS prompt,
  c.retrieved_contexts AS contexts,
  ARRAY[CAST(ROW('assistant', c.output) AS ROW(role VARCHAR, content VARCHAR))] AS chosen,
  ARRAY[CAST(ROW('assistant', r.output) AS ROW(role VARCHAR, content VARCHAR))] AS rejected,
  c.trace_id AS chosen_trace_id,
  r.trace_id AS rejected_trace_id,
  c.final_reward AS chosen_reward,
  r.final_reward AS rejected_reward
FROM {{table:members}} c
JOIN {{table:members}} r ON r.agent_id = c.agent_id AND r.group_id = c.group_id AND r.worst_rank = 1
WHERE c.best_rank = 1
  AND c.pairable
ORDER BY c.agent_id, c.group_id
