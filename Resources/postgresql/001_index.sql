-- Reading Room store, PostgreSQL backend, schema version 1: the index
-- (studies, series, instances, search terms, key-value).
-- Applied inside one transaction by store_pg.c under the migrations'
-- advisory lock; rr_schema_version is written by the runner, not here.
-- Text that is compared, matched or sorted is COLLATE "C": byte order as in
-- the SQLite backend whatever the database's locale, and B-tree indexes
-- that answer prefix patterns (LIKE 'ABC%').

CREATE TABLE kv (
  key   TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE studies (
  id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  orthanc_id          TEXT COLLATE "C" NOT NULL UNIQUE,
  patient_orthanc_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
  study_uid           TEXT COLLATE "C" NOT NULL,
  patient_name        TEXT NOT NULL DEFAULT '',
  patient_name_norm   TEXT COLLATE "C" NOT NULL DEFAULT '',
  patient_id          TEXT COLLATE "C" NOT NULL DEFAULT '',
  patient_birth_date  TEXT NOT NULL DEFAULT '',
  patient_sex         TEXT NOT NULL DEFAULT '',
  study_date          TEXT COLLATE "C" NOT NULL DEFAULT '',
  study_time          TEXT COLLATE "C" NOT NULL DEFAULT '',
  study_description   TEXT NOT NULL DEFAULT '',
  description_norm    TEXT COLLATE "C" NOT NULL DEFAULT '',
  accession_number    TEXT COLLATE "C" NOT NULL DEFAULT '',
  referring_physician TEXT NOT NULL DEFAULT '',
  institution_name    TEXT NOT NULL DEFAULT '',
  modalities          TEXT NOT NULL DEFAULT '',
  -- one bit per common modality (as in the SQLite backend)
  mod_mask            BIGINT NOT NULL DEFAULT 0,
  series_count        BIGINT NOT NULL DEFAULT 0,
  instance_count      BIGINT NOT NULL DEFAULT 0,
  received_at         BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL
);
CREATE INDEX studies_uid ON studies(study_uid);
CREATE INDEX studies_patient ON studies(patient_orthanc_id);
-- the sort keys, each with the modality mask, so that a page and its count
-- under modality filters are answered from the index alone
CREATE INDEX studies_date ON studies(study_date, study_time, id) INCLUDE (mod_mask);
CREATE INDEX studies_name ON studies(patient_name_norm, id) INCLUDE (mod_mask);
CREATE INDEX studies_received ON studies(received_at, id) INCLUDE (mod_mask);
-- covering index of the sort keys by row: the ids that search words yield
-- are sorted and paged without reading the wide rows
CREATE INDEX studies_keys ON studies(id) INCLUDE (study_date, study_time, received_at, patient_name_norm, mod_mask);
CREATE INDEX studies_patient_id ON studies(patient_id);
CREATE INDEX studies_accession ON studies(accession_number);
CREATE INDEX studies_description ON studies(description_norm);

CREATE TABLE series (
  id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  orthanc_id         TEXT COLLATE "C" NOT NULL UNIQUE,
  study_id           BIGINT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  series_uid         TEXT COLLATE "C" NOT NULL,
  series_number      BIGINT,
  modality           TEXT NOT NULL DEFAULT '',
  series_description TEXT NOT NULL DEFAULT '',
  body_part          TEXT NOT NULL DEFAULT '',
  instance_count     BIGINT NOT NULL DEFAULT 0,
  received_at        BIGINT NOT NULL,
  updated_at         BIGINT NOT NULL
);
CREATE INDEX series_study ON series(study_id);

CREATE TABLE instances (
  id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  orthanc_id        TEXT COLLATE "C" NOT NULL UNIQUE,
  series_id         BIGINT NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  sop_instance_uid  TEXT NOT NULL,
  sop_class_uid     TEXT NOT NULL DEFAULT '',
  transfer_syntax   TEXT NOT NULL DEFAULT '',
  instance_number   BIGINT,
  number_of_frames  BIGINT NOT NULL DEFAULT 1,
  image_position    TEXT NOT NULL DEFAULT '',
  image_orientation TEXT NOT NULL DEFAULT '',
  received_at       BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL
);
CREATE INDEX instances_series ON instances(series_id);

-- Search terms: folded words (see util/textnorm.h) per study.
-- kind: N = patient name, D = study description, T = free text, M = modality
CREATE TABLE study_terms (
  kind     TEXT COLLATE "C" NOT NULL,
  term     TEXT COLLATE "C" NOT NULL,
  study_id BIGINT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  PRIMARY KEY (kind, term, study_id)
);
CREATE INDEX study_terms_study ON study_terms(study_id);
