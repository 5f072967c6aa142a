-- Reading Room store, SQLite backend, schema version 1.
-- Applied inside one transaction by store_sqlite.c; PRAGMA user_version is
-- set by the migration runner, not here.

CREATE TABLE kv (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE studies (
  id                  INTEGER PRIMARY KEY,
  orthanc_id          TEXT NOT NULL UNIQUE,
  patient_orthanc_id  TEXT NOT NULL DEFAULT '',
  study_uid           TEXT NOT NULL,
  patient_name        TEXT NOT NULL DEFAULT '',
  patient_name_norm   TEXT NOT NULL DEFAULT '',
  patient_id          TEXT NOT NULL DEFAULT '',
  patient_birth_date  TEXT NOT NULL DEFAULT '',
  patient_sex         TEXT NOT NULL DEFAULT '',
  study_date          TEXT NOT NULL DEFAULT '',
  study_time          TEXT NOT NULL DEFAULT '',
  study_description   TEXT NOT NULL DEFAULT '',
  description_norm    TEXT NOT NULL DEFAULT '',
  accession_number    TEXT NOT NULL DEFAULT '',
  referring_physician TEXT NOT NULL DEFAULT '',
  institution_name    TEXT NOT NULL DEFAULT '',
  modalities          TEXT NOT NULL DEFAULT '',
  -- one bit per common modality (see store_sqlite_index.c), so that modality
  -- filters are answered from an index without reading rows
  mod_mask            INTEGER NOT NULL DEFAULT 0,
  series_count        INTEGER NOT NULL DEFAULT 0,
  instance_count      INTEGER NOT NULL DEFAULT 0,
  received_at         INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
);
CREATE INDEX studies_uid ON studies(study_uid);
CREATE INDEX studies_patient ON studies(patient_orthanc_id);
CREATE INDEX studies_date ON studies(study_date, study_time, mod_mask);
-- covering index of the sort keys by row: filters that yield row ids
-- (search terms) sort and page without reading the wide rows
CREATE INDEX studies_keys ON studies(id, study_date, study_time, received_at, patient_name_norm, mod_mask);
CREATE INDEX studies_name ON studies(patient_name_norm);
CREATE INDEX studies_received ON studies(received_at);
CREATE INDEX studies_patient_id ON studies(patient_id);
CREATE INDEX studies_accession ON studies(accession_number);

CREATE TABLE series (
  id                 INTEGER PRIMARY KEY,
  orthanc_id         TEXT NOT NULL UNIQUE,
  study_id           INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  series_uid         TEXT NOT NULL,
  series_number      INTEGER,
  modality           TEXT NOT NULL DEFAULT '',
  series_description TEXT NOT NULL DEFAULT '',
  body_part          TEXT NOT NULL DEFAULT '',
  instance_count     INTEGER NOT NULL DEFAULT 0,
  received_at        INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
);
CREATE INDEX series_study ON series(study_id);

CREATE TABLE instances (
  id                INTEGER PRIMARY KEY,
  orthanc_id        TEXT NOT NULL UNIQUE,
  series_id         INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  sop_instance_uid  TEXT NOT NULL,
  sop_class_uid     TEXT NOT NULL DEFAULT '',
  transfer_syntax   TEXT NOT NULL DEFAULT '',
  instance_number   INTEGER,
  number_of_frames  INTEGER NOT NULL DEFAULT 1,
  image_position    TEXT NOT NULL DEFAULT '',
  image_orientation TEXT NOT NULL DEFAULT '',
  received_at       INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX instances_series ON instances(series_id);

-- Search terms: folded words (see util/textnorm.h) per study.
-- kind: N = patient name, D = study description, T = free text, M = modality
CREATE TABLE study_terms (
  kind     TEXT NOT NULL,
  term     TEXT NOT NULL,
  study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  PRIMARY KEY (kind, term, study_id)
) WITHOUT ROWID;
CREATE INDEX study_terms_study ON study_terms(study_id);
