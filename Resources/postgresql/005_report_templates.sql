-- Reading Room store, PostgreSQL backend, schema version 5: report
-- templates that administrators added, and their versions of the built-in
-- templates (a row with a built-in's id overrides it)
-- (store/store_report_templates.h; the SQLite twin is
-- sqlite/008_report_templates.sql). Rows are never deleted: a retired
-- template stays readable by id. Ids sort in byte order (COLLATE "C").

CREATE TABLE report_templates (
  id         TEXT COLLATE "C" PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  json       TEXT NOT NULL CHECK (length(json) >= 2),
  revision   BIGINT NOT NULL CHECK (revision >= 1),
  retired    BOOLEAN NOT NULL DEFAULT false,
  updated_by TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL
);
