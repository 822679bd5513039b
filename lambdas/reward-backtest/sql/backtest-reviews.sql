-- People's own scores of the window's traces (the latest review of each trace) beside both policies'
-- rewards. Placeholder: {{reviews}}. Parameter: 1 window start (a review never precedes its trace).
SELECT cur.trace_id, r.faithfulness, r.answer_relevance, cur.final_reward AS current_reward, cand.final_reward AS candidate_reward
FROM (
  SELECT
    trace_id, faithfulness, answer_relevance,
    row_number() OVER (PARTITION BY trace_id ORDER BY reviewed_at DESC, review_id DESC) AS review_rank
  FROM {{reviews}}
  WHERE reviewed_at >= CAST(? AS TIMESTAMP)
) r
JOIN {{table:current}} cur ON cur.trace_id = r.trace_id
JOIN {{table:candidate}} cand ON cand.trace_id = r.trace_id
WHERE r.review_rank = 1
ORDER BY cur.trace_id
