-- Reading Room store, PostgreSQL backend, schema version 6: radiology
-- reports (store/store_reports.h), as the SQLite backend's 007: reports,
-- their versions, critical-result acknowledgements, each study's report
-- state and reading timeline (study_report, read by the worklist), and
-- each user's macros.
--
-- A signed version (preliminary or final) and a cancelled one never change,
-- and no version or report is ever deleted: the trigger functions below
-- refuse it (UPDATE, DELETE and TRUNCATE) to every client of the database,
-- not only to the plugin, and CHECK constraints refuse a "signed" version
-- without its signature and PDF. One open report per study is a partial
-- unique index. User names compare in any letter case (SQLite: COLLATE
-- NOCASE) through a nondeterministic ICU collation, so that the worklist's
-- plain equality (store_pg_worklist.c) finds them.

CREATE COLLATION rr_nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE reports (
  id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  study_uid          TEXT COLLATE "C" NOT NULL,
  template_id        TEXT NOT NULL,
  template_json      TEXT NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('draft', 'preliminary', 'final', 'appended', 'corrected',
                                                    'cancelled', 'entered-in-error')),
  state_reason       TEXT,
  state_by           TEXT NOT NULL DEFAULT '',
  critical           BOOLEAN NOT NULL DEFAULT false,
  critical_json      TEXT,
  created_by         TEXT NOT NULL,
  created_at         BIGINT NOT NULL,
  updated_at         BIGINT NOT NULL,
  prevailing_version BIGINT NOT NULL DEFAULT 0,
  -- the latest signature (the prevailing one once a final version exists)
  signed_by          TEXT NOT NULL DEFAULT '',
  signed_at          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX reports_study ON reports(study_uid, id);
-- at most one open report per study
CREATE UNIQUE INDEX reports_open ON reports(study_uid) WHERE state NOT IN ('cancelled', 'entered-in-error');
CREATE INDEX reports_signed ON reports(signed_at, id);
CREATE INDEX reports_state ON reports(state, signed_at);

CREATE TABLE report_versions (
  report_id      BIGINT NOT NULL REFERENCES reports(id),
  version        BIGINT NOT NULL CHECK (version >= 1),
  kind           TEXT NOT NULL CHECK (kind IN ('original', 'addendum', 'correction')),
  version_status TEXT NOT NULL CHECK (version_status IN ('draft', 'preliminary', 'final', 'cancelled')),
  fields_json    TEXT NOT NULL DEFAULT '{}',
  inserts_json   TEXT NOT NULL DEFAULT '{}',
  text           TEXT,
  author         TEXT NOT NULL,
  updated_by     TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  revision       BIGINT NOT NULL DEFAULT 1 CHECK (revision >= 1),
  signed_by      TEXT NOT NULL DEFAULT '',
  signed_at      BIGINT NOT NULL DEFAULT 0,
  pdf_sha256     TEXT NOT NULL DEFAULT '',
  pdf            BYTEA,
  PRIMARY KEY (report_id, version),
  CONSTRAINT report_versions_signed CHECK (version_status NOT IN ('preliminary', 'final') OR
    (signed_by <> '' AND signed_at > 0 AND length(pdf_sha256) = 64 AND pdf IS NOT NULL AND length(pdf) > 0))
);

CREATE FUNCTION rr_report_versions_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.version_status IN ('preliminary', 'final', 'cancelled') THEN
    RAISE EXCEPTION 'a signed or cancelled report version never changes' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER report_versions_signed_frozen BEFORE UPDATE ON report_versions
  FOR EACH ROW EXECUTE FUNCTION rr_report_versions_frozen();

CREATE FUNCTION rr_reports_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% are never deleted', CASE WHEN TG_TABLE_NAME = 'reports' THEN 'reports' ELSE 'report versions' END
    USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER report_versions_kept BEFORE DELETE ON report_versions
  FOR EACH ROW EXECUTE FUNCTION rr_reports_kept();
CREATE TRIGGER report_versions_not_truncated BEFORE TRUNCATE ON report_versions
  FOR EACH STATEMENT EXECUTE FUNCTION rr_reports_kept();
CREATE TRIGGER reports_kept BEFORE DELETE ON reports
  FOR EACH ROW EXECUTE FUNCTION rr_reports_kept();
CREATE TRIGGER reports_not_truncated BEFORE TRUNCATE ON reports
  FOR EACH STATEMENT EXECUTE FUNCTION rr_reports_kept();

CREATE TABLE report_acks (
  report_id BIGINT NOT NULL REFERENCES reports(id),
  username  TEXT COLLATE rr_nocase NOT NULL,
  at        BIGINT NOT NULL,
  PRIMARY KEY (report_id, username)
);

-- Each study's report for the worklist (its latest report: the open one when
-- there is one) and its reading timeline. Keyed by study UID so that it
-- survives the study being deleted from Orthanc and sent again. The report
-- columns are kept by the triggers below in the transaction of every write;
-- critical = flagged, not cancelled or entered in error, and acknowledged by
-- no one; author = the creator of the open report ('' when none is open).
CREATE TABLE study_report (
  study_uid      TEXT COLLATE "C" PRIMARY KEY,
  report_id      BIGINT NOT NULL DEFAULT 0,
  state          TEXT NOT NULL DEFAULT '',
  critical       BOOLEAN NOT NULL DEFAULT false,
  author         TEXT COLLATE rr_nocase NOT NULL DEFAULT '',
  opened_at      BIGINT NOT NULL DEFAULT 0,
  preliminary_at BIGINT NOT NULL DEFAULT 0,
  final_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX study_report_state ON study_report(state, author);
CREATE INDEX study_report_critical ON study_report(critical) WHERE critical;

-- The study_report row of the study of the report that changed.
CREATE FUNCTION rr_study_report_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO study_report(study_uid, report_id, state, critical, author)
    SELECT r.study_uid, r.id, r.state,
           r.critical AND r.state NOT IN ('cancelled', 'entered-in-error')
             AND NOT EXISTS (SELECT 1 FROM report_acks a WHERE a.report_id = r.id),
           CASE WHEN r.state IN ('cancelled', 'entered-in-error') THEN '' ELSE r.created_by END
    FROM reports r WHERE r.study_uid = NEW.study_uid ORDER BY r.id DESC LIMIT 1
  ON CONFLICT (study_uid) DO UPDATE SET report_id = excluded.report_id, state = excluded.state,
    critical = excluded.critical, author = excluded.author;
  RETURN NULL;
END
$$;
CREATE TRIGGER reports_study_insert AFTER INSERT ON reports
  FOR EACH ROW EXECUTE FUNCTION rr_study_report_sync();
CREATE TRIGGER reports_study_update AFTER UPDATE OF state, critical ON reports
  FOR EACH ROW EXECUTE FUNCTION rr_study_report_sync();

CREATE FUNCTION rr_report_acks_study() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE study_report SET critical = false
    WHERE report_id = NEW.report_id AND study_uid = (SELECT study_uid FROM reports WHERE id = NEW.report_id);
  RETURN NULL;
END
$$;
CREATE TRIGGER report_acks_study AFTER INSERT ON report_acks
  FOR EACH ROW EXECUTE FUNCTION rr_report_acks_study();

CREATE TABLE report_macros (
  username   TEXT COLLATE rr_nocase NOT NULL,
  name       TEXT COLLATE "C" NOT NULL,
  text       TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (username, name)
);
