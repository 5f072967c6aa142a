#include "store_sqlite.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>

#include "util/buf.h"
#include "util/embedded.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"

static const char *const migrations[] = {
  "sqlite/001_initial.sql",
  "sqlite/002_access_control.sql",
  "sqlite/003_ai_analyses.sql",
  "sqlite/004_study_ai_state.sql",
};
#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define MAX_READERS 64
#define MMAP_BYTES (256 * 1024 * 1024)

/* Modalities that get a bit of studies.mod_mask; any other modality is
 * answered through the search terms (kind 'M'). */
static const char *const mask_modalities[] = {
  "CT", "MR", "CR", "DX", "US", "MG", "PT", "NM", "XA", "RF", "OT", "SR", "SEG", "RTSTRUCT", "RTPLAN", "RTDOSE",
  "RTIMAGE", "PR", "KO", "DOC", "ECG", "IO", "PX", "ES", "XC", "OP", "OPT", "BMD", "HD", "DG", "SM"};
#define MASK_MODALITY_COUNT ((int)(sizeof(mask_modalities) / sizeof(mask_modalities[0])))

static int64_t modality_bit(const char *modality, size_t len)
{
  int i;

  for (i = 0; i < MASK_MODALITY_COUNT; i++)
    if (strlen(mask_modalities[i]) == len && strncmp(mask_modalities[i], modality, len) == 0)
      return (int64_t)1 << i;
  return 0;
}

/* Mask of a backslash-separated modality list. */
static int64_t modality_mask(const char *mods)
{
  int64_t mask = 0;
  size_t len;

  while (*mods) {
    len = strcspn(mods, "\\");
    mask |= modality_bit(mods, len);
    mods += len;
    if (*mods)
      mods++;
  }
  return mask;
}
#define MAX_WORDS_PER_FIELD 64
#define MAX_WORD_BYTES 64

typedef struct sqlite_conn {
  sqlite3 *db;
  int in_use;
} sqlite_conn;

typedef struct sqlite_store {
  pthread_mutex_t write_lock;
  sqlite_conn writer;
  pthread_mutex_t pool_lock;
  pthread_cond_t pool_cond;
  sqlite_conn readers[MAX_READERS];
  unsigned reader_count;
} sqlite_store;

static int db_fail(char *err, size_t errsize, sqlite3 *db, const char *what)
{
  return rr_fail(err, errsize, RR_ESTORE, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

int rr_store_sqlite_latest_schema(void)
{
  return MIGRATION_COUNT;
}

/* ---------------------------------------------------------------- connections */

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errsize)
{
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

  if (rc != SQLITE_OK) {
    rr_fail(err, errsize, RR_ESTORE, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return RR_ESTORE;
  }
  return 0;
}

static int conn_open(sqlite_conn *c, const char *path, int busy_ms, int readonly, char *err, size_t errsize)
{
  int flags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  int rc, error;

  rc = sqlite3_open_v2(path, &c->db, flags, NULL);
  if (rc != SQLITE_OK) {
    error = rr_fail(err, errsize, RR_ESTORE, "sqlite: cannot open database '%s': %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    sqlite3_close(c->db);
    c->db = NULL;
    return error;
  }
  sqlite3_busy_timeout(c->db, busy_ms);
  sqlite3_extended_result_codes(c->db, 1);
  if (!readonly && (error = exec_sql(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err, errsize)) < 0)
    return error;
  if ((error = exec_sql(c->db, "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;", err, errsize)) < 0)
    return error;
  /* memory-mapped reads share the OS page cache between connections */
  sqlite3_file_control(c->db, "main", SQLITE_FCNTL_MMAP_SIZE, &(sqlite3_int64){MMAP_BYTES});
  return 0;
}

static sqlite_conn *reader_acquire(sqlite_store *s)
{
  unsigned i;
  sqlite_conn *c = NULL;

  pthread_mutex_lock(&s->pool_lock);
  while (c == NULL) {
    for (i = 0; i < s->reader_count; i++) {
      if (!s->readers[i].in_use) {
        c = &s->readers[i];
        c->in_use = 1;
        break;
      }
    }
    if (c == NULL)
      pthread_cond_wait(&s->pool_cond, &s->pool_lock);
  }
  pthread_mutex_unlock(&s->pool_lock);
  return c;
}

static void reader_release(sqlite_store *s, sqlite_conn *c)
{
  pthread_mutex_lock(&s->pool_lock);
  c->in_use = 0;
  pthread_cond_signal(&s->pool_cond);
  pthread_mutex_unlock(&s->pool_lock);
}

static int migrate(sqlite3 *db, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int version = 0, i, error = 0;
  char pragma[64];
  const rr_embedded_file *f;

  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
    return db_fail(err, errsize, db, "reading schema version");
  if (sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);

  if (version > MIGRATION_COUNT)
    return rr_fail(err, errsize, RR_ESTORE,
                "database schema version %d is newer than this plugin knows (%d): "
                "use a newer plugin or another database file", version, MIGRATION_COUNT);

  for (i = version; i < MIGRATION_COUNT; i++) {
    f = rr_embedded_find(rr_resources_files, rr_resources_count, migrations[i]);
    if (f == NULL)
      return rr_fail(err, errsize, RR_ERROR, "migration %s is not embedded", migrations[i]);
    if ((error = exec_sql(db, "BEGIN IMMEDIATE", err, errsize)) < 0)
      return error;
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", i + 1);
    if ((error = exec_sql(db, (const char *)f->data, err, errsize)) < 0 ||
        (error = exec_sql(db, pragma, err, errsize)) < 0) {
      exec_sql(db, "ROLLBACK", NULL, 0);
      return error;
    }
    if ((error = exec_sql(db, "COMMIT", err, errsize)) < 0)
      return error;
  }
  return 0;
}

/* ------------------------------------------------------------------ helpers */

static void bind_text(sqlite3_stmt *st, int idx, const char *s)
{
  sqlite3_bind_text(st, idx, s ? s : "", -1, SQLITE_TRANSIENT);
}

static void column_copy(char *dst, size_t size, sqlite3_stmt *st, int col)
{
  const unsigned char *t = sqlite3_column_text(st, col);
  rr_str_copyn(dst, size, (const char *)t, t ? (size_t)sqlite3_column_bytes(st, col) : 0);
}

/* Make room for one more element in a result array of `*cap` elements
 * holding `count` (doubling, starting at `first`). */
static int grow_array(void **items, size_t *cap, size_t count, size_t elem_size, size_t first)
{
  size_t ncap;
  void *p;

  if (count < *cap)
    return 0;
  ncap = *cap ? *cap * 2 : first;
  if ((p = realloc(*items, ncap * elem_size)) == NULL)
    return RR_ENOMEM;
  *items = p;
  *cap = ncap;
  return 0;
}

/* Reads one row into a zeroed element; < 0 (RR_ENOMEM) when it cannot. */
typedef int (*row_reader)(void *elem, sqlite3_stmt *st);

/* Run a read-only `sql` with at most one text parameter (?1, may be NULL)
 * on a reader connection and append one element of elem_size bytes per row
 * to *items (*count of them, storage grown from `first`). An element is
 * counted before it is read, so that the caller's list free releases a
 * partly read one. `what` names the query in errors. */
static int collect_rows(sqlite_store *s, void **items, size_t *count, size_t elem_size, size_t first, const char *sql,
                        const char *param, row_reader read, const char *what, char *err, size_t errsize);

typedef struct id_set {
  int64_t ids[64];
  int64_t *more;
  size_t count, cap;
} id_set;

static int id_set_add(id_set *set, int64_t id)
{
  size_t i;
  int64_t *p;

  for (i = 0; i < set->count; i++)
    if ((i < 64 ? set->ids[i] : set->more[i - 64]) == id)
      return 0;
  if (set->count < 64) {
    set->ids[set->count++] = id;
    return 0;
  }
  if (set->count - 64 == set->cap) {
    set->cap = set->cap ? set->cap * 2 : 64;
    p = realloc(set->more, set->cap * sizeof(*p));
    if (p == NULL)
      return RR_ENOMEM;
    set->more = p;
  }
  set->more[set->count - 64] = id;
  set->count++;
  return 0;
}

static int64_t id_set_get(const id_set *set, size_t i)
{
  return i < 64 ? set->ids[i] : set->more[i - 64];
}

/* Run a statement with bound int64 parameters that returns nothing. */
static int run_ids(sqlite3 *db, const char *sql, int64_t a, int64_t b, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, nparams;

  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(err, errsize, db, "prepare");
  nparams = sqlite3_bind_parameter_count(st);
  if (nparams >= 1)
    sqlite3_bind_int64(st, 1, a);
  if (nparams >= 2)
    sqlite3_bind_int64(st, 2, b);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return db_fail(err, errsize, db, "update");
  return 0;
}

/* Look up a single int64 (first column of the first row). */
static int query_id(sqlite3 *db, int64_t *out, const char *sql, const char *param, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = RR_ENOTFOUND;

  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(err, errsize, db, "prepare");
  bind_text(st, 1, param);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    error = 0;
  } else if (rc != SQLITE_DONE) {
    error = db_fail(err, errsize, db, "lookup");
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
  if ((error = run_ids(db, "DELETE FROM study_terms WHERE study_id=?1 AND kind<>'M'", study_id, 0, err, errsize)) < 0)
    goto out;
  if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO study_terms(kind, term, study_id) VALUES(?1, ?2, ?3)",
                         -1, &ins, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, db, "prepare terms");
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
  error = error == RR_ESTORE ? db_fail(err, errsize, db, "insert terms")
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
  bind_text(st, 1, s->orthanc_id);
  bind_text(st, 2, s->patient_orthanc_id);
  bind_text(st, 3, s->study_uid);
  bind_text(st, 4, s->patient_name);
  bind_text(st, 5, name_norm);
  bind_text(st, 6, s->patient_id);
  bind_text(st, 7, s->patient_birth_date);
  bind_text(st, 8, s->patient_sex);
  bind_text(st, 9, s->study_date);
  bind_text(st, 10, s->study_time);
  bind_text(st, 11, s->study_description);
  bind_text(st, 12, desc_norm);
  bind_text(st, 13, s->accession_number);
  bind_text(st, 14, s->referring_physician);
  bind_text(st, 15, s->institution_name);
  sqlite3_bind_int64(st, 16, now);
  return step_returning_id(st, id);
}

static int upsert_series(sqlite3_stmt *st, const rr_series_rec *s, int64_t study_id, int64_t now, int64_t *id)
{
  sqlite3_reset(st);
  bind_text(st, 1, s->orthanc_id);
  sqlite3_bind_int64(st, 2, study_id);
  bind_text(st, 3, s->series_uid);
  if (s->has_series_number)
    sqlite3_bind_int64(st, 4, s->series_number);
  else
    sqlite3_bind_null(st, 4);
  bind_text(st, 5, s->modality);
  bind_text(st, 6, s->series_description);
  bind_text(st, 7, s->body_part);
  sqlite3_bind_int64(st, 8, now);
  return step_returning_id(st, id);
}

static int upsert_instance(sqlite3_stmt *st, const rr_instance_rec *i, int64_t series_id, int64_t now)
{
  sqlite3_reset(st);
  bind_text(st, 1, i->orthanc_id);
  sqlite3_bind_int64(st, 2, series_id);
  bind_text(st, 3, i->sop_instance_uid);
  bind_text(st, 4, i->sop_class_uid);
  bind_text(st, 5, i->transfer_syntax);
  if (i->has_instance_number)
    sqlite3_bind_int64(st, 6, i->instance_number);
  else
    sqlite3_bind_null(st, 6);
  sqlite3_bind_int64(st, 7, i->number_of_frames > 0 ? i->number_of_frames : 1);
  bind_text(st, 8, i->image_position);
  bind_text(st, 9, i->image_orientation);
  sqlite3_bind_int64(st, 10, now);
  return sqlite3_step(st) == SQLITE_DONE ? 0 : RR_ESTORE;
}

static int update_mod_mask(sqlite3 *db, int64_t study_id, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int64_t mask = 0;
  int rc;

  if (sqlite3_prepare_v2(db, "SELECT modalities FROM studies WHERE id=?1", -1, &st, NULL) != SQLITE_OK)
    return db_fail(err, errsize, db, "prepare modalities");
  sqlite3_bind_int64(st, 1, study_id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    mask = modality_mask((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(err, errsize, db, "read modalities");
  return run_ids(db, "UPDATE studies SET mod_mask=?2 WHERE id=?1", study_id, mask, err, errsize);
}

static int recount_study(sqlite3 *db, int64_t study_id, int64_t now, char *err, size_t errsize)
{
  int error;

  if ((error = run_ids(db, SQL_RECOUNT_STUDY, study_id, now, err, errsize)) < 0 ||
      (error = update_mod_mask(db, study_id, err, errsize)) < 0)
    return error;
  if ((error = run_ids(db, "DELETE FROM study_terms WHERE study_id=?1 AND kind='M'", study_id, 0, err, errsize)) < 0)
    return error;
  return run_ids(db,
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
    return db_fail(err, errsize, db, "prepare kv");
  bind_text(st, 1, key);
  bind_text(st, 2, value);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : db_fail(err, errsize, db, "write kv");
}

static int sqlite_apply_batch(void *impl, const rr_ingest_batch *b, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite3 *db;
  sqlite3_stmt *st_study = NULL, *st_series = NULL, *st_inst = NULL;
  id_set studies = {0}, series = {0};
  const char *last_study = NULL, *last_series = NULL;
  int64_t study_id = 0, series_id = 0;
  rr_buf scratch;
  size_t i;
  int error = 0, began = 0;

  rr_buf_init(&scratch, 4096);
  pthread_mutex_lock(&s->write_lock);
  db = s->writer.db;
  if ((error = exec_sql(db, "BEGIN IMMEDIATE", err, errsize)) < 0)
    goto out;
  began = 1;
  if (sqlite3_prepare_v2(db, SQL_UPSERT_STUDY, -1, &st_study, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, SQL_UPSERT_SERIES, -1, &st_series, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, SQL_UPSERT_INSTANCE, -1, &st_inst, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, db, "prepare upserts");
    goto out;
  }
  for (i = 0; i < b->count; i++) {
    const rr_ingest_item *it = &b->items[i];

    if (last_study == NULL || strcmp(last_study, it->study.orthanc_id) != 0) {
      if ((error = upsert_study(db, st_study, &it->study, b->now, &study_id, &scratch)) < 0) {
        error = db_fail(err, errsize, db, "upsert study");
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
        error = db_fail(err, errsize, db, "upsert series");
        goto out;
      }
      if ((error = id_set_add(&series, series_id)) < 0)
        goto out;
      last_series = it->series.orthanc_id;
    }
    if ((error = upsert_instance(st_inst, &it->instance, series_id, b->now)) < 0) {
      error = db_fail(err, errsize, db, "upsert instance");
      goto out;
    }
  }
  for (i = 0; i < series.count; i++)
    if ((error = run_ids(db, SQL_RECOUNT_SERIES, id_set_get(&series, i), 0, err, errsize)) < 0)
      goto out;
  for (i = 0; i < studies.count; i++)
    if ((error = recount_study(db, id_set_get(&studies, i), b->now, err, errsize)) < 0)
      goto out;
  if (b->cursor_key != NULL && (error = kv_set_conn(db, b->cursor_key, b->cursor_value, err, errsize)) < 0)
    goto out;
  error = exec_sql(db, "COMMIT", err, errsize);
  began = error < 0;

out:
  sqlite3_finalize(st_study);
  sqlite3_finalize(st_series);
  sqlite3_finalize(st_inst);
  if (began)
    exec_sql(db, "ROLLBACK", NULL, 0);
  pthread_mutex_unlock(&s->write_lock);
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
  return run_ids(db, "DELETE FROM studies WHERE id=?1 AND series_count=0", study_id, 0, err, errsize);
}

static int sqlite_delete(void *impl, rr_level level, const char *orthanc_id, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite3 *db;
  int64_t series_id = 0, study_id = 0;
  int error = 0, began = 0;

  pthread_mutex_lock(&s->write_lock);
  db = s->writer.db;
  if ((error = exec_sql(db, "BEGIN IMMEDIATE", err, errsize)) < 0)
    goto out;
  began = 1;
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
      error = db_fail(err, errsize, db, "prepare delete");
      goto out;
    }
    bind_text(st, 1, orthanc_id);
    if (sqlite3_step(st) != SQLITE_DONE) {
      sqlite3_finalize(st);
      error = db_fail(err, errsize, db, "delete");
      goto out;
    }
    sqlite3_finalize(st);
    if (sqlite3_changes(db) == 0) {
      error = RR_ENOTFOUND;
      goto out;
    }
  }
  if (level == RR_LEVEL_INSTANCE) {
    if ((error = run_ids(db, SQL_RECOUNT_SERIES, series_id, 0, err, errsize)) < 0 ||
        (error = run_ids(db, "DELETE FROM series WHERE id=?1 AND instance_count=0", series_id, 0, err, errsize)) < 0)
      goto out;
  }
  if (level == RR_LEVEL_INSTANCE || level == RR_LEVEL_SERIES)
    if ((error = settle_study(db, study_id, err, errsize)) < 0)
      goto out;
  error = exec_sql(db, "COMMIT", err, errsize);
  began = error < 0;

out:
  if (began)
    exec_sql(db, "ROLLBACK", NULL, 0);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

/* ---------------------------------------------------------------- queries */

#define STUDY_COLUMNS \
  "s.orthanc_id, s.patient_orthanc_id, s.study_uid, s.patient_name, s.patient_id, s.patient_birth_date," \
  " s.patient_sex, s.study_date, s.study_time, s.study_description, s.accession_number," \
  " s.referring_physician, s.institution_name, s.modalities, s.series_count, s.instance_count," \
  " s.received_at, s.updated_at," \
  " COALESCE((SELECT x.ai_status FROM study_ai x WHERE x.study_uid=s.study_uid),'')," \
  " COALESCE((SELECT x.review_status FROM study_ai x WHERE x.study_uid=s.study_uid),'')"

static void read_study(rr_study_rec *r, sqlite3_stmt *st)
{
  column_copy(r->orthanc_id, sizeof(r->orthanc_id), st, 0);
  column_copy(r->patient_orthanc_id, sizeof(r->patient_orthanc_id), st, 1);
  column_copy(r->study_uid, sizeof(r->study_uid), st, 2);
  column_copy(r->patient_name, sizeof(r->patient_name), st, 3);
  column_copy(r->patient_id, sizeof(r->patient_id), st, 4);
  column_copy(r->patient_birth_date, sizeof(r->patient_birth_date), st, 5);
  column_copy(r->patient_sex, sizeof(r->patient_sex), st, 6);
  column_copy(r->study_date, sizeof(r->study_date), st, 7);
  column_copy(r->study_time, sizeof(r->study_time), st, 8);
  column_copy(r->study_description, sizeof(r->study_description), st, 9);
  column_copy(r->accession_number, sizeof(r->accession_number), st, 10);
  column_copy(r->referring_physician, sizeof(r->referring_physician), st, 11);
  column_copy(r->institution_name, sizeof(r->institution_name), st, 12);
  column_copy(r->modalities, sizeof(r->modalities), st, 13);
  r->series_count = sqlite3_column_int64(st, 14);
  r->instance_count = sqlite3_column_int64(st, 15);
  r->received_at = sqlite3_column_int64(st, 16);
  r->updated_at = sqlite3_column_int64(st, 17);
  column_copy(r->ai_status, sizeof(r->ai_status), st, 18);
  column_copy(r->review_status, sizeof(r->review_status), st, 19);
}

/* Parameters collected while the WHERE clause is built. */
#define MAX_PARAMS 64
typedef struct params {
  char *values[MAX_PARAMS];
  size_t count;
} params;

static int param_add(params *p, rr_buf *sql, const char *value, size_t len)
{
  char *copy;

  if (p->count >= MAX_PARAMS)
    return RR_EFULL;
  copy = malloc(len + 1);
  if (copy == NULL)
    return RR_ENOMEM;
  memcpy(copy, value, len);
  copy[len] = '\0';
  p->values[p->count++] = copy;
  return rr_buf_printf(sql, "?%zu", p->count);
}

static void params_free(params *p)
{
  size_t i;

  for (i = 0; i < p->count; i++)
    free(p->values[i]);
  p->count = 0;
}

/* Each word must be the prefix of a term of `kind`. */
static int where_words(rr_buf *sql, params *p, const char *kind, const char *words)
{
  const char *w;
  size_t pos = 0, wl, n = 0;
  char upper[RR_QUERY_VALUE_SIZE + 2];
  int error = 0;

  while (error == 0 && n < RR_QUERY_MAX_WORDS && rr_text_next_word(words, &pos, &w, &wl)) {
    if (wl > RR_QUERY_VALUE_SIZE - 1)
      return RR_EINVAL;
    memcpy(upper, w, wl);
    upper[wl] = '\xFF'; /* never in UTF-8: every string starting with w sorts below */
    upper[wl + 1] = '\0';
    if ((error = rr_buf_printf(sql, " AND s.id IN (SELECT study_id FROM study_terms WHERE kind='%s' AND term>=", kind)) < 0 ||
        (error = param_add(p, sql, w, wl)) < 0 ||
        (error = rr_buf_puts(sql, " AND term<")) < 0 ||
        (error = param_add(p, sql, upper, wl + 1)) < 0 ||
        (error = rr_buf_putc(sql, ')')) < 0)
      return error;
    n++;
  }
  return error;
}

static int where_match(rr_buf *sql, params *p, const rr_match *m, const char *column, const char *kind)
{
  int error = 0;

  switch (m->mode) {
  case RR_MATCH_NONE:
    return 0;
  case RR_MATCH_EXACT:
    if ((error = rr_buf_printf(sql, " AND %s=", column)) < 0)
      return error;
    return param_add(p, sql, m->value, strlen(m->value));
  case RR_MATCH_GLOB:
    if ((error = rr_buf_printf(sql, " AND %s GLOB ", column)) < 0)
      return error;
    return param_add(p, sql, m->value, strlen(m->value));
  case RR_MATCH_WORDS:
    return where_words(sql, p, kind, m->value);
  }
  return RR_EINVAL;
}

/* States of study_ai: "" in the list stands for "no analysis". */
static int where_states(rr_buf *sql, params *p, const char *column, const char (*values)[RR_STATE_SIZE], size_t count)
{
  size_t i, named = 0;
  bool none = false;
  int error;

  if (count == 0)
    return 0;
  for (i = 0; i < count; i++)
    if (values[i][0] == '\0')
      none = true;
    else
      named++;
  if ((error = rr_buf_puts(sql, " AND (")) < 0)
    return error;
  if (named > 0) {
    if ((error = rr_buf_printf(sql, "s.study_uid IN (SELECT study_uid FROM study_ai WHERE %s IN (", column)) < 0)
      return error;
    for (i = 0, named = 0; i < count; i++) {
      if (values[i][0] == '\0')
        continue;
      if ((named++ > 0 && (error = rr_buf_putc(sql, ',')) < 0) ||
          (error = param_add(p, sql, values[i], strlen(values[i]))) < 0)
        return error;
    }
    if ((error = rr_buf_puts(sql, "))")) < 0)
      return error;
  }
  if (none && (error = rr_buf_printf(sql, "%ss.study_uid NOT IN (SELECT study_uid FROM study_ai WHERE %s<>'')",
                                     named > 0 ? " OR " : "", column)) < 0)
    return error;
  return rr_buf_putc(sql, ')');
}

static int build_where(rr_buf *sql, params *p, const rr_worklist_query *q)
{
  size_t i;
  int error;

  if ((error = rr_buf_puts(sql, " WHERE 1")) < 0 ||
      (error = where_match(sql, p, &q->patient_name, "s.patient_name_norm", "N")) < 0 ||
      (error = where_match(sql, p, &q->description, "s.description_norm", "D")) < 0 ||
      (error = where_match(sql, p, &q->text, "", "T")) < 0 ||
      (error = where_match(sql, p, &q->patient_id, "s.patient_id", "")) < 0 ||
      (error = where_match(sql, p, &q->accession, "s.accession_number", "")) < 0)
    return error;
  if (q->modality_count > 0) {
    int64_t mask = 0;
    size_t unknown = 0;
    char maskbuf[32];

    for (i = 0; i < q->modality_count && i < RR_QUERY_MAX_MODALITIES; i++) {
      int64_t bit = modality_bit(q->modalities[i], strlen(q->modalities[i]));
      mask |= bit;
      unknown += bit == 0;
    }
    snprintf(maskbuf, sizeof(maskbuf), "%lld", (long long)mask);
    if ((error = rr_buf_puts(sql, " AND (")) < 0)
      return error;
    if (mask != 0 && ((error = rr_buf_puts(sql, "(s.mod_mask & CAST(")) < 0 ||
                      (error = param_add(p, sql, maskbuf, strlen(maskbuf))) < 0 ||
                      (error = rr_buf_puts(sql, " AS INTEGER))<>0")) < 0))
      return error;
    if (unknown > 0) {
      if ((error = rr_buf_puts(sql, mask != 0 ? " OR " : "")) < 0 ||
          (error = rr_buf_puts(sql, "s.id IN (SELECT study_id FROM study_terms WHERE kind='M' AND term IN (")) < 0)
        return error;
      for (i = 0, unknown = 0; i < q->modality_count && i < RR_QUERY_MAX_MODALITIES; i++) {
        if (modality_bit(q->modalities[i], strlen(q->modalities[i])) != 0)
          continue;
        if ((unknown++ > 0 && (error = rr_buf_putc(sql, ',')) < 0) ||
            (error = param_add(p, sql, q->modalities[i], strlen(q->modalities[i]))) < 0)
          return error;
      }
      if ((error = rr_buf_puts(sql, "))")) < 0)
        return error;
    }
    if ((error = rr_buf_putc(sql, ')')) < 0)
      return error;
  }
  if ((error = where_states(sql, p, "ai_status", q->ai_statuses, q->ai_status_count)) < 0 ||
      (error = where_states(sql, p, "review_status", q->review_statuses, q->review_status_count)) < 0)
    return error;
  if (q->date_from[0] != '\0') {
    if ((error = rr_buf_puts(sql, " AND s.study_date>=")) < 0 ||
        (error = param_add(p, sql, q->date_from, strlen(q->date_from))) < 0)
      return error;
  }
  if (q->date_to[0] != '\0') {
    if ((error = rr_buf_puts(sql, " AND s.study_date<>'' AND s.study_date<=")) < 0 ||
        (error = param_add(p, sql, q->date_to, strlen(q->date_to))) < 0)
      return error;
  }
  return 0;
}

static int prepare_with_params(sqlite3 *db, sqlite3_stmt **st, const rr_buf *sql, const params *p)
{
  size_t i;

  if (sqlite3_prepare_v2(db, sql->ptr, (int)sql->len, st, NULL) != SQLITE_OK)
    return RR_ESTORE;
  for (i = 0; i < p->count; i++)
    sqlite3_bind_text(*st, (int)i + 1, p->values[i], -1, SQLITE_STATIC);
  return 0;
}

static int count_matches(sqlite3 *db, int64_t *total, const char *hint, const rr_buf *where, const params *p,
                         char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  rr_buf sql;
  int error = 0;

  rr_buf_init(&sql, 32768);
  if (rr_buf_printf(&sql, "SELECT count(*) FROM studies s%s%s", hint, where->ptr) < 0 ||
      prepare_with_params(db, &st, &sql, p) < 0) {
    error = db_fail(err, errsize, db, "prepare count");
    goto out;
  }
  if (sqlite3_step(st) != SQLITE_ROW) {
    error = db_fail(err, errsize, db, "count");
    goto out;
  }
  *total = sqlite3_column_int64(st, 0);
out:
  sqlite3_finalize(st);
  rr_buf_dispose(&sql);
  return error;
}

static int sqlite_query_worklist(void *impl, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  rr_buf where, sql, order;
  params p = {{0}, 0};
  sqlite3_stmt *st = NULL;
  rr_study_list *list = NULL;
  const char *dir = q->descending ? "DESC" : "ASC", *hint;
  int error = 0, rc, filtered, have_total = 0;

  *out = NULL;
  rr_buf_init(&where, 16384);
  rr_buf_init(&sql, 32768);
  rr_buf_init(&order, 256);
  if ((error = build_where(&where, &p, q)) < 0) {
    error = rr_fail(err, errsize, error, "query too complex");
    goto out;
  }
  list = calloc(1, sizeof(*list));
  if (list == NULL || (q->limit > 0 && (list->items = calloc(q->limit, sizeof(rr_study_rec))) == NULL)) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  /* Filters through the search terms yield row ids: then the covering index
   * of sort keys answers without reading rows, whatever statistics say, and
   * the rows are sorted anyway, so the same pass may as well count them. */
  filtered = strstr(where.ptr, "study_terms") != NULL;
  hint = filtered ? " INDEXED BY studies_keys" : "";

  switch (q->sort) {
  case RR_SORT_PATIENT_NAME:
    error = rr_buf_printf(&order, "s.patient_name_norm %s, s.id %s", dir, dir);
    break;
  case RR_SORT_RECEIVED_AT:
    error = rr_buf_printf(&order, "s.received_at %s, s.id %s", dir, dir);
    break;
  case RR_SORT_STUDY_DATE:
  default:
    error = rr_buf_printf(&order, "s.study_date %s, s.study_time %s, s.id %s", dir, dir, dir);
    break;
  }
  /* The page's row ids are chosen from the indexes first, then only 'limit'
   * rows are read. With term filters the same pass counts the matches (a
   * window over the filtered rows); otherwise an index walk in sort order
   * stops after the page, and a separate count is cheaper. */
  if (error == 0 && filtered)
    error = rr_buf_printf(&sql,
                          "SELECT " STUDY_COLUMNS ", p.total FROM studies s JOIN (SELECT s.id AS id, count(*) OVER () AS total"
                          " FROM studies s%s%s ORDER BY %s LIMIT %u OFFSET %u) p ON p.id=s.id ORDER BY %s",
                          hint, where.ptr, order.ptr, q->limit, q->offset, order.ptr);
  else if (error == 0)
    error = rr_buf_printf(&sql,
                          "SELECT " STUDY_COLUMNS ", 0 FROM studies s WHERE s.id IN (SELECT s.id FROM studies s%s"
                          " ORDER BY %s LIMIT %u OFFSET %u) ORDER BY %s",
                          where.ptr, order.ptr, q->limit, q->offset, order.ptr);
  if (error < 0 || (error = prepare_with_params(c->db, &st, &sql, &p)) < 0) {
    error = db_fail(err, errsize, c->db, "prepare worklist");
    goto out;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && list->count < q->limit) {
    if (filtered && !have_total) {
      list->total = sqlite3_column_int64(st, 20);
      have_total = 1;
    }
    read_study(&list->items[list->count++], st);
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    error = db_fail(err, errsize, c->db, "worklist");
    goto out;
  }
  /* an empty page says nothing of the total when it is past the end */
  if (!have_total && (!filtered || q->offset > 0) &&
      (error = count_matches(c->db, &list->total, hint, &where, &p, err, errsize)) < 0)
    goto out;
  *out = list;
  list = NULL;

out:
  sqlite3_finalize(st);
  reader_release(s, c);
  params_free(&p);
  rr_buf_dispose(&where);
  rr_buf_dispose(&sql);
  rr_buf_dispose(&order);
  rr_study_list_free(list);
  return error;
}

static void read_instance(rr_instance_rec *r, sqlite3_stmt *st)
{
  column_copy(r->orthanc_id, sizeof(r->orthanc_id), st, 0);
  column_copy(r->sop_instance_uid, sizeof(r->sop_instance_uid), st, 1);
  column_copy(r->sop_class_uid, sizeof(r->sop_class_uid), st, 2);
  column_copy(r->transfer_syntax, sizeof(r->transfer_syntax), st, 3);
  r->has_instance_number = sqlite3_column_type(st, 4) != SQLITE_NULL;
  r->instance_number = sqlite3_column_int64(st, 4);
  r->number_of_frames = sqlite3_column_int64(st, 5);
  column_copy(r->image_position, sizeof(r->image_position), st, 6);
  column_copy(r->image_orientation, sizeof(r->image_orientation), st, 7);
}

static int load_instances(sqlite3 *db, rr_series_detail *sd, int64_t series_id)
{
  sqlite3_stmt *st = NULL;
  size_t cap = (size_t)(sd->series.instance_count > 0 ? sd->series.instance_count : 8);
  rr_instance_rec *items;
  int rc, error = 0;

  if (sqlite3_prepare_v2(db,
                         "SELECT orthanc_id, sop_instance_uid, sop_class_uid, transfer_syntax, instance_number,"
                         " number_of_frames, image_position, image_orientation FROM instances WHERE series_id=?1"
                         " ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return RR_ESTORE;
  sqlite3_bind_int64(st, 1, series_id);
  items = calloc(cap, sizeof(*items));
  if (items == NULL) {
    error = RR_ENOMEM;
    goto out;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if ((error = grow_array((void **)&items, &cap, sd->instance_count, sizeof(*items), 8)) < 0)
      goto out;
    memset(&items[sd->instance_count], 0, sizeof(*items));
    read_instance(&items[sd->instance_count], st);
    rr_str_copy(items[sd->instance_count].series_orthanc_id, RR_OID_SIZE, sd->series.orthanc_id);
    sd->instance_count++;
  }
  if (rc != SQLITE_DONE)
    error = RR_ESTORE;
out:
  sd->instances = items;
  sqlite3_finalize(st);
  return error;
}

static int sqlite_get_study(void *impl, rr_study_detail **out, const char *study_uid, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  rr_study_detail *d = NULL;
  int64_t study_id, *series_ids = NULL;
  size_t cap = 0, ids_cap = 0, i;
  int rc, error = 0;

  *out = NULL;
  if (sqlite3_prepare_v2(c->db, "SELECT " STUDY_COLUMNS ", s.id FROM studies s WHERE s.study_uid=?1"
                         " ORDER BY s.updated_at DESC, s.id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, "prepare study");
    goto out;
  }
  bind_text(st, 1, study_uid);
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such study");
    goto out;
  } else if (rc != SQLITE_ROW) {
    error = db_fail(err, errsize, c->db, "study");
    goto out;
  }
  if ((d = calloc(1, sizeof(*d))) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  read_study(&d->study, st);
  study_id = sqlite3_column_int64(st, 20);
  sqlite3_finalize(st);
  st = NULL;

  if (sqlite3_prepare_v2(c->db,
                         "SELECT orthanc_id, series_uid, series_number, modality, series_description, body_part,"
                         " instance_count, id FROM series WHERE study_id=?1"
                         " ORDER BY series_number IS NULL, series_number, series_uid, id",
                         -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, "prepare series");
    goto out;
  }
  sqlite3_bind_int64(st, 1, study_id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    rr_series_rec *r;

    if (grow_array((void **)&d->series, &cap, d->series_count, sizeof(*d->series), 8) < 0 ||
        grow_array((void **)&series_ids, &ids_cap, d->series_count, sizeof(*series_ids), 8) < 0) {
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
      goto out;
    }
    memset(&d->series[d->series_count], 0, sizeof(d->series[0]));
    r = &d->series[d->series_count].series;
    column_copy(r->orthanc_id, sizeof(r->orthanc_id), st, 0);
    rr_str_copy(r->study_orthanc_id, sizeof(r->study_orthanc_id), d->study.orthanc_id);
    column_copy(r->series_uid, sizeof(r->series_uid), st, 1);
    r->has_series_number = sqlite3_column_type(st, 2) != SQLITE_NULL;
    r->series_number = sqlite3_column_int64(st, 2);
    column_copy(r->modality, sizeof(r->modality), st, 3);
    column_copy(r->series_description, sizeof(r->series_description), st, 4);
    column_copy(r->body_part, sizeof(r->body_part), st, 5);
    r->instance_count = sqlite3_column_int64(st, 6);
    series_ids[d->series_count] = sqlite3_column_int64(st, 7);
    d->series_count++;
  }
  if (rc != SQLITE_DONE) {
    error = db_fail(err, errsize, c->db, "series");
    goto out;
  }
  for (i = 0; i < d->series_count; i++) {
    if ((error = load_instances(c->db, &d->series[i], series_ids[i])) < 0) {
      error = error == RR_ENOMEM ? rr_fail(err, errsize, error, "out of memory") : db_fail(err, errsize, c->db, "instances");
      goto out;
    }
  }
  *out = d;
  d = NULL;

out:
  sqlite3_finalize(st);
  reader_release(s, c);
  free(series_ids);
  rr_study_detail_free(d);
  return error;
}

/* ------------------------------------------------------------ key-value */

static int sqlite_kv_get(void *impl, char *out, size_t outsize, const char *key, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (outsize > 0)
    out[0] = '\0';
  if (sqlite3_prepare_v2(c->db, "SELECT value FROM kv WHERE key=?1", -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, "prepare kv");
    goto out;
  }
  bind_text(st, 1, key);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    column_copy(out, outsize, st, 0);
  else if (rc == SQLITE_DONE)
    error = RR_ENOTFOUND;
  else
    error = db_fail(err, errsize, c->db, "read kv");
out:
  sqlite3_finalize(st);
  reader_release(s, c);
  return error;
}

static int sqlite_kv_set(void *impl, const char *key, const char *value, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  int error;

  pthread_mutex_lock(&s->write_lock);
  error = kv_set_conn(s->writer.db, key, value, err, errsize);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

/* ------------------------------------------------------ reconciliation */

static int sqlite_list_series(void *impl, rr_series_count_list **out, const char *after, size_t limit, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  rr_series_count_list *list = NULL;
  int rc, error = 0;

  *out = NULL;
  if ((list = calloc(1, sizeof(*list))) == NULL ||
      (limit > 0 && (list->items = calloc(limit, sizeof(*list->items))) == NULL)) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  if (sqlite3_prepare_v2(c->db, "SELECT orthanc_id, instance_count FROM series WHERE orthanc_id>?1 ORDER BY orthanc_id LIMIT ?2",
                         -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, "prepare list series");
    goto out;
  }
  bind_text(st, 1, after);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && list->count < limit) {
    column_copy(list->items[list->count].orthanc_id, RR_OID_SIZE, st, 0);
    list->items[list->count].instance_count = sqlite3_column_int64(st, 1);
    list->count++;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    error = db_fail(err, errsize, c->db, "list series");
    goto out;
  }
  *out = list;
  list = NULL;
out:
  sqlite3_finalize(st);
  reader_release(s, c);
  rr_series_count_list_free(list);
  return error;
}

static int collect_rows(sqlite_store *s, void **items, size_t *count, size_t elem_size, size_t first, const char *sql,
                        const char *param, row_reader read, const char *what, char *err, size_t errsize)
{
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  size_t cap = 0;
  char *elem;
  int rc, error = 0;

  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, what);
    goto out;
  }
  if (param != NULL)
    bind_text(st, 1, param);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (grow_array(items, &cap, *count, elem_size, first) < 0) {
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
      goto out;
    }
    elem = (char *)*items + *count * elem_size;
    memset(elem, 0, elem_size);
    (*count)++;
    if (read(elem, st) < 0) {
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
      goto out;
    }
  }
  if (rc != SQLITE_DONE)
    error = db_fail(err, errsize, c->db, what);
out:
  sqlite3_finalize(st);
  reader_release(s, c);
  return error;
}

static int read_id(void *elem, sqlite3_stmt *st)
{
  column_copy(elem, RR_OID_SIZE, st, 0);
  return 0;
}

static int sqlite_list_instances(void *impl, rr_id_list **out, const char *series_orthanc_id, char *err, size_t errsize)
{
  rr_id_list *list;
  int error;

  *out = NULL;
  if ((list = calloc(1, sizeof(*list))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  error = collect_rows(impl, (void **)&list->ids, &list->count, sizeof(*list->ids), 64,
                       "SELECT i.orthanc_id FROM instances i JOIN series s ON i.series_id=s.id"
                       " WHERE s.orthanc_id=?1 ORDER BY i.orthanc_id",
                       series_orthanc_id, read_id, "list instances", err, errsize);
  if (error < 0) {
    rr_id_list_free(list);
    return error;
  }
  *out = list;
  return 0;
}

static int sqlite_stats(void *impl, rr_store_stats *out, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int error = 0;

  memset(out, 0, sizeof(*out));
  if (sqlite3_prepare_v2(c->db, "SELECT (SELECT count(*) FROM studies), (SELECT count(*) FROM series),"
                         " (SELECT count(*) FROM instances)", -1, &st, NULL) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_ROW) {
    error = db_fail(err, errsize, c->db, "stats");
    goto out;
  }
  out->studies = sqlite3_column_int64(st, 0);
  out->series = sqlite3_column_int64(st, 1);
  out->instances = sqlite3_column_int64(st, 2);
out:
  sqlite3_finalize(st);
  reader_release(s, c);
  return error;
}

static int sqlite_schema_version(void *impl, int *out, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int error = 0;

  if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
    error = db_fail(err, errsize, c->db, "schema version");
  else
    *out = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  reader_release(s, c);
  return error;
}


/* ----------------------------------------------------------------- users */

#define USER_COLUMNS \
  "username, display_name, role, password_hash, enabled, created_at, updated_at, password_changed_at," \
  " last_login_at, failed_logins, locked_until, token_generation"

static void read_user(rr_user_rec *u, sqlite3_stmt *st)
{
  memset(u, 0, sizeof(*u));
  column_copy(u->username, sizeof(u->username), st, 0);
  column_copy(u->display_name, sizeof(u->display_name), st, 1);
  column_copy(u->role, sizeof(u->role), st, 2);
  column_copy(u->password_hash, sizeof(u->password_hash), st, 3);
  u->enabled = sqlite3_column_int(st, 4) != 0;
  u->created_at = sqlite3_column_int64(st, 5);
  u->updated_at = sqlite3_column_int64(st, 6);
  u->password_changed_at = sqlite3_column_int64(st, 7);
  u->last_login_at = sqlite3_column_int64(st, 8);
  u->failed_logins = sqlite3_column_int64(st, 9);
  u->locked_until = sqlite3_column_int64(st, 10);
  u->token_generation = sqlite3_column_int64(st, 11);
}

/* Bind the user's fields as ?1..?12 in USER_COLUMNS order. */
static void bind_user(sqlite3_stmt *st, const rr_user_rec *u)
{
  bind_text(st, 1, u->username);
  bind_text(st, 2, u->display_name);
  bind_text(st, 3, u->role);
  bind_text(st, 4, u->password_hash);
  sqlite3_bind_int(st, 5, u->enabled ? 1 : 0);
  sqlite3_bind_int64(st, 6, u->created_at);
  sqlite3_bind_int64(st, 7, u->updated_at);
  sqlite3_bind_int64(st, 8, u->password_changed_at);
  sqlite3_bind_int64(st, 9, u->last_login_at);
  sqlite3_bind_int64(st, 10, u->failed_logins);
  sqlite3_bind_int64(st, 11, u->locked_until);
  sqlite3_bind_int64(st, 12, u->token_generation);
}

/* Run one write statement (with the user bound) under the write lock. */
static int write_user(sqlite_store *s, const char *sql, const rr_user_rec *u, int *changes, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  pthread_mutex_lock(&s->write_lock);
  if (sqlite3_prepare_v2(s->writer.db, sql, -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, s->writer.db, "prepare user");
    goto out;
  }
  bind_user(st, u);
  rc = sqlite3_step(st);
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    error = rr_fail(err, errsize, RR_EEXISTS, "a user with this name exists already");
    goto out;
  }
  if (rc != SQLITE_DONE) {
    error = db_fail(err, errsize, s->writer.db, "write user");
    goto out;
  }
  *changes = sqlite3_changes(s->writer.db);
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

static int sqlite_user_create(void *impl, const rr_user_rec *u, char *err, size_t errsize)
{
  int changes = 0;

  if (u->username[0] == '\0' || u->role[0] == '\0' || u->password_hash[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a user needs a name, a role and a password hash");
  return write_user(impl, "INSERT INTO users(" USER_COLUMNS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)", u, &changes,
                    err, errsize);
}

static int sqlite_user_update(void *impl, const rr_user_rec *u, char *err, size_t errsize)
{
  int changes = 0, error;

  error = write_user(impl,
                     "UPDATE users SET display_name=?2, role=?3, password_hash=?4, enabled=?5, updated_at=?7,"
                     " password_changed_at=?8, last_login_at=?9, failed_logins=?10, locked_until=?11,"
                     " token_generation=?12 WHERE username=?1",
                     u, &changes, err, errsize);
  if (error == 0 && changes == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such user");
  return error;
}

static int sqlite_user_get(void *impl, rr_user_rec *out, const char *username, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (sqlite3_prepare_v2(c->db, "SELECT " USER_COLUMNS " FROM users WHERE username=?1", -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, "prepare user");
    goto out;
  }
  bind_text(st, 1, username);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    read_user(out, st);
  else if (rc == SQLITE_DONE)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such user");
  else
    error = db_fail(err, errsize, c->db, "read user");
out:
  sqlite3_finalize(st);
  reader_release(s, c);
  return error;
}

static int read_user_row(void *elem, sqlite3_stmt *st)
{
  read_user(elem, st);
  return 0;
}

static int sqlite_user_list(void *impl, rr_user_list **out, char *err, size_t errsize)
{
  rr_user_list *list;
  int error;

  *out = NULL;
  if ((list = calloc(1, sizeof(*list))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  error = collect_rows(impl, (void **)&list->items, &list->count, sizeof(*list->items), 16,
                       "SELECT " USER_COLUMNS " FROM users ORDER BY username COLLATE NOCASE", NULL, read_user_row,
                       "users", err, errsize);
  if (error < 0) {
    rr_user_list_free(list);
    return error;
  }
  *out = list;
  return 0;
}

/* First column of the first row of a parameterless query. */
static int read_int64(sqlite_store *s, int64_t *out, const char *sql, const char *text_param, char *err, size_t errsize)
{
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int error = 0;

  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, "prepare");
    goto out;
  }
  if (text_param != NULL)
    bind_text(st, 1, text_param);
  if (sqlite3_step(st) != SQLITE_ROW) {
    error = db_fail(err, errsize, c->db, "read");
    goto out;
  }
  *out = sqlite3_column_int64(st, 0);
out:
  sqlite3_finalize(st);
  reader_release(s, c);
  return error;
}

static int sqlite_user_count(void *impl, int64_t *out, char *err, size_t errsize)
{
  return read_int64(impl, out, "SELECT count(*) FROM users", NULL, err, errsize);
}

/* ---------------------------------------------------------- revoked tokens */

static int sqlite_token_revoke(void *impl, const char *token_hash, int64_t expires_at, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite3_stmt *st = NULL;
  int error = 0;

  pthread_mutex_lock(&s->write_lock);
  if (sqlite3_prepare_v2(s->writer.db,
                         "INSERT INTO revoked_tokens(token_hash, expires_at) VALUES(?1, ?2)"
                         " ON CONFLICT(token_hash) DO UPDATE SET expires_at=max(expires_at, excluded.expires_at)",
                         -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, s->writer.db, "prepare revoke");
    goto out;
  }
  bind_text(st, 1, token_hash);
  sqlite3_bind_int64(st, 2, expires_at);
  if (sqlite3_step(st) != SQLITE_DONE)
    error = db_fail(err, errsize, s->writer.db, "revoke");
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

static int sqlite_token_is_revoked(void *impl, bool *out, const char *token_hash, char *err, size_t errsize)
{
  int64_t n = 0;
  int error = read_int64(impl, &n, "SELECT count(*) FROM revoked_tokens WHERE token_hash=?1", token_hash, err, errsize);

  *out = error == 0 && n > 0;
  return error;
}

static int sqlite_token_purge(void *impl, int64_t now, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  int error;

  pthread_mutex_lock(&s->write_lock);
  error = run_ids(s->writer.db, "DELETE FROM revoked_tokens WHERE expires_at<?1", now, 0, err, errsize);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

/* ------------------------------------------------------------------ audit */

static const char CHAIN_START[] = "0000000000000000000000000000000000000000000000000000000000000000";

#define AUDIT_COLUMNS "seq, at_ms, username, role, source, action, resource, outcome, detail, prev_hash, hash"

static void read_audit(rr_audit_rec *r, sqlite3_stmt *st)
{
  memset(r, 0, sizeof(*r));
  r->seq = sqlite3_column_int64(st, 0);
  r->at_ms = sqlite3_column_int64(st, 1);
  column_copy(r->username, sizeof(r->username), st, 2);
  column_copy(r->role, sizeof(r->role), st, 3);
  column_copy(r->source, sizeof(r->source), st, 4);
  column_copy(r->action, sizeof(r->action), st, 5);
  column_copy(r->resource, sizeof(r->resource), st, 6);
  column_copy(r->outcome, sizeof(r->outcome), st, 7);
  column_copy(r->detail, sizeof(r->detail), st, 8);
  column_copy(r->prev_hash, sizeof(r->prev_hash), st, 9);
  column_copy(r->hash, sizeof(r->hash), st, 10);
}

static int sqlite_audit_append(void *impl, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  int rc, error = 0, began = 0;

  pthread_mutex_lock(&s->write_lock);
  db = s->writer.db;
  if ((error = exec_sql(db, "BEGIN IMMEDIATE", err, errsize)) < 0)
    goto out;
  began = 1;
  if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, db, "prepare audit tail");
    goto out;
  }
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rec->seq = sqlite3_column_int64(st, 0) + 1;
    column_copy(rec->prev_hash, sizeof(rec->prev_hash), st, 1);
  } else if (rc == SQLITE_DONE) {
    rec->seq = 1;
    rr_str_copy(rec->prev_hash, sizeof(rec->prev_hash), CHAIN_START);
  } else {
    error = db_fail(err, errsize, db, "audit tail");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  if ((error = hash(rec->hash, rec->prev_hash, rec)) < 0) {
    error = rr_fail(err, errsize, error, "cannot hash the audit record");
    goto out;
  }
  if (sqlite3_prepare_v2(db, "INSERT INTO audit(" AUDIT_COLUMNS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)", -1, &st,
                         NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, db, "prepare audit");
    goto out;
  }
  sqlite3_bind_int64(st, 1, rec->seq);
  sqlite3_bind_int64(st, 2, rec->at_ms);
  bind_text(st, 3, rec->username);
  bind_text(st, 4, rec->role);
  bind_text(st, 5, rec->source);
  bind_text(st, 6, rec->action);
  bind_text(st, 7, rec->resource);
  bind_text(st, 8, rec->outcome);
  bind_text(st, 9, rec->detail);
  bind_text(st, 10, rec->prev_hash);
  bind_text(st, 11, rec->hash);
  if (sqlite3_step(st) != SQLITE_DONE) {
    error = db_fail(err, errsize, db, "append audit");
    goto out;
  }
  error = exec_sql(db, "COMMIT", err, errsize);
  began = error < 0;
out:
  sqlite3_finalize(st);
  if (began)
    exec_sql(db, "ROLLBACK", NULL, 0);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

static int sqlite_audit_query(void *impl, rr_audit_list **out, const rr_audit_filter *f, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  rr_audit_list *list = NULL;
  rr_buf sql;
  int rc, error = 0, n = 0;
  uint32_t limit = f->limit < 1 ? 1 : (f->limit > 1000 ? 1000 : f->limit);

  *out = NULL;
  rr_buf_init(&sql, 4096);
  if ((list = calloc(1, sizeof(*list))) == NULL || (list->items = calloc(limit, sizeof(*list->items))) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  /* every filter is always present and bound; an empty one matches all */
  if (rr_buf_printf(&sql,
                    "SELECT " AUDIT_COLUMNS " FROM audit WHERE (?1='' OR username=?1) AND (?2='' OR action=?2)"
                    " AND (?3='' OR resource=?3) AND (?4=0 OR at_ms>=?4) AND (?5=0 OR at_ms<=?5) AND seq>?6"
                    " AND (?7=0 OR seq<?7) ORDER BY seq %s LIMIT %u",
                    f->descending ? "DESC" : "ASC", limit) < 0 ||
      sqlite3_prepare_v2(c->db, sql.ptr, (int)sql.len, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, "prepare audit query");
    goto out;
  }
  bind_text(st, ++n, f->username);
  bind_text(st, ++n, f->action);
  bind_text(st, ++n, f->resource);
  sqlite3_bind_int64(st, ++n, f->from_ms);
  sqlite3_bind_int64(st, ++n, f->to_ms);
  sqlite3_bind_int64(st, ++n, f->after_seq);
  sqlite3_bind_int64(st, ++n, f->before_seq);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && list->count < limit)
    read_audit(&list->items[list->count++], st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    error = db_fail(err, errsize, c->db, "audit query");
    goto out;
  }
  *out = list;
  list = NULL;
out:
  sqlite3_finalize(st);
  reader_release(s, c);
  rr_buf_dispose(&sql);
  rr_audit_list_free(list);
  return error;
}


/* ------------------------------------------------------------ AI analyses */

#define AI_COLUMNS \
  "id, study_uid, orthanc_study_id, provider, model_requested, model_version, status, requested_by, requested_at," \
  " started_at, finished_at, attempts, summary, findings_json, ai_confidence, images_json, prompt_version," \
  " schema_version, prompt_tokens, completion_tokens, latency_ms, cost, error, raw_text, review_status, reviewed_by," \
  " reviewed_at, radiologist_notes"

static char *column_dup(sqlite3_stmt *st, int col)
{
  const unsigned char *t = sqlite3_column_text(st, col);
  size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
  char *p = malloc(n + 1);

  if (p != NULL) {
    if (n > 0)
      memcpy(p, t, n);
    p[n] = '\0';
  }
  return p;
}

static int read_ai(rr_ai_analysis *a, sqlite3_stmt *st)
{
  memset(a, 0, sizeof(*a));
  column_copy(a->id, sizeof(a->id), st, 0);
  column_copy(a->study_uid, sizeof(a->study_uid), st, 1);
  column_copy(a->orthanc_study_id, sizeof(a->orthanc_study_id), st, 2);
  column_copy(a->provider, sizeof(a->provider), st, 3);
  column_copy(a->model_requested, sizeof(a->model_requested), st, 4);
  column_copy(a->model_version, sizeof(a->model_version), st, 5);
  column_copy(a->status, sizeof(a->status), st, 6);
  column_copy(a->requested_by, sizeof(a->requested_by), st, 7);
  a->requested_at = sqlite3_column_int64(st, 8);
  a->started_at = sqlite3_column_int64(st, 9);
  a->finished_at = sqlite3_column_int64(st, 10);
  a->attempts = sqlite3_column_int64(st, 11);
  a->summary = column_dup(st, 12);
  a->findings_json = column_dup(st, 13);
  a->has_ai_confidence = sqlite3_column_type(st, 14) != SQLITE_NULL;
  a->ai_confidence = sqlite3_column_double(st, 14);
  a->images_json = column_dup(st, 15);
  column_copy(a->prompt_version, sizeof(a->prompt_version), st, 16);
  column_copy(a->schema_version, sizeof(a->schema_version), st, 17);
  a->prompt_tokens = sqlite3_column_int64(st, 18);
  a->completion_tokens = sqlite3_column_int64(st, 19);
  a->latency_ms = sqlite3_column_int64(st, 20);
  a->cost = sqlite3_column_double(st, 21);
  a->error = column_dup(st, 22);
  a->raw_text = column_dup(st, 23);
  column_copy(a->review_status, sizeof(a->review_status), st, 24);
  column_copy(a->reviewed_by, sizeof(a->reviewed_by), st, 25);
  a->reviewed_at = sqlite3_column_int64(st, 26);
  a->radiologist_notes = column_dup(st, 27);
  if (!a->summary || !a->findings_json || !a->images_json || !a->error || !a->raw_text || !a->radiologist_notes) {
    rr_ai_analysis_dispose(a);
    return RR_ENOMEM;
  }
  return 0;
}

static void bind_ai(sqlite3_stmt *st, const rr_ai_analysis *a)
{
  bind_text(st, 1, a->id);
  bind_text(st, 2, a->study_uid);
  bind_text(st, 3, a->orthanc_study_id);
  bind_text(st, 4, a->provider);
  bind_text(st, 5, a->model_requested);
  bind_text(st, 6, a->model_version);
  bind_text(st, 7, a->status);
  bind_text(st, 8, a->requested_by);
  sqlite3_bind_int64(st, 9, a->requested_at);
  sqlite3_bind_int64(st, 10, a->started_at);
  sqlite3_bind_int64(st, 11, a->finished_at);
  sqlite3_bind_int64(st, 12, a->attempts);
  bind_text(st, 13, a->summary);
  bind_text(st, 14, a->findings_json);
  if (a->has_ai_confidence)
    sqlite3_bind_double(st, 15, a->ai_confidence);
  else
    sqlite3_bind_null(st, 15);
  bind_text(st, 16, a->images_json ? a->images_json : "[]");
  bind_text(st, 17, a->prompt_version);
  bind_text(st, 18, a->schema_version);
  sqlite3_bind_int64(st, 19, a->prompt_tokens);
  sqlite3_bind_int64(st, 20, a->completion_tokens);
  sqlite3_bind_int64(st, 21, a->latency_ms);
  sqlite3_bind_double(st, 22, a->cost);
  bind_text(st, 23, a->error);
  bind_text(st, 24, a->raw_text);
  bind_text(st, 25, a->review_status[0] ? a->review_status : "pending");
  bind_text(st, 26, a->reviewed_by);
  sqlite3_bind_int64(st, 27, a->reviewed_at);
  bind_text(st, 28, a->radiologist_notes);
}

static int write_ai(sqlite_store *s, const char *sql, const rr_ai_analysis *a, int *changes, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  pthread_mutex_lock(&s->write_lock);
  if (sqlite3_prepare_v2(s->writer.db, sql, -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, s->writer.db, "prepare analysis");
    goto out;
  }
  bind_ai(st, a);
  rc = sqlite3_step(st);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
    error = rr_fail(err, errsize, RR_EEXISTS, "an analysis with this id exists already");
  else if (rc != SQLITE_DONE)
    error = db_fail(err, errsize, s->writer.db, "write analysis");
  else
    *changes = sqlite3_changes(s->writer.db);
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

static int sqlite_ai_create(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  int changes = 0;

  if (a->id[0] == '\0' || a->study_uid[0] == '\0' || a->status[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "an analysis needs an id, a study and a status");
  return write_ai(impl, "INSERT INTO ai_analyses(" AI_COLUMNS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
                        "?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28)",
                  a, &changes, err, errsize);
}

static int sqlite_ai_update(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  int changes = 0, error;

  error = write_ai(impl,
                   "UPDATE ai_analyses SET orthanc_study_id=?3, provider=?4, model_requested=?5, model_version=?6,"
                   " status=?7, started_at=?10, finished_at=?11, attempts=?12, summary=?13, findings_json=?14,"
                   " ai_confidence=?15, images_json=?16, prompt_version=?17, schema_version=?18, prompt_tokens=?19,"
                   " completion_tokens=?20, latency_ms=?21, cost=?22, error=?23, raw_text=?24, review_status=?25,"
                   " reviewed_by=?26, reviewed_at=?27, radiologist_notes=?28"
                   " WHERE id=?1",
                   a, &changes, err, errsize);
  if (error == 0 && changes == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  return error;
}

static int sqlite_ai_get(void *impl, rr_ai_analysis *out, const char *id, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  memset(out, 0, sizeof(*out));
  if (sqlite3_prepare_v2(c->db, "SELECT " AI_COLUMNS " FROM ai_analyses WHERE id=?1", -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, "prepare analysis");
    goto out;
  }
  bind_text(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    error = read_ai(out, st);
  else if (rc == SQLITE_DONE)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  else
    error = db_fail(err, errsize, c->db, "read analysis");
out:
  sqlite3_finalize(st);
  reader_release(s, c);
  return error;
}

static int read_ai_row(void *elem, sqlite3_stmt *st)
{
  return read_ai(elem, st);
}

static int sqlite_ai_list_study(void *impl, rr_ai_list **out, const char *study_uid, char *err, size_t errsize)
{
  rr_ai_list *list;
  int error;

  *out = NULL;
  if ((list = calloc(1, sizeof(*list))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  error = collect_rows(impl, (void **)&list->items, &list->count, sizeof(*list->items), 8,
                       "SELECT " AI_COLUMNS " FROM ai_analyses WHERE study_uid=?1"
                       " ORDER BY requested_at DESC, rowid DESC LIMIT 1000",
                       study_uid, read_ai_row, "analyses", err, errsize);
  if (error < 0) {
    rr_ai_list_free(list);
    return error;
  }
  *out = list;
  return 0;
}

static int sqlite_ai_claim_next(void *impl, rr_ai_analysis *out, int64_t now, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  int rc, error = 0, began = 0;

  memset(out, 0, sizeof(*out));
  pthread_mutex_lock(&s->write_lock);
  db = s->writer.db;
  if ((error = exec_sql(db, "BEGIN IMMEDIATE", err, errsize)) < 0)
    goto out;
  began = 1;
  if (sqlite3_prepare_v2(db,
                         "UPDATE ai_analyses SET status='running', started_at=?1, attempts=attempts+1 WHERE id="
                         "(SELECT id FROM ai_analyses WHERE status='queued' ORDER BY requested_at, rowid LIMIT 1)"
                         " RETURNING " AI_COLUMNS,
                         -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, db, "prepare claim");
    goto out;
  }
  sqlite3_bind_int64(st, 1, now);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if ((error = read_ai(out, st)) < 0) {
      error = rr_fail(err, errsize, error, "out of memory");
      goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
      ;
  } else if (rc == SQLITE_DONE) {
    error = RR_ENOTFOUND;
    goto out;
  } else {
    error = db_fail(err, errsize, db, "claim");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  error = exec_sql(db, "COMMIT", err, errsize);
  began = error < 0;
out:
  sqlite3_finalize(st);
  if (began)
    exec_sql(db, "ROLLBACK", NULL, 0);
  if (error < 0)
    rr_ai_analysis_dispose(out);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

static int sqlite_ai_recover(void *impl, int64_t *requeued, int64_t now, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  int error;

  *requeued = 0;
  pthread_mutex_lock(&s->write_lock);
  error = run_ids(s->writer.db,
                  "UPDATE ai_analyses SET status='failed', finished_at=?1, error='the analysis was interrupted "
                  "3 times (Orthanc stopped while it ran); not retried' WHERE status='running' AND attempts>=3",
                  now, 0, err, errsize);
  if (error == 0)
    error = run_ids(s->writer.db, "UPDATE ai_analyses SET status='queued', started_at=0 WHERE status='running'",
                    now, 0, err, errsize);
  if (error == 0)
    *requeued = sqlite3_changes(s->writer.db);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

static int sqlite_ai_abandon(void *impl, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite3_stmt *st = NULL;
  int error = 0;

  *count = 0;
  pthread_mutex_lock(&s->write_lock);
  if (sqlite3_prepare_v2(s->writer.db, "UPDATE ai_analyses SET status='failed', finished_at=?1, error=?2"
                         " WHERE status IN ('queued','running')", -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, s->writer.db, "prepare abandon");
    goto out;
  }
  sqlite3_bind_int64(st, 1, now);
  bind_text(st, 2, reason);
  if (sqlite3_step(st) != SQLITE_DONE)
    error = db_fail(err, errsize, s->writer.db, "abandon");
  else
    *count = sqlite3_changes(s->writer.db);
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

static int sqlite_ai_review_add(void *impl, const rr_ai_review *r, const char *notes, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  int error = 0, began = 0;

  pthread_mutex_lock(&s->write_lock);
  db = s->writer.db;
  if ((error = exec_sql(db, "BEGIN IMMEDIATE", err, errsize)) < 0)
    goto out;
  began = 1;
  if (sqlite3_prepare_v2(db, "UPDATE ai_analyses SET review_status=?2, reviewed_by=?3, reviewed_at=?4,"
                         " radiologist_notes=?5 WHERE id=?1", -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, db, "prepare review");
    goto out;
  }
  bind_text(st, 1, r->analysis_id);
  bind_text(st, 2, r->review_status);
  bind_text(st, 3, r->reviewer);
  sqlite3_bind_int64(st, 4, r->at);
  bind_text(st, 5, notes ? notes : "");
  if (sqlite3_step(st) != SQLITE_DONE) {
    error = db_fail(err, errsize, db, "review");
    goto out;
  }
  if (sqlite3_changes(db) == 0) {
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(db, "INSERT INTO ai_reviews(analysis_id, at, reviewer, review_status, notes, feedback_json)"
                         " VALUES(?1,?2,?3,?4,?5,?6)", -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, db, "prepare review history");
    goto out;
  }
  bind_text(st, 1, r->analysis_id);
  sqlite3_bind_int64(st, 2, r->at);
  bind_text(st, 3, r->reviewer);
  bind_text(st, 4, r->review_status);
  bind_text(st, 5, r->notes);
  bind_text(st, 6, r->feedback_json ? r->feedback_json : "[]");
  if (sqlite3_step(st) != SQLITE_DONE) {
    error = db_fail(err, errsize, db, "review history");
    goto out;
  }
  error = exec_sql(db, "COMMIT", err, errsize);
  began = error < 0;
out:
  sqlite3_finalize(st);
  if (began)
    exec_sql(db, "ROLLBACK", NULL, 0);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

static int read_review(void *elem, sqlite3_stmt *st)
{
  rr_ai_review *r = elem;

  r->seq = sqlite3_column_int64(st, 0);
  column_copy(r->analysis_id, sizeof(r->analysis_id), st, 1);
  r->at = sqlite3_column_int64(st, 2);
  column_copy(r->reviewer, sizeof(r->reviewer), st, 3);
  column_copy(r->review_status, sizeof(r->review_status), st, 4);
  r->notes = column_dup(st, 5);
  r->feedback_json = column_dup(st, 6);
  return r->notes == NULL || r->feedback_json == NULL ? RR_ENOMEM : 0;
}

static int sqlite_ai_review_history(void *impl, rr_ai_review_list **out, const char *id, char *err, size_t errsize)
{
  rr_ai_review_list *list;
  int error;

  *out = NULL;
  if ((list = calloc(1, sizeof(*list))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  error = collect_rows(impl, (void **)&list->items, &list->count, sizeof(*list->items), 8,
                       "SELECT seq, analysis_id, at, reviewer, review_status, notes, feedback_json"
                       " FROM ai_reviews WHERE analysis_id=?1 ORDER BY seq",
                       id, read_review, "review history", err, errsize);
  if (error < 0) {
    rr_ai_review_list_free(list);
    return error;
  }
  *out = list;
  return 0;
}

static int sqlite_ai_counts(void *impl, rr_ai_counts *out, int64_t since, char *err, size_t errsize)
{
  sqlite_store *s = impl;
  sqlite_conn *c = reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int error = 0;

  memset(out, 0, sizeof(*out));
  if (sqlite3_prepare_v2(c->db,
                         "SELECT coalesce(sum(status='queued'),0), coalesce(sum(status='running'),0),"
                         " coalesce(sum(status='completed'),0), coalesce(sum(status='failed'),0),"
                         " coalesce(sum(status NOT IN ('queued','running','completed','failed')),0),"
                         " coalesce(sum(CASE WHEN requested_at>=?1 THEN prompt_tokens END),0),"
                         " coalesce(sum(CASE WHEN requested_at>=?1 THEN completion_tokens END),0),"
                         " coalesce(sum(CASE WHEN requested_at>=?1 THEN cost END),0),"
                         " coalesce(sum(requested_at>=?1),0),"
                         " coalesce(sum(CASE WHEN requested_at>=?1 AND json_valid(images_json)"
                         " THEN json_array_length(images_json) END),0) FROM ai_analyses",
                         -1, &st, NULL) != SQLITE_OK) {
    error = db_fail(err, errsize, c->db, "prepare AI counts");
    goto out;
  }
  sqlite3_bind_int64(st, 1, since);
  if (sqlite3_step(st) != SQLITE_ROW) {
    error = db_fail(err, errsize, c->db, "AI counts");
    goto out;
  }
  out->queued = sqlite3_column_int64(st, 0);
  out->running = sqlite3_column_int64(st, 1);
  out->completed = sqlite3_column_int64(st, 2);
  out->failed = sqlite3_column_int64(st, 3);
  out->other = sqlite3_column_int64(st, 4);
  out->prompt_tokens = sqlite3_column_int64(st, 5);
  out->completion_tokens = sqlite3_column_int64(st, 6);
  out->cost = sqlite3_column_double(st, 7);
  out->analyses = sqlite3_column_int64(st, 8);
  out->images_sent = sqlite3_column_int64(st, 9);
out:
  sqlite3_finalize(st);
  reader_release(s, c);
  return error;
}

/* ---------------------------------------------------------- open / close */

/* Create the directories leading to `path` (Orthanc creates its storage
 * directory only after plugins are initialised). */
static int ensure_parent_dirs(const char *path, char *err, size_t errsize)
{
  char dir[4096];
  size_t i, len = rr_str_copy(dir, sizeof(dir), path);

  while (len > 0 && dir[len - 1] != '/')
    len--;
  if (len <= 1)
    return 0;
  dir[len - 1] = '\0';
  for (i = 1; i <= len - 1; i++) {
    if (dir[i] == '/' || dir[i] == '\0') {
      char saved = dir[i];
      dir[i] = '\0';
      if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return rr_fail(err, errsize, RR_ESTORE, "cannot create directory '%s': %s", dir, strerror(errno));
      dir[i] = saved;
    }
  }
  return 0;
}

static void sqlite_close(void *impl)
{
  sqlite_store *s = impl;
  unsigned i;

  if (s == NULL)
    return;
  for (i = 0; i < s->reader_count; i++)
    sqlite3_close(s->readers[i].db);
  if (s->writer.db != NULL) {
    sqlite3_exec(s->writer.db, "PRAGMA optimize", NULL, NULL, NULL);
    sqlite3_close(s->writer.db);
  }
  pthread_mutex_destroy(&s->write_lock);
  pthread_mutex_destroy(&s->pool_lock);
  pthread_cond_destroy(&s->pool_cond);
  free(s);
}

static const rr_store_index_ops sqlite_index_ops = {
  .schema_version = sqlite_schema_version,
  .apply_batch = sqlite_apply_batch,
  .delete_resource = sqlite_delete,
  .query_worklist = sqlite_query_worklist,
  .get_study = sqlite_get_study,
  .kv_get = sqlite_kv_get,
  .kv_set = sqlite_kv_set,
  .list_series = sqlite_list_series,
  .list_instances = sqlite_list_instances,
  .stats = sqlite_stats,
};

static const rr_store_identity_ops sqlite_identity_ops = {
  .user_create = sqlite_user_create,
  .user_get = sqlite_user_get,
  .user_update = sqlite_user_update,
  .user_list = sqlite_user_list,
  .user_count = sqlite_user_count,
  .token_revoke = sqlite_token_revoke,
  .token_is_revoked = sqlite_token_is_revoked,
  .token_purge = sqlite_token_purge,
};

static const rr_store_audit_ops sqlite_audit_ops = {
  .append = sqlite_audit_append,
  .query = sqlite_audit_query,
};

static const rr_store_ai_ops sqlite_ai_ops = {
  .create = sqlite_ai_create,
  .get = sqlite_ai_get,
  .update = sqlite_ai_update,
  .list_study = sqlite_ai_list_study,
  .claim_next = sqlite_ai_claim_next,
  .recover = sqlite_ai_recover,
  .abandon = sqlite_ai_abandon,
  .review_add = sqlite_ai_review_add,
  .review_history = sqlite_ai_review_history,
  .counts = sqlite_ai_counts,
};

int rr_store_sqlite_open(rr_store **out, const rr_sqlite_options *opts, char *err, size_t errsize)
{
  sqlite_store *s = NULL;
  rr_store *store = NULL;
  unsigned i;
  int error = 0;

  *out = NULL;
  if (opts == NULL || opts->path == NULL || opts->path[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "no database path");
  if (opts->reader_count < 1 || opts->reader_count > MAX_READERS)
    return rr_fail(err, errsize, RR_EINVAL, "reader connections must be between 1 and %d", MAX_READERS);
  if (!sqlite3_threadsafe())
    return rr_fail(err, errsize, RR_ESTORE, "the SQLite library was built without thread safety");
  if ((s = calloc(1, sizeof(*s))) == NULL || (store = calloc(1, sizeof(*store))) == NULL) {
    free(s);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  pthread_mutex_init(&s->write_lock, NULL);
  pthread_mutex_init(&s->pool_lock, NULL);
  pthread_cond_init(&s->pool_cond, NULL);
  store->name = "sqlite";
  store->close = sqlite_close;
  store->impl = s;
  store->index = &sqlite_index_ops;
  store->identity = &sqlite_identity_ops;
  store->audit = &sqlite_audit_ops;
  store->ai = &sqlite_ai_ops;

  if ((error = ensure_parent_dirs(opts->path, err, errsize)) < 0)
    goto out;
  if ((error = conn_open(&s->writer, opts->path, opts->busy_timeout_ms, 0, err, errsize)) < 0 ||
      (error = migrate(s->writer.db, err, errsize)) < 0)
    goto out;
  for (i = 0; i < opts->reader_count; i++) {
    if ((error = conn_open(&s->readers[i], opts->path, opts->busy_timeout_ms, 1, err, errsize)) < 0)
      goto out;
    s->reader_count++;
  }
  *out = store;
  store = NULL;
out:
  rr_store_free(store);
  return error;
}
