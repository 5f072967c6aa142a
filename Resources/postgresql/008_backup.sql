-- Reading Room store, PostgreSQL backend: the off-site backup queue and the
-- catalogue of copied objects (store/store_backup.h), as SQLite's
-- 010_backup.sql: one row per (target, object key), ids in arrival order.
-- Times are unix milliseconds.

CREATE TABLE backup_items (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  target TEXT COLLATE "C" NOT NULL,
  object_key TEXT COLLATE "C" NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('instance', 'report')),
  orthanc_id TEXT NOT NULL,
  study_uid TEXT COLLATE "C" NOT NULL,
  sop_uid TEXT COLLATE "C" NOT NULL,
  day TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',
  sha256 TEXT NOT NULL DEFAULT '',
  size BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_until BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  done_at BIGINT NOT NULL DEFAULT 0,
  UNIQUE (target, object_key)
);
CREATE INDEX backup_items_due ON backup_items (target, state, id);
CREATE INDEX backup_items_study ON backup_items (study_uid, id);
CREATE INDEX backup_items_day ON backup_items (day, id);
