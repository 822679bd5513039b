-- The training selection over the materialised candidates (candidates.sql), shared by the queries that
-- need it (sql-files.ts puts this text where a query names the selection, so the rules exist once).
--
-- Parameters, in order (dataset-queries.ts binds them in this order):
--   1 high-quality reward  2 min positive feedback per agent  3 min high-quality traces per agent
--   4 DPO minimum reward margin (already lowered by a tolerance)  5-6 feedback window (received_at)
params AS (
  SELECT
    CAST(? AS DOUBLE) AS high_quality_reward,
    CAST(? AS BIGINT) AS min_positive_feedback,
    CAST(? AS BIGINT) AS min_high_quality,
    CAST(? AS DOUBLE) AS dpo_min_margin
),
-- The candidates' narrow columns only. DuckDB keeps a CTE read more than once as a working copy: with
-- every column (SELECT *) that copied each conversation twice (here and in usable) for every query that
-- names the selection. The conversations are read from {{table:candidates}} by the one part that needs
-- them (training, below).
candidates AS (
  SELECT trace_id, agent_id, request_id, reward_policy_version, feedback_outcome, final_reward, late_feedback, version_accepted, has_user_words, contaminated
  FROM {{table:candidates}}
),
events AS (
  SELECT feedback_id, agent_id, request_id, trace_id, outcome, quality, received_at
  FROM {{feedback}}
  WHERE received_at >= CAST(? AS TIMESTAMP)
    AND received_at <= CAST(? AS TIMESTAMP)
),
-- What may train: an accepted policy version, a user turn, no golden-set overlap (training, below, applies
-- the same three conditions to {{table:candidates}} itself).
usable AS (
  SELECT * FROM candidates WHERE version_accepted AND has_user_words AND NOT contaminated
),
-- Eligibility, per agent. Positive feedback = distinct success events of the agent in the window, plus
-- the agent's traces whose own feedback is success and whose request has no success event (the same
-- interaction reported both ways counts once).
success_requests AS (
  SELECT DISTINCT agent_id, request_id FROM events WHERE outcome = 'success'
),
agent_events AS (
  SELECT agent_id, count(DISTINCT feedback_id) AS positive_events FROM events WHERE outcome = 'success' GROUP BY agent_id
),
agent_trace_success AS (
  SELECT c.agent_id, count(*) AS positive_traces
  FROM candidates c LEFT JOIN success_requests sr ON sr.agent_id = c.agent_id AND sr.request_id = c.request_id
  WHERE c.feedback_outcome = 'success' AND sr.request_id IS NULL
  GROUP BY c.agent_id
),
agent_quality AS (
  SELECT u.agent_id, count(*) AS high_quality
  FROM usable u CROSS JOIN params p
  WHERE u.final_reward >= p.high_quality_reward
  GROUP BY u.agent_id
),
agent_figures AS (
  SELECT
    a.agent_id,
    coalesce(ae.positive_events, 0) AS positive_events,
    coalesce(ats.positive_traces, 0) AS positive_traces,
    coalesce(ae.positive_events, 0) + coalesce(ats.positive_traces, 0) AS positive_feedback,
    coalesce(aq.high_quality, 0) AS high_quality,
    coalesce(ae.positive_events, 0) + coalesce(ats.positive_traces, 0) >= p.min_positive_feedback
      AND coalesce(aq.high_quality, 0) >= p.min_high_quality AS eligible
  FROM (SELECT agent_id FROM usable UNION SELECT agent_id FROM agent_events UNION SELECT agent_id FROM agent_trace_success) a
  CROSS JOIN params p
  LEFT JOIN agent_events ae ON ae.agent_id = a.agent_id
  LEFT JOIN agent_trace_success ats ON ats.agent_id = a.agent_id
  LEFT JOIN agent_quality aq ON aq.agent_id = a.agent_id
),
-- Training rows: usable rows of eligible agents, with their group: a prompt is the whole conversation
-- (every input message's role and content, in order) plus the retrieved contexts; a group is one agent and
-- one prompt, keyed by a sha256 of both (96 bits kept: collisions are not a practical concern).
training AS (
  SELECT
    k.*,
    -- The group key as a short hash: partitioning by it sorts 24 characters instead of whole conversations.
    substr(lower({{to_hex}}(sha256({{to_utf8}}(k.agent_id || chr(29) || k.prompt_key || chr(29) || k.contexts_key)))), 1, 24) AS group_id
  FROM (
    SELECT
      u.*,
      -- The text hashed is spelled out here rather than printed as JSON, because engines print JSON
      -- differently (Trino escapes characters outside the Basic Multilingual Plane, DuckDB does not) and
      -- the same prompt must get the same group id in Athena and locally. Each piece is escaped (the
      -- backslash first, then the three separators) and the lists are prefixed with their length, so two
      -- different prompts never spell the same text. A piece holding none of the four is its own escape, so it is
      -- copied as it is (most are: four searches cost less than four replacements).
      CAST({{cardinality}}(u.input_messages) AS VARCHAR) || chr(30) || {{array_join}}({{transform}}(u.input_messages, m ->
        m.role || chr(31) || CASE WHEN strpos(m.content, '\') + strpos(m.content, chr(29)) + strpos(m.content, chr(30)) + strpos(m.content, chr(31)) = 0 THEN m.content
          ELSE replace(replace(replace(replace(m.content, '\', '\\'), chr(29), '\' || chr(29)), chr(30), '\' || chr(30)), chr(31), '\' || chr(31)) END
      ), chr(30)) AS prompt_key,
      CAST({{cardinality}}(u.retrieved_contexts) AS VARCHAR) || chr(30) || {{array_join}}({{transform}}(u.retrieved_contexts, c ->
        CASE WHEN strpos(c, '\') + strpos(c, chr(29)) + strpos(c, chr(30)) + strpos(c, chr(31)) = 0 THEN c
          ELSE replace(replace(replace(replace(c, '\', '\\'), chr(29), '\' || chr(29)), chr(30), '\' || chr(30)), chr(31), '\' || chr(31)) END
      ), chr(30)) AS contexts_key
    -- The usable rows (the three conditions of usable, above), read with their conversations.
    FROM {{table:candidates}} u JOIN agent_figures af ON af.agent_id = u.agent_id AND af.eligible
    WHERE u.version_accepted AND u.has_user_words AND NOT u.contaminated
  ) k
),
grouped AS (
  SELECT
    t.*,
    count(*) OVER (PARTITION BY t.agent_id, t.group_id) AS group_size,
    max(t.final_reward) OVER (PARTITION BY t.agent_id, t.group_id)
      - min(t.final_reward) OVER (PARTITION BY t.agent_id, t.group_id) AS reward_spread,
    -- A total order (trace ids are unique after de-duplication, rewards never null), ties broken by trace id.
    row_number() OVER (PARTITION BY t.agent_id, t.group_id ORDER BY t.final_reward DESC, t.trace_id ASC) AS best_rank
  FROM training t
),
-- GRPO compares completions within a group: only groups of two or more train.
members AS (
  SELECT
    g.*,
    -- The rank in the mirror-image order (reward ascending, then trace id descending): the first row of one
    -- order is the last of the other, so in a group of two or more the chosen and the rejected completion
    -- are always different rows. Counted from the end of the best order, with no second sort.
    g.group_size - g.best_rank + 1 AS worst_rank,
    g.reward_spread >= p.dpo_min_margin AS pairable
  FROM grouped g CROSS JOIN params p
  WHERE g.group_size >= 2
)
