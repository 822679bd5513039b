-- What served each agent in each window: requests per model and model version (the regression report's
-- hypothesized cause compares the two windows' mix).
--
-- Placeholders: {{traces}}, {{feedback}}, {{judgments}}.
-- Parameters, in order: 1-7 as in operating-rows.sql
WITH {{operating-rows}}
SELECT report_window, agent_id, model, model_version, count(*) AS requests
FROM operating_rows
GROUP BY report_window, agent_id, model, model_version
ORDER BY agent_id, report_window, model, model_version
