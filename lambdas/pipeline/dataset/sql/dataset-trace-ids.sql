-- Lineage for erasure: every trace whose content is in the GRPO or DPO file (every DPO trace is a GRPO
-- completion), one id per line, written by the engine next to them. No parameters: it reads the materialised
-- members, which hold one row per trace (the candidates keep one copy of each trace id), so the ids need no
-- DISTINCT (a hash aggregate over every id).
SELECT trace_id
FROM {{table:members}}
ORDER BY trace_id
