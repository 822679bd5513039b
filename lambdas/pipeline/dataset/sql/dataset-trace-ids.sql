-- Lineage for erasure: every trace whose content is in the GRPO or DPO file (every DPO trace is a GRPO
-- completion), one id per line, written by the engine next to them. Parameters: those of the selection (selection.sql).
WITH {{selection}}
SELECT DISTINCT trace_id
FROM members
ORDER BY trace_id
