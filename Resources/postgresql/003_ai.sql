-- Reading Room store, PostgreSQL backend, schema version 3: AI analyses (the
-- original design's "aianalyses"), the history of their reviews, and each
-- study's AI state for the worklist (as the SQLite backend's 003-005).

CREATE TABLE ai_analyses (
  ord               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, -- arrival order (SQLite's rowid)
  id                TEXT PRIMARY KEY,
  study_uid         TEXT NOT NULL COLLATE "C",
  orthanc_study_id  TEXT NOT NULL DEFAULT '',
  provider          TEXT NOT NULL,
  model_requested   TEXT NOT NULL,
  model_version     TEXT NOT NULL DEFAULT '',
  status            TEXT NOT NULL,
  requested_by      TEXT NOT NULL DEFAULT '',
  requested_at      BIGINT NOT NULL,
  started_at        BIGINT NOT NULL DEFAULT 0,
  finished_at       BIGINT NOT NULL DEFAULT 0,
  attempts          BIGINT NOT NULL DEFAULT 0,
  summary           TEXT NOT NULL DEFAULT '',
  findings_json     TEXT NOT NULL DEFAULT '',
  ai_confidence     DOUBLE PRECISION,
  images_json       TEXT NOT NULL DEFAULT '[]',
  prompt_version    TEXT NOT NULL DEFAULT '',
  schema_version    TEXT NOT NULL DEFAULT '',
  prompt_tokens     BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  latency_ms        BIGINT NOT NULL DEFAULT 0,
  cost              DOUBLE PRECISION NOT NULL DEFAULT 0,
  error             TEXT NOT NULL DEFAULT '',
  raw_text          TEXT NOT NULL DEFAULT '',
  review_status     TEXT NOT NULL DEFAULT 'pending',
  reviewed_by       TEXT NOT NULL DEFAULT '',
  reviewed_at       BIGINT NOT NULL DEFAULT 0,
  radiologist_notes TEXT NOT NULL DEFAULT '',
  ai_confidence_band TEXT NOT NULL DEFAULT '' CHECK (ai_confidence_band IN ('', 'low', 'medium', 'high')),
  -- the node whose worker runs it (its "node-…" lease, store_pg_cluster.c):
  -- a restarting node requeues only the analyses of nodes that are gone
  claimed_by        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ai_analyses_study ON ai_analyses (study_uid, requested_at);
CREATE INDEX ai_analyses_status ON ai_analyses (status, requested_at, ord);

CREATE TABLE ai_reviews (
  seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  analysis_id   TEXT NOT NULL REFERENCES ai_analyses(id) ON DELETE CASCADE,
  at            BIGINT NOT NULL,
  reviewer      TEXT NOT NULL,
  review_status TEXT NOT NULL,
  notes         TEXT NOT NULL DEFAULT '',
  feedback_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX ai_reviews_analysis ON ai_reviews (analysis_id, seq);

-- Each study's AI state: status of its latest analysis, review status of its
-- latest completed one; kept by a trigger in the same transaction as every
-- write of ai_analyses. Keyed by study UID.
CREATE TABLE study_ai (
  study_uid     TEXT PRIMARY KEY COLLATE "C",
  ai_status     TEXT NOT NULL DEFAULT '',
  review_status TEXT NOT NULL DEFAULT ''
);
CREATE INDEX study_ai_status ON study_ai (ai_status);
CREATE INDEX study_ai_review ON study_ai (review_status);

CREATE FUNCTION rr_study_ai_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO study_ai (study_uid, ai_status, review_status)
  SELECT NEW.study_uid,
    (SELECT status FROM ai_analyses a WHERE a.study_uid = NEW.study_uid ORDER BY requested_at DESC, ord DESC LIMIT 1),
    COALESCE((SELECT review_status FROM ai_analyses a WHERE a.study_uid = NEW.study_uid AND status = 'completed'
              ORDER BY requested_at DESC, ord DESC LIMIT 1), '')
  ON CONFLICT (study_uid) DO UPDATE SET ai_status = excluded.ai_status, review_status = excluded.review_status;
  RETURN NULL;
END $$;

CREATE TRIGGER ai_analyses_state_insert AFTER INSERT ON ai_analyses
  FOR EACH ROW EXECUTE FUNCTION rr_study_ai_refresh();
CREATE TRIGGER ai_analyses_state_update AFTER UPDATE OF status, review_status ON ai_analyses
  FOR EACH ROW EXECUTE FUNCTION rr_study_ai_refresh();

-- The length of a JSON array held as text, 0 when it is not one (the
-- images sent, for the usage counts).
CREATE FUNCTION rr_json_array_length(t text) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN CASE WHEN jsonb_typeof(t::jsonb) = 'array' THEN jsonb_array_length(t::jsonb) ELSE 0 END;
EXCEPTION WHEN others THEN
  RETURN 0;
END $$;
