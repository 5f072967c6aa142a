/*
 * store_sqlite_index.c - the SQLite backend's index concern: ingestion
 * batches (upserts, counts, modality mask, search terms), deletions, the
 * key-value pairs, reconciliation listings, counts and the schema version.
 * The worklist reads are in store_sqlite_worklist.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"
#include "modality_mask.h"

#define MAX_WORDS_PER_FIELD 64
#define MAX_WORD_BYTES 64

typedef struct id_set {
  int64_t ids[64];
  int64_t *more;
  size_t count, cap;
} id_set;

static int id_set_add(id_set *set, int64_t id)
{
  size_t i;
  int error;

  for (i = 0; i < set->count; i++)
    if ((i < 64 ? set->ids[i] : set->more[i - 64]) == id)
      return 0;
  if (set->count < 64) {
    set->ids[set->count++] = id;
    return 0;
  }
  if ((error = rr_store_grow((void **)&set->more, &set->cap, set->count - 64, sizeof(*set->more), 64)) < 0)
    return error;
  set->more[set->count - 64] = id;
  set->count++;
  return 0;
}

static int64_t id_set_get(const id_set *set, size_t i)
{
  return i < 64 ? set->ids[i] : set->more[i - 64];
}

/* Look up a single int64 (first column of the first row). */
static int query_id(sqlite3 *db, int64_t *out, const char *sql, const char *param, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = RR_ENOTFOUND;

  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare");
  rr_sqlite_bind_text(st, 1, param);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    error = 0;
  } else if (rc != SQLITE_DONE) {
    error = rr_sqlite_fail(err, errsize, db, "lookup");
  }
  sqlite3_finalize(st);
  return error;
}

/* -------------------------------------------------------------- terms */

static int add_terms(sqlite3_stmt *ins, int64_t study_id, const char *kind, const char *text, rr_buf *scratch)
{
  const char *word;
  size_t pos = 0, wordlen, n = 0;
  char term[MAX_WORD_BYTES + 1];
  int error;

  rr_buf_clear(scratch);
  if ((error = rr_text_fold(scratch, text, strlen(text), false)) < 0)
    return error;
  while (n < MAX_WORDS_PER_FIELD && rr_text_next_word(scratch->ptr, &pos, &word, &wordlen)) {
    rr_str_copyn(term, sizeof(term), word, wordlen);
    sqlite3_reset(ins);
    sqlite3_bind_text(ins, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, term, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 3, study_id);
    if (sqlite3_step(ins) != SQLITE_DONE)
      return RR_ESTORE;
    n++;
  }
  return 0;
}

static int write_study_terms(sqlite3 *db, int64_t study_id, const rr_study_rec *st, char *err, size_t errsize)
{
  sqlite3_stmt *ins = NULL;
  rr_buf scratch;
  int error = 0;
  const char *free_text[] = {st->patient_name, st->patient_id, st->accession_number,
                             st->study_description, st->referring_physician, st->institution_name};
  size_t i;

  rr_buf_init(&scratch, 4096);
  if ((error = rr_sqlite_run_ids(db, "DELETE FROM study_terms WHERE study_id=?1 AND kind<>'M'", study_id, 0, err, errsize)) < 0)
    goto out;
  if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO study_terms(kind, term, study_id) VALUES(?1, ?2, ?3)",
                         -1, &ins, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, db, "prepare terms");
    goto out;
  }
  if ((error = add_terms(ins, study_id, "N", st->patient_name, &scratch)) < 0 ||
      (error = add_terms(ins, study_id, "D", st->study_description, &scratch)) < 0)
    goto terms_failed;
  for (i = 0; i < sizeof(free_text) / sizeof(free_text[0]); i++)
    if ((error = add_terms(ins, study_id, "T", free_text[i], &scratch)) < 0)
      goto terms_failed;
  goto out;

terms_failed:
  error = error == RR_ESTORE ? rr_sqlite_fail(err, errsize, db, "insert terms")
                             : rr_fail(err, errsize, error, "cannot build search terms");
out:
  sqlite3_finalize(ins);
  rr_buf_dispose(&scratch);
  return error;
}

/* ------------------------------------------------------------- apply_batch */

static const char SQL_UPSERT_STUDY[] =
  "INSERT INTO studies(orthanc_id, patient_orthanc_id, study_uid, patient_name, patient_name_norm,"
  " patient_id, patient_birth_date, patient_sex, study_date, study_time, study_description,"
  " description_norm, accession_number, referring_physician, institution_name, received_at, updated_at)"
  " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?16)"
  " ON CONFLICT(orthanc_id) DO UPDATE SET patient_orthanc_id=excluded.patient_orthanc_id,"
  " study_uid=excluded.study_uid, patient_name=excluded.patient_name,"
  " patient_name_norm=excluded.patient_name_norm, patient_id=excluded.patient_id,"
  " patient_birth_date=excluded.patient_birth_date, patient_sex=excluded.patient_sex,"
  " study_date=excluded.study_date, study_time=excluded.study_time,"
  " study_description=excluded.study_description, description_norm=excluded.description_norm,"
  " accession_number=excluded.accession_number, referring_physician=excluded.referring_physician,"
  " institution_name=excluded.institution_name, updated_at=excluded.updated_at"
  " RETURNING id";

static const char SQL_UPSERT_SERIES[] =
  "INSERT INTO series(orthanc_id, study_id, series_uid, series_number, modality, series_description,"
  " body_part, received_at, updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?8)"
  " ON CONFLICT(orthanc_id) DO UPDATE SET study_id=excluded.study_id, series_uid=excluded.series_uid,"
  " series_number=excluded.series_number, modality=excluded.modality,"
  " series_description=excluded.series_description, body_part=excluded.body_part,"
  " updated_at=excluded.updated_at RETURNING id";

static const char SQL_UPSERT_INSTANCE[] =
  "INSERT INTO instances(orthanc_id, series_id, sop_instance_uid, sop_class_uid, transfer_syntax,"
  " instance_number, number_of_frames, image_position, image_orientation, received_at, updated_at)"
  " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10)"
  " ON CONFLICT(orthanc_id) DO UPDATE SET series_id=excluded.series_id,"
  " sop_instance_uid=excluded.sop_instance_uid, sop_class_uid=excluded.sop_class_uid,"
  " transfer_syntax=excluded.transfer_syntax, instance_number=excluded.instance_number,"
  " number_of_frames=excluded.number_of_frames, image_position=excluded.image_position,"
  " image_orientation=excluded.image_orientation, updated_at=excluded.updated_at";

static const char SQL_RECOUNT_SERIES[] =
  "UPDATE series SET instance_count=(SELECT count(*) FROM instances WHERE series_id=?1) WHERE id=?1";

static const char SQL_RECOUNT_STUDY[] =
  "UPDATE studies SET series_count=(SELECT count(*) FROM series WHERE study_id=?1),"
  " instance_count=(SELECT coalesce(sum(instance_count),0) FROM series WHERE study_id=?1),"
  " modalities=coalesce((SELECT group_concat(modality, '\\') FROM (SELECT DISTINCT modality FROM series"
  " WHERE study_id=?1 AND modality<>'' ORDER BY modality)), ''), updated_at=max(updated_at, ?2) WHERE id=?1";

static int step_returning_id(sqlite3_stmt *st, int64_t *id)
{
  int rc = sqlite3_step(st);

  if (rc != SQLITE_ROW)
    return RR_ESTORE;
  *id = sqlite3_column_int64(st, 0);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    ;
  return rc == SQLITE_DONE ? 0 : RR_ESTORE;
}

static int upsert_study(sqlite3 *db, sqlite3_stmt *st, const rr_study_rec *s, int64_t now, int64_t *id, rr_buf *scratch)
{
  char name_norm[RR_PN_SIZE * 2], desc_norm[RR_LO_SIZE * 2];
  int error;

  (void)db;
  rr_buf_clear(scratch);
  if ((error = rr_text_fold(scratch, s->patient_name, strlen(s->patient_name), false)) < 0)
    return error;
  rr_str_copy(name_norm, sizeof(name_norm), scratch->ptr);
  rr_buf_clear(scratch);
  if ((error = rr_text_fold(scratch, s->study_description, strlen(s->study_description), false)) < 0)
    return error;
  rr_str_copy(desc_norm, sizeof(desc_norm), scratch->ptr);

  sqlite3_reset(st);
  rr_sqlite_bind_text(st, 1, s->orthanc_id);
  rr_sqlite_bind_text(st, 2, s->patient_orthanc_id);
  rr_sqlite_bind_text(st, 3, s->study_uid);
  rr_sqlite_bind_text(st, 4, s->patient_name);
  rr_sqlite_bind_text(st, 5, name_norm);
  rr_sqlite_bind_text(st, 6, s->patient_id);
  rr_sqlite_bind_text(st, 7, s->patient_birth_date);
  rr_sqlite_bind_text(st, 8, s->patient_sex);
  rr_sqlite_bind_text(st, 9, s->study_date);
  rr_sqlite_bind_text(st, 10, s->study_time);
  rr_sqlite_bind_text(st, 11, s->study_description);
  rr_sqlite_bind_text(st, 12, desc_norm);
  rr_sqlite_bind_text(st, 13, s->accession_number);
  rr_sqlite_bind_text(st, 14, s->referring_physician);
  rr_sqlite_bind_text(st, 15, s->institution_name);
  sqlite3_bind_int64(st, 16, now);
  return step_returning_id(st, id);
}

static int upsert_series(sqlite3_stmt *st, const rr_series_rec *s, int64_t study_id, int64_t now, int64_t *id)
{
  sqlite3_reset(st);
  rr_sqlite_bind_text(st, 1, s->orthanc_id);
  sqlite3_bind_int64(st, 2, study_id);
  rr_sqlite_bind_text(st, 3, s->series_uid);
  if (s->has_series_number)
    sqlite3_bind_int64(st, 4, s->series_number);
  else
    sqlite3_bind_null(st, 4);
  rr_sqlite_bind_text(st, 5, s->modality);
  rr_sqlite_bind_text(st, 6, s->series_description);
  rr_sqlite_bind_text(st, 7, s->body_part);
  sqlite3_bind_int64(st, 8, now);
  return step_returning_id(st, id);
}

static int upsert_instance(sqlite3_stmt *st, const rr_instance_rec *i, int64_t series_id, int64_t now)
{
  sqlite3_reset(st);
  rr_sqlite_bind_text(st, 1, i->orthanc_id);
  sqlite3_bind_int64(st, 2, series_id);
  rr_sqlite_bind_text(st, 3, i->sop_instance_uid);
  rr_sqlite_bind_text(st, 4, i->sop_class_uid);
  rr_sqlite_bind_text(st, 5, i->transfer_syntax);
  if (i->has_instance_number)
    sqlite3_bind_int64(st, 6, i->instance_number);
  else
    sqlite3_bind_null(st, 6);
  sqlite3_bind_int64(st, 7, i->number_of_frames > 0 ? i->number_of_frames : 1);
  rr_sqlite_bind_text(st, 8, i->image_position);
  rr_sqlite_bind_text(st, 9, i->image_orientation);
  sqlite3_bind_int64(st, 10, now);
  return sqlite3_step(st) == SQLITE_DONE ? 0 : RR_ESTORE;
}

static int update_mod_mask(sqlite3 *db, int64_t study_id, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int64_t mask = 0;
  int rc;

  if (sqlite3_prepare_v2(db, "SELECT modalities FROM studies WHERE id=?1", -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare modalities");
  sqlite3_bind_int64(st, 1, study_id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    mask = rr_modality_mask((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return rr_sqlite_fail(err, errsize, db, "read modalities");
  return rr_sqlite_run_ids(db, "UPDATE studies SET mod_mask=?2 WHERE id=?1", study_id, mask, err, errsize);
}

static int recount_study(sqlite3 *db, int64_t study_id, int64_t now, char *err, size_t errsize)
{
  int error;

  if ((error = rr_sqlite_run_ids(db, SQL_RECOUNT_STUDY, study_id, now, err, errsize)) < 0 ||
      (error = update_mod_mask(db, study_id, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_run_ids(db, "DELETE FROM study_terms WHERE study_id=?1 AND kind='M'", study_id, 0, err, errsize)) < 0)
    return error;
  return rr_sqlite_run_ids(db,
                 "INSERT OR IGNORE INTO study_terms(kind, term, study_id) SELECT DISTINCT 'M', modality, study_id"
                 " FROM series WHERE study_id=?1 AND modality<>''",
                 study_id, 0, err, errsize);
}

static int kv_set_conn(sqlite3 *db, const char *key, const char *value, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2(db, "INSERT INTO kv(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                         -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare kv");
  rr_sqlite_bind_text(st, 1, key);
  rr_sqlite_bind_text(st, 2, value);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : rr_sqlite_fail(err, errsize, db, "write kv");
}

static int sqlite_apply_batch(void *impl, const rr_ingest_batch *b, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db;
  sqlite3_stmt *st_study = NULL, *st_series = NULL, *st_inst = NULL;
  id_set studies = {0}, series = {0};
  const char *last_study = NULL, *last_series = NULL;
  int64_t study_id = 0, series_id = 0;
  rr_buf scratch;
  size_t i;
  int error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  db = s->writer.db;
  rr_buf_init(&scratch, 4096);
  if (sqlite3_prepare_v2(db, SQL_UPSERT_STUDY, -1, &st_study, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, SQL_UPSERT_SERIES, -1, &st_series, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, SQL_UPSERT_INSTANCE, -1, &st_inst, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, db, "prepare upserts");
    goto out;
  }
  for (i = 0; i < b->count; i++) {
    const rr_ingest_item *it = &b->items[i];

    if (last_study == NULL || strcmp(last_study, it->study.orthanc_id) != 0) {
      if ((error = upsert_study(db, st_study, &it->study, b->now, &study_id, &scratch)) < 0) {
        error = rr_sqlite_fail(err, errsize, db, "upsert study");
        goto out;
      }
      if ((error = write_study_terms(db, study_id, &it->study, err, errsize)) < 0)
        goto out;
      if ((error = id_set_add(&studies, study_id)) < 0)
        goto out;
      last_study = it->study.orthanc_id;
      last_series = NULL;
    }
    if (last_series == NULL || strcmp(last_series, it->series.orthanc_id) != 0) {
      if ((error = upsert_series(st_series, &it->series, study_id, b->now, &series_id)) < 0) {
        error = rr_sqlite_fail(err, errsize, db, "upsert series");
        goto out;
      }
      if ((error = id_set_add(&series, series_id)) < 0)
        goto out;
      last_series = it->series.orthanc_id;
    }
    if ((error = upsert_instance(st_inst, &it->instance, series_id, b->now)) < 0) {
      error = rr_sqlite_fail(err, errsize, db, "upsert instance");
      goto out;
    }
  }
  for (i = 0; i < series.count; i++)
    if ((error = rr_sqlite_run_ids(db, SQL_RECOUNT_SERIES, id_set_get(&series, i), 0, err, errsize)) < 0)
      goto out;
  for (i = 0; i < studies.count; i++)
    if ((error = recount_study(db, id_set_get(&studies, i), b->now, err, errsize)) < 0)
      goto out;
  if (b->cursor_key != NULL)
    error = kv_set_conn(db, b->cursor_key, b->cursor_value, err, errsize);

out:
  sqlite3_finalize(st_study);
  sqlite3_finalize(st_series);
  sqlite3_finalize(st_inst);
  error = rr_sqlite_end(s, error, err, errsize);
  free(studies.more);
  free(series.more);
  rr_buf_dispose(&scratch);
  return error;
}

/* ---------------------------------------------------------------- deletion */

/* Recount a study after a child went away, and drop it when it is empty. */
static int settle_study(sqlite3 *db, int64_t study_id, char *err, size_t errsize)
{
  int error;

  if ((error = recount_study(db, study_id, 0, err, errsize)) < 0)
    return error;
  return rr_sqlite_run_ids(db, "DELETE FROM studies WHERE id=?1 AND series_count=0", study_id, 0, err, errsize);
}

static int sqlite_delete(void *impl, rr_level level, const char *orthanc_id, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db;
  int64_t series_id = 0, study_id = 0;
  int error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  db = s->writer.db;
  switch (level) {
  case RR_LEVEL_INSTANCE:
    error = query_id(db, &series_id, "SELECT series_id FROM instances WHERE orthanc_id=?1", orthanc_id, err, errsize);
    if (error < 0)
      goto out;
    if ((error = query_id(db, &study_id, "SELECT study_id FROM series WHERE id=(SELECT series_id FROM instances WHERE orthanc_id=?1)",
                          orthanc_id, err, errsize)) < 0)
      goto out;
    break;
  case RR_LEVEL_SERIES:
    if ((error = query_id(db, &study_id, "SELECT study_id FROM series WHERE orthanc_id=?1", orthanc_id, err, errsize)) < 0)
      goto out;
    break;
  case RR_LEVEL_STUDY:
  case RR_LEVEL_PATIENT:
    break;
  }
  {
    static const char *const sql[] = {
      "DELETE FROM studies WHERE patient_orthanc_id=?1",
      "DELETE FROM studies WHERE orthanc_id=?1",
      "DELETE FROM series WHERE orthanc_id=?1",
      "DELETE FROM instances WHERE orthanc_id=?1"};
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, sql[level], -1, &st, NULL) != SQLITE_OK) {
      error = rr_sqlite_fail(err, errsize, db, "prepare delete");
      goto out;
    }
    rr_sqlite_bind_text(st, 1, orthanc_id);
    if (sqlite3_step(st) != SQLITE_DONE) {
      sqlite3_finalize(st);
      error = rr_sqlite_fail(err, errsize, db, "delete");
      goto out;
    }
    sqlite3_finalize(st);
    if (sqlite3_changes(db) == 0) {
      error = RR_ENOTFOUND;
      goto out;
    }
  }
  if (level == RR_LEVEL_INSTANCE) {
    if ((error = rr_sqlite_run_ids(db, SQL_RECOUNT_SERIES, series_id, 0, err, errsize)) < 0 ||
        (error = rr_sqlite_run_ids(db, "DELETE FROM series WHERE id=?1 AND instance_count=0", series_id, 0, err, errsize)) < 0)
      goto out;
  }
  if (level == RR_LEVEL_INSTANCE || level == RR_LEVEL_SERIES)
    error = settle_study(db, study_id, err, errsize);

out:
  return rr_sqlite_end(s, error, err, errsize);
}

/* ------------------------------------------------------------ key-value */

/* The value into a buffer of *(size_t *)ctx bytes. */
static int read_value(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_sqlite_column_copy(elem, *(size_t *)ctx, st, 0);
  return 0;
}

static int sqlite_kv_get(void *impl, char *out, size_t outsize, const char *key, char *err, size_t errsize)
{
  if (outsize > 0)
    out[0] = '\0';
  return rr_sqlite_read_row(impl, &(rr_sqlite_sql){"SELECT value FROM kv WHERE key=?1", rr_sqlite_bind_text1, key,
                                                   "prepare kv", "read kv"},
                            read_value, out, &outsize, err, errsize);
}

static int sqlite_kv_set(void *impl, const char *key, const char *value, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  int error;

  pthread_mutex_lock(&s->write_lock);
  error = kv_set_conn(s->writer.db, key, value, err, errsize);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

/* ------------------------------------------------------ reconciliation */

static int read_series_count(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_series_count *r = elem;

  (void)ctx;
  rr_sqlite_column_copy(r->orthanc_id, RR_OID_SIZE, st, 0);
  r->instance_count = sqlite3_column_int64(st, 1);
  return 0;
}

static int sqlite_list_series(void *impl, rr_series_count_list **out, const char *after, size_t limit, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  sqlite3_stmt *st = NULL;
  rr_series_count_list *list = NULL;
  int error = 0;

  *out = NULL;
  if ((list = rr_store_list_new(&rr_series_count_list_kind)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  if (sqlite3_prepare_v2(c->db, "SELECT orthanc_id, instance_count FROM series WHERE orthanc_id>?1 ORDER BY orthanc_id LIMIT ?2",
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare list series");
    goto out;
  }
  rr_sqlite_bind_text(st, 1, after);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
  if ((error = rr_sqlite_step_rows(st, &rr_series_count_list_kind, list, limit, read_series_count, NULL)) < 0) {
    error = rr_sqlite_rows_fail(error, err, errsize, c->db, "list series");
    goto out;
  }
  *out = list;
  list = NULL;
out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  rr_series_count_list_free(list);
  return error;
}

static int read_id(void *elem, sqlite3_stmt *st, void *ctx)
{
  (void)ctx;
  rr_sqlite_column_copy(elem, RR_OID_SIZE, st, 0);
  return 0;
}

static int sqlite_list_instances(void *impl, rr_id_list **out, const char *series_orthanc_id, char *err, size_t errsize)
{
  void *list;
  int error = rr_sqlite_read_list(impl, &list, &rr_id_list_kind, 64,
                                  "SELECT i.orthanc_id FROM instances i JOIN series s ON i.series_id=s.id"
                                  " WHERE s.orthanc_id=?1 ORDER BY i.orthanc_id",
                                  series_orthanc_id, read_id, "list instances", err, errsize);

  *out = list;
  return error;
}

static int read_stats(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_store_stats *out = elem;

  (void)ctx;
  out->studies = sqlite3_column_int64(st, 0);
  out->series = sqlite3_column_int64(st, 1);
  out->instances = sqlite3_column_int64(st, 2);
  return 0;
}

static int sqlite_stats(void *impl, rr_store_stats *out, char *err, size_t errsize)
{
  int error;

  memset(out, 0, sizeof(*out));
  error = rr_sqlite_read_row(impl,
                             &(rr_sqlite_sql){"SELECT (SELECT count(*) FROM studies), (SELECT count(*) FROM series),"
                                              " (SELECT count(*) FROM instances)", NULL, NULL, "stats", "stats"},
                             read_stats, out, NULL, err, errsize);
  /* an aggregate always has its row */
  if (error == RR_ENOTFOUND)
    return rr_fail(err, errsize, RR_ESTORE, "sqlite: stats: no row");
  if (error == 0)
    rr_sqlite_write_fault(impl, out->write_fault_kind, sizeof(out->write_fault_kind), out->write_fault,
                          sizeof(out->write_fault));
  return error;
}

static int read_version(void *elem, sqlite3_stmt *st, void *ctx)
{
  (void)ctx;
  *(int *)elem = sqlite3_column_int(st, 0);
  return 0;
}

static int sqlite_schema_version(void *impl, int *out, char *err, size_t errsize)
{
  int error = rr_sqlite_read_row(impl, &(rr_sqlite_sql){"PRAGMA user_version", NULL, NULL, "schema version", "schema version"},
                                 read_version, out, NULL, err, errsize);

  return error == RR_ENOTFOUND ? rr_fail(err, errsize, RR_ESTORE, "sqlite: schema version: no row") : error;
}



const rr_store_index_ops rr_sqlite_index_ops = {
  .schema_version = sqlite_schema_version,
  .apply_batch = sqlite_apply_batch,
  .delete_resource = sqlite_delete,
  .query_worklist = rr_sqlite_query_worklist,
  .get_study = rr_sqlite_get_study,
  .kv_get = sqlite_kv_get,
  .kv_set = sqlite_kv_set,
  .list_series = sqlite_list_series,
  .list_instances = sqlite_list_instances,
  .stats = sqlite_stats,
};
