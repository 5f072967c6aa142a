/*
 * store_pg_index.c - the PostgreSQL backend's index concern: ingestion
 * batches (upserts, counts, modality mask, search terms), deletions, the
 * key-value pairs, reconciliation listings, counts and write faults, and
 * the schema version; as the SQLite backend (store_sqlite_index.c) does.
 * The worklist reads are in store_pg_worklist.c.
 *
 * Several nodes may ingest at once: every write runs in rr_pg_tx (a
 * deadlock between two nodes recounting one study is retried), upserts use
 * ON CONFLICT, and a study's counts are recomputed from its rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"
#include "modality_mask.h"

#define MAX_WORDS_PER_FIELD 64
#define MAX_WORD_BYTES 64

/* Row ids touched by a batch (studies or series), without duplicates. */
typedef struct id_set {
  int64_t *ids;
  size_t count, cap;
} id_set;

static int id_set_add(id_set *set, int64_t id)
{
  size_t i;
  int error;

  for (i = 0; i < set->count; i++)
    if (set->ids[i] == id)
      return 0;
  if ((error = rr_store_grow((void **)&set->ids, &set->cap, set->count, sizeof(*set->ids), 64)) < 0)
    return error;
  set->ids[set->count++] = id;
  return 0;
}

/* ------------------------------------------------------------------ terms */

static const char SQL_TERMS_CLEAR[] = "DELETE FROM study_terms WHERE study_id = $1 AND kind <> 'M'";
static const char SQL_TERM_ADD[] =
  "INSERT INTO study_terms (kind, term, study_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

static int add_terms(rr_pg_conn *c, int64_t study_id, const char *kind, const char *text, rr_buf *scratch)
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
    if ((error = rr_pg_query(c, NULL, SQL_TERM_ADD, "tti", kind, term, study_id)) < 0)
      return error;
    n++;
  }
  return 0;
}

static int write_study_terms(rr_pg_conn *c, int64_t study_id, const rr_study_rec *st, char *err, size_t errsize)
{
  const char *free_text[] = {st->patient_name,        st->patient_id,          st->accession_number,
                             st->study_description,   st->referring_physician, st->institution_name};
  rr_buf scratch;
  size_t i;
  int error;

  rr_buf_init(&scratch, 4096);
  if ((error = rr_pg_query(c, NULL, SQL_TERMS_CLEAR, "i", study_id)) < 0 ||
      (error = add_terms(c, study_id, "N", st->patient_name, &scratch)) < 0 ||
      (error = add_terms(c, study_id, "D", st->study_description, &scratch)) < 0)
    goto out;
  for (i = 0; i < sizeof(free_text) / sizeof(free_text[0]) && error == 0; i++)
    error = add_terms(c, study_id, "T", free_text[i], &scratch);
out:
  rr_buf_dispose(&scratch);
  if (error == RR_ENOMEM || error == RR_EFULL)
    return rr_fail(err, errsize, error, "cannot build search terms");
  return error < 0 ? (error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "writing search terms")) : 0;
}

/* ------------------------------------------------------------ apply_batch */

static const char SQL_UPSERT_STUDY[] =
  "INSERT INTO studies (orthanc_id, patient_orthanc_id, study_uid, patient_name, patient_name_norm,"
  " patient_id, patient_birth_date, patient_sex, study_date, study_time, study_description,"
  " description_norm, accession_number, referring_physician, institution_name, received_at, updated_at)"
  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)"
  " ON CONFLICT (orthanc_id) DO UPDATE SET patient_orthanc_id = excluded.patient_orthanc_id,"
  " study_uid = excluded.study_uid, patient_name = excluded.patient_name,"
  " patient_name_norm = excluded.patient_name_norm, patient_id = excluded.patient_id,"
  " patient_birth_date = excluded.patient_birth_date, patient_sex = excluded.patient_sex,"
  " study_date = excluded.study_date, study_time = excluded.study_time,"
  " study_description = excluded.study_description, description_norm = excluded.description_norm,"
  " accession_number = excluded.accession_number, referring_physician = excluded.referring_physician,"
  " institution_name = excluded.institution_name, updated_at = excluded.updated_at"
  " RETURNING id";

static const char SQL_UPSERT_SERIES[] =
  "INSERT INTO series (orthanc_id, study_id, series_uid, series_number, modality, series_description,"
  " body_part, received_at, updated_at) VALUES ($1, $2, $3, $4::bigint, $5, $6, $7, $8, $8)"
  " ON CONFLICT (orthanc_id) DO UPDATE SET study_id = excluded.study_id, series_uid = excluded.series_uid,"
  " series_number = excluded.series_number, modality = excluded.modality,"
  " series_description = excluded.series_description, body_part = excluded.body_part,"
  " updated_at = excluded.updated_at RETURNING id";

static const char SQL_UPSERT_INSTANCE[] =
  "INSERT INTO instances (orthanc_id, series_id, sop_instance_uid, sop_class_uid, transfer_syntax,"
  " instance_number, number_of_frames, image_position, image_orientation, received_at, updated_at)"
  " VALUES ($1, $2, $3, $4, $5, $6::bigint, $7, $8, $9, $10, $10)"
  " ON CONFLICT (orthanc_id) DO UPDATE SET series_id = excluded.series_id,"
  " sop_instance_uid = excluded.sop_instance_uid, sop_class_uid = excluded.sop_class_uid,"
  " transfer_syntax = excluded.transfer_syntax, instance_number = excluded.instance_number,"
  " number_of_frames = excluded.number_of_frames, image_position = excluded.image_position,"
  " image_orientation = excluded.image_orientation, updated_at = excluded.updated_at";

static const char SQL_RECOUNT_SERIES[] =
  "UPDATE series SET instance_count = (SELECT count(*) FROM instances WHERE series_id = $1) WHERE id = $1";

static const char SQL_RECOUNT_STUDY[] =
  "UPDATE studies SET series_count = (SELECT count(*) FROM series WHERE study_id = $1),"
  " instance_count = (SELECT COALESCE(sum(instance_count), 0) FROM series WHERE study_id = $1),"
  " modalities = COALESCE((SELECT string_agg(m, '\\' ORDER BY m) FROM (SELECT DISTINCT modality AS m"
  " FROM series WHERE study_id = $1 AND modality <> '') d), ''), updated_at = GREATEST(updated_at, $2)"
  " WHERE id = $1 RETURNING modalities";

static const char SQL_MOD_MASK[] = "UPDATE studies SET mod_mask = $2 WHERE id = $1";
static const char SQL_MOD_TERMS_CLEAR[] = "DELETE FROM study_terms WHERE study_id = $1 AND kind = 'M'";
static const char SQL_MOD_TERMS[] =
  "INSERT INTO study_terms (kind, term, study_id) SELECT DISTINCT 'M', modality, study_id"
  " FROM series WHERE study_id = $1 AND modality <> '' ON CONFLICT DO NOTHING";

static const char SQL_KV_SET[] =
  "INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/* The text of a number, or SQL NULL (the 'n' parameters above). */
static const char *opt_number(char *buf, size_t size, bool has, int64_t v)
{
  if (!has)
    return NULL;
  snprintf(buf, size, "%lld", (long long)v);
  return buf;
}

static int upsert_study(rr_pg_conn *c, const rr_study_rec *s, int64_t now, int64_t *id, rr_buf *scratch)
{
  char name_norm[RR_PN_SIZE * 2], desc_norm[RR_LO_SIZE * 2];
  PGresult *r = NULL;
  int error;

  rr_buf_clear(scratch);
  if ((error = rr_text_fold(scratch, s->patient_name, strlen(s->patient_name), false)) < 0)
    return error;
  rr_str_copy(name_norm, sizeof(name_norm), scratch->ptr);
  rr_buf_clear(scratch);
  if ((error = rr_text_fold(scratch, s->study_description, strlen(s->study_description), false)) < 0)
    return error;
  rr_str_copy(desc_norm, sizeof(desc_norm), scratch->ptr);
  if ((error = rr_pg_query(c, &r, SQL_UPSERT_STUDY, "ttttttttttttttti", s->orthanc_id, s->patient_orthanc_id,
                           s->study_uid, s->patient_name, name_norm, s->patient_id, s->patient_birth_date,
                           s->patient_sex, s->study_date, s->study_time, s->study_description, desc_norm,
                           s->accession_number, s->referring_physician, s->institution_name, now)) < 0)
    return error;
  *id = rr_pg_int(r, 0, 0);
  PQclear(r);
  return 0;
}

static int upsert_series(rr_pg_conn *c, const rr_series_rec *s, int64_t study_id, int64_t now, int64_t *id)
{
  char num[24];
  PGresult *r = NULL;
  int error;

  if ((error = rr_pg_query(c, &r, SQL_UPSERT_SERIES, "titnttti", s->orthanc_id, study_id, s->series_uid,
                           opt_number(num, sizeof(num), s->has_series_number, s->series_number), s->modality,
                           s->series_description, s->body_part, now)) < 0)
    return error;
  *id = rr_pg_int(r, 0, 0);
  PQclear(r);
  return 0;
}

static int upsert_instance(rr_pg_conn *c, const rr_instance_rec *i, int64_t series_id, int64_t now)
{
  char num[24];

  return rr_pg_query(c, NULL, SQL_UPSERT_INSTANCE, "titttnitti", i->orthanc_id, series_id, i->sop_instance_uid,
                     i->sop_class_uid, i->transfer_syntax,
                     opt_number(num, sizeof(num), i->has_instance_number, i->instance_number),
                     (int64_t)(i->number_of_frames > 0 ? i->number_of_frames : 1), i->image_position,
                     i->image_orientation, now);
}

/* Counts, modalities, modality mask and modality terms of a study. */
static int recount_study(rr_pg_conn *c, int64_t study_id, int64_t now)
{
  PGresult *r = NULL;
  int64_t mask = 0;
  int error;

  if ((error = rr_pg_query(c, &r, SQL_RECOUNT_STUDY, "ii", study_id, now)) < 0)
    return error;
  if (PQntuples(r) > 0)
    mask = rr_modality_mask(PQgetvalue(r, 0, 0));
  PQclear(r);
  if ((error = rr_pg_query(c, NULL, SQL_MOD_MASK, "ii", study_id, mask)) < 0 ||
      (error = rr_pg_query(c, NULL, SQL_MOD_TERMS_CLEAR, "i", study_id)) < 0)
    return error;
  return rr_pg_query(c, NULL, SQL_MOD_TERMS, "i", study_id);
}

typedef struct batch_ctx {
  const rr_ingest_batch *b;
  id_set studies, series;
  rr_buf scratch;
} batch_ctx;

/* The upserts of one item (its study and series only when they change
 * from the previous item's). */
static int apply_item(rr_pg_conn *c, batch_ctx *x, size_t i, int64_t *study_id, int64_t *series_id, char *err,
                      size_t errsize)
{
  const rr_ingest_item *it = &x->b->items[i], *prev = i > 0 ? &x->b->items[i - 1] : NULL;
  int error;

  if (prev == NULL || strcmp(prev->study.orthanc_id, it->study.orthanc_id) != 0) {
    if ((error = upsert_study(c, &it->study, x->b->now, study_id, &x->scratch)) < 0)
      return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "upsert study");
    if ((error = write_study_terms(c, *study_id, &it->study, err, errsize)) < 0)
      return error;
    if ((error = id_set_add(&x->studies, *study_id)) < 0)
      return rr_fail(err, errsize, error, "out of memory");
    prev = NULL;
  }
  if (prev == NULL || strcmp(prev->series.orthanc_id, it->series.orthanc_id) != 0) {
    if ((error = upsert_series(c, &it->series, *study_id, x->b->now, series_id)) < 0)
      return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "upsert series");
    if ((error = id_set_add(&x->series, *series_id)) < 0)
      return rr_fail(err, errsize, error, "out of memory");
  }
  if ((error = upsert_instance(c, &it->instance, *series_id, x->b->now)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "upsert instance");
  return 0;
}

static int batch_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  batch_ctx *x = ctx;
  int64_t study_id = 0, series_id = 0;
  size_t i;
  int error = 0;

  x->studies.count = 0;
  x->series.count = 0;
  for (i = 0; i < x->b->count; i++)
    if ((error = apply_item(c, x, i, &study_id, &series_id, err, errsize)) < 0)
      return error;
  for (i = 0; i < x->series.count && error == 0; i++)
    error = rr_pg_query(c, NULL, SQL_RECOUNT_SERIES, "i", x->series.ids[i]);
  for (i = 0; i < x->studies.count && error == 0; i++)
    error = recount_study(c, x->studies.ids[i], x->b->now);
  if (error == 0 && x->b->cursor_key != NULL)
    error = rr_pg_query(c, NULL, SQL_KV_SET, "tt", x->b->cursor_key, x->b->cursor_value);
  if (error < 0 && error != RR_ECONFLICT)
    return rr_pg_fail(err, errsize, error, c, "recounting");
  return error;
}

static int pg_apply_batch(void *impl, const rr_ingest_batch *b, char *err, size_t errsize)
{
  batch_ctx x;
  int error;

  memset(&x, 0, sizeof(x));
  x.b = b;
  rr_buf_init(&x.scratch, 4096);
  error = rr_pg_tx(impl, batch_tx, &x, err, errsize);
  free(x.studies.ids);
  free(x.series.ids);
  rr_buf_dispose(&x.scratch);
  return error;
}

/* ---------------------------------------------------------------- deletion */

static const char *const SQL_DELETE[] = {
  "DELETE FROM studies WHERE patient_orthanc_id = $1",
  "DELETE FROM studies WHERE orthanc_id = $1",
  "DELETE FROM series WHERE orthanc_id = $1 RETURNING study_id",
  "DELETE FROM instances WHERE orthanc_id = $1 RETURNING series_id, (SELECT study_id FROM series x WHERE x.id = series_id)"};
static const char SQL_DROP_EMPTY_SERIES[] = "DELETE FROM series WHERE id = $1 AND instance_count = 0";
static const char SQL_DROP_EMPTY_STUDY[] = "DELETE FROM studies WHERE id = $1 AND series_count = 0";

typedef struct delete_ctx {
  rr_level level;
  const char *orthanc_id;
} delete_ctx;

/* Recount a study after a child went away, and drop it when it is empty. */
static int settle_study(rr_pg_conn *c, int64_t study_id)
{
  int error;

  if ((error = recount_study(c, study_id, 0)) < 0)
    return error;
  return rr_pg_query(c, NULL, SQL_DROP_EMPTY_STUDY, "i", study_id);
}

static int delete_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  delete_ctx *x = ctx;
  PGresult *r = NULL;
  int64_t series_id = 0, study_id = 0;
  int error, rows;

  if ((error = rr_pg_query(c, &r, SQL_DELETE[x->level], "t", x->orthanc_id)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "delete");
  rows = atoi(PQcmdTuples(r));
  if (rows > 0 && x->level == RR_LEVEL_INSTANCE) {
    series_id = rr_pg_int(r, 0, 0);
    study_id = rr_pg_int(r, 0, 1);
  } else if (rows > 0 && x->level == RR_LEVEL_SERIES) {
    study_id = rr_pg_int(r, 0, 0);
  }
  PQclear(r);
  if (rows == 0)
    return RR_ENOTFOUND;
  if (x->level == RR_LEVEL_INSTANCE && ((error = rr_pg_query(c, NULL, SQL_RECOUNT_SERIES, "i", series_id)) < 0 ||
                                        (error = rr_pg_query(c, NULL, SQL_DROP_EMPTY_SERIES, "i", series_id)) < 0))
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "recount series");
  if ((x->level == RR_LEVEL_INSTANCE || x->level == RR_LEVEL_SERIES) && (error = settle_study(c, study_id)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "recount study");
  return 0;
}

static int pg_delete(void *impl, rr_level level, const char *orthanc_id, char *err, size_t errsize)
{
  delete_ctx x = {level, orthanc_id};

  if (level < RR_LEVEL_PATIENT || level > RR_LEVEL_INSTANCE)
    return rr_fail(err, errsize, RR_EINVAL, "unknown level");
  return rr_pg_tx(impl, delete_tx, &x, err, errsize);
}

/* ------------------------------------------------------------ key-value */

static int pg_kv_get(void *impl, char *out, size_t outsize, const char *key, char *err, size_t errsize)
{
  static const char sql[] = "SELECT value FROM kv WHERE key = $1";
  PGresult *r = NULL;
  int error;

  if (outsize > 0)
    out[0] = '\0';
  if ((error = rr_pg_run(impl, &r, "read kv", err, errsize, sql, "t", key)) < 0)
    return error;
  if (PQntuples(r) == 0)
    error = RR_ENOTFOUND;
  else
    rr_pg_copy(out, outsize, r, 0, 0);
  PQclear(r);
  return error;
}

static int pg_kv_set(void *impl, const char *key, const char *value, char *err, size_t errsize)
{
  return rr_pg_run(impl, NULL, "write kv", err, errsize, SQL_KV_SET, "tt", key, value);
}

/* ------------------------------------------------------ reconciliation */

static int read_series_count(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_series_count *sc = elem;

  (void)ctx;
  rr_pg_copy(sc->orthanc_id, RR_OID_SIZE, r, row, 0);
  sc->instance_count = rr_pg_int(r, row, 1);
  return 0;
}

static int pg_list_series(void *impl, rr_series_count_list **out, const char *after, size_t limit, char *err,
                          size_t errsize)
{
  static const char sql[] =
    "SELECT orthanc_id, instance_count FROM series WHERE orthanc_id > $1 ORDER BY orthanc_id LIMIT $2";
  rr_series_count_list *list = NULL;
  PGresult *r = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "list series", err, errsize, sql, "ti", after, (int64_t)limit)) < 0)
    return error;
  if ((list = rr_store_list_new(&rr_series_count_list_kind)) == NULL ||
      rr_pg_rows(r, &rr_series_count_list_kind, list, (size_t)PQntuples(r), read_series_count, NULL) < 0) {
    rr_series_count_list_free(list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

static int read_id(void *elem, const PGresult *r, int row, void *ctx)
{
  (void)ctx;
  rr_pg_copy(elem, RR_OID_SIZE, r, row, 0);
  return 0;
}

static int pg_list_instances(void *impl, rr_id_list **out, const char *series_orthanc_id, char *err, size_t errsize)
{
  static const char sql[] = "SELECT i.orthanc_id FROM instances i JOIN series s ON i.series_id = s.id"
                            " WHERE s.orthanc_id = $1 ORDER BY i.orthanc_id";
  rr_id_list *list = NULL;
  PGresult *r = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "list instances", err, errsize, sql, "t", series_orthanc_id)) < 0)
    return error;
  /* an empty answer still has its array, as the SQLite backend's */
  if ((list = rr_store_list_new(&rr_id_list_kind)) == NULL ||
      rr_pg_rows(r, &rr_id_list_kind, list, 64, read_id, NULL) < 0) {
    rr_id_list_free(list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

/* ------------------------------------------------------------ stats */

/* The write fault: the server refuses writes (a standby, a read-only
 * database), or the last write failed for a reason the server named. */
static void write_fault(rr_pg_store *s, bool recovery, bool read_only, rr_store_stats *out)
{
  int last = __atomic_load_n(&s->last_write_failed, __ATOMIC_RELAXED);

  if (recovery || read_only || last == RR_PG_WRITE_READ_ONLY) {
    rr_str_copy(out->write_fault_kind, sizeof(out->write_fault_kind), "read-only");
    rr_str_copy(out->write_fault, sizeof(out->write_fault),
                recovery ? "the PostgreSQL server is a standby in recovery: it accepts no writes"
                         : "the PostgreSQL database refuses writes (read-only transactions)");
  } else if (last == RR_PG_WRITE_FULL) {
    rr_str_copy(out->write_fault_kind, sizeof(out->write_fault_kind), "full");
    rr_str_copy(out->write_fault, sizeof(out->write_fault),
                "the last write failed: the PostgreSQL server has no space left (SQLSTATE class 53)");
  } else if (last != 0) {
    rr_str_copy(out->write_fault_kind, sizeof(out->write_fault_kind), "io-error");
    rr_str_copy(out->write_fault, sizeof(out->write_fault), "the last write to PostgreSQL failed (see the log)");
  }
}

static int pg_stats(void *impl, rr_store_stats *out, char *err, size_t errsize)
{
  static const char sql[] = "SELECT (SELECT count(*) FROM studies), (SELECT count(*) FROM series),"
                            " (SELECT count(*) FROM instances), pg_is_in_recovery(),"
                            " current_setting('transaction_read_only') = 'on'";
  PGresult *r = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = rr_pg_run(impl, &r, "stats", err, errsize, sql, "")) < 0)
    return error;
  out->studies = rr_pg_int(r, 0, 0);
  out->series = rr_pg_int(r, 0, 1);
  out->instances = rr_pg_int(r, 0, 2);
  write_fault(impl, rr_pg_bool(r, 0, 3), rr_pg_bool(r, 0, 4), out);
  PQclear(r);
  return 0;
}

static int pg_schema_version(void *impl, int *out, char *err, size_t errsize)
{
  static const char sql[] = "SELECT COALESCE(MAX(version), 0) FROM rr_schema_version";
  PGresult *r = NULL;
  int error;

  if ((error = rr_pg_run(impl, &r, "schema version", err, errsize, sql, "")) < 0)
    return error;
  *out = (int)rr_pg_int(r, 0, 0);
  PQclear(r);
  return 0;
}

const rr_store_index_ops rr_pg_index_ops = {
  .schema_version = pg_schema_version,
  .apply_batch = pg_apply_batch,
  .delete_resource = pg_delete,
  .query_worklist = rr_pg_query_worklist,
  .get_study = rr_pg_get_study,
  .kv_get = pg_kv_get,
  .kv_set = pg_kv_set,
  .list_series = pg_list_series,
  .list_instances = pg_list_instances,
  .stats = pg_stats,
};
