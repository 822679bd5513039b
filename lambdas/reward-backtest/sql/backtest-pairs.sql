-- The DPO pairs one policy's selection makes, by trace id only: the same rows dataset-dpo.sql writes
-- (best_rank 1 chosen over worst_rank 1 in a pairable group), without their content. No parameters.
SELECT c.agent_id, c.group_id, c.trace_id AS chosen_trace_id, r.trace_id AS rejected_trace_id
FROM {{table:members}} c
JOIN {{table:members}} r ON r.agent_id = c.agent_id AND r.group_id = c.group_id AND r.worst_rank = 1
WHERE c.best_rank = 1
  AND c.pairable
ORDER BY c.agent_id, c.group_id
