-- Reading Room store, SQLite backend, schema version 5: the overall AI
-- confidence follows the original design, a band "low" | "medium" | "high"
-- (findings schema findings-2). Analyses stored before (findings-1) hold a
-- number from 0 to 1 in ai_confidence; they get the band with the same
-- thresholds as rr_findings_confidence_band() (Plugin/ai/findings.c):
-- below 0.4 low, below 0.7 medium, else high. The number stays in
-- ai_confidence as the model's score (it is also written for new answers
-- that gave a number); an analysis without a confidence gets ''.

ALTER TABLE ai_analyses ADD COLUMN ai_confidence_band TEXT NOT NULL DEFAULT ''
  CHECK (ai_confidence_band IN ('', 'low', 'medium', 'high'));

UPDATE ai_analyses SET ai_confidence_band =
  CASE
    WHEN ai_confidence IS NULL THEN ''
    WHEN ai_confidence < 0.4 THEN 'low'
    WHEN ai_confidence < 0.7 THEN 'medium'
    ELSE 'high'
  END;
