-- Reading Room store, PostgreSQL backend, schema version 3: AI analyses (the
-- job queue and its results), the history of their reviews and each study's
-- AI state for the worklist (as the SQLite backend's 003, 004 and 005).

CREATE TABLE ai_analyses (
  -- insertion order (SQLite's rowid): the tie-break of requested_at
  seq                BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  id                 TEXT COLLATE "C" PRIMARY KEY,
  study_uid          TEXT COLLATE "C" NOT NULL,
  orthanc_study_id   TEXT NOT NULL DEFAULT '',
  provider           TEXT NOT NULL,
  model_requested    TEXT NOT NULL,
  model_version      TEXT NOT NULL DEFAULT '',
  status             TEXT COLLATE "C" NOT NULL,
  requested_by       TEXT NOT NULL DEFAULT '',
  requested_at       BIGINT NOT NULL,
  started_at         BIGINT NOT NULL DEFAULT 0,
  finished_at        BIGINT NOT NULL DEFAULT 0,
  attempts           BIGINT NOT NULL DEFAULT 0,
  summary            TEXT NOT NULL DEFAULT '',
  findings_json      TEXT NOT NULL DEFAULT '',
  ai_confidence      DOUBLE PRECISION,
  images_json        TEXT NOT NULL DEFAULT '[]',
  prompt_version     TEXT NOT NULL DEFAULT '',
  schema_version     TEXT NOT NULL DEFAULT '',
  prompt_tokens      BIGINT NOT NULL DEFAULT 0,
  completion_tokens  BIGINT NOT NULL DEFAULT 0,
  latency_ms         BIGINT NOT NULL DEFAULT 0,
  cost               DOUBLE PRECISION NOT NULL DEFAULT 0,
  error              TEXT NOT NULL DEFAULT '',
  raw_text           TEXT NOT NULL DEFAULT '',
  review_status      TEXT COLLATE "C" NOT NULL DEFAULT 'pending',
  reviewed_by        TEXT NOT NULL DEFAULT '',
  reviewed_at        BIGINT NOT NULL DEFAULT 0,
  radiologist_notes  TEXT NOT NULL DEFAULT '',
  ai_confidence_band TEXT NOT NULL DEFAULT ''
    CHECK (ai_confidence_band IN ('', 'low', 'medium', 'high'))
);
CREATE INDEX ai_analyses_study ON ai_analyses (study_uid, requested_at);
CREATE INDEX ai_analyses_status ON ai_analyses (status, requested_at, seq);

CREATE TABLE ai_reviews (
  seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  analysis_id   TEXT COLLATE "C" NOT NULL REFERENCES ai_analyses(id) ON DELETE CASCADE,
  at            BIGINT NOT NULL,
  reviewer      TEXT NOT NULL,
  review_status TEXT NOT NULL,
  notes         TEXT NOT NULL DEFAULT '',
  feedback_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX ai_reviews_analysis ON ai_reviews (analysis_id, seq);

-- The number of elements of a JSON array, NULL for anything else (SQLite's
-- json_valid + json_array_length in the usage counts).
CREATE FUNCTION rr_json_array_count(t TEXT) RETURNS BIGINT
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN json_array_length(t::json);
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;

-- Each study's AI state (status of its latest analysis, review status of its
-- latest completed one), kept by a trigger in the transaction of every write
-- of ai_analyses. Keyed by study UID so it survives a study being deleted
-- from Orthanc and sent again.
CREATE TABLE study_ai (
  study_uid     TEXT COLLATE "C" PRIMARY KEY,
  ai_status     TEXT COLLATE "C" NOT NULL DEFAULT '',
  review_status TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX study_ai_status ON study_ai (ai_status);
CREATE INDEX study_ai_review ON study_ai (review_status);

-- Writers of one study's analyses on several nodes take a transaction-scoped
-- advisory lock of the study first, so that each computes the state from what
-- the other committed (read committed: every statement sees a new snapshot).
CREATE FUNCTION rr_study_ai_refresh() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(('x' || substr(md5(current_schema() || '/study-ai/' || NEW.study_uid), 1, 16))::bit(64)::bigint);
  INSERT INTO study_ai(study_uid, ai_status, review_status)
    SELECT NEW.study_uid,
      (SELECT a.status FROM ai_analyses a WHERE a.study_uid = NEW.study_uid ORDER BY a.requested_at DESC, a.seq DESC LIMIT 1),
      COALESCE((SELECT a.review_status FROM ai_analyses a WHERE a.study_uid = NEW.study_uid AND a.status = 'completed'
                ORDER BY a.requested_at DESC, a.seq DESC LIMIT 1), '')
  ON CONFLICT (study_uid) DO UPDATE SET ai_status = excluded.ai_status, review_status = excluded.review_status;
  RETURN NULL;
END
$$;

CREATE TRIGGER ai_analyses_state_insert AFTER INSERT ON ai_analyses
  FOR EACH ROW EXECUTE FUNCTION rr_study_ai_refresh();
CREATE TRIGGER ai_analyses_state_update AFTER UPDATE OF status, review_status ON ai_analyses
  FOR EACH ROW EXECUTE FUNCTION rr_study_ai_refresh();
