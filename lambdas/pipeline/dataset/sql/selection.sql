-- The training selection, shared by every dataset query (sql-files.ts puts this text where a query
-- says {{selection}}, so the rules exist once). It defines the CTEs below; each query adds its own.
--
-- Parameters, in order (dataset-queries.ts binds them by name in this order):
--   1-2 training scopes  3 accepted reward-policy versions as '|v1|v0|'  4 current policy version
--   5-9 policy weights: feedback, errors, latency, groundedness, judge
--   10-14 feedback outcome scores: success, fallback, timeout, error, user_rejected  15 quality share
--   16 n-gram words  17 max golden overlap  18 high-quality reward  19 min positive feedback per agent
--   20 min high-quality traces per agent  21 DPO minimum reward margin (already lowered by a tolerance)
--   22 data_boundary  23-24 trace window (ts)  25-26 feedback window (received_at)
-- {{inline:golden_ngrams}} is the golden set's n-grams as one literal '|gram|gram|' (too long for a bound
-- parameter on Athena); the build escapes it like a parameter.
params AS (
  SELECT
    CAST(? AS VARCHAR) AS scope_a,
    CAST(? AS VARCHAR) AS scope_b,
    CAST(? AS VARCHAR) AS accepted_versions,
    CAST(? AS VARCHAR) AS current_version,
    CAST(? AS DOUBLE) AS w_feedback,
    CAST(? AS DOUBLE) AS w_errors,
    CAST(? AS DOUBLE) AS w_latency,
    CAST(? AS DOUBLE) AS w_groundedness,
    CAST(? AS DOUBLE) AS w_judge,
    CAST(? AS DOUBLE) AS s_success,
    CAST(? AS DOUBLE) AS s_fallback,
    CAST(? AS DOUBLE) AS s_timeout,
    CAST(? AS DOUBLE) AS s_error,
    CAST(? AS DOUBLE) AS s_user_rejected,
    CAST(? AS DOUBLE) AS quality_share,
    CAST(? AS INTEGER) AS ngram_words,
    CAST(? AS DOUBLE) AS max_overlap,
    CAST(? AS DOUBLE) AS high_quality_reward,
    CAST(? AS BIGINT) AS min_positive_feedback,
    CAST(? AS BIGINT) AS min_high_quality,
    CAST(? AS DOUBLE) AS dpo_min_margin
),
-- Every copy of every trace of this boundary in the window. Firehose delivers at least once, so one trace
-- id may have several rows. Boundary and window are bound directly (not through params) so that both
-- engines prune partitions on them.
copies AS (
  SELECT
    trace_id, ts, agent_id, request_id, training_scope, input_messages, retrieved_contexts, output,
    feedback_outcome, reward, reward_components, reward_policy_version, gated_at,
    -- The latest gated copy wins: a re-delivered trace was gated again by the gate code and policy of the
    -- day, so its masking and its scores are the newest; ties (true duplicates) are broken deterministically.
    row_number() OVER (PARTITION BY trace_id ORDER BY gated_at DESC, reward_policy_version DESC, reward ASC, output ASC) AS copy_rank
  FROM {{traces}}
  WHERE consent = true
    AND data_boundary = ?
    AND ts >= CAST(? AS TIMESTAMP)
    AND ts <= CAST(? AS TIMESTAMP)
),
in_scope AS (
  SELECT c.*, strpos(p.accepted_versions, '|' || c.reward_policy_version || '|') > 0 AS version_accepted
  FROM copies c CROSS JOIN params p
  WHERE c.copy_rank = 1
    AND c.training_scope IN (p.scope_a, p.scope_b)
),
events AS (
  SELECT feedback_id, agent_id, request_id, trace_id, outcome, quality, received_at
  FROM {{feedback}}
  WHERE received_at >= CAST(? AS TIMESTAMP)
    AND received_at <= CAST(? AS TIMESTAMP)
),
-- Feedback events reach their trace by (agent, request id) or by trace id; UNION keeps an event matched
-- both ways once. The latest event of a trace is its feedback.
event_matches AS (
  SELECT s.trace_id, e.feedback_id, e.outcome, e.quality, e.received_at
  FROM in_scope s JOIN events e ON e.agent_id = s.agent_id AND e.request_id = s.request_id
  UNION
  SELECT s.trace_id, e.feedback_id, e.outcome, e.quality, e.received_at
  FROM in_scope s JOIN events e ON e.trace_id = s.trace_id
),
latest_event AS (
  SELECT
    ranked.trace_id,
    ranked.quality,
    CASE ranked.outcome
      WHEN 'success' THEN p.s_success
      WHEN 'fallback' THEN p.s_fallback
      WHEN 'timeout' THEN p.s_timeout
      WHEN 'error' THEN p.s_error
      WHEN 'user_rejected' THEN p.s_user_rejected
    END AS outcome_score,
    p.quality_share
  FROM (
    SELECT m.*, row_number() OVER (PARTITION BY m.trace_id ORDER BY m.received_at DESC, m.feedback_id DESC) AS event_rank
    FROM event_matches m
  ) ranked CROSS JOIN params p
  WHERE ranked.event_rank = 1
),
-- The feedback component: the latest event's (the reward policy's rule: outcome score blended with the
-- 0-10 quality by the quality share), else what the trace carried when it was scored.
with_feedback AS (
  SELECT
    s.*,
    le.trace_id IS NOT NULL AS late_feedback,
    CASE
      WHEN le.trace_id IS NULL THEN s.reward_components.feedback
      WHEN le.outcome_score IS NOT NULL AND le.quality IS NOT NULL
        THEN least(1.0, greatest(0.0, (1 - le.quality_share) * le.outcome_score + le.quality_share * (le.quality / 10)))
      ELSE coalesce(le.outcome_score, le.quality / 10)
    END AS feedback_score
  FROM in_scope s LEFT JOIN latest_event le ON le.trace_id = s.trace_id
),
-- Re-scoring: the stored components re-weighted under the current policy, a component without evidence
-- left out and the weights renormalised (the online rule). Rows of the current version without late
-- feedback keep their stored reward, which is the same number.
rescored AS (
  SELECT
    w.*,
    CASE
      WHEN w.reward_policy_version = p.current_version AND NOT w.late_feedback THEN w.reward
      WHEN (CASE WHEN w.feedback_score IS NULL THEN 0 ELSE p.w_feedback END)
         + (CASE WHEN w.reward_components.errors IS NULL THEN 0 ELSE p.w_errors END)
         + (CASE WHEN w.reward_components.latency IS NULL THEN 0 ELSE p.w_latency END)
         + (CASE WHEN w.reward_components.groundedness IS NULL THEN 0 ELSE p.w_groundedness END)
         + (CASE WHEN w.reward_components.judge IS NULL THEN 0 ELSE p.w_judge END) > 0
        THEN least(1.0, greatest(0.0,
          (coalesce(p.w_feedback * w.feedback_score, 0)
           + coalesce(p.w_errors * w.reward_components.errors, 0)
           + coalesce(p.w_latency * w.reward_components.latency, 0)
           + coalesce(p.w_groundedness * w.reward_components.groundedness, 0)
           + coalesce(p.w_judge * w.reward_components.judge, 0))
          / ((CASE WHEN w.feedback_score IS NULL THEN 0 ELSE p.w_feedback END)
           + (CASE WHEN w.reward_components.errors IS NULL THEN 0 ELSE p.w_errors END)
           + (CASE WHEN w.reward_components.latency IS NULL THEN 0 ELSE p.w_latency END)
           + (CASE WHEN w.reward_components.groundedness IS NULL THEN 0 ELSE p.w_groundedness END)
           + (CASE WHEN w.reward_components.judge IS NULL THEN 0 ELSE p.w_judge END))))
      ELSE coalesce(w.reward_components.errors, 0)
    END AS final_reward,
    -- The user's words, lower-cased and split on white space, punctuation and symbols: what the golden
    -- set is compared with (decontamination.ts splits the golden prompts the same way).
    filter(
      {{regexp_split}}(lower({{array_join}}({{transform}}(filter(w.input_messages, m -> m.role = 'user'), m -> m.content), ' ')), '[\s\p{P}\p{S}]+'),
      x -> x <> ''
    ) AS user_words
  FROM with_feedback w CROSS JOIN params p
),
golden AS (
  SELECT DISTINCT gram FROM UNNEST(split({{inline:golden_ngrams}}, '|')) AS u(gram) WHERE gram <> ''
),
-- Word n-grams of each prompt's user text (a prompt shorter than n words is one n-gram, compared whole).
trace_ngrams AS (
  SELECT r.trace_id, g.gram
  FROM rescored r CROSS JOIN params p
  CROSS JOIN UNNEST(
    CASE
      WHEN {{cardinality}}(r.user_words) >= p.ngram_words
        THEN {{transform}}({{sequence}}(1, {{cardinality}}(r.user_words) - p.ngram_words + 1), i -> {{array_join}}({{transform}}({{sequence}}(0, p.ngram_words - 1), k -> r.user_words[i + k]), ' '))
      ELSE ARRAY[{{array_join}}(r.user_words, ' ')]
    END
  ) AS g(gram)
  WHERE {{cardinality}}(r.user_words) > 0
    AND EXISTS (SELECT 1 FROM golden)
),
overlap AS (
  SELECT tn.trace_id, count(DISTINCT tn.gram) AS grams, count(DISTINCT gd.gram) AS hits
  FROM trace_ngrams tn LEFT JOIN golden gd ON gd.gram = tn.gram
  GROUP BY tn.trace_id
),
candidates AS (
  SELECT
    r.*,
    {{cardinality}}(r.user_words) > 0 AS has_user_words,
    coalesce(o.hits, 0) > 0 AND coalesce(o.hits, 0) >= p.max_overlap * o.grams AS contaminated
  FROM rescored r CROSS JOIN params p LEFT JOIN overlap o ON o.trace_id = r.trace_id
),
-- What may train: an accepted policy version, a user turn, no golden-set overlap.
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
-- Training rows: usable rows of eligible agents, with their prompt key. A prompt is the whole
-- conversation (every input message as [role, content], in order) plus the retrieved contexts.
training AS (
  SELECT
    u.*,
    {{json_format}}(CAST({{transform}}(u.input_messages, m -> ARRAY[m.role, m.content]) AS JSON)) AS prompt_json,
    {{json_format}}(CAST(u.retrieved_contexts AS JSON)) AS contexts_json
  FROM usable u JOIN agent_figures af ON af.agent_id = u.agent_id AND af.eligible
),
grouped AS (
  SELECT
    t.*,
    substr(lower({{to_hex}}(sha256({{to_utf8}}(t.agent_id || chr(10) || t.prompt_json || chr(10) || t.contexts_json)))), 1, 24) AS group_id,
    count(*) OVER (PARTITION BY t.agent_id, t.prompt_json, t.contexts_json) AS group_size,
    max(t.final_reward) OVER (PARTITION BY t.agent_id, t.prompt_json, t.contexts_json)
      - min(t.final_reward) OVER (PARTITION BY t.agent_id, t.prompt_json, t.contexts_json) AS reward_spread,
    -- Two mirror-image total orders: the first row of one is the last of the other, so in a group of two
    -- or more the chosen and the rejected completion are always different rows, ties broken by trace id.
    row_number() OVER (PARTITION BY t.agent_id, t.prompt_json, t.contexts_json ORDER BY t.final_reward DESC, t.trace_id ASC) AS best_rank,
    row_number() OVER (PARTITION BY t.agent_id, t.prompt_json, t.contexts_json ORDER BY t.final_reward ASC, t.trace_id DESC) AS worst_rank
  FROM training t
),
-- GRPO compares completions within a group: only groups of two or more train.
members AS (
  SELECT g.*, g.reward_spread >= p.dpo_min_margin AS pairable
  FROM grouped g CROSS JOIN params p
  WHERE g.group_size >= 2
)
