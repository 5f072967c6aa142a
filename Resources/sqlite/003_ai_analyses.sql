-- Reading Room store, SQLite backend, schema version 3: AI analyses (the
-- original design's "aianalyses") and the history of their reviews.

CREATE TABLE ai_analyses (
  id                TEXT PRIMARY KEY,
  study_uid         TEXT NOT NULL,
  orthanc_study_id  TEXT NOT NULL DEFAULT '',
  provider          TEXT NOT NULL,
  model_requested   TEXT NOT NULL,
  model_version     TEXT NOT NULL DEFAULT '',
  status            TEXT NOT NULL,
  requested_by      TEXT NOT NULL DEFAULT '',
  requested_at      INTEGER NOT NULL,
  started_at        INTEGER NOT NULL DEFAULT 0,
  finished_at       INTEGER NOT NULL DEFAULT 0,
  attempts          INTEGER NOT NULL DEFAULT 0,
  summary           TEXT NOT NULL DEFAULT '',
  findings_json     TEXT NOT NULL DEFAULT '',
  ai_confidence     REAL,
  images_json       TEXT NOT NULL DEFAULT '[]',
  prompt_version    TEXT NOT NULL DEFAULT '',
  schema_version    TEXT NOT NULL DEFAULT '',
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  latency_ms        INTEGER NOT NULL DEFAULT 0,
  cost              REAL NOT NULL DEFAULT 0,
  error             TEXT NOT NULL DEFAULT '',
  raw_text          TEXT NOT NULL DEFAULT '',
  review_status     TEXT NOT NULL DEFAULT 'pending',
  reviewed_by       TEXT NOT NULL DEFAULT '',
  reviewed_at       INTEGER NOT NULL DEFAULT 0,
  radiologist_notes TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ai_analyses_study ON ai_analyses(study_uid, requested_at);
CREATE INDEX ai_analyses_status ON ai_analyses(status, requested_at);

CREATE TABLE ai_reviews (
  seq           INTEGER PRIMARY KEY,
  analysis_id   TEXT NOT NULL REFERENCES ai_analyses(id) ON DELETE CASCADE,
  at            INTEGER NOT NULL,
  reviewer      TEXT NOT NULL,
  review_status TEXT NOT NULL,
  notes         TEXT NOT NULL DEFAULT '',
  feedback_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX ai_reviews_analysis ON ai_reviews(analysis_id, seq);
