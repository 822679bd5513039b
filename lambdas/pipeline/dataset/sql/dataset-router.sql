-- The router training set, written by the engine straight to the run's dataset prefix: one JSON object per
-- trace with exactly the fields of training/sial_training/router/dataset.py, nulls written as null. Each
-- line is built as JSON text and written as text: a JSON unload (Athena's) leaves out null fields, and the
-- contract wants every field present.
-- No parameters: it reads the materialised router members.
SELECT {{json_format}}(CAST(CAST(ROW(
    trace_id, ts, agent_id, language, user_message, context_chars, tool_calls, prior_turns,
    route_tier, misrouted, reward, feedback_outcome, "error"
  ) AS ROW(
    trace_id VARCHAR, ts VARCHAR, agent_id VARCHAR, language VARCHAR, user_message VARCHAR, context_chars BIGINT,
    tool_calls BIGINT, prior_turns BIGINT, route_tier VARCHAR, misrouted BOOLEAN, reward DOUBLE,
    feedback_outcome VARCHAR, "error" BOOLEAN
  )) AS JSON)) AS line
FROM {{table:router_members}}
ORDER BY trace_id
