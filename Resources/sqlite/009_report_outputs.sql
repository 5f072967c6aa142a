-- Reading Room store, SQLite backend: the durable queue of the DICOM objects
-- each signed report version puts back into the archive
-- (store/store_report_outputs.h): one row per (report, version, kind).
-- Times are unix milliseconds.

CREATE TABLE report_outputs (
  report_id INTEGER NOT NULL CHECK (report_id >= 1),
  version INTEGER NOT NULL CHECK (version >= 1),
  kind TEXT NOT NULL CHECK (kind IN ('pdf', 'sr', 'kos')),
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',
  orthanc_id TEXT NOT NULL DEFAULT '',
  sop_instance_uid TEXT NOT NULL DEFAULT '',
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  done_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (report_id, version, kind)
);
-- the worker's next job: due queued jobs in the order they were enqueued
CREATE INDEX report_outputs_due ON report_outputs (state, next_attempt_at, created_at);
