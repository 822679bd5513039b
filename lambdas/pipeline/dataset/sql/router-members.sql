-- Router members: the rows the router classifier trains on, one per trace, in the line contract of
-- training/sial_training/router/dataset.py; materialised as {{table:router_members}}, which the router file
-- and its lineage read. The same selection as the LLM files (selection.sql: the latest gated copy of each
-- trace, the boundary, the target's scopes, accepted policy versions re-scored, late feedback, golden-set
-- overlap, eligible agents only), without grouping: the router learns from every usable trace, good or
-- bad, because a bad outcome on a tier is what teaches it to route up.
-- Parameters: those of the selection (selection.sql).
WITH {{selection}}
SELECT
  u.trace_id,
  -- Extended ISO-8601 in UTC, whole seconds, built from parts so that both engines spell it alike.
  CAST(CAST(u.ts AS DATE) AS VARCHAR) || 'T'
    || lpad(CAST(hour(u.ts) AS VARCHAR), 2, '0') || ':'
    || lpad(CAST(minute(u.ts) AS VARCHAR), 2, '0') || ':'
    || lpad(CAST(second(u.ts) AS VARCHAR), 2, '0') || 'Z' AS ts,
  u.agent_id,
  u.language,
  {{array_join}}({{transform}}({{slice}}(filter(u.input_messages, m -> m.role = 'user'), -1, 1), m -> m.content), '') AS user_message,
  CAST(coalesce(length({{array_join}}(u.retrieved_contexts, '')), 0) AS BIGINT) AS context_chars,
  CAST(u.tool_call_count AS BIGINT) AS tool_calls,
  CAST(greatest(0, {{cardinality}}(filter(u.input_messages, m -> m.role = 'user')) - 1) AS BIGINT) AS prior_turns,
  u.route_tier,
  u.misrouted,
  u.final_reward AS reward,
  u.effective_feedback_outcome AS feedback_outcome,
  u."error"
-- The usable rows (selection.sql's usable: its three conditions), read from {{table:candidates}} itself for
-- the request features, which the selection's narrow copy of the candidates does not carry.
FROM {{table:candidates}} u JOIN agent_figures af ON af.agent_id = u.agent_id AND af.eligible
WHERE u.version_accepted AND u.has_user_words AND NOT u.contaminated
