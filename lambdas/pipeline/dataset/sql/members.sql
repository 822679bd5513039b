-- Members: every training row of every prompt group of two or more, with its group id, size, reward spread
-- and DPO ranks; materialised as {{table:members}}, which the file queries read. Only what the grouping
-- decides is kept: the files take each row's content from {{table:candidates}} by trace id, so the
-- conversations are not copied into a second working table.
-- Parameters: those of the selection (selection.sql).
WITH {{selection}}
SELECT trace_id, agent_id, final_reward, group_id, group_size, best_rank, worst_rank, pairable
FROM members
