-- Reading Room store, PostgreSQL backend, schema version 4: the viewer's
-- measurements and annotations of a study, and its key images
-- (store/store_annotations.h; the SQLite twin is sqlite/006_annotations.sql).
-- An annotation's image and tool never change; its label and data change by
-- its author, each change adding one to version. Identifiers that are sorted
-- are COLLATE "C" (byte order, as in the SQLite backend).

CREATE TABLE annotations (
  study_uid      TEXT COLLATE "C" NOT NULL,
  annotation_uid TEXT COLLATE "C" NOT NULL,
  series_uid     TEXT COLLATE "C" NOT NULL,
  sop_uid        TEXT COLLATE "C" NOT NULL,
  frame          BIGINT NOT NULL CHECK (frame >= 1),
  tool           TEXT COLLATE "C" NOT NULL,
  label          TEXT NOT NULL DEFAULT '',
  data_json      TEXT NOT NULL DEFAULT '{}',
  author         TEXT COLLATE "C" NOT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  version        BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
  PRIMARY KEY (study_uid, annotation_uid)
);
CREATE INDEX annotations_by_time ON annotations (study_uid, created_at, annotation_uid);

CREATE TABLE key_images (
  study_uid  TEXT COLLATE "C" NOT NULL,
  sop_uid    TEXT COLLATE "C" NOT NULL,
  frame      BIGINT NOT NULL CHECK (frame >= 1),
  series_uid TEXT COLLATE "C" NOT NULL,
  author     TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (study_uid, sop_uid, frame)
);
CREATE INDEX key_images_by_time ON key_images (study_uid, created_at, sop_uid, frame);
