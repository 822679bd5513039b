-- What the judge already used in a UTC day (earlier runs of the day count against the daily ceilings).
-- A judgment Firehose delivered twice counts twice: the ceiling errs on the side of spending less.
--
-- Placeholder: {{judgments}}.
-- Parameters, in order: 1-2 judged_at window [start of the day, end of the day)
SELECT
  count(*) AS traces,
  coalesce(sum(input_tokens + output_tokens), 0) AS tokens
FROM {{judgments}}
WHERE judged_at >= CAST(? AS TIMESTAMP)
  AND judged_at < CAST(? AS TIMESTAMP)
