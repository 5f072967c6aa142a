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

CREATE TRIGGER ai_analyses_state_insert AFTER INSERT ON ai_analyses
BEGIN
  INSERT INTO study_ai(study_uid, ai_status, review_status) VALUES (NEW.study_uid,
    (SELECT status FROM ai_analyses WHERE study_uid = NEW.study_uid ORDER BY requested_at DESC, rowid DESC LIMIT 1),
    COALESCE((SELECT review_status FROM ai_analyses WHERE study_uid = NEW.study_uid AND status = 'completed'
              ORDER BY requested_at DESC, rowid DESC LIMIT 1), ''))
  ON CONFLICT(study_uid) DO UPDATE SET ai_status = excluded.ai_status, review_status = excluded.review_status;
END;

CREATE TRIGGER ai_analyses_state_update AFTER UPDATE OF status, review_status ON ai_analyses
BEGIN
  INSERT INTO study_ai(study_uid, ai_status, review_status) VALUES (NEW.study_uid,
    (SELECT status FROM ai_analyses WHERE study_uid = NEW.study_uid ORDER BY requested_at DESC, rowid DESC LIMIT 1),
    COALESCE((SELECT review_status FROM ai_analyses WHERE study_uid = NEW.study_uid AND status = 'completed'
              ORDER BY requested_at DESC, rowid DESC LIMIT 1), ''))
  ON CONFLICT(study_uid) DO UPDATE SET ai_status = excluded.ai_status, review_status = excluded.review_status;
END;

INSERT INTO study_ai(study_uid, ai_status, review_status)
  SELECT DISTINCT a.study_uid,
    (SELECT status FROM ai_analyses b WHERE b.study_uid = a.study_uid ORDER BY requested_at DESC, rowid DESC LIMIT 1),
    COALESCE((SELECT review_status FROM ai_analyses b WHERE b.study_uid = a.study_uid AND status = 'completed'
              ORDER BY requested_at DESC, rowid DESC LIMIT 1), '')
  FROM ai_analyses a;
