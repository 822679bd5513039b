-- Lineage for erasure: every trace whose content is in the GRPO or DPO file (every DPO trace is a GRPO
-- completion), one id per line, written by the engine next to them. No parameters: it reads the materialised
-- members.
SELECT DISTINCT trace_id
FROM {{table:members}}
ORDER BY trace_id
