-- One policy's view of the dataset candidates: the rows of {{table:candidates}} (candidates.sql, run once
-- for the backtest), with final_reward re-computed under this policy from the same stored components, so
-- the two policies differ only by their own rules. The output has the candidates' columns, so the
-- dataset build's own selection (selection.sql: eligibility, groups, DPO pairs) reads it unchanged.
--
-- The judge component under this policy: with no judge prompt hash (the policy defines no judge), the
-- component the trace carried; otherwise the latest stored judgment under exactly this policy's prompt
-- hash (faithfulness and relevance combined by its weights, renormalised over the judged ones), else a
-- score judged for this backtest ({{inline:rejudged}}, '|trace_id=score|...'), else none: the component
-- is left out and the other weights renormalised (the online rule).
--
-- Placeholders: {{judgments}}, {{table:candidates}}, {{inline:rejudged}}.
-- Parameters, in order:
--   1-5 weights: feedback, errors, latency, groundedness, judge  6 judge prompt hash ('' for none)
--   7-8 judge combine: faithfulness, answer relevance  9-10 trace window (judgments.trace_ts)
WITH params AS (
  SELECT
    CAST(? AS DOUBLE) AS w_feedback,
    CAST(? AS DOUBLE) AS w_errors,
    CAST(? AS DOUBLE) AS w_latency,
    CAST(? AS DOUBLE) AS w_groundedness,
    CAST(? AS DOUBLE) AS w_judge,
    CAST(? AS VARCHAR) AS judge_prompt_hash,
    CAST(? AS DOUBLE) AS c_faithfulness,
    CAST(? AS DOUBLE) AS c_relevance
),
stored AS (
  SELECT trace_id, faithfulness, answer_relevance
  FROM (
    SELECT
      j.trace_id, j.faithfulness, j.answer_relevance,
      -- Firehose delivers at least once and a trace may be judged again: the latest judgment counts.
      row_number() OVER (PARTITION BY j.trace_id ORDER BY j.judged_at DESC) AS judgment_rank
    FROM {{judgments}} j CROSS JOIN params p
    WHERE j.judge_prompt_hash = p.judge_prompt_hash
      AND j.trace_ts >= CAST(? AS TIMESTAMP)
      AND j.trace_ts <= CAST(? AS TIMESTAMP)
  ) ranked
  WHERE judgment_rank = 1
),
replayed AS (
  SELECT
    s.trace_id,
    CASE
      WHEN (CASE WHEN s.faithfulness IS NULL THEN 0 ELSE p.c_faithfulness END) + (CASE WHEN s.answer_relevance IS NULL THEN 0 ELSE p.c_relevance END) > 0
        THEN (coalesce(p.c_faithfulness * s.faithfulness, 0) + coalesce(p.c_relevance * s.answer_relevance, 0))
          / ((CASE WHEN s.faithfulness IS NULL THEN 0 ELSE p.c_faithfulness END) + (CASE WHEN s.answer_relevance IS NULL THEN 0 ELSE p.c_relevance END))
    END AS judge_score
  FROM stored s CROSS JOIN params p
),
rejudged AS (
  SELECT split_part(entry, '=', 1) AS trace_id, CAST(split_part(entry, '=', 2) AS DOUBLE) AS judge_score
  FROM UNNEST(split({{inline:rejudged}}, '|')) AS u(entry)
  WHERE entry <> ''
),
judged AS (
  SELECT
    c.*,
    -- Not the candidates' judge_score, which is the current policy's: this policy's own.
    CASE
      WHEN p.judge_prompt_hash = '' THEN c.reward_components.judge
      WHEN rp.trace_id IS NOT NULL THEN rp.judge_score
      ELSE rj.judge_score
    END AS policy_judge_score,
    CASE
      WHEN p.judge_prompt_hash = '' THEN (CASE WHEN c.reward_components.judge IS NULL THEN 'none' ELSE 'stored-component' END)
      WHEN rp.trace_id IS NOT NULL THEN (CASE WHEN rp.judge_score IS NULL THEN 'no-judgment' ELSE 'replayed' END)
      WHEN rj.trace_id IS NOT NULL THEN (CASE WHEN rj.judge_score IS NULL THEN 'no-judgment' ELSE 'rejudged' END)
      ELSE 'none'
    END AS judge_source
  FROM {{table:candidates}} c
  CROSS JOIN params p
  LEFT JOIN replayed rp ON rp.trace_id = c.trace_id
  LEFT JOIN rejudged rj ON rj.trace_id = c.trace_id
),
weighed AS (
  SELECT
    j.*,
    (CASE WHEN j.feedback_score IS NULL THEN 0 ELSE p.w_feedback END)
      + (CASE WHEN j.reward_components.errors IS NULL THEN 0 ELSE p.w_errors END)
      + (CASE WHEN j.reward_components.latency IS NULL THEN 0 ELSE p.w_latency END)
      + (CASE WHEN j.reward_components.groundedness IS NULL THEN 0 ELSE p.w_groundedness END)
      + (CASE WHEN j.policy_judge_score IS NULL THEN 0 ELSE p.w_judge END) AS weight,
    coalesce(p.w_feedback * j.feedback_score, 0)
      + coalesce(p.w_errors * j.reward_components.errors, 0)
      + coalesce(p.w_latency * j.reward_components.latency, 0)
      + coalesce(p.w_groundedness * j.reward_components.groundedness, 0)
      + coalesce(p.w_judge * j.policy_judge_score, 0) AS weighted
  FROM judged j CROSS JOIN params p
)
SELECT
  trace_id, agent_id, request_id, reward_policy_version, feedback_outcome, input_messages, retrieved_contexts, output,
  reward_components, feedback_score, policy_judge_score AS judge_score, late_feedback,
  -- The online rule: a weighted mean over the components with evidence; with none, the errors component.
  CASE WHEN weight > 0 THEN least(1.0, greatest(0.0, weighted / weight)) ELSE coalesce(reward_components.errors, 0) END AS final_reward,
  version_accepted, has_user_words, contaminated, judge_source
FROM weighed
