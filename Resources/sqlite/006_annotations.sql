-- Reading Room store, SQLite backend, schema version 6: the viewer's
-- measurements and annotations of a study, and its key images
-- (store/store_annotations.h). An annotation's image and tool never change;
-- its label and data change by its author, each change adding one to version.

CREATE TABLE annotations (
  study_uid TEXT NOT NULL,
  annotation_uid TEXT NOT NULL,
  series_uid TEXT NOT NULL,
  sop_uid TEXT NOT NULL,
  frame INTEGER NOT NULL CHECK (frame >= 1),
  tool TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  data_json TEXT NOT NULL DEFAULT '{}',
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  PRIMARY KEY (study_uid, annotation_uid)
);
CREATE INDEX annotations_by_time ON annotations (study_uid, created_at, annotation_uid);

CREATE TABLE key_images (
  study_uid TEXT NOT NULL,
  sop_uid TEXT NOT NULL,
  frame INTEGER NOT NULL CHECK (frame >= 1),
  series_uid TEXT NOT NULL,
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (study_uid, sop_uid, frame)
);
