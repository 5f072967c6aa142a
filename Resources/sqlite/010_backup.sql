-- Reading Room store, SQLite backend: the off-site backup queue and the
-- catalogue of copied objects (store/store_backup.h): one row per
-- (target, object key), ids in arrival order. Times are unix milliseconds.

CREATE TABLE backup_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  target TEXT NOT NULL,
  object_key TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('instance', 'report')),
  orthanc_id TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  sop_uid TEXT NOT NULL,
  day TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',
  sha256 TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  done_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (target, object_key)
);
-- the workers' next item: queued (due) or running (lease) by arrival
CREATE INDEX backup_items_due ON backup_items (target, state, id);
-- the catalogue: copied objects per study and per day
CREATE INDEX backup_items_study ON backup_items (study_uid, id);
CREATE INDEX backup_items_day ON backup_items (day, id);
