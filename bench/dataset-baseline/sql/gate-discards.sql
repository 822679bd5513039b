-- What the gates kept out of this boundary's lake in the window: gate_audit rows per gate.
--
-- Placeholder (see training-completions.sql): {{gate_audit}}.
-- Parameters, in order: 1 data_boundary  2 window start  3 window end (inclusive).
SELECT
  gate,
  count(*) AS discarded
FROM {{gate_audit}}
WHERE data_boundary = ?
  AND discarded_at >= CAST(? AS TIMESTAMP)
  AND discarded_at <= CAST(? AS TIMESTAMP)
GROUP BY gate
