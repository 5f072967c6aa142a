-- Reading Room store, PostgreSQL backend, schema version 7: the durable
-- queue of the DICOM objects each signed report version puts back into the
-- archive (store/store_report_outputs.h; the SQLite twin is
-- sqlite/009_report_outputs.sql): one row per (report, version, kind).
-- Several nodes share it: a claim takes the next due row with
-- FOR UPDATE SKIP LOCKED (store_pg_report_outputs.c). Times are unix ms.
-- report_id has no foreign key to reports (006_reports.sql) on purpose: as
-- in the SQLite backend the queue stands on its own, and this migration
-- does not depend on the details of the reports schema.

CREATE TABLE report_outputs (
  report_id        BIGINT NOT NULL CHECK (report_id >= 1),
  version          BIGINT NOT NULL CHECK (version >= 1),
  kind             TEXT COLLATE "C" NOT NULL CHECK (kind IN ('pdf', 'sr', 'kos')),
  state            TEXT COLLATE "C" NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts         BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error       TEXT NOT NULL DEFAULT '',
  claimed_by       TEXT COLLATE "C" NOT NULL DEFAULT '',
  orthanc_id       TEXT NOT NULL DEFAULT '',
  sop_instance_uid TEXT NOT NULL DEFAULT '',
  next_attempt_at  BIGINT NOT NULL,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  done_at          BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (report_id, version, kind)
);
-- the workers' next job: due queued jobs in the order they were enqueued
CREATE INDEX report_outputs_due ON report_outputs (state, next_attempt_at, created_at);
-- a claimer's running job, and the requeue of a node's jobs
CREATE INDEX report_outputs_claimed ON report_outputs (claimed_by) WHERE state = 'running';
