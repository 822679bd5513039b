-- DPO pairs, written by the engine straight to the run's dataset prefix: one JSON line per group whose
-- best and worst rewards differ by at least the stage's margin; the best is chosen over the worst. Format:
--   {"group_id", "agent_id", "prompt": [...], "contexts": [...], "chosen": [{"role": "assistant", "content"}],
--    "rejected": [...], "chosen_trace_id", "rejected_trace_id", "chosen_reward", "rejected_reward"}
-- No parameters: it reads the materialised members and, by trace id, their content in the materialised
-- candidates.
SELECT
  b.group_id,
  b.agent_id,
  bc.input_messages AS prompt,
  bc.retrieved_contexts AS contexts,
  ARRAY[CAST(ROW('assistant', bc.output) AS ROW(role VARCHAR, content VARCHAR))] AS chosen,
  ARRAY[CAST(ROW('assistant', wc.output) AS ROW(role VARCHAR, content VARCHAR))] AS rejected,
  b.trace_id AS chosen_trace_id,
  w.trace_id AS rejected_trace_id,
  b.final_reward AS chosen_reward,
  w.final_reward AS rejected_reward
FROM {{table:members}} b
JOIN {{table:members}} w ON w.agent_id = b.agent_id AND w.group_id = b.group_id AND w.worst_rank = 1
JOIN {{table:candidates}} bc ON bc.trace_id = b.trace_id
JOIN {{table:candidates}} wc ON wc.trace_id = w.trace_id
WHERE b.best_rank = 1
  AND b.pairable
ORDER BY b.agent_id, b.group_id
