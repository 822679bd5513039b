-- Candidates: every trace of the boundary in the window (the latest gated copy of each trace id), in the
-- target's scopes, re-scored, with late feedback folded in and golden-set overlap measured: the heavy part
-- of the build, run once and materialised (DuckDB a table of the build's own, Athena a CTAS table under the build's
-- own folder) as {{table:candidates}}, which every other dataset query reads.
--
-- Parameters, in order (dataset-queries.ts binds them by name in this order):
--   1-2 training scopes  3 accepted reward-policy versions as '|v1|v0|'  4 current policy version
--   5-9 policy weights: feedback, errors, latency, groundedness, judge
--   10-14 feedback outcome scores: success, fallback, timeout, error, user_rejected  15 quality share
--   16 n-gram words  17 max golden overlap
--   18 data_boundary  19-20 trace window (ts)  21-22 feedback window (received_at)
--   23 the current policy's judge prompt hash ('' when it has no judge)  24-25 trace window (trace_ts)
-- {{inline:golden_ngrams}} is the golden set's n-grams as one literal '|gram|gram|' (too long for a bound
-- parameter on Athena); the build escapes it like a parameter.
WITH params AS (
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
    CAST(? AS DOUBLE) AS max_overlap
),
-- Every copy of every trace of this boundary in the window. Firehose delivers at least once, so one trace
-- id may have several rows. Boundary and window are bound directly (not through params) so that both
-- engines prune partitions on them.
copies AS (
  SELECT
    trace_id, ts, agent_id, request_id, training_scope, input_messages, retrieved_contexts, output,
    feedback_outcome, reward, reward_components, reward_policy_version, gated_at,
    -- What the router classifier learns from (router-members.sql): the request's shape and how it was routed.
    language, tool_calls, "error", route_tier, misrouted,
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
-- The judge component: the latest judgment of each trace made under the current policy's judge prompts
-- (equal hashes judge alike). Judgments are written by the daily curation after the trace was scored,
-- so most traces carry no judge component of their own; a judgment with no usable dimension is no judgment.
judged AS (
  SELECT trace_id, judge_score
  FROM (
    SELECT trace_id, judge_score, row_number() OVER (PARTITION BY trace_id ORDER BY judged_at DESC, judge_score ASC) AS judgment_rank
    FROM {{judgments}}
    WHERE judge_prompt_hash = ?
      AND trace_ts >= CAST(? AS TIMESTAMP)
      AND trace_ts <= CAST(? AS TIMESTAMP)
  ) ranked
  WHERE judgment_rank = 1 AND judge_score IS NOT NULL
),
-- Feedback events reach their trace by (agent, request id) or by trace id; the latest event of a trace is
-- its feedback. The latest of each way is found from the events alone (no copy of the traces is made for
-- it), and a trace reached both ways takes the later of the two (received_at, then feedback id: the order
-- of the events it reaches), which is the latest of all the events it reaches.
latest_by_request AS (
  SELECT agent_id, request_id, feedback_id, outcome, quality, received_at
  FROM (
    SELECT e.*, row_number() OVER (PARTITION BY e.agent_id, e.request_id ORDER BY e.received_at DESC, e.feedback_id DESC) AS event_rank
    FROM events e
  ) ranked
  WHERE event_rank = 1
),
latest_by_trace AS (
  SELECT trace_id, feedback_id, outcome, quality, received_at
  FROM (
    SELECT e.*, row_number() OVER (PARTITION BY e.trace_id ORDER BY e.received_at DESC, e.feedback_id DESC) AS event_rank
    FROM events e
    WHERE e.trace_id IS NOT NULL
  ) ranked
  WHERE event_rank = 1
),
latest_event AS (
  SELECT
    m.*,
    CASE m.le_outcome
      WHEN 'success' THEN p.s_success
      WHEN 'fallback' THEN p.s_fallback
      WHEN 'timeout' THEN p.s_timeout
      WHEN 'error' THEN p.s_error
      WHEN 'user_rejected' THEN p.s_user_rejected
    END AS le_outcome_score,
    p.quality_share AS le_quality_share
  FROM (
    SELECT
      c.*,
      c.by_request OR c.by_trace AS le_found,
      CASE WHEN c.trace_wins THEN c.bt_outcome ELSE c.br_outcome END AS le_outcome,
      CASE WHEN c.trace_wins THEN c.bt_quality ELSE c.br_quality END AS le_quality
    FROM (
      SELECT
        s.*,
        br.agent_id IS NOT NULL AS by_request,
        bt.trace_id IS NOT NULL AS by_trace,
        bt.trace_id IS NOT NULL
          AND (br.agent_id IS NULL OR bt.received_at > br.received_at OR (bt.received_at = br.received_at AND bt.feedback_id > br.feedback_id)) AS trace_wins,
        br.outcome AS br_outcome, br.quality AS br_quality, bt.outcome AS bt_outcome, bt.quality AS bt_quality
      FROM in_scope s
      LEFT JOIN latest_by_request br ON br.agent_id = s.agent_id AND br.request_id = s.request_id
      LEFT JOIN latest_by_trace bt ON bt.trace_id = s.trace_id
    ) c
  ) m CROSS JOIN params p
),
-- The feedback component: the latest event's (the reward policy's rule: outcome score blended with the
-- 0-10 quality by the quality share), else what the trace carried when it was scored.
with_feedback AS (
  SELECT
    s.*,
    s.le_found AS late_feedback,
    -- The outcome the router's labelling reads: the latest event's, else the trace's own.
    CASE WHEN NOT s.le_found THEN s.feedback_outcome ELSE coalesce(s.le_outcome, s.feedback_outcome) END AS effective_feedback_outcome,
    CASE
      WHEN NOT s.le_found THEN s.reward_components.feedback
      WHEN s.le_outcome_score IS NOT NULL AND s.le_quality IS NOT NULL
        THEN least(1.0, greatest(0.0, (1 - s.le_quality_share) * s.le_outcome_score + s.le_quality_share * (s.le_quality / 10)))
      ELSE coalesce(s.le_outcome_score, s.le_quality / 10)
    END AS feedback_score,
    j.trace_id IS NOT NULL AS judged,
    coalesce(j.judge_score, s.reward_components.judge) AS judge_score
  FROM latest_event s LEFT JOIN judged j ON j.trace_id = s.trace_id
),
-- Re-scoring: the stored components re-weighted under the current policy, a component without evidence
-- left out and the weights renormalised (the online rule). Rows of the current version without late
-- feedback or a judgment keep their stored reward, which is the same number.
rescored AS (
  SELECT
    w.*,
    CASE
      WHEN w.reward_policy_version = p.current_version AND NOT w.late_feedback AND NOT w.judged THEN w.reward
      WHEN (CASE WHEN w.feedback_score IS NULL THEN 0 ELSE p.w_feedback END)
         + (CASE WHEN w.reward_components.errors IS NULL THEN 0 ELSE p.w_errors END)
         + (CASE WHEN w.reward_components.latency IS NULL THEN 0 ELSE p.w_latency END)
         + (CASE WHEN w.reward_components.groundedness IS NULL THEN 0 ELSE p.w_groundedness END)
         + (CASE WHEN w.judge_score IS NULL THEN 0 ELSE p.w_judge END) > 0
        THEN least(1.0, greatest(0.0,
          (coalesce(p.w_feedback * w.feedback_score, 0)
           + coalesce(p.w_errors * w.reward_components.errors, 0)
           + coalesce(p.w_latency * w.reward_components.latency, 0)
           + coalesce(p.w_groundedness * w.reward_components.groundedness, 0)
           + coalesce(p.w_judge * w.judge_score, 0))
          / ((CASE WHEN w.feedback_score IS NULL THEN 0 ELSE p.w_feedback END)
           + (CASE WHEN w.reward_components.errors IS NULL THEN 0 ELSE p.w_errors END)
           + (CASE WHEN w.reward_components.latency IS NULL THEN 0 ELSE p.w_latency END)
           + (CASE WHEN w.reward_components.groundedness IS NULL THEN 0 ELSE p.w_groundedness END)
           + (CASE WHEN w.judge_score IS NULL THEN 0 ELSE p.w_judge END))))
      ELSE coalesce(w.reward_components.errors, 0)
    END AS final_reward,
    -- The user's text, lower-cased: what the golden set is compared with (decontamination.ts splits the
    -- golden prompts into words the same way: on white space, punctuation and symbols).
    lower({{array_join}}({{transform}}(filter(w.input_messages, m -> m.role = 'user'), m -> m.content), ' ')) AS user_text
  FROM with_feedback w CROSS JOIN params p
),
-- Per prompt, two single-pattern tests. A user turn: the text has a character that is not white space,
-- punctuation or a symbol (the words are what the split below keeps). A possible overlap: a cheap test that
-- lets through every prompt that could hold a golden n-gram, the n-gram's words in order, each pair apart by
-- at least one character that is not a-z or 0-9 (every word separator is such a character). The exact count
-- below runs only on the prompts it lets through. The n-grams hold no pattern syntax (decontamination.ts
-- splits words on punctuation and symbols), `|` between them is the pattern's alternation, and `\b\B` (which
-- never matches) stands before the first and after the last `|`, so no alternative is empty.
screened AS (
  SELECT
    r.*,
    regexp_like(r.user_text, '[^\s\p{P}\p{S}]') AS has_user_words,
    regexp_like(r.user_text, '\b\B' || replace({{inline:golden_ngrams}}, ' ', '[^a-z0-9]+') || '\b\B') AS may_overlap
  FROM rescored r
),
-- The user's words of the prompts that may overlap, split as decontamination.ts splits the golden prompts.
worded AS (
  SELECT
    s.*,
    CASE WHEN s.may_overlap THEN filter({{regexp_split}}(s.user_text, '[\s\p{P}\p{S}]+'), x -> x <> '') END AS user_words
  FROM screened s
),
-- Golden n-grams found in each such prompt's words (as a whole-word substring of the space-joined words,
-- which for an n-gram of n words is exactly "one of the prompt's n-grams"; a golden prompt shorter than n
-- words is found wherever it occurs), counted per row against the golden set's distinct n-grams.
overlap AS (
  SELECT
    w.*,
    CASE WHEN w.may_overlap THEN {{cardinality}}(filter(
      array_distinct(filter(split({{inline:golden_ngrams}}, '|'), g -> g <> '')),
      g -> strpos(' ' || {{array_join}}(w.user_words, ' ') || ' ', ' ' || g || ' ') > 0
    )) END AS hits
  FROM worded w
),
candidates AS (
  SELECT
    o.*,
    -- A prompt of w words has max(1, w - n + 1) n-grams: excluded when at least max_overlap of them are golden.
    coalesce(o.hits, 0) > 0
      AND coalesce(o.hits, 0) >= p.max_overlap * greatest(1, {{cardinality}}(o.user_words) - p.ngram_words + 1) AS contaminated
  FROM overlap o CROSS JOIN params p
)
SELECT
  trace_id, agent_id, request_id, reward_policy_version, feedback_outcome, input_messages, retrieved_contexts, output,
  reward_components, feedback_score, judge_score, late_feedback, final_reward, version_accepted, has_user_words, contaminated,
  -- The router's request features (the training/sial_training/router line contract) that need the trace's
  -- own columns; those derived from the conversation and contexts (the last user message, the context
  -- length, the earlier turns) are computed by router-members.sql for the rows it keeps, not for every row
  -- of every build.
  ts, language, route_tier, misrouted, "error", effective_feedback_outcome,
  {{cardinality}}(tool_calls) AS tool_call_count
FROM candidates
