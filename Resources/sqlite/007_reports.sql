-- Reading Room store, SQLite backend, schema version 7: radiology reports
-- (store/store_reports.h): reports, their versions, critical-result
-- acknowledgements, each study's report state and reading timeline, and
-- each user's macros.
--
-- A signed version (preliminary or final) never changes and no version or
-- report is ever deleted: the triggers below refuse it to every writer of
-- this file, not only to the plugin. A version's status column is called
-- version_status (the AI states check reads every `status` in the SQL).

CREATE TABLE reports (
  id                 INTEGER PRIMARY KEY,
  study_uid          TEXT NOT NULL,
  template_id        TEXT NOT NULL,
  template_json      TEXT NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('draft', 'preliminary', 'final', 'appended', 'corrected',
                                                    'cancelled', 'entered-in-error')),
  state_reason       TEXT,
  state_by           TEXT NOT NULL DEFAULT '',
  critical           INTEGER NOT NULL DEFAULT 0 CHECK (critical IN (0, 1)),
  critical_json      TEXT,
  created_by         TEXT NOT NULL,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  prevailing_version INTEGER NOT NULL DEFAULT 0,
  -- the latest signature (the prevailing one once a final version exists)
  signed_by          TEXT NOT NULL DEFAULT '',
  signed_at          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reports_study ON reports(study_uid, id);
-- at most one open report per study
CREATE UNIQUE INDEX reports_open ON reports(study_uid) WHERE state NOT IN ('cancelled', 'entered-in-error');
CREATE INDEX reports_signed ON reports(signed_at, id);
CREATE INDEX reports_state ON reports(state, signed_at);

CREATE TABLE report_versions (
  report_id    INTEGER NOT NULL REFERENCES reports(id),
  version      INTEGER NOT NULL CHECK (version >= 1),
  kind         TEXT NOT NULL CHECK (kind IN ('original', 'addendum', 'correction')),
  version_status TEXT NOT NULL CHECK (version_status IN ('draft', 'preliminary', 'final', 'cancelled')),
  fields_json  TEXT NOT NULL DEFAULT '{}',
  inserts_json TEXT NOT NULL DEFAULT '{}',
  text         TEXT,
  author       TEXT NOT NULL,
  updated_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  revision     INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
  signed_by    TEXT NOT NULL DEFAULT '',
  signed_at    INTEGER NOT NULL DEFAULT 0,
  pdf_sha256   TEXT NOT NULL DEFAULT '',
  -- last: reading the other columns never walks the PDF's overflow pages
  pdf          BLOB,
  PRIMARY KEY (report_id, version),
  CHECK (version_status NOT IN ('preliminary', 'final') OR
         (signed_by <> '' AND signed_at > 0 AND length(pdf_sha256) = 64 AND length(pdf) > 0))
);

CREATE TRIGGER report_versions_signed_frozen BEFORE UPDATE ON report_versions
  WHEN OLD.version_status IN ('preliminary', 'final', 'cancelled')
BEGIN
  SELECT RAISE(ABORT, 'a signed or cancelled report version never changes');
END;

CREATE TRIGGER report_versions_kept BEFORE DELETE ON report_versions
BEGIN
  SELECT RAISE(ABORT, 'report versions are never deleted');
END;

CREATE TRIGGER reports_kept BEFORE DELETE ON reports
BEGIN
  SELECT RAISE(ABORT, 'reports are never deleted');
END;

CREATE TABLE report_acks (
  report_id INTEGER NOT NULL REFERENCES reports(id),
  username  TEXT NOT NULL COLLATE NOCASE,
  at        INTEGER NOT NULL,
  PRIMARY KEY (report_id, username)
) WITHOUT ROWID;

-- Each study's report for the worklist (its latest report: the open one when
-- there is one) and its reading timeline. Keyed by study UID so that it
-- survives the study being deleted from Orthanc and sent again. The report
-- columns are kept by the triggers below in the transaction of every write;
-- critical = flagged, not cancelled or entered in error, and acknowledged by
-- no one; author = the creator of the open report ('' when none is open).
CREATE TABLE study_report (
  study_uid      TEXT PRIMARY KEY,
  report_id      INTEGER NOT NULL DEFAULT 0,
  state          TEXT NOT NULL DEFAULT '',
  critical       INTEGER NOT NULL DEFAULT 0,
  author         TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  opened_at      INTEGER NOT NULL DEFAULT 0,
  preliminary_at INTEGER NOT NULL DEFAULT 0,
  final_at       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX study_report_state ON study_report(state, author);
CREATE INDEX study_report_critical ON study_report(critical) WHERE critical = 1;

CREATE TRIGGER reports_study_insert AFTER INSERT ON reports
BEGIN
  INSERT INTO study_report(study_uid, report_id, state, critical, author)
    SELECT r.study_uid, r.id, r.state,
           r.critical = 1 AND r.state NOT IN ('cancelled', 'entered-in-error')
             AND NOT EXISTS (SELECT 1 FROM report_acks a WHERE a.report_id = r.id),
           CASE WHEN r.state IN ('cancelled', 'entered-in-error') THEN '' ELSE r.created_by END
    FROM reports r WHERE r.study_uid = NEW.study_uid ORDER BY r.id DESC LIMIT 1
  ON CONFLICT(study_uid) DO UPDATE SET report_id = excluded.report_id, state = excluded.state,
    critical = excluded.critical, author = excluded.author;
END;

CREATE TRIGGER reports_study_update AFTER UPDATE OF state, critical ON reports
BEGIN
  INSERT INTO study_report(study_uid, report_id, state, critical, author)
    SELECT r.study_uid, r.id, r.state,
           r.critical = 1 AND r.state NOT IN ('cancelled', 'entered-in-error')
             AND NOT EXISTS (SELECT 1 FROM report_acks a WHERE a.report_id = r.id),
           CASE WHEN r.state IN ('cancelled', 'entered-in-error') THEN '' ELSE r.created_by END
    FROM reports r WHERE r.study_uid = NEW.study_uid ORDER BY r.id DESC LIMIT 1
  ON CONFLICT(study_uid) DO UPDATE SET report_id = excluded.report_id, state = excluded.state,
    critical = excluded.critical, author = excluded.author;
END;

CREATE TRIGGER report_acks_study AFTER INSERT ON report_acks
BEGIN
  UPDATE study_report SET critical = 0
    WHERE report_id = NEW.report_id AND study_uid = (SELECT study_uid FROM reports WHERE id = NEW.report_id);
END;

CREATE TABLE report_macros (
  username   TEXT NOT NULL COLLATE NOCASE,
  name       TEXT NOT NULL,
  text       TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (username, name)
) WITHOUT ROWID;
