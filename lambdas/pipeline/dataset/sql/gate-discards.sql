-- What the gates kept out of this boundary's lake in the window, per gate. A trace delivered twice and
-- discarded twice is audited twice; it counts once, under the gate of its latest discard.
--
-- Placeholder: {{gate_audit}}.
-- Parameters, in order: 1 data_boundary  2 window start  3 window end (inclusive).
SELECT
  gate,
  count(*) AS discarded
FROM (
  SELECT
    trace_id,
    gate,
    row_number() OVER (PARTITION BY trace_id ORDER BY discarded_at DESC, gate ASC) AS audit_rank
  FROM {{gate_audit}}
  WHERE data_boundary = ?
    AND discarded_at >= CAST(? AS TIMESTAMP)
    AND discarded_at <= CAST(? AS TIMESTAMP)
) latest
WHERE audit_rank = 1
GROUP BY gate
