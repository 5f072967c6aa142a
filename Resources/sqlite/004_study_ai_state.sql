-- Reading Room store, SQLite backend, schema version 4: each study's AI state
-- for the worklist (status of its latest analysis, review status of its
-- latest completed one), kept by triggers so that every write path of
-- ai_analyses maintains it in the same transaction. Keyed by study UID so it
-- survives a study being deleted from Orthanc and sent again.

CREATE TABLE study_ai (
  study_uid     TEXT PRIMARY KEY,
  ai_status     TEXT NOT NULL DEFAULT '',
  review_status TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX study_ai_status ON study_ai(ai_status);
CREATE INDEX study_ai_review ON study_ai(review_status);

-- The state as computed from the analyses (one row per analysed study); a
-- WHERE on study_uid reaches the index ai_analyses_study.
CREATE VIEW study_ai_computed(study_uid, ai_status, review_status) AS
  SELECT s.study_uid,
    (SELECT status FROM ai_analyses a WHERE a.study_uid = s.study_uid ORDER BY requested_at DESC, rowid DESC LIMIT 1),
    COALESCE((SELECT review_status FROM ai_analyses a WHERE a.study_uid = s.study_uid AND status = 'completed'
              ORDER BY requested_at DESC, rowid DESC LIMIT 1), '')
  FROM (SELECT DISTINCT study_uid FROM ai_analyses) s;

CREATE TRIGGER ai_analyses_state_insert AFTER INSERT ON ai_analyses
BEGIN
  INSERT INTO study_ai(study_uid, ai_status, review_status)
    SELECT study_uid, ai_status, review_status FROM study_ai_computed WHERE study_uid = NEW.study_uid
  ON CONFLICT(study_uid) DO UPDATE SET ai_status = excluded.ai_status, review_status = excluded.review_status;
END;

CREATE TRIGGER ai_analyses_state_update AFTER UPDATE OF status, review_status ON ai_analyses
BEGIN
  INSERT INTO study_ai(study_uid, ai_status, review_status)
    SELECT study_uid, ai_status, review_status FROM study_ai_computed WHERE study_uid = NEW.study_uid
  ON CONFLICT(study_uid) DO UPDATE SET ai_status = excluded.ai_status, review_status = excluded.review_status;
END;

INSERT INTO study_ai(study_uid, ai_status, review_status)
  SELECT study_uid, ai_status, review_status FROM study_ai_computed;
