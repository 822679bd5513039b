-- Where one policy's judge component came from, per source (stored-component, replayed, rejudged,
-- no-judgment, none). No parameters.
SELECT judge_source, count(*) AS traces
FROM {{table:policy}}
GROUP BY judge_source
ORDER BY judge_source
