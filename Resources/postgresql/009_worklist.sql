-- Reading Room store, PostgreSQL backend, schema version 9: what makes the
-- worklist fast at 100,000 studies and more (store_pg_worklist.c).
--
-- 1. The sort keys and modality mask of its study on every search term row.
-- A word search ("mull", "kim taro") matches thousands of studies at
-- 100,000; reading each match's sort keys from `studies` (one index probe
-- per match) made it miss the worklist goal (p95 32 ms). With the keys
-- in the term index, the matching studies, their sort keys and their count
-- come from one index-only range scan. The copies are kept by the triggers
-- below in the transaction of every write, whichever code writes: a new
-- term row takes its study's keys, and a change of a study's keys is
-- copied to its term rows.
--
-- 2. The number of studies, for the unfiltered worklist's exact total
-- (counting 100,000 rows took about 4 ms of every default page). Inserts
-- and deletions of studies append their count to study_count_deltas in
-- their own transaction (no shared row to lock, so nodes never wait for
-- each other); past 32 rows a writer folds them into one. The total is
-- their sum, exact in the reader's snapshot.
--
-- Existing stores are upgraded in place: the terms table is rebuilt with the
-- keys of every row (about 12 rows per study), sorted as its index, so it is
-- not left with a dead copy of each row. Both tables are locked first
-- (studies before study_terms, the order of every write), so that no term or
-- study another node writes meanwhile is lost or miscounted; other nodes'
-- ingestion and word searches wait for the upgrade (about 13 s at 100,000
-- studies).

LOCK TABLE studies IN SHARE ROW EXCLUSIVE MODE;
LOCK TABLE study_terms IN ACCESS EXCLUSIVE MODE;

CREATE TABLE study_terms_keyed (
  kind              TEXT COLLATE "C" NOT NULL,
  term              TEXT COLLATE "C" NOT NULL,
  study_id          BIGINT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  study_date        TEXT COLLATE "C" NOT NULL DEFAULT '',
  study_time        TEXT COLLATE "C" NOT NULL DEFAULT '',
  received_at       BIGINT NOT NULL DEFAULT 0,
  patient_name_norm TEXT COLLATE "C" NOT NULL DEFAULT '',
  mod_mask          BIGINT NOT NULL DEFAULT 0
);

INSERT INTO study_terms_keyed (kind, term, study_id, study_date, study_time, received_at, patient_name_norm, mod_mask)
  SELECT t.kind, t.term, t.study_id, s.study_date, s.study_time, s.received_at, s.patient_name_norm, s.mod_mask
  FROM study_terms t JOIN studies s ON s.id = t.study_id
  ORDER BY t.kind, t.term, t.study_id;

DROP TABLE study_terms;
ALTER TABLE study_terms_keyed RENAME TO study_terms;
ALTER TABLE study_terms RENAME CONSTRAINT study_terms_keyed_study_id_fkey TO study_terms_study_id_fkey;

-- one row per (kind, term, study) as before (ON CONFLICT DO NOTHING), and
-- the index that answers a word search by itself
CREATE UNIQUE INDEX study_terms_keys ON study_terms(kind, term, study_id)
  INCLUDE (study_date, study_time, received_at, patient_name_norm, mod_mask);
CREATE INDEX study_terms_study ON study_terms(study_id);

-- A new term row (or one moved to another study) takes its study's keys.
CREATE FUNCTION rr_study_terms_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT s.study_date, s.study_time, s.received_at, s.patient_name_norm, s.mod_mask
    INTO NEW.study_date, NEW.study_time, NEW.received_at, NEW.patient_name_norm, NEW.mod_mask
    FROM studies s WHERE s.id = NEW.study_id;
  RETURN NEW;
END
$$;
CREATE TRIGGER study_terms_keys_insert BEFORE INSERT OR UPDATE OF study_id ON study_terms
  FOR EACH ROW EXECUTE FUNCTION rr_study_terms_keys();

-- A study whose keys changed: its term rows follow.
CREATE FUNCTION rr_study_keys_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE study_terms SET study_date = NEW.study_date, study_time = NEW.study_time, received_at = NEW.received_at,
                         patient_name_norm = NEW.patient_name_norm, mod_mask = NEW.mod_mask
    WHERE study_id = NEW.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER studies_keys_update AFTER UPDATE OF study_date, study_time, received_at, patient_name_norm, mod_mask
  ON studies FOR EACH ROW
  WHEN (OLD.study_date IS DISTINCT FROM NEW.study_date OR OLD.study_time IS DISTINCT FROM NEW.study_time
        OR OLD.received_at IS DISTINCT FROM NEW.received_at OR OLD.patient_name_norm IS DISTINCT FROM NEW.patient_name_norm
        OR OLD.mod_mask IS DISTINCT FROM NEW.mod_mask)
  EXECUTE FUNCTION rr_study_keys_sync();

ANALYZE study_terms;

CREATE TABLE study_count_deltas (n BIGINT NOT NULL);
INSERT INTO study_count_deltas SELECT count(*) FROM studies;

-- Fold the deltas into one row once there are more than 32, one writer at
-- a time (the others skip; the key is "RRCOUNT!" as an int64), so that the
-- sum stays a few dozen rows.
CREATE FUNCTION rr_study_count_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM study_count_deltas) > 32 AND pg_try_advisory_xact_lock(5931877667213038625) THEN
    WITH gone AS (DELETE FROM study_count_deltas RETURNING n)
      INSERT INTO study_count_deltas SELECT COALESCE(sum(n), 0) FROM gone;
  END IF;
END
$$;
CREATE FUNCTION rr_study_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO study_count_deltas SELECT count(*) FROM new_rows HAVING count(*) > 0;
  PERFORM rr_study_count_fold();
  RETURN NULL;
END
$$;
CREATE FUNCTION rr_study_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO study_count_deltas SELECT -count(*) FROM old_rows HAVING count(*) > 0;
  PERFORM rr_study_count_fold();
  RETURN NULL;
END
$$;
CREATE TRIGGER studies_count_insert AFTER INSERT ON studies REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION rr_study_count_inserted();
CREATE TRIGGER studies_count_delete AFTER DELETE ON studies REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION rr_study_count_deleted();
CREATE FUNCTION rr_study_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM study_count_deltas;
  RETURN NULL;
END
$$;
CREATE TRIGGER studies_count_truncate AFTER TRUNCATE ON studies
  FOR EACH STATEMENT EXECUTE FUNCTION rr_study_count_truncated();
