-- Both policies' rewards of every candidate, two numbers a row and nothing else (no ids, no content):
-- what the distributions, the rank correlation and the threshold crossings are computed from.
-- No parameters: it reads the two materialised policy views.
SELECT cur.final_reward AS current_reward, cand.final_reward AS candidate_reward
FROM {{table:current}} cur
JOIN {{table:candidate}} cand ON cand.trace_id = cur.trace_id
