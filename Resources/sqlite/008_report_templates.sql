-- Reading Room store, SQLite backend: report templates that administrators
-- added, and their versions of the built-in templates (a row with a
-- built-in's id overrides it) (store/store_report_templates.h). Rows are
-- never deleted: a retired template stays readable by id.

CREATE TABLE report_templates (
  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
  json TEXT NOT NULL CHECK (length(json) >= 2),
  revision INTEGER NOT NULL CHECK (revision >= 1),
  retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
  updated_by TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL
);
