-- Eligibility figures per agent (positive feedback, high-quality traces, eligible), one row per agent
-- with traces or feedback in the window. Parameters: those of the selection (selection.sql).
WITH {{selection}}
SELECT agent_id, positive_events, positive_traces, positive_feedback, high_quality, eligible
FROM agent_figures
ORDER BY agent_id
