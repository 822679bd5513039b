-- Lineage for erasure of a router dataset: every trace in the router file, one id per line.
-- No parameters: it reads the materialised router members.
SELECT trace_id
FROM {{table:router_members}}
ORDER BY trace_id
